//! The lock server: mutual exclusion holds on a reliable network and fails
//! under duplication, with a shortest, replayable counterexample.

use std::process::Command;

use verdict::prelude::*;
use verdict::{Outcome, Violation};
use verdict_examples::lockserv::{model, LockServ};

fn options() -> CheckOptions {
    CheckOptions::default()
}

#[test]
fn mutual_exclusion_holds_on_a_reliable_network() {
    for clients in 1..=3 {
        let report = check(&model(clients, 1, Faults::none()).unwrap(), &options());
        assert!(
            matches!(report.outcome, Outcome::Exhausted),
            "{clients} clients: {:?}",
            report.outcome
        );
        assert!(report.stats.unique > 1);
    }
    let report = check(&model(2, 2, Faults::none()).unwrap(), &options());
    assert!(matches!(report.outcome, Outcome::Exhausted));
}

#[test]
fn more_clients_mean_more_states() {
    let two = check(&model(2, 1, Faults::none()).unwrap(), &options())
        .stats
        .unique;
    let three = check(&model(3, 1, Faults::none()).unwrap(), &options())
        .stats
        .unique;
    assert!(three > two, "{three} <= {two}");
}

#[test]
fn duplication_breaks_mutual_exclusion_with_a_shortest_replayable_trace() {
    let m = model(3, 1, Faults::none().dup()).unwrap();
    let report = check(&m, &options());
    let cx = report
        .counterexample()
        .expect("duplication must break mutual exclusion");
    assert!(
        matches!(
            &cx.violation,
            Violation::Invariant {
                name: "mutual_exclusion",
                ..
            }
        ),
        "{}",
        cx.violation
    );
    // Replaying the events with the handlers reproduces the violation.
    let again = cx
        .reproduce(&m)
        .unwrap()
        .expect("replay must violate again");
    assert_eq!(again, cx.violation);
    // Shortest: no violation exists within one step fewer.
    let shorter = CheckOptions {
        max_depth: Some(cx.len() - 1),
        ..options()
    };
    assert!(check(&m, &shorter).passed());
    // The rendered trace names the invariant and shows the duplicate.
    let text = cx.render(&m);
    assert!(text.contains("network duplicates Grant"), "{text}");
    assert!(text.contains("mutual_exclusion"), "{text}");
}

#[test]
fn the_trace_property_catches_the_same_bug() {
    // At the end of the counterexample, the external trace alone shows two
    // clients told `Locked` without an unlock between them.
    let m = model(2, 1, Faults::none().dup()).unwrap();
    let report = check(&m, &options());
    let (_, steps) = report.counterexample().unwrap().replay(&m).unwrap();
    let last = &steps.last().unwrap().world;
    let trace_inv = LockServ::meta()
        .invariants
        .iter()
        .position(|i| i.name == "locked_outputs_alternate")
        .unwrap();
    let verdict = LockServ::check_global(trace_inv, &m.setup, last);
    assert!(
        verdict.unwrap_err().contains("was told Locked while"),
        "{:?}",
        last.trace
    );
}

fn lockserv(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn binary_exit_codes_say_what_happened() {
    let (code, out, _) = lockserv(&["check", "--clients", "3"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("unique:"), "{out}");
    let (code, out, _) = lockserv(&["check", "--clients", "3", "--faults", "dup"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("invariant `mutual_exclusion` is violated"),
        "{out}"
    );
    let (code, _, err) = lockserv(&["check", "--faults", "bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown fault `bogus`"), "{err}");
    let (code, _, err) = lockserv(&["check", "--clients", "300"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot number 300"), "{err}");
    let (code, _, _) = lockserv(&["check", "--no-such-flag"]);
    assert_eq!(code, 2);
}

#[test]
fn a_trace_written_by_check_replays_to_the_same_violation() {
    let dir = std::env::temp_dir().join(format!("verdict-lockserv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("dup.json");
    let trace = trace.to_str().unwrap();
    let (code, _, _) = lockserv(&[
        "check",
        "--clients",
        "3",
        "--faults",
        "dup",
        "--trace-json",
        trace,
    ]);
    assert_eq!(code, 1);
    let (code, out, err) = lockserv(&["replay", "--clients", "3", trace]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("mutual_exclusion"), "{out}");
    // Replaying with a different cluster cannot follow the trace.
    let (code, _, err) = lockserv(&["replay", "--clients", "1", trace]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not possible"), "{err}");
    std::fs::write(dir.join("junk.json"), "{ not json").unwrap();
    let (code, _, err) = lockserv(&["replay", dir.join("junk.json").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a trace file"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
