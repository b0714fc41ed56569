//! The primary-backup counter holds under crashes and message faults; its
//! early-reply variant is caught.

use std::process::Command;

use verdict::prelude::*;
use verdict::{Outcome, Violation};
use verdict_examples::counter::model;

#[test]
fn counter_holds_under_crashes_and_message_faults() {
    for faults in [
        "none",
        "crash=1",
        "drop=1,dup=1",
        "reorder,crash=1",
        "crash-stop=1",
    ] {
        let f: Faults = faults.parse().unwrap();
        let report = check(&model(3, f, false).unwrap(), &CheckOptions::default());
        assert!(
            matches!(report.outcome, Outcome::Exhausted),
            "{faults}: {:?}",
            report.outcome
        );
    }
}

#[test]
fn replying_before_the_ack_is_caught_with_a_primary_crash() {
    let m = model(3, Faults::none().crash(1), true).unwrap();
    let report = check(&m, &CheckOptions::default());
    let cx = report
        .counterexample()
        .expect("the early reply must be caught");
    assert!(
        matches!(&cx.violation, Violation::Invariant { name: "replies_are_replicated", message, .. }
            if message.contains("backup holds 0")),
        "{}",
        cx.violation
    );
    assert_eq!(cx.reproduce(&m).unwrap(), Some(cx.violation.clone()));
}

#[test]
fn binary_checks_both_variants() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_counter"))
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&["check"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let broken = run(&["check", "--broken", "--faults", "crash=1"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stdout).contains("replies_are_replicated"));
}
