//! A model's ignore rule (`Model::ignoring`): dropping the messages a
//! receiver ignores for good keeps every run's end state and every verdict,
//! alone and under dynamic partial-order reduction, with far fewer states;
//! a rule that drops a message its handler acts on fails the step; traces
//! found without the rule replay with it; and crashes turn it off.

use verdict::prelude::*;
use verdict::semantics::{Event, StepError, World};
use verdict::{Outcome, Reductions, Report, Stats, Strategy, Violation};
use verdict_examples::paxos::{self, Paxos};

fn run(model: &Model<Paxos>, reductions: Reductions, strategy: Strategy) -> Report<Paxos> {
    check(
        model,
        &CheckOptions {
            reductions,
            strategy,
            threads: 1,
            ..CheckOptions::default()
        },
    )
}

fn rule_only() -> Reductions {
    Reductions {
        ignore_rule: true,
        ..Reductions::none()
    }
}

fn rule_and_dpor() -> Reductions {
    Reductions {
        ignore_rule: true,
        dynamic_por: true,
        ..Reductions::none()
    }
}

fn exhausted(report: &Report<Paxos>) -> &Stats {
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    &report.stats
}

/// Same end states as the plain search, with and without dynamic POR (whose
/// races must still see the deliveries the rule dropped at the send).
#[test]
fn every_terminal_state_is_kept_with_far_fewer_states() {
    let model = paxos::model(2, Faults::none(), false).unwrap();
    let plain = run(&model, Reductions::none(), Strategy::Bfs);
    let plain = exhausted(&plain);
    for (reductions, strategy) in [
        (rule_only(), Strategy::Bfs),
        (rule_only(), Strategy::Dfs),
        (rule_and_dpor(), Strategy::Dfs),
    ] {
        let reduced = run(&model, reductions, strategy);
        let reduced = exhausted(&reduced);
        let what = format!("{reductions:?} {strategy}");
        assert!(plain.terminal > 100, "{}", plain.terminal);
        assert_eq!(plain.terminal, reduced.terminal, "{what}");
        assert!(
            reduced.unique * 4 < plain.unique,
            "{what}: {} of {} states",
            reduced.unique,
            plain.unique
        );
        assert!(
            reduced
                .notes
                .iter()
                .any(|n| n.starts_with("ignore rule: on")),
            "{what}: {:?}",
            reduced.notes
        );
    }
}

/// The broken server is caught with the rule, and its counterexample
/// replays to the same violation.
#[test]
fn the_broken_server_is_still_caught() {
    let model = paxos::model(2, Faults::none(), true).unwrap();
    for reductions in [rule_only(), rule_and_dpor()] {
        let report = run(&model, reductions, Strategy::Dfs);
        let Outcome::Violation(cx) = &report.outcome else {
            panic!("{reductions:?}: {:?}", report.outcome);
        };
        assert!(matches!(
            cx.violation,
            Violation::Invariant {
                name: "linearizable",
                ..
            }
        ));
        let again = cx.reproduce(&model).unwrap().expect("violates");
        assert!(matches!(
            again,
            Violation::Invariant {
                name: "linearizable",
                ..
            }
        ));
    }
}

/// Says every message is ignored: wrong for any message that does something.
fn everything(_: &paxos::Config, _: &paxos::State, _: paxos::Node, _: &paxos::Msg) -> bool {
    true
}

#[test]
fn a_rule_that_drops_a_message_its_handler_acts_on_fails_the_step() {
    let model = paxos::model(2, Faults::none(), false)
        .unwrap()
        .ignoring(everything);
    let report = run(&model, Reductions::all(), Strategy::Bfs);
    let Outcome::Violation(cx) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    let Violation::Step(error @ StepError::IgnoredMessageHandled { handler, .. }) = &cx.violation
    else {
        panic!("{:?}", cx.violation);
    };
    assert!(handler.starts_with("Server on message"), "{handler}");
    let text = error.to_string();
    assert!(text.contains("the ignore rule says"), "{text}");
    assert!(text.contains("make the rule return false"), "{text}");
}

/// A counterexample from a search without the rule delivers packets the
/// rule drops; replaying it on the model with the rule still works.
#[test]
fn a_trace_found_without_the_rule_replays_with_it() {
    let model = paxos::model(2, Faults::none(), true).unwrap();
    let report = run(&model, Reductions::none(), Strategy::Dfs);
    let Outcome::Violation(cx) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    let (init, steps) = cx.replay(&model).expect("replays");
    // The trace does deliver something the rule had dropped.
    let mut before: &World<Paxos> = &init;
    let mut dropped = 0;
    for step in &steps {
        if let Event::Deliver(p) = &step.event {
            dropped += usize::from(!before.network.contains(p));
        }
        before = &step.world;
    }
    assert!(dropped > 0, "the trace delivers nothing the rule drops");
    let again = cx.reproduce(&model).unwrap().expect("violates");
    assert!(matches!(
        again,
        Violation::Invariant {
            name: "linearizable",
            ..
        }
    ));
}

/// A crash resets the ballot a rule leans on: the rule is off, and the
/// check says so.
#[test]
fn crashes_turn_the_rule_off() {
    let model = paxos::model(2, Faults::none().crash(1), false).unwrap();
    let report = check(
        &model,
        &CheckOptions {
            max_states: Some(2_000),
            reductions: Reductions::all(),
            ..CheckOptions::default()
        },
    );
    assert!(
        report
            .stats
            .notes
            .iter()
            .any(|n| n.starts_with("ignore rule: off (a crash")),
        "{:?}",
        report.stats.notes
    );
}
