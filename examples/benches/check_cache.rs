//! `check --cache` answering an unchanged system: the whole process (start,
//! describe the system, hash, read the entry, print), timed from outside,
//! next to the same check without the cache. The goal is a hit under 50 ms.
//!
//! `cargo bench -p verdict-examples --bench check_cache` (set `RUNS=` for
//! the number of timed runs of each, 30 by default). Medians and the 90th
//! percentile only: a report, not a pass/fail test.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `exe args` once; its wall time and exit code.
fn run(exe: &str, args: &[&str]) -> (Duration, Option<i32>) {
    let t0 = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {exe}: {e}"));
    (t0.elapsed(), out.status.code())
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Median and 90th percentile of `runs` runs.
fn timed(exe: &str, args: &[&str], runs: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs).map(|_| run(exe, args).0).collect();
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.9))
}

fn report(name: &str, exe: &str, flags: &[&str], dir: &Path, runs: usize) {
    let dir = dir.join(name);
    let dir = dir.to_str().expect("a UTF-8 temp path");
    let mut cached: Vec<&str> = vec!["check", "--cache", dir];
    cached.extend(flags);
    let mut plain: Vec<&str> = vec!["check"];
    plain.extend(flags);
    // Fill the cache; the exit code is the verdict's.
    let (_, code) = run(exe, &cached);
    let (_, again) = run(exe, &cached);
    assert_eq!(code, again, "{name}: a hit gives the check's exit code");
    let (hit, hit90) = timed(exe, &cached, runs);
    let (check, check90) = timed(exe, &plain, runs);
    println!(
        "{name} {}: cache hit median {} (p90 {}); uncached check median {} (p90 {}); hit/check {:.2}; exit {code:?}",
        flags.join(" "),
        millis(hit),
        millis(hit90),
        millis(check),
        millis(check90),
        hit.as_secs_f64() / check.as_secs_f64(),
    );
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    let dir = std::env::temp_dir().join(format!("verdict-cache-bench-{}", std::process::id()));
    println!("{runs} timed runs of each; whole processes, wall time");
    report("desk", env!("CARGO_BIN_EXE_desk"), &[], &dir, runs);
    report(
        "lockserv",
        env!("CARGO_BIN_EXE_lockserv"),
        &["--clients", "3", "--rounds", "2"],
        &dir,
        runs,
    );
    let _ = std::fs::remove_dir_all(&dir);
}
