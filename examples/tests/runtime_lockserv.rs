//! The lock server as real processes on loopback: a client workload, a
//! server crash, a partition, hostile bytes on a node's port, and a
//! process that pretends to be the server.

#![cfg(feature = "runtime")]

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use support::{eventually, lock_round, Deployment, PATIENCE};
use verdict::runtime::codec::{self, FrameKind, Hello};
use verdict_examples::lockserv::{input, msg, Input, LockServ, Msg, Output};

const EXE: &str = env!("CARGO_BIN_EXE_lockserv");

fn lock() -> Input {
    Input::Lock(input::Lock)
}
fn unlock() -> Input {
    Input::Unlock(input::Unlock)
}

#[test]
fn four_processes_serve_a_workload_and_survive_a_server_kill() {
    let names = ["Server", "Client(0)", "Client(1)", "Client(2)"];
    let mut d = Deployment::new(EXE, &names, &["--monitor"]);
    d.start_all();
    let holder = Mutex::new(None);
    std::thread::scope(|scope| {
        for name in &names[1..] {
            let (d, holder) = (&d, &holder);
            scope.spawn(move || {
                for _ in 0..5 {
                    lock_round::<LockServ>(d, name, holder, Duration::from_millis(5));
                }
            });
        }
    });

    // Every lock was granted and released: 15 locks and 15 unlocks arrived.
    // (An accepted Unlock has left its client; the server may still be
    // reading it.)
    let mut s = d.client::<LockServ>("Server");
    eventually("the server to handle all 30 messages", || {
        s.stats().unwrap().contains("messages_in 30").then_some(())
    });

    // kill -9 the server; its queue is volatile, so it comes back empty
    // (as the checker's crash does), and the deployment goes on.
    d.kill9("Server");
    d.start("Server");
    assert!(
        d.log("Server").contains("replayed=31"), /* start + 30 messages */
        "{}",
        d.log("Server")
    );
    let state = d.client::<LockServ>("Server").state().unwrap();
    assert_eq!(state, vec![("queue".to_string(), "[]".to_string())]);
    let holder = Mutex::new(None);
    for name in &names[1..] {
        lock_round::<LockServ>(&d, name, &holder, Duration::from_millis(5));
    }
    assert!(!d.log("Server").contains("invariant violated"));
}

#[test]
fn a_partitioned_client_resumes_after_heal() {
    let names = ["Server", "Client(0)", "Client(1)"];
    let mut d = Deployment::new(EXE, &names, &["--faults", "partition"]);
    d.start_all();
    let mut c0 = d.client::<LockServ>("Client(0)");
    let mut c1 = d.client::<LockServ>("Client(1)");
    c0.submit(lock()).unwrap();
    assert!(c0.next_output(PATIENCE).unwrap().is_some());

    for n in names {
        d.client::<LockServ>(n)
            .partition(vec!["Client(1)".into()])
            .unwrap();
    }
    c1.submit(lock()).unwrap(); // held: Client(1) is cut off
    c0.submit(unlock()).unwrap();
    // Nothing can reach Client(1) across the cut, however long we wait.
    assert!(c1
        .next_output(Duration::from_millis(300))
        .unwrap()
        .is_none());
    let held = d.client::<LockServ>("Client(1)").stats().unwrap();
    assert!(held.contains("held_by_partition 1"), "{held}");

    for n in names {
        d.client::<LockServ>(n).heal().unwrap();
    }
    let out = c1
        .next_output(PATIENCE)
        .unwrap()
        .expect("Locked after heal");
    assert!(matches!(out.output, Output::Locked(_)));
}

#[test]
fn partitions_are_refused_when_the_fault_model_has_none() {
    let mut d = Deployment::new(EXE, &["Server", "Client(0)"], &[]);
    d.start_all();
    let err = d
        .client::<LockServ>("Server")
        .partition(vec!["Client(0)".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("do not include partition"), "{err}");
}

/// Sends `bytes` and expects the node to close the connection.
fn closed_after(addr: std::net::SocketAddr, bytes: &[u8]) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(bytes).unwrap();
    let mut buf = [0u8; 256];
    // The node answers nothing and closes: EOF (or a reset).
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the node should close the connection");
}

/// The frame layer's checks, seen without TLS in front of them.
#[test]
fn hostile_bytes_close_only_their_connection() {
    let names = ["Server", "Client(0)", "Client(1)"];
    let mut d = Deployment::new_insecure(EXE, &names, &[]);
    d.start_all();
    let addr = d.addrs["Server"];
    let id = codec::cluster_id(&d.cluster_id);
    // A client connected before the attack keeps working after it.
    let mut c0 = d.client::<LockServ>("Client(0)");

    let random: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    closed_after(addr, &random);

    let hello = codec::encode_value(
        FrameKind::Hello,
        id,
        1,
        &Hello::Peer {
            name: "Client(0)".into(),
            config: codec::config_hash(&()),
        },
    );
    let mut oversized = hello.clone();
    oversized.extend(codec::encode(FrameKind::Message, id, 1, &[0; 8]));
    let at = hello.len() + 20;
    oversized[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    closed_after(addr, &oversized);

    let mut truncated = hello.clone();
    let frame = codec::encode(FrameKind::Message, id, 1, &[1, 2, 3, 4, 5, 6, 7, 8]);
    truncated.extend(&frame[..frame.len() - 3]);
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&truncated).unwrap();
    } // closed mid-frame

    let unknown = codec::encode_value(
        FrameKind::Hello,
        id,
        9,
        &Hello::Peer {
            name: "Client(9)".into(),
            config: codec::config_hash(&()),
        },
    );
    closed_after(addr, &unknown);
    let impostor = codec::encode_value(
        FrameKind::Hello,
        id,
        2,
        &Hello::Peer {
            name: "Client(0)".into(),
            config: codec::config_hash(&()),
        },
    );
    closed_after(addr, &impostor);
    let other_cluster = codec::encode_value(
        FrameKind::Hello,
        id ^ 1,
        1,
        &Hello::Peer {
            name: "Client(0)".into(),
            config: codec::config_hash(&()),
        },
    );
    closed_after(addr, &other_cluster);
    let mut spoof = hello.clone();
    spoof.extend(codec::encode_value(FrameKind::Message, id, 2, &0u32));
    closed_after(addr, &spoof);

    let log = eventually("seven rejections logged", || {
        let log = d.log("Server");
        (log.matches("closing connection").count() >= 7).then_some(log)
    });
    for needle in [
        "not a Verdict frame",
        "the limit is",
        "truncated frame",
        "unknown node `Client(9)`",
        "from cluster",
        "claiming sender 2",
    ] {
        assert!(log.contains(needle), "missing `{needle}` in:\n{log}");
    }
    // Everyone else is still served.
    let mut c1 = d.client::<LockServ>("Client(1)");
    c0.submit(lock()).unwrap();
    assert!(c0.next_output(PATIENCE).unwrap().is_some());
    c1.submit(lock()).unwrap();
    c0.submit(unlock()).unwrap();
    assert!(c1.next_output(PATIENCE).unwrap().is_some());
}

/// The attack: a process that holds what a cluster file's reader holds
/// (the cluster id and, with TLS, the client certificate) connects to
/// `Client(1)` as `Server` and sends it `Grant`. Returns whether the
/// connection stayed open after the grant (a refused one is closed).
fn spoof_grant(d: &Deployment) -> bool {
    let id = codec::cluster_id(&d.cluster_id);
    let mut bytes = codec::encode_value(
        FrameKind::Hello,
        id,
        0,
        &Hello::Peer {
            name: "Server".into(),
            config: codec::config_hash(&()),
        },
    );
    bytes.extend(codec::encode_value(
        FrameKind::Message,
        id,
        0,
        &Msg::Grant(msg::Grant),
    ));
    let tcp = TcpStream::connect(d.addrs["Client(1)"]).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 64];
    let file = verdict::runtime::ClusterFile::load(&d.cluster_file).unwrap();
    match &file.tls {
        None => {
            let mut tcp = tcp;
            tcp.write_all(&bytes).unwrap();
            // Peers never answer: a timeout means the node kept listening.
            matches!(tcp.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        }
        Some(t) => {
            use verdict::runtime::tls::rustls;
            let config = verdict::runtime::tls::client_tls(
                &t.ca,
                t.client_cert.as_ref().unwrap(),
                t.client_key.as_ref().unwrap(),
            )
            .unwrap();
            let name = verdict::runtime::tls::node_dns_name("Client(1)");
            let conn = rustls::ClientConnection::new(config, name.try_into().unwrap()).unwrap();
            let mut s = rustls::StreamOwned::new(conn, tcp);
            let sent = s.write_all(&bytes).and_then(|_| s.flush());
            sent.is_ok()
                && matches!(s.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        }
    }
}

/// `Client(0)` takes the lock; the spoofer grants it to `Client(1)` too.
/// Returns whether `Client(1)` was told `Locked` while `Client(0)` held it.
fn both_hold_after_spoof(d: &Deployment) -> (bool, bool) {
    let mut c0 = d.client::<LockServ>("Client(0)");
    let mut c1 = d.client::<LockServ>("Client(1)");
    c0.submit(lock()).unwrap();
    let out = c0.next_output(PATIENCE).unwrap().expect("Locked");
    assert!(matches!(out.output, Output::Locked(_)));
    let open = spoof_grant(d);
    let second = c1.next_output(Duration::from_secs(2)).unwrap();
    (
        open,
        matches!(second.map(|o| o.output), Some(Output::Locked(_))),
    )
}

#[test]
fn a_process_posing_as_the_server_is_refused_and_logged() {
    let names = ["Server", "Client(0)", "Client(1)"];
    let mut d = Deployment::new(EXE, &names, &["--monitor"]);
    d.start_all();
    let (open, both) = both_hold_after_spoof(&d);
    assert!(!open, "the node kept the impostor's connection open");
    assert!(!both, "Client(1) was granted a lock Client(0) holds");
    let log = eventually("the impostor logged", || {
        let log = d.log("Client(1)");
        log.contains("claims to be node Server").then_some(log)
    });
    assert!(log.contains("client certificate"), "{log}");
    assert_eq!(d.stat::<LockServ>("Client(1)", "impersonations_refused"), 1);

    // Without a certificate of the cluster's authority there is no TLS
    // session at all, let alone a hello.
    let mut plain = TcpStream::connect(d.addrs["Client(1)"]).unwrap();
    plain.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = plain.write_all(b"\x16\x03\x01\x00\x05hello");
    let mut buf = [0u8; 256];
    let _ = plain.read(&mut buf);
    eventually("the failed handshake logged", || {
        d.log("Client(1)")
            .contains("TLS handshake failed")
            .then_some(())
    });

    // The real server still grants normally once Client(0) unlocks.
    let mut c0 = d.client::<LockServ>("Client(0)");
    let mut c1 = d.client::<LockServ>("Client(1)");
    c1.submit(lock()).unwrap();
    c0.submit(unlock()).unwrap();
    let out = c1.next_output(PATIENCE).unwrap().expect("Locked");
    assert!(matches!(out.output, Output::Locked(_)));
}

/// The same attack against `insecure = true`: it works, which is what the
/// start-up warning says and why it is not the default.
#[test]
fn without_tls_the_same_impostor_breaks_mutual_exclusion() {
    let names = ["Server", "Client(0)", "Client(1)"];
    let mut d = Deployment::new_insecure(EXE, &names, &[]);
    d.start_all();
    // The port is bound before the warning is written: wait for it.
    eventually("the start-up warning", || {
        d.log("Client(1)").contains("INSECURE").then_some(())
    });
    let (_, both) = both_hold_after_spoof(&d);
    assert!(
        both,
        "the spoofed Grant should have been believed without TLS"
    );
}
