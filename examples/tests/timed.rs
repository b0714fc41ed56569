//! Simulated time: call latencies from link latencies, and a service level
//! that a crash breaks unless a second replica answers.

use verdict::prelude::*;
use verdict::simulate::{simulate_timed, Latencies, Latency, Sla, TimedOptions};
use verdict::NodeWorkload;

mod replicas {
    verdict::system! {
        /// A client that asks every replica and takes the first answer.
        pub system Replicas;

        input enum Input { Ask }
        output enum Output { Answer }
        message enum Msg { Req, Resp }

        role Client {
            state {
                /// Whether the current call is still unanswered.
                waiting: bool = false,
            }

            on input Ask writes(waiting) sends(Req) {
                *self.waiting = true;
                let replicas: Vec<Node> = ctx.nodes_of(Role::Replica).collect();
                for r in replicas {
                    ctx.send(r, msg::Req);
                }
            }

            on message Resp from _replica writes(waiting) emits(Answer) {
                if *self.waiting {
                    *self.waiting = false;
                    ctx.output(output::Answer);
                }
            }
        }

        role Replica(u8) {
            on message Req from client sends(Resp) {
                ctx.send(client, msg::Resp);
            }
        }
    }
}

use replicas::{Node, Replicas, Role};

const CALLS: usize = 40;

fn model(replicas: usize, faults: &str) -> Model<Replicas> {
    let setup = Setup::new(&Sizes::new().with(Role::Replica, replicas)).unwrap();
    let steps = (0..CALLS)
        .map(|_| Step::call(replicas::input::Ask))
        .collect();
    let workload = Workload::none(&setup).with(&setup, Node::Client, NodeWorkload::Script(steps));
    Model::new(setup, faults.parse().unwrap(), workload)
}

fn options(replicas: usize) -> TimedOptions {
    TimedOptions {
        seeds: 0..200,
        threads: 2,
        latency: Latencies {
            default: Latency {
                min: 1_000,
                max: 5_000,
            },
            links: Vec::new(),
        },
        horizon: 300_000,
        max_steps: 10_000,
        rates: Default::default(),
        restart_after: 0,
        // The client stays up: the crash hits a replica.
        crash_targets: Some((1..=replicas).collect()),
    }
}

#[test]
fn call_latency_is_the_round_trip_of_the_links() {
    let report = simulate_timed(&model(1, "none"), &options(1));
    assert_eq!(report.runs, 200);
    assert_eq!(report.unanswered, 0);
    assert_eq!(report.calls(), 200 * CALLS as u64);
    // Two hops of 1..5 ms each: 2..10 ms, 6 ms on average.
    assert!(report.latencies[0] >= 2_000);
    assert!(*report.latencies.last().unwrap() <= 10_000);
    let p50 = report.quantile(0.5).unwrap();
    assert!((5_500..=6_500).contains(&p50), "p50 {p50}");
    // With a faster replica the first answer comes sooner.
    let mut fast = options(2);
    fast.latency.links = vec![
        ((0, 2), Latency { min: 100, max: 200 }),
        ((2, 0), Latency { min: 100, max: 200 }),
    ];
    let report = simulate_timed(&model(2, "none"), &fast);
    assert!(
        *report.latencies.last().unwrap() <= 400,
        "{:?}",
        report.latencies.last()
    );
}

#[test]
fn a_crash_breaks_the_service_level_unless_a_second_replica_answers() {
    let sla: Sla = "p99<12ms".parse().unwrap();
    let alone = simulate_timed(&model(1, "none"), &options(1));
    assert!(sla.holds(&alone), "{:?}", alone.quantile(0.99));
    let crashed = simulate_timed(&model(1, "crash-stop=1"), &options(1));
    assert!(crashed.unanswered > 0);
    assert!(
        !sla.holds(&crashed),
        "one replica cannot answer after it crashed"
    );
    let (seed, worst) = crashed.worst.as_ref().unwrap();
    assert!(
        worst.unanswered > 0 && !worst.crashes.is_empty(),
        "seed {seed}: {worst:?}"
    );
    let replicated = simulate_timed(&model(2, "crash-stop=1"), &options(2));
    assert_eq!(replicated.unanswered, 0);
    assert!(sla.holds(&replicated), "{:?}", replicated.quantile(0.99));
    assert!(replicated
        .worst
        .as_ref()
        .is_some_and(|(_, r)| r.crashes.len() == 1));
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kv"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_kv_store_meets_its_service_level_under_a_crash_only_when_replicated() {
    let common = [
        "simulate",
        "--time",
        "--faults",
        "crash=1",
        "--clients",
        "2",
        "--ops",
        "5",
        "--horizon",
        "300ms",
        "--restart-after",
        "20ms",
        "--latency",
        "1ms..5ms",
        "--runs",
        "200",
        "--depth",
        "3000",
        "--sla",
        "p99<50ms",
    ];
    // One server: a crash loses the calls in flight to it.
    let (code, out, err) = run(&[&common[..], &["--crash-role", "Server"]].concat());
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("SLA p99<50ms FAILS"), "{out}");
    assert!(out.contains("crashes: Server at"), "{out}");
    assert!(
        out.contains("the run again: simulate --time --seeds"),
        "{out}"
    );
    // Primary-backup: a crash of either costs time, not answers.
    for role in ["Primary", "Backup"] {
        let args = [
            &common[..],
            &["--transform", "primary-backup", "--crash-role", role],
        ]
        .concat();
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(0), "{role}: {out}{err}");
        assert!(out.contains("0 unanswered"), "{role}: {out}");
        assert!(
            out.contains("SLA p99<50ms holds over 200 runs"),
            "{role}: {out}"
        );
        assert!(out.contains("p99.9"), "{out}");
    }
    // Without a crash the single server meets it too, with the percentiles.
    let (code, out, _) = run(&["simulate", "--time", "--runs", "100", "--sla", "p99<25ms"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("latency: p50 "), "{out}");
    for (bad, says) in [
        (
            vec!["simulate", "--time", "--faults", "drop"],
            "come at rates",
        ),
        (vec!["simulate", "--time", "--sla", "p99"], "pQ<DURATION"),
        (vec!["simulate", "--latency", "1ms"], "are for --time"),
        (
            vec!["simulate", "--time", "--crash-role", "Nobody"],
            "no node of that role",
        ),
        (
            vec!["simulate", "--time", "--estimate"],
            "neither --estimate",
        ),
    ] {
        let (code, _, err) = run(&bad);
        assert_eq!(code, Some(2), "{bad:?}: {err}");
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}
