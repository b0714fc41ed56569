//! Dynamic partial-order reduction: the same verdicts as the plain search on
//! races it must reverse (a message that reaches a node through a relay),
//! on Paxos (correct and broken), with far fewer states; and a cyclic
//! state graph, which it does not handle, falls back to the static
//! reduction with a note.

use verdict::check::{Status, Topic};
use verdict::prelude::*;
use verdict::{NodeWorkload, Outcome, Reductions, Strategy, System, Violation};
use verdict_examples::paxos;

mod relayed {
    verdict::system! {
        /// `A` tells `Sink` directly; `B` tells it through `Relay`. Whether the
        /// relayed word can arrive first is a race the search must reverse.
        pub system Relayed;

        input enum Input { Go }
        message enum Msg { Word(u8) }

        role A {
            on input Go sends(Word) {
                ctx.send(Node::Sink, msg::Word(1));
            }
        }
        role B {
            on input Go sends(Word) {
                ctx.send(Node::Relay, msg::Word(2));
            }
        }
        role Relay {
            on message Word(w) from _src sends(Word) {
                ctx.send(Node::Sink, msg::Word(w));
            }
        }
        role Sink {
            state { heard: Vec<u8> = Vec::new() }
            on message Word(w) from _src writes(heard) {
                self.heard.push(w);
            }
        }

        /// Fails when the relayed word arrives first.
        invariant direct_first reads(Sink.heard) {
            if self.sink.heard.first() == Some(&2) {
                return Err("the relayed word arrived first".to_string());
            }
            Ok(())
        }
    }
}

mod passing {
    verdict::system! {
        /// Two nodes passing a token forever: the state graph has a cycle.
        pub system Passing;

        message enum Msg { Token }

        role Left {
            state { passes: u8 = 0 }
            on start sends(Token) {
                ctx.send(Node::Right, msg::Token);
            }
            on message Token from _src writes(passes) sends(Token) {
                *self.passes = (*self.passes + 1) % 3;
                ctx.send(Node::Right, msg::Token);
            }
        }
        role Right {
            on message Token from _src sends(Token) {
                ctx.send(Node::Left, msg::Token);
            }
        }

        invariant few_passes reads(Left.passes) {
            if self.left.passes > 2 {
                return Err("too many passes".to_string());
            }
            Ok(())
        }
    }
}

use passing::Passing;
use relayed::Relayed;

fn dynamic() -> Reductions {
    Reductions {
        dynamic_por: true,
        ..Reductions::none()
    }
}

fn run<S: System>(model: &Model<S>, reductions: Reductions) -> verdict::Report<S> {
    check(
        model,
        &CheckOptions {
            reductions,
            strategy: Strategy::Dfs,
            ..CheckOptions::default()
        },
    )
}

/// The check's notes say the dynamic reduction was `status`, with a
/// detail containing `detail`.
fn assert_note<S: System>(report: &verdict::Report<S>, status: Status, detail: &str) {
    let notes = &report.stats.notes;
    assert!(
        notes
            .iter()
            .any(|n| n.is(Topic::DynamicPartialOrder, status) && n.detail.contains(detail)),
        "no note {status:?} with {detail:?} in {notes:?}"
    );
}

fn violated<S: System>(report: &verdict::Report<S>) -> Option<String> {
    match &report.outcome {
        Outcome::Violation(cx) => Some(match &cx.violation {
            Violation::Invariant { name, .. } => name.to_string(),
            other => other.to_string(),
        }),
        _ => None,
    }
}

#[test]
fn a_race_through_a_relay_is_reversed() {
    use relayed::{input, Input, Node};
    let setup = Setup::<Relayed>::new(&Sizes::new()).unwrap();
    let go = || NodeWorkload::Script(vec![Step::send(Input::Go(input::Go))]);
    let workload = Workload::none(&setup)
        .with(&setup, Node::A, go())
        .with(&setup, Node::B, go());
    let model = Model::new(setup, Faults::none(), workload);
    let plain = run(&model, Reductions::none());
    let reduced = run(&model, dynamic());
    assert_eq!(violated(&plain).as_deref(), Some("direct_first"));
    assert_eq!(violated(&reduced).as_deref(), Some("direct_first"));
    assert_note(&reduced, Status::On, "");
    let cx = reduced.counterexample().expect("a counterexample");
    assert!(cx.reproduce(&model).expect("replays").is_some());
}

#[test]
fn paxos_keeps_its_verdicts_with_far_fewer_states() {
    let good = paxos::model(2, Faults::none(), false).unwrap();
    let plain = run(&good, Reductions::none());
    let reduced = run(&good, dynamic());
    assert!(plain.passed() && reduced.passed());
    assert!(
        reduced.stats.unique * 3 < plain.stats.unique,
        "{} vs {}",
        reduced.stats.unique,
        plain.stats.unique
    );
    let broken = paxos::model(2, Faults::none(), true).unwrap();
    for reductions in [Reductions::none(), dynamic(), Reductions::all()] {
        let report = run(&broken, reductions);
        assert_eq!(
            violated(&report).as_deref(),
            Some("linearizable"),
            "{reductions:?}"
        );
        let cx = report.counterexample().expect("a counterexample");
        assert!(cx.reproduce(&broken).expect("replays").is_some());
    }
}

#[test]
fn a_cyclic_state_graph_falls_back_to_the_static_reduction() {
    let setup = Setup::<Passing>::new(&Sizes::new()).unwrap();
    let workload = Workload::none(&setup);
    let model = Model::new(setup, Faults::none(), workload);
    let plain = run(&model, Reductions::none());
    let reduced = run(&model, dynamic());
    assert!(plain.passed() && reduced.passed());
    assert_eq!(plain.stats.unique, reduced.stats.unique);
    assert_note(&reduced, Status::GivenUp, "the state graph has a cycle");
}

/// Every run's end state is kept: the reduction cuts interleavings, not
/// outcomes. Revisited states are where a careless search loses them (their
/// subtree's races against the new path must still be found).
#[test]
fn every_terminal_state_is_kept() {
    use verdict_examples::{kv, lockserv};
    let cases: Vec<(&str, u64, u64)> = vec![
        {
            let m = paxos::model(2, Faults::none(), false).unwrap();
            let (a, b) = (run(&m, Reductions::none()), run(&m, dynamic()));
            ("paxos 2", a.stats.terminal, b.stats.terminal)
        },
        {
            let m = lockserv::model(3, 1, Faults::none()).unwrap();
            let (a, b) = (run(&m, Reductions::none()), run(&m, dynamic()));
            ("lockserv 3", a.stats.terminal, b.stats.terminal)
        },
        {
            let m = kv::primary_backup(2, 2, Faults::none(), None).unwrap();
            let (a, b) = (run(&m, Reductions::none()), run(&m, dynamic()));
            ("kv primary-backup", a.stats.terminal, b.stats.terminal)
        },
    ];
    for (name, plain, reduced) in cases {
        assert!(plain > 10, "{name}: {plain} terminal states");
        assert_eq!(plain, reduced, "{name}");
    }
}
