//! Fault injection on real traffic, driven by the same fault list the
//! checker takes.

#![cfg(feature = "runtime")]

use crate::support;

use std::time::Duration;

use support::{eventually, Deployment, PATIENCE};
use verdict_examples::pingpong::{input, Input, Output, PingPong};

const EXE: &str = env!("CARGO_BIN_EXE_pingpong");

fn run(count: u64, window: u64) -> Input {
    Input::Start(input::Start {
        count,
        window,
        report_every: count,
    })
}

#[test]
fn duplicates_within_budget_reach_the_peer() {
    let args = ["--faults", "dup=3", "--fault-rate", "1"];
    let mut d = Deployment::new(EXE, &["Pinger", "Ponger"], &args);
    d.start_all();
    let mut c = d.client::<PingPong>("Pinger");
    c.submit(run(10, 1)).unwrap();
    assert!(c.next_output(PATIENCE).unwrap().is_some());
    // Budget: exactly three duplicates per node, whatever the rate.
    assert_eq!(d.stat::<PingPong>("Pinger", "injected_dups"), 3);
    eventually("the ponger to see 10 pings and 3 copies", || {
        (d.stat::<PingPong>("Ponger", "messages_in") == 13).then_some(())
    });
}

#[test]
fn a_dropped_message_stalls_a_protocol_without_retransmission() {
    let args = ["--faults", "drop=1", "--fault-rate", "1"];
    let mut d = Deployment::new(EXE, &["Pinger", "Ponger"], &args);
    d.start_all();
    let mut c = d.client::<PingPong>("Pinger");
    c.submit(run(5, 1)).unwrap();
    // The only ping was lost: nothing comes back.
    assert!(c.next_output(Duration::from_millis(500)).unwrap().is_none());
    assert_eq!(d.stat::<PingPong>("Pinger", "injected_drops"), 1);
    assert_eq!(d.stat::<PingPong>("Ponger", "messages_in"), 0);
}

#[test]
fn delays_reorder_messages_and_the_run_still_completes() {
    let args = [
        "--faults",
        "reorder",
        "--fault-rate",
        "0.5",
        "--max-delay-ms",
        "20",
    ];
    let mut d = Deployment::new(EXE, &["Pinger", "Ponger"], &args);
    d.start_all();
    let mut c = d.client::<PingPong>("Pinger");
    c.submit(run(200, 8)).unwrap();
    let o = c.next_output(PATIENCE).unwrap().expect("the run's end");
    assert!(matches!(o.output, Output::Pong(n) if n.0 == 200));
    assert!(d.stat::<PingPong>("Pinger", "injected_delays") > 0);
}
