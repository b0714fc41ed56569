//! Timers, runtime monitors and snapshots on real processes.

#![cfg(feature = "runtime")]

use crate::support;

use std::time::{Duration, Instant};

use support::{eventually, Deployment, PATIENCE};
use verdict_examples::pingpong::{input, Input, Output, PingPong};

const EXE: &str = env!("CARGO_BIN_EXE_pingpong");

fn bump() -> Input {
    input::Bump.into()
}

#[test]
fn timers_fire_at_their_deadline_and_a_crash_clears_them() {
    let mut d = Deployment::new(EXE, &["Pinger", "Ponger"], &[]);
    d.start_all();
    let mut c = d.client::<PingPong>("Pinger");
    let t0 = Instant::now();
    c.submit(input::Remind(200)).unwrap();
    let out = c.next_output(PATIENCE).unwrap().expect("Reminded");
    assert!(matches!(out.output, Output::Reminded(_)));
    assert!(
        t0.elapsed() >= Duration::from_millis(200),
        "a timer never fires early"
    );

    // Armed, then the process dies: after restart the timer is gone, as
    // in the checker's crash.
    c.submit(input::Remind(300)).unwrap();
    d.kill9("Pinger");
    d.start("Pinger");
    let mut c = d.client::<PingPong>("Pinger");
    assert!(c.next_output(Duration::from_millis(700)).unwrap().is_none());
    let stats = c.stats().unwrap();
    assert!(stats.contains("timers_armed 0"), "{stats}");
}

#[test]
fn snapshots_truncate_the_log_and_recovery_starts_from_them() {
    let mut d = Deployment::new(EXE, &["Pinger", "Ponger"], &["--snapshot-every", "10"]);
    d.start_all();
    let mut c = d.client::<PingPong>("Pinger");
    for _ in 0..25 {
        c.submit(bump()).unwrap();
    }
    // A ping-pong run too: volatile fields that the crash must reset.
    c.submit(input::Start {
        count: 50,
        window: 4,
        report_every: 50,
    })
    .unwrap();
    // Wait for the run's end (past the 25 `Bumped` outputs), so no
    // message is in flight when the pinger dies.
    eventually("the run's last pong", || {
        let o = c.next_output(PATIENCE).unwrap().expect("an output");
        matches!(o.output, Output::Pong(_)).then_some(())
    });
    let stats = c.stats().unwrap();
    assert!(!stats.contains("snapshots 0"), "{stats}");
    let log_len = std::fs::metadata(d.data_dir("Pinger").join("wal.log"))
        .unwrap()
        .len();
    assert!(
        log_len < 2_000,
        "the log was emptied by snapshots ({log_len} bytes)"
    );

    d.kill9("Pinger");
    d.start("Pinger");
    assert!(
        d.log("Pinger").contains("snapshot=true"),
        "{}",
        d.log("Pinger")
    );
    let state = d.client::<PingPong>("Pinger").state().unwrap();
    let field = |name: &str| state.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(field("bumps"), "25", "durable field kept");
    assert_eq!(field("received"), "0", "volatile field reset");
    assert_eq!(field("report_every"), "1", "volatile field reset");
}

#[test]
fn the_monitor_logs_a_violated_local_invariant_with_its_event() {
    let mut d = Deployment::new(EXE, &["Pinger", "Ponger"], &["--sloppy", "--monitor"]);
    d.start_all();
    let mut c = d.client::<PingPong>("Pinger");
    c.submit(input::Start {
        count: 3,
        window: 1,
        report_every: 0,
    })
    .unwrap();
    let log = eventually("the violation logged", || {
        let log = d.log("Pinger");
        log.contains("local invariant violated").then_some(log)
    });
    assert!(
        log.contains("invariant=reports_every_pong_or_fewer"),
        "{log}"
    );
    assert!(
        log.contains("report_every: 0"),
        "the event is in the log line: {log}"
    );
    assert!(log.contains("event=input Start"), "{log}");
    // Not fatal: the node goes on serving.
    c.submit(bump()).unwrap();
    let stats = c.stats().unwrap();
    assert!(!stats.contains("monitor_violations 0"), "{stats}");
}

#[test]
fn a_fatal_monitor_stops_the_node_before_the_effects_leave() {
    let mut d = Deployment::new(EXE, &["Pinger", "Ponger"], &["--sloppy", "--monitor-fatal"]);
    d.start_all();
    let mut c = d.client::<PingPong>("Pinger");
    let r = c.submit(input::Start {
        count: 3,
        window: 1,
        report_every: 0,
    });
    assert!(r.is_err(), "the node stops instead of acknowledging");
    let status = eventually("the node to exit", || d.exit_status("Pinger"));
    assert_eq!(status.code(), Some(1));
    let log = d.log("Pinger");
    assert!(log.contains("stopped by the monitor"), "{log}");
    // The Ping never left: the ponger handled nothing.
    let stats = d.client::<PingPong>("Ponger").stats().unwrap();
    assert!(stats.contains("messages_in 0"), "{stats}");
}
