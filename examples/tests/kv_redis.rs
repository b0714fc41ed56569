//! Raft-KV spoken to with the Redis protocol: the server-side command
//! handlers are checked exhaustively for linearizability, and a real
//! three-server cluster is driven with `redis-cli` (and `redis-benchmark`)
//! through a `kill -9` of its leader. The tools are Debian's `redis-tools`;
//! without them the deployment test says so and passes.

#![cfg(feature = "runtime")]

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::campaign::{self, leader, redis_cluster, SERVERS};
use support::eventually;
use verdict::prelude::*;
use verdict::transform::RaftConfig;
use verdict::Outcome;
use verdict_examples::redis_store;

const KV: &str = env!("CARGO_BIN_EXE_kv");

fn bounded(max_term: u32, max_log: u64) -> RaftConfig {
    RaftConfig {
        max_term,
        max_log,
        max_retries: Some(0),
        ..RaftConfig::default()
    }
}

#[test]
fn commands_given_to_servers_are_linearizable_in_every_interleaving() {
    // Two servers, each taking one command (a SET on one, an INCR of the
    // same key on the other, which forwards it when it follows), two
    // terms: who leads, who forwards to whom, and a leader change between.
    let model = redis_store::gateway_model(2, 1, Faults::none(), bounded(2, 2)).unwrap();
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    assert!(report.stats.unique > 1_000, "{}", report.stats);
}

#[test]
fn a_server_that_crashes_does_not_answer_commands_from_before_the_crash() {
    // After a restart the server re-applies its log; the outputs of its
    // commands from before the crash must not be emitted again (nobody
    // waits for them), or the history would hold an answer to nothing.
    let model = redis_store::gateway_model(2, 1, Faults::none().crash(1), bounded(1, 2)).unwrap();
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// `redis-cli -p port args...`, its output trimmed.
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn redis_cli_writes_acknowledged_on_any_server_survive_kill_9_of_the_leader() {
    if !have("redis-cli") {
        println!("skipped: redis-cli is not installed (apt-get install redis-tools)");
        return;
    }
    let (mut d, ports) = redis_cluster(KV, &[]);
    let mut acked: Vec<(String, String)> = Vec::new();
    // A write is retried until acknowledged: before the first election,
    // and during the one after the kill, a command can time out.
    let mut write = |port: u16, key: &str, value: &str| {
        eventually("an acknowledged SET", || {
            (cli(port, &["SET", key, value]) == "OK").then_some(())
        });
        acked.push((key.to_string(), value.to_string()));
    };
    for i in 0..9 {
        write(ports[i % 3], &format!("key:{i}"), &format!("value-{i}"));
    }
    // Any server reads what any server wrote.
    assert_eq!(cli(ports[2], &["GET", "key:0"]), "value-0");
    assert_eq!(cli(ports[0], &["INCR", "counter"]), "1");
    assert_eq!(cli(ports[1], &["INCR", "counter"]), "2");
    assert_eq!(cli(ports[1], &["CAS", "counter", "2", "x"]), "1");
    assert_eq!(cli(ports[2], &["GET", "counter"]), "x");

    let victim = eventually("a leader", || leader(&d, &SERVERS));
    let index = SERVERS.iter().position(|s| *s == victim).unwrap();
    d.kill9(&victim);
    let alive: Vec<u16> = (0..3).filter(|&i| i != index).map(|i| ports[i]).collect();
    for i in 9..15 {
        write(alive[i % 2], &format!("key:{i}"), &format!("value-{i}"));
    }
    d.start(&victim);
    for i in 15..18 {
        write(ports[i % 3], &format!("key:{i}"), &format!("value-{i}"));
    }
    // Every acknowledged write is readable through every server, the
    // restarted one included.
    for port in &ports {
        for (key, value) in &acked {
            let got = eventually("a read", || {
                let got = cli(*port, &["GET", key]);
                (!got.starts_with("TIMEOUT")).then_some(got)
            });
            assert_eq!(&got, value, "GET {key} on port {port}");
        }
    }
    let mget = cli(ports[index], &["MGET", "key:0", "nokey", "key:17"]);
    assert_eq!(
        mget.lines().collect::<Vec<_>>(),
        ["value-0", "", "value-17"]
    );

    // Malformed input closes that connection with an error; others go on.
    let mut bad = TcpStream::connect(("127.0.0.1", ports[0])).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    bad.write_all(b"*99999999999\r\n").unwrap();
    let mut answer = String::new();
    let _ = bad.read_to_string(&mut answer);
    assert!(answer.starts_with("-ERR Protocol error"), "{answer:?}");
    assert_eq!(cli(ports[0], &["GET", "key:1"]), "value-1");

    if have("redis-benchmark") {
        let out = Command::new("redis-benchmark")
            .args(["-p", &ports[1].to_string()])
            .args(["-t", "set,get", "-c", "50", "-n", "2000", "-q"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("SET: ") && text.contains("GET: "), "{text}");
        assert!(!text.to_lowercase().contains("error"), "{text}");
    } else {
        println!("redis-benchmark part skipped: it is not installed");
    }
}

// ---- a short Jepsen-style campaign ----

/// A real cluster under SIGKILL-and-restart, SIGSTOP/SIGCONT and network
/// partitions of the leader and of random servers while four clients
/// work; the history, final reads of every key on every server included,
/// must be linearizable. `CAMPAIGN_SECS` sets the length (default 12),
/// `CAMPAIGN_HISTORY` a file to write the history to (EDN, readable by
/// `lincheck`); `cargo bench --bench jepsen` runs long campaigns.
#[test]
fn a_short_fault_campaign_stays_linearizable() {
    let secs: u64 = std::env::var("CAMPAIGN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let plan = campaign::Plan::new(Duration::from_secs(secs), 1);
    let report = campaign::run(KV, &plan);
    let ops = report.history.len();
    println!(
        "campaign: {secs} s, faults [{}], {ops} operations, {} unknown, checked in {:?}, \
         {} acknowledged appends in the final reads",
        report.faults.join(", "),
        report.unknown,
        report.check_time,
        report.appends_checked
    );
    if let Ok(path) = std::env::var("CAMPAIGN_HISTORY") {
        std::fs::write(&path, campaign::edn(&report.history)).unwrap();
    }
    if let Err(why) = &report.linearizable {
        panic!("{why}");
    }
    assert_eq!(report.appends_lost, 0, "of {}", report.appends_checked);
    // Every kind of fault struck at least once.
    for kind in ["kill -9", "SIGSTOP", "isolate"] {
        assert!(
            report.faults.iter().any(|f| f.starts_with(kind)),
            "no {kind} in {:?}",
            report.faults
        );
    }
    assert!(
        ops - report.unknown > 20,
        "{ops} operations, {} unknown",
        report.unknown
    );
}
