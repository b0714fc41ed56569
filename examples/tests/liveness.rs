//! Liveness on the lock server: every client that asks eventually gets the
//! lock under weak fairness; when the network may drop requests forever, a
//! lasso shows a run where one never does.

use verdict::liveness::{check_liveness, LivenessOutcome};
use verdict::prelude::*;
use verdict::Violation;
use verdict_examples::lockserv::model;

#[test]
fn every_lock_is_granted_under_fairness() {
    let m = model(2, 1, Faults::none()).unwrap();
    let report = check_liveness(&m, 100_000);
    assert!(
        matches!(report.outcome, LivenessOutcome::Holds),
        "{:?}",
        report.outcome
    );
    assert!(report.states > 10);
}

#[test]
fn dropping_requests_forever_gives_a_lasso() {
    let m = model(2, 1, Faults::none().drop()).unwrap();
    let report = check_liveness(&m, 100_000);
    let LivenessOutcome::Violation(lasso) = report.outcome else {
        panic!("expected a lasso, got {:?}", report.outcome);
    };
    assert_eq!(lasso.property, "every_lock_granted");
    let cx = &lasso.counterexample;
    assert!(matches!(
        &cx.violation,
        Violation::Liveness {
            property: "every_lock_granted",
            ..
        }
    ));
    // The prefix replays and contains the lost request.
    let text = cx.render(&m);
    assert!(text.contains("network drops Lock"), "{text}");
    assert!(lasso.cycle_start <= cx.len());
    cx.replay(&m).expect("the lasso replays");
}
