//! A model's ignore rule (`Model::ignoring`): dropping the messages a
//! receiver ignores for good keeps every run's end state and every verdict,
//! alone and under dynamic partial-order reduction, with far fewer states;
//! a rule that drops a message its handler acts on fails the step; traces
//! found without the rule replay with it; crashes turn it off; and an
//! audit checks the rule's whole promise on every reachable step.

use verdict::check::{Status, Topic};
use verdict::prelude::*;
use verdict::semantics::{Event, StepError, World};
use verdict::{Outcome, Reductions, Report, Stats, Strategy, Violation};
use verdict_examples::paxos::{self, Paxos};

mod levels {
    verdict::system! {
        /// `Src` raises `Dst`'s level twice; `Resetter` sets it back to 0.
        pub system Levels;

        message enum Msg { Raise(u8), Reset }

        role Src {
            on start sends(Raise) {
                ctx.send(Node::Dst, msg::Raise(1));
                ctx.send(Node::Dst, msg::Raise(1));
            }
        }
        role Resetter {
            on start sends(Reset) {
                ctx.send(Node::Dst, msg::Reset);
            }
        }
        role Dst {
            state { level: u8 = 0 }
            on message Raise(n) from _src writes(level) {
                if n > *self.level {
                    *self.level = n;
                }
            }
            on message Reset from _src writes(level) {
                *self.level = 0;
            }
        }
    }
}

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

/// The check's notes say the ignore rule was `status`, with a detail
/// containing `detail`.
fn assert_note(stats: &Stats, status: Status, detail: &str) {
    assert!(
        stats
            .notes
            .iter()
            .any(|n| n.is(Topic::IgnoreRule, status) && n.detail.contains(detail)),
        "no ignore-rule note {status:?} with {detail:?} in {:?}",
        stats.notes
    );
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
        assert_note(reduced, Status::On, "");
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
    assert_note(&report.stats, Status::Off, "a crash");
}

/// Wrong "for good": a `Reset` lowers the level again.
fn raise_at_or_below(
    _: &<levels::Levels as System>::Config,
    state: &levels::State,
    _: levels::Node,
    msg: &levels::Msg,
) -> bool {
    matches!((state, msg), (levels::State::Dst(d), levels::Msg::Raise(m)) if m.0 <= d.level)
}

/// The rule is right "now" at every step (a raise to the level it is at
/// changes nothing), so only the audit's "for good" half can catch it.
#[test]
fn the_audit_catches_a_rule_that_does_not_hold_for_good() {
    let setup = Setup::<levels::Levels>::new(&Sizes::new()).unwrap();
    let workload = Workload::none(&setup);
    let model = Model::new(setup, Faults::none(), workload).ignoring(raise_at_or_below);
    let options = CheckOptions::default();
    let used = check(&model, &options);
    assert!(
        matches!(used.outcome, Outcome::Exhausted),
        "{:?}",
        used.outcome
    );
    let audited = check(&model.clone().auditing_ignore_rule(), &options);
    let Outcome::Violation(cx) = &audited.outcome else {
        panic!("{:?}", audited.outcome);
    };
    let Violation::Step(error @ StepError::IgnoredMessageRevived { handler, .. }) = &cx.violation
    else {
        panic!("{:?}", cx.violation);
    };
    assert_eq!(*handler, "Dst on message Reset");
    assert!(error.to_string().contains("no longer does"), "{error}");
}

/// Paxos's own rule keeps its promise on every step of the whole state
/// space (no reduction, so every reachable state is visited). The broken
/// server stops at its linearizability violation first, so its audit would
/// cover only part of the space; the correct one is audited in full.
#[test]
fn the_paxos_rule_passes_its_audit() {
    let model = paxos::model(2, Faults::none(), false)
        .unwrap()
        .auditing_ignore_rule();
    let report = run(&model, Reductions::none(), Strategy::Bfs);
    let stats = exhausted(&report);
    assert!(stats.unique > 30_000, "{}", stats.unique);
    assert_note(stats, Status::Audited, "");
}

/// `check --audit-ignore-rule` audits the binary's rule, and a program
/// without one says so and exits 2.
#[test]
fn the_cli_audits_the_rule_or_says_there_is_none() {
    use std::process::Command;
    let paxos = Command::new(env!("CARGO_BIN_EXE_paxos"))
        .args([
            "check",
            "--clients",
            "1",
            "--no-reduction",
            "--audit-ignore-rule",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&paxos.stdout);
    assert_eq!(paxos.status.code(), Some(0), "{out}");
    assert!(out.contains("ignore rule: audited"), "{out}");
    let lockserv = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(["check", "--audit-ignore-rule"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&lockserv.stderr);
    assert_eq!(lockserv.status.code(), Some(2), "{err}");
    assert!(err.contains("has no ignore rule to audit"), "{err}");
}
