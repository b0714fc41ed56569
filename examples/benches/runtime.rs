//! Runtime figures on loopback: ping-pong between two processes (messages
//! per second, round-trip percentiles) and the durable path's throughput
//! with group commit versus one fsync per event, next to the machine's raw
//! fsync latency measured with `dd ... oflag=dsync`.
//!
//! Nodes run with mutual TLS, as deployed; a last section compares the
//! main figures against plaintext (`insecure = true`) in the same run.
//!
//! `cargo bench -p verdict-examples --bench runtime` (set `ROUNDS=` to
//! change the number of timed round trips, `REPEATS=` the number of
//! alternating TLS/plaintext runs). Medians and percentiles only:
//! this is a report, not a pass/fail test.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::Deployment;
use verdict_examples::pingpong::{input, Input, Output, PingPong};

const EXE: &str = env!("CARGO_BIN_EXE_pingpong");
const WAIT: Duration = Duration::from_secs(120);

fn start(count: u64, window: u64, report_every: u64) -> Input {
    input::Start {
        count,
        window,
        report_every,
    }
    .into()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Sequential round trips: per-trip latency and messages per second.
fn round_trips(d: &Deployment, rounds: u64) -> (f64, Duration, Duration) {
    let mut c = d.client::<PingPong>("Pinger");
    c.submit(start(1000, 1, 1000)).unwrap(); // warm up
    c.next_output(WAIT).unwrap().expect("warm-up done");
    let t0 = Instant::now();
    c.submit(start(rounds, 1, 1)).unwrap();
    let mut last = t0;
    let mut gaps = Vec::with_capacity(rounds as usize);
    for _ in 0..rounds {
        let o = c.next_output(WAIT).unwrap().expect("a pong");
        assert!(matches!(o.output, Output::Pong(_)));
        let now = Instant::now();
        gaps.push(now - last);
        last = now;
    }
    let secs = (last - t0).as_secs_f64();
    gaps.remove(0); // includes the submit
    gaps.sort();
    (
        2.0 * rounds as f64 / secs,
        percentile(&gaps, 0.5),
        percentile(&gaps, 0.99),
    )
}

/// `window` pings in flight: messages per second.
fn pipelined(d: &Deployment, count: u64, window: u64) -> f64 {
    let mut c = d.client::<PingPong>("Pinger");
    let t0 = Instant::now();
    c.submit(start(count, window, count)).unwrap();
    let o = c.next_output(WAIT).unwrap().expect("the run's end");
    assert!(matches!(o.output, Output::Pong(n) if n.0 == count));
    2.0 * count as f64 / t0.elapsed().as_secs_f64()
}

/// `clients` threads each submitting `each` durable bumps, `window` in
/// flight per client. Returns inputs/s, fsyncs/s and the stats line.
fn bumps(d: &Deployment, clients: usize, each: usize, window: usize) -> (f64, f64, String) {
    let before = fsyncs(d);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let mut c = d.client::<PingPong>("Pinger");
                let inputs = (0..each).map(|_| input::Bump);
                assert_eq!(c.submit_all(inputs, window).unwrap(), each as u64);
            });
        }
    });
    let secs = t0.elapsed().as_secs_f64();
    let rate = (clients * each) as f64 / secs;
    let stats = d.client::<PingPong>("Pinger").stats().unwrap();
    let pick = |k: &str| {
        stats
            .lines()
            .find(|l| l.starts_with(k))
            .unwrap_or("")
            .to_string()
    };
    let synced = (fsyncs(d) - before) as f64 / secs;
    (
        rate,
        synced,
        format!("{}, {}", pick("fsyncs "), pick("mean_commit_batch ")),
    )
}

fn fsyncs(d: &Deployment) -> u64 {
    let stats = d.client::<PingPong>("Pinger").stats().unwrap();
    stats
        .lines()
        .find_map(|l| l.strip_prefix("fsyncs "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn deployment(fsync: &str, tls: bool) -> Deployment {
    let args = [
        "--fsync",
        fsync,
        "--log",
        "warn",
        "--snapshot-every",
        "1000000",
    ];
    let mut d = if tls {
        Deployment::new(EXE, &["Pinger", "Ponger"], &args)
    } else {
        Deployment::new_insecure(EXE, &["Pinger", "Ponger"], &args)
    };
    d.start_all();
    d
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Plaintext against mutual TLS, measured in the same run, alternating, so
/// drift on a shared machine hits both alike. Prints medians and ratios.
fn security_comparison(rounds: u64, repeats: usize) {
    println!(
        "\n-- mutual TLS vs plaintext (insecure = true): medians of {repeats} alternating runs --"
    );
    // [plain, tls] x [seq msgs/s, seq p50 µs, pipelined msgs/s, group p50 µs, group inputs/s]
    let mut figures: [[Vec<f64>; 5]; 2] = Default::default();
    for _ in 0..repeats {
        for (k, tls) in [false, true].into_iter().enumerate() {
            let d = deployment("off", tls);
            let (rate, p50, _) = round_trips(&d, rounds);
            figures[k][0].push(rate);
            figures[k][1].push(p50.as_secs_f64() * 1e6);
            figures[k][2].push(pipelined(&d, rounds * 5, 128));
            drop(d);
            let d = deployment("group", tls);
            let (_, p50, _) = round_trips(&d, rounds / 10);
            figures[k][3].push(p50.as_secs_f64() * 1e6);
            let (rate, _, _) = bumps(&d, 4, 5000, 64);
            figures[k][4].push(rate);
        }
    }
    let rows = [
        ("sequential ping-pong, fsync off (msgs/s)", true),
        ("sequential ping-pong, fsync off, RTT p50 (µs)", false),
        ("pipelined ping-pong, 128 in flight (msgs/s)", true),
        ("sequential ping-pong, group commit, RTT p50 (µs)", false),
        ("durable inputs, group, 4 clients x 64 (inputs/s)", true),
    ];
    for (i, (what, higher_is_better)) in rows.into_iter().enumerate() {
        let plain = median(figures[0][i].clone());
        let tls = median(figures[1][i].clone());
        let cost = if higher_is_better {
            plain / tls
        } else {
            tls / plain
        };
        println!("{what:<52} plaintext {plain:>9.0}  TLS {tls:>9.0}  TLS cost {cost:.2}x");
    }
}

/// The machine's O_DSYNC 4 KiB write latency, as `dd` reports it, on the
/// same file system as the nodes' data.
fn dd_fsync(dir: &std::path::Path) -> Option<(f64, String)> {
    let out = std::process::Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", dir.join("dd.bin").display()))
        .args(["bs=4k", "count=1000", "oflag=dsync"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    let line = text.lines().last()?.to_string();
    // "4096000 bytes (4.1 MB, 3.9 MiB) copied, 0.184514 s, 22.2 MB/s"
    let after = line.split("copied, ").nth(1)?;
    let secs: f64 = after.split(" s").next()?.trim().parse().ok()?;
    Some((secs / 1000.0, line))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test discovery
    }
    let rounds: u64 = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("runtime benchmark: ping-pong over loopback, {nproc} cores");

    let dir = tempfile::tempdir().unwrap();
    let dd = dd_fsync(dir.path());
    match &dd {
        Some((lat, line)) => println!(
            "dd bs=4k count=1000 oflag=dsync: {line}\n  => fsync latency {} ({:.0} fsyncs/s)",
            micros(Duration::from_secs_f64(*lat)),
            1.0 / lat
        ),
        None => println!("dd: not available"),
    }

    println!("\n-- messaging (fsync off: the network path alone) --");
    let d = deployment("off", true);
    let (rate, p50, p99) = round_trips(&d, rounds);
    println!(
        "sequential ping-pong, {rounds} round trips: {rate:.0} msgs/s, RTT p50 {} p99 {}",
        micros(p50),
        micros(p99)
    );
    for window in [16, 128] {
        let rate = pipelined(&d, rounds * 5, window);
        println!("pipelined, window {window}: {rate:.0} msgs/s");
    }
    drop(d);

    println!("\n-- durable path (every event fsync'd before its effects leave) --");
    let d = deployment("group", true);
    let (rate, p50, p99) = round_trips(&d, rounds / 10);
    println!(
        "sequential ping-pong, group commit: {rate:.0} msgs/s, RTT p50 {} p99 {} (two fsyncs per trip)",
        micros(p50),
        micros(p99)
    );
    drop(d);
    // Durable inputs, no messages: what the log can take. The disk of a
    // shared machine drifts: measure it again right before.
    let dd = dd_fsync(dir.path()).or(dd);
    if let Some((lat, _)) = &dd {
        println!(
            "dd again: fsync latency {} ({:.0} fsyncs/s)",
            micros(Duration::from_secs_f64(*lat)),
            1.0 / lat
        );
    }
    let raw = dd.as_ref().map(|(lat, _)| 1.0 / lat);
    for (mode, clients, each, window) in [
        ("per-event", 4, 500, 1),
        ("group", 4, 500, 1),
        ("group", 32, 200, 1),
        ("group", 4, 5000, 64),
        ("off", 4, 5000, 64),
    ] {
        let d = deployment(mode, true);
        let (rate, synced, stats) = bumps(&d, clients, each, window);
        print!(
            "fsync {mode:<9} {clients:>2} clients x {each:>4} inputs, window {window:>2}: {rate:>8.0} inputs/s ({stats}"
        );
        match raw {
            Some(raw) if mode != "off" => println!(
                "; {synced:.0} fsyncs/s = {:.0}% of dd's rate)",
                100.0 * synced / raw
            ),
            _ => println!(")"),
        }
    }
    let repeats = std::env::var("REPEATS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    security_comparison(rounds, repeats);
    if let Some((lat, _)) = dd_fsync(dir.path()) {
        println!(
            "dd after: fsync latency {} ({:.0} fsyncs/s)",
            micros(Duration::from_secs_f64(lat)),
            1.0 / lat
        );
    }
}
