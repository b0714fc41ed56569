//! Long Jepsen-style campaigns against Raft-KV: each run starts a fresh
//! three-server `kv --transform raft-redis` cluster, four clients doing
//! random SET, APPEND and GET on three keys over RESP, and a nemesis that
//! in turn SIGKILLs the leader, cuts the leader off, SIGSTOPs a server,
//! cuts a random server off and SIGKILLs a random one (each for 1 s, one
//! every 1.5 s after the last ends); then every server reads every key and
//! `verdict::lin` checks the whole history.
//!
//! `cargo bench -p verdict-examples --bench jepsen`. Environment:
//! `RUNS=20`, `SECS=60` (per run), `SEED=1` (of the first run; run `i`
//! uses `SEED + i`), `HISTORY_DIR` (write each history there as EDN, the
//! Jepsen key-value form `lincheck` reads). Prints a line per run and a
//! summary; exits 1 if any history is not linearizable or
//! loses an acknowledged append.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use support::campaign::{self, Plan};

const KV: &str = env!("CARGO_BIN_EXE_kv");

fn env(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("{name}={v}: expected a whole number");
            std::process::exit(2)
        }),
        Err(_) => default,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no other flags.
    if let Some(flag) = std::env::args().skip(1).find(|a| a != "--bench") {
        eprintln!("`{flag}`: this bench takes no flags; set RUNS, SECS, SEED or HISTORY_DIR");
        std::process::exit(2);
    }
    let runs = env("RUNS", 20);
    let secs = env("SECS", 60);
    let seed = env("SEED", 1);
    let dir = std::env::var("HISTORY_DIR").ok();
    if let Some(d) = &dir {
        if let Err(e) = std::fs::create_dir_all(d) {
            eprintln!("HISTORY_DIR={d}: {e}");
            std::process::exit(2);
        }
    }
    println!("{runs} campaigns of {secs} s, 3 servers, 4 clients, every nemesis");
    println!(
        "| run | faults | operations | unknown | lin check | appends checked / lost | verdict |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut failed = 0;
    let mut totals = (0usize, 0usize, 0usize, 0usize);
    let mut checks = Vec::new();
    for i in 0..runs {
        let plan = Plan::new(Duration::from_secs(secs), seed + i);
        let report = campaign::run(KV, &plan);
        let ops = report.history.len();
        let verdict = match (&report.linearizable, report.appends_lost) {
            (Ok(()), 0) => "linearizable",
            (Ok(()), _) => "lost acknowledged appends",
            (Err(_), _) => "NOT linearizable",
        };
        if verdict != "linearizable" {
            failed += 1;
        }
        println!(
            "| {} | {} | {ops} | {} | {:.1} ms | {} / {} | {verdict} |",
            i + 1,
            report.faults.len(),
            report.unknown,
            report.check_time.as_secs_f64() * 1e3,
            report.appends_checked,
            report.appends_lost
        );
        if let Err(why) = &report.linearizable {
            eprintln!("run {}: {why}", i + 1);
        }
        if let Some(d) = &dir {
            let path = format!("{d}/run-{}.edn", i + 1);
            if let Err(e) = std::fs::write(&path, campaign::edn(&report.history)) {
                eprintln!("{path}: {e}");
            }
        }
        totals.0 += report.faults.len();
        totals.1 += ops;
        totals.2 += report.unknown;
        totals.3 += report.appends_lost;
        checks.push(report.check_time);
    }
    checks.sort();
    let median = checks.get(checks.len() / 2).copied().unwrap_or_default();
    println!(
        "\n{runs} runs: {failed} failed; {} faults, {} operations, {} unknown, \
         {} acknowledged appends lost; median lin check {:.1} ms",
        totals.0,
        totals.1,
        totals.2,
        totals.3,
        median.as_secs_f64() * 1e3
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
