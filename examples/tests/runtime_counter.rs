//! The primary-backup counter as real processes: acknowledged increments
//! survive `kill -9`, and a damaged log tail is cut back to the last good
//! record.

#![cfg(feature = "runtime")]

use crate::support;

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::{eventually, wal, Deployment, PATIENCE};
use verdict_examples::counter::{input, output, Counter, Input, Output};

const EXE: &str = env!("CARGO_BIN_EXE_counter");

fn inc() -> Input {
    Input::Increment(input::Increment)
}

fn value(d: &Deployment, node: &str) -> u64 {
    let state = d.client::<Counter>(node).state().unwrap();
    assert_eq!(state[0].0, "value");
    state[0].1.parse().unwrap()
}

/// Increments once and returns the value the primary replies with.
fn increment(c: &mut verdict::runtime::Client<Counter>) -> u64 {
    c.submit(inc()).unwrap();
    match c.next_output(PATIENCE).unwrap().expect("a reply").output {
        Output::Value(output::Value(v)) => v,
    }
}

/// The `replayed=N` of the node's latest recovery log line.
fn last_replayed(log: &str) -> u64 {
    let at = log.rfind("replayed=").expect("a recovery line") + "replayed=".len();
    log[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn acknowledged_increments_survive_kill_9_mid_workload() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &["--monitor"]);
    d.start_all();
    let accepted = AtomicU64::new(0);
    let replied = AtomicU64::new(0);
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let mut c = d.client::<Counter>("Primary");
            // Submit until the primary dies under us.
            while c.submit(inc()).is_ok() {
                accepted.fetch_add(1, Ordering::SeqCst);
                while let Ok(Some(o)) = c.next_output(Duration::ZERO) {
                    let Output::Value(output::Value(v)) = o.output;
                    replied.fetch_max(v, Ordering::SeqCst);
                }
            }
        });
        eventually("40 accepted increments", || {
            (accepted.load(Ordering::SeqCst) >= 40).then_some(())
        });
        // SIGKILL while the worker is still submitting.
        d.kill9("Primary");
        worker.join().unwrap();
    });
    let accepted = accepted.load(Ordering::SeqCst);
    let replied = replied.load(Ordering::SeqCst);
    assert!(accepted >= 40);

    d.start("Primary");
    // Every accepted increment was durable before it was acknowledged.
    let v = value(&d, "Primary");
    assert!(
        v >= accepted,
        "primary recovered {v}, but {accepted} increments were accepted"
    );
    // Every announced value is held by the backup.
    assert!(value(&d, "Backup") >= replied);
    // And the deployment continues from there.
    // (Acks the backup sent before the crash may still arrive and be
    // announced again: the model allows delivery after a restart.)
    let mut c = d.client::<Counter>("Primary");
    c.submit(inc()).unwrap();
    eventually("the next value to be announced", || {
        let Output::Value(output::Value(n)) = c.next_output(PATIENCE).unwrap()?.output;
        assert!(n <= v + 1, "announced {n} after recovering {v}");
        (n == v + 1).then_some(())
    });
    assert!(!d.log("Primary").contains("invariant violated"));
}

#[test]
fn a_damaged_log_tail_is_cut_back_to_the_last_good_record() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &[]);
    d.start_all();
    let mut c = d.client::<Counter>("Primary");
    for i in 1..=10 {
        assert_eq!(increment(&mut c), i);
    }
    let log_file = wal(&d.data_dir("Primary"));

    // 1. A torn write: garbage after the last record.
    d.kill9("Primary");
    let records = {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log_file)
            .unwrap();
        f.write_all(&[0x13, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3])
            .unwrap();
        // Start + 10 x (Input, Ack)
        21
    };
    d.start("Primary");
    let log = d.log("Primary");
    assert!(log.contains("log tail cut off"), "{log}");
    assert_eq!(last_replayed(&log), records);
    assert_eq!(value(&d, "Primary"), 10);
    let mut c = d.client::<Counter>("Primary");
    assert_eq!(increment(&mut c), 11); // + Restart, Input, Ack
    let records = records + 3;

    // 2. A flipped bit in the last record (the Ack): checksum mismatch.
    d.kill9("Primary");
    let mut bytes = std::fs::read(&log_file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&log_file, &bytes).unwrap();
    d.start("Primary");
    let log = d.log("Primary");
    assert!(log.contains("checksum mismatch"), "{log}");
    assert_eq!(last_replayed(&log), records - 1);
    assert_eq!(value(&d, "Primary"), 11, "the lost record was an Ack");
    let records = records - 1 + 1; // the cut Ack, the new Restart

    // 3. A truncated tail: the Restart record loses its last bytes.
    d.kill9("Primary");
    let len = std::fs::metadata(&log_file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log_file)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    d.start("Primary");
    let log = d.log("Primary");
    assert!(log.contains("torn record"), "{log}");
    assert_eq!(last_replayed(&log), records - 1);
    assert_eq!(value(&d, "Primary"), 11);
    let mut c = d.client::<Counter>("Primary");
    assert_eq!(increment(&mut c), 12);
}

#[test]
fn nodes_with_different_configurations_refuse_each_other() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &[]);
    d.start("Backup");
    d.set_extra(&["--broken"]);
    d.start("Primary");
    let log = eventually("the backup to refuse the primary", || {
        let log = d.log("Backup");
        log.contains("runs another configuration").then_some(log)
    });
    assert!(log.contains("closing connection"), "{log}");
}
