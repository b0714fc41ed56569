//! Fuzzes what a node reads from outside — frames, its log, its snapshot,
//! typed inputs — for the lock server and the Raft store, and reports
//! executions, throughput, the largest allocation, and any input that
//! panicked or allocated past its bound (written to a file; exit 1).
//!
//! `cargo bench -p verdict-examples --bench fuzz -- [--execs N] [--seed S]`
//! (N: executions in all, split evenly over the eight targets; default
//! 10,000,000).

mod fuzzing;

use std::process::ExitCode;
use std::time::Instant;

use fuzzing::{campaign, seeds, Rng, Seeds, Tally, Target};
use verdict::transform::{Raft, RaftConfig};
use verdict::{Faults, System};
use verdict_examples::kv::{self, KvInput, Store};
use verdict_examples::lockserv::{self, input, Input, LockServ};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str, default: u64| -> Result<u64, String> {
        match args.iter().position(|a| a == name) {
            None => Ok(default),
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.replace('_', "").parse().ok())
                .ok_or_else(|| format!("{name} takes a number")),
        }
    };
    let (execs, seed) = match (flag("--execs", 10_000_000), flag("--seed", 1)) {
        (Ok(e), Ok(s)) => (e, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let per = execs.div_ceil(8);
    let mut rng = Rng::new(seed);
    let lock_seeds = {
        let model = lockserv::model(3, 2, Faults::none()).expect("lockserv model");
        let inputs = [
            (Input::Lock(input::Lock), "Lock"),
            (Input::Unlock(input::Unlock), "Unlock"),
        ];
        seeds(&model, &inputs, 50, &mut rng)
    };
    let raft_seeds = {
        let config = RaftConfig {
            max_term: 3,
            max_log: 3,
            ..RaftConfig::default()
        };
        let model = kv::raft(
            3,
            2,
            2,
            "crash=1".parse::<Faults>().expect("a fault list"),
            config,
        )
        .expect("raft model");
        let typed: Vec<(KvInput, String)> = kv::SCRIPTS
            .iter()
            .flatten()
            .map(|i| (i.clone(), typed(i)))
            .collect();
        let inputs: Vec<(KvInput, &str)> =
            typed.iter().map(|(i, t)| (i.clone(), t.as_str())).collect();
        seeds(&model, &inputs, 200, &mut rng)
    };
    println!(
        "seeds: lockserv {} frames, {} records, {} snapshots; raft {} frames, {} records, {} snapshots",
        lock_seeds.frames.len(),
        lock_seeds.records.len(),
        lock_seeds.snapshots.len(),
        raft_seeds.frames.len(),
        raft_seeds.records.len(),
        raft_seeds.snapshots.len()
    );
    println!(
        "{:<10} {:<9} {:>11} {:>9} {:>10} {:>12} {:>8}",
        "system", "target", "execs", "valid", "execs/s", "largest", "x input"
    );
    let mut total = 0u64;
    let started = Instant::now();
    for target in Target::ALL {
        for (name, tally) in [
            (
                "lockserv",
                timed(|| go::<LockServ>(target, &lock_seeds, per, seed)),
            ),
            (
                "raft-kv",
                timed(|| go::<Raft<Store>>(target, &raft_seeds, per, seed)),
            ),
        ] {
            let (t, secs) = tally;
            total += t.execs;
            println!(
                "{name:<10} {:<9} {:>11} {:>8.1}% {:>10.0} {:>10} B {:>8.1}",
                target.name(),
                t.execs,
                100.0 * t.accepted as f64 / t.execs.max(1) as f64,
                t.execs as f64 / secs,
                t.largest_alloc,
                t.worst_ratio
            );
            if let Some((input, why)) = t.failure {
                let path = format!("fuzz-failure-{name}-{}.bin", target.name());
                let _ = std::fs::write(&path, &input);
                eprintln!(
                    "FAILED: {name} {}: {why}; the input is in {path}",
                    target.name()
                );
                return ExitCode::from(1);
            }
        }
    }
    println!(
        "{total} executions in {:.1} s, no panic, no allocation past its bound",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

fn go<S: System>(target: Target, seeds: &Seeds, execs: u64, seed: u64) -> Tally {
    campaign::<S>(target, seeds, execs, seed, true)
}

fn timed(f: impl FnOnce() -> Tally) -> (Tally, f64) {
    let t = Instant::now();
    let tally = f();
    (tally, t.elapsed().as_secs_f64().max(1e-9))
}

/// An input as `kv client` takes it: `Put(1, 7)`.
fn typed(input: &KvInput) -> String {
    let json = serde_json::to_value(input).unwrap_or_default();
    match json {
        serde_json::Value::Object(map) => match map.into_iter().next() {
            Some((name, serde_json::Value::Array(args))) => {
                let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                format!("{name}({})", args.join(", "))
            }
            Some((name, value)) => format!("{name}({value})"),
            None => String::new(),
        },
        serde_json::Value::String(name) => name,
        other => other.to_string(),
    }
}
