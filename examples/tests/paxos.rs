//! Paxos: the register history stays linearizable; a server that accepts
//! lower ballots is caught, with and without reductions.

use verdict::prelude::*;
use verdict::{Reductions, Violation};
use verdict_examples::paxos::model;

#[test]
fn two_clients_are_linearizable() {
    let report = check(
        &model(2, Faults::none(), false).unwrap(),
        &CheckOptions::default(),
    );
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
}

#[test]
fn accepting_lower_ballots_is_caught_with_and_without_reductions() {
    let m = model(2, Faults::none(), true).unwrap();
    for reductions in [Reductions::none(), Reductions::all()] {
        let report = check(
            &m,
            &CheckOptions {
                reductions,
                ..CheckOptions::default()
            },
        );
        let cx = report
            .counterexample()
            .expect("the broken server must be caught");
        assert!(
            matches!(
                &cx.violation,
                Violation::Invariant {
                    name: "linearizable",
                    ..
                }
            ),
            "{}",
            cx.violation
        );
        assert!(cx.reproduce(&m).unwrap().is_some());
    }
}
