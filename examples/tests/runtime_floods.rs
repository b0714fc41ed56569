//! Floods against real nodes, each watched through the node's resident
//! memory (`VmRSS` in /proc): a client that sends and never reads, a
//! client that never reads its outputs, a peer frozen with SIGSTOP, many
//! connections announcing huge frames, more connections than the node
//! takes. Each must leave the node within a stated bound and serving.
//!
//! The floods speak plaintext (`insecure = true`): every limit sits behind
//! the TLS layer and is the same with it; plaintext lets a test be the
//! misbehaving party without a TLS stack of its own.

#![cfg(feature = "runtime")]

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{eventually, Deployment, PATIENCE};
use verdict::runtime::codec::{self, FrameKind, Hello, CLIENT_SENDER};
use verdict::runtime::{Reply, Request};
use verdict_examples::lockserv::{self, LockServ};
use verdict_examples::pingpong::{self, PingPong};

const LOCKSERV: &str = env!("CARGO_BIN_EXE_lockserv");
const PINGPONG: &str = env!("CARGO_BIN_EXE_pingpong");

/// What any node may grow by under a flood, whatever the flood's size: the
/// default bounds are 32 MiB inbound, 8 MiB per client, 32 MiB per peer,
/// plus the allocator's slack.
const GROWTH_MIB: u64 = 120;
/// What the sender to a frozen peer may grow by with `--peer-buffer` at
/// 1 MiB.
const FROZEN_PEER_GROWTH_MIB: u64 = 24;
/// Inputs sent while the peer is frozen: unbounded, they would grow the
/// sender by about 90 MiB (measured: 20 -> 113 MiB).
const FROZEN_PEER_INPUTS: usize = 1_000_000;

fn hello_client(cluster: &str) -> Vec<u8> {
    codec::encode_value(
        FrameKind::Hello,
        codec::cluster_id(cluster),
        CLIENT_SENDER,
        &Hello::Client { recent: false },
    )
}

fn mib(kib: u64) -> u64 {
    kib / 1024
}

/// Writes `bytes` to `s` for at most `secs`, however much gets through.
fn push_for(s: &mut TcpStream, bytes: &[u8], total: usize, secs: u64) -> usize {
    s.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut sent = 0;
    while sent < total && Instant::now() < deadline {
        match s.write(bytes) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break, // closed by the node
        }
    }
    sent
}

#[test]
fn a_client_that_sends_requests_and_never_reads_is_bounded_and_cut_off() {
    let mut d = Deployment::new_insecure(LOCKSERV, &["Server", "Client(0)"], &["--log", "warn"]);
    d.start_all();
    let before = d.rss_kib("Server");
    let mut s = TcpStream::connect(d.addrs["Server"]).unwrap();
    s.write_all(&hello_client(&d.cluster_id)).unwrap();
    let stats = codec::encode_value(
        FrameKind::Request,
        codec::cluster_id(&d.cluster_id),
        CLIENT_SENDER,
        &Request::<LockServ>::Stats,
    );
    let batch: Vec<u8> = stats
        .iter()
        .copied()
        .cycle()
        .take(stats.len() * 4096)
        .collect();
    // 64 MiB of requests offered, never a reply read.
    let sent = push_for(&mut s, &batch, 64 << 20, 20);
    let peak = d.peak_rss_kib("Server");
    eprintln!(
        "request flood: {} MiB sent, RSS {} -> {} MiB",
        sent >> 20,
        mib(before),
        mib(peak)
    );
    assert!(
        mib(peak.saturating_sub(before)) < GROWTH_MIB,
        "RSS {} -> {} MiB after {} MiB of requests",
        mib(before),
        mib(peak),
        sent >> 20
    );
    // It was disconnected as a slow reader, and the node still serves.
    assert!(d.stat::<LockServ>("Server", "clients_disconnected_slow") >= 1);
    let mut c = d.client::<LockServ>("Client(0)");
    c.submit(lockserv::Input::Lock(lockserv::input::Lock))
        .unwrap();
    assert!(c.next_output(PATIENCE).unwrap().is_some());
}

#[test]
fn a_client_that_never_reads_its_outputs_is_disconnected() {
    let mut d = Deployment::new_insecure(
        PINGPONG,
        &["Pinger", "Ponger"],
        &["--log", "warn", "--fsync", "off"],
    );
    d.start_all();
    let before = d.rss_kib("Pinger");
    let mut idle = TcpStream::connect(d.addrs["Pinger"]).unwrap();
    idle.write_all(&hello_client(&d.cluster_id)).unwrap();
    // An output per pong, for a long while; `idle` never reads one.
    let mut c = d.client::<PingPong>("Pinger");
    c.submit(pingpong::Input::Start(pingpong::input::Start {
        count: 2_000_000,
        window: 64,
        report_every: 1,
    }))
    .unwrap();
    drop(c);
    let slow = eventually("the silent client disconnected", || {
        let n = d.stat::<PingPong>("Pinger", "clients_disconnected_slow");
        (n >= 1).then_some(n)
    });
    assert!(slow >= 1);
    let after = d.peak_rss_kib("Pinger");
    eprintln!("output flood: RSS {} -> {} MiB", mib(before), mib(after));
    assert!(
        mib(after.saturating_sub(before)) < GROWTH_MIB,
        "RSS {} -> {} MiB",
        mib(before),
        mib(after)
    );
    // The connection is closed: reading it drains what was sent, then ends.
    idle.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    while matches!(idle.read(&mut buf), Ok(n) if n > 0) {}
}

#[test]
fn a_frozen_peer_costs_its_sender_a_bounded_queue_and_a_counted_reset() {
    let args = [
        "--log",
        "warn",
        "--fsync",
        "off",
        "--peer-buffer",
        "1048576",
    ];
    let mut d = Deployment::new_insecure(LOCKSERV, &["Server", "Client(0)"], &args);
    d.start_all();
    // Connected first: Client(0)'s link to the server is live.
    let mut c = d.client::<LockServ>("Client(0)");
    let lock = || lockserv::Input::Lock(lockserv::input::Lock);
    c.submit_all((0..10).map(|_| lock()), 10).unwrap();
    let before = d.rss_kib("Client(0)");
    d.signal("Server", "STOP");
    // Every input sends the server a Lock it cannot read.
    c.submit_all((0..FROZEN_PEER_INPUTS).map(|_| lock()), 256)
        .unwrap();
    let after = d.peak_rss_kib("Client(0)");
    d.signal("Server", "CONT");
    let resets = d.stat::<LockServ>("Client(0)", "peer_connections_reset");
    let lost = d.stat::<LockServ>("Client(0)", "peer_messages_lost");
    eprintln!(
        "frozen peer: RSS {} -> {} MiB, {resets} resets, {lost} messages lost",
        mib(before),
        mib(after)
    );
    // A 1 MiB queue: the sender grows by little more than that.
    assert!(
        mib(after.saturating_sub(before)) < FROZEN_PEER_GROWTH_MIB,
        "RSS {} -> {} MiB",
        mib(before),
        mib(after)
    );
    assert!(resets >= 1, "no reset: the queue would have grown instead");
    assert!(lost > 0);
    let log = d.log("Client(0)");
    assert!(log.contains("peer is not reading"), "{log}");
}

#[test]
fn a_flood_of_bad_connections_is_counted_but_logged_only_a_few_times_a_second() {
    let mut d = Deployment::new_insecure(LOCKSERV, &["Server", "Client(0)"], &["--log", "warn"]);
    d.start_all();
    let t0 = Instant::now();
    for _ in 0..300 {
        let mut s = TcpStream::connect(d.addrs["Server"]).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\nnot a Verdict frame at all");
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let _ = s.read(&mut [0u8; 16]); // closed by the node
    }
    let rejected = eventually("all rejections counted", || {
        let n = d.stat::<LockServ>("Server", "connections_rejected");
        (n >= 300).then_some(n)
    });
    let secs = t0.elapsed().as_secs() + 1;
    let lines = d.log("Server").matches("closing connection").count() as u64;
    eprintln!("{rejected} rejected in {secs} s, {lines} log lines");
    assert!(lines >= 1);
    // At most a burst of 10 a second (one before the first window as slack).
    assert!(
        lines <= 10 * (secs + 1),
        "{lines} lines for {rejected} rejections"
    );
}

#[test]
fn connections_announcing_huge_frames_commit_no_memory_for_them() {
    let mut d = Deployment::new_insecure(LOCKSERV, &["Server", "Client(0)"], &["--log", "warn"]);
    d.start_all();
    let before = d.rss_kib("Server");
    let id = codec::cluster_id(&d.cluster_id);
    let mut conns = Vec::new();
    for _ in 0..30 {
        let mut s = TcpStream::connect(d.addrs["Server"]).unwrap();
        let mut frame = hello_client(&d.cluster_id);
        // A request announcing 16 MiB (the limit), then a few bytes of it.
        let mut big = codec::encode(FrameKind::Request, id, CLIENT_SENDER, &[0; 64]);
        big[20..24].copy_from_slice(&(16u32 << 20).to_le_bytes());
        frame.extend(&big);
        s.write_all(&frame).unwrap();
        conns.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = d.peak_rss_kib("Server");
    eprintln!("huge frames: RSS {} -> {} MiB", mib(before), mib(after));
    assert!(
        mib(after.saturating_sub(before)) < 20,
        "RSS {} -> {} MiB with 30 half-sent 16 MiB frames",
        mib(before),
        mib(after)
    );
    drop(conns);
}

#[test]
fn connections_past_the_cap_are_closed_and_the_node_survives() {
    let args = ["--log", "warn", "--max-connections", "16"];
    let mut d = Deployment::new_insecure(LOCKSERV, &["Server", "Client(0)"], &args);
    d.start_all();
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(d.addrs["Server"]).unwrap());
    }
    // Over the cap: closed at once by the node.
    let mut last = idle.pop().unwrap();
    last.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(last.read(&mut [0u8; 8]).unwrap_or(0), 0);
    let fds = std::fs::read_dir(format!("/proc/{}/fd", d.pid("Server")))
        .unwrap()
        .count();
    assert!(fds < 16 + 32, "{fds} descriptors open");
    drop(idle);
    let over = eventually("the node serves again", || {
        let mut c = verdict::runtime::Client::<LockServ>::connect_with(
            d.addrs["Server"],
            "Server",
            &d.access,
            false,
            Duration::from_secs(2),
        )
        .ok()?;
        let stats = c.stats().ok()?;
        stats
            .lines()
            .find_map(|l| l.strip_prefix("connections_over_cap "))
            .and_then(|v| v.parse::<u64>().ok())
    });
    assert!(over >= 80, "{over} refused");
    assert!(d.exit_status("Server").is_none(), "the node exited");
}

#[test]
fn a_client_idle_past_the_timeout_is_closed() {
    let args = ["--log", "warn", "--idle-timeout-secs", "1"];
    let mut d = Deployment::new_insecure(LOCKSERV, &["Server", "Client(0)"], &args);
    d.start_all();
    let mut s = TcpStream::connect(d.addrs["Server"]).unwrap();
    s.write_all(&hello_client(&d.cluster_id)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let t0 = Instant::now();
    let (_, welcome) =
        codec::read_frame(&mut s, codec::cluster_id(&d.cluster_id), 1 << 20).unwrap();
    assert!(matches!(
        codec::from_payload::<Reply<LockServ>>(&welcome).unwrap(),
        Reply::Welcome { .. }
    ));
    let mut buf = [0u8; 64];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "not closed");
    assert!(t0.elapsed() >= Duration::from_millis(900));
    assert!(t0.elapsed() < PATIENCE);
    assert_eq!(d.stat::<LockServ>("Server", "clients_closed_idle"), 1);
}
