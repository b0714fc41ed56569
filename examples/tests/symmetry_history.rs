//! Symmetry reduction with invariants that read `history`: renaming nodes
//! re-sorts the history's runs of concurrent events into node order, so a
//! renamed world is the world the renamed run would have reached, and the
//! self-check keeps symmetry on; an invariant that singles a node out still
//! turns it off for that role.

use std::collections::BTreeMap;

use verdict::check::{Status, Topic};
use verdict::prelude::*;
use verdict::{NodeWorkload, Outcome, Reductions, Strategy, TraceEvent};

verdict::system! {
    /// A grow-only counter replicated on every replica: each counts its own
    /// increments and merges the others' counts by taking maxima.
    pub system GCounter;

    config {
        /// A read reports one more than the replica knows: a planted bug.
        over_read: bool = false,
        /// The invariant also demands that `Replica(0)` never reads less
        /// than `Replica(1)` did: a property that treats nodes differently.
        favour_first: bool = false,
    }

    /// What a user asks a replica.
    input enum Input { Incr, Read }
    /// What a replica answers a read with.
    output enum Output { Value(u32) }
    message enum Msg {
        /// The sender's counts, by replica.
        Merge { counts: BTreeMap<Node, u32> },
    }

    role Replica(u8) {
        state {
            /// Increments known, by the replica that took them.
            counts: BTreeMap<Node, u32> = BTreeMap::new(),
        }

        on input Incr writes(counts) sends(Merge) {
            *self.counts.entry(ctx.me()).or_insert(0) += 1;
            let others: Vec<Node> = ctx.peers().collect();
            ctx.broadcast(others, msg::Merge { counts: self.counts.clone() });
        }

        on input Read reads(counts) emits(Value) {
            let total: u32 = self.counts.values().sum();
            let extra = u32::from(ctx.config().over_read);
            ctx.output(output::Value(total + extra));
        }

        on message Merge { counts } from _peer writes(counts) {
            for (node, n) in counts {
                let mine = self.counts.entry(node).or_insert(0);
                *mine = (*mine).max(n);
            }
        }
    }

    /// No read reports more increments than were asked for before it.
    invariant reads_are_bounded reads(history, config) {
        let mut incrs = 0u32;
        let mut reads: BTreeMap<Node, u32> = BTreeMap::new();
        for e in self.history {
            match e {
                TraceEvent::Input { input: Input::Incr(_), .. } => incrs += 1,
                TraceEvent::Output { node, output: Output::Value(output::Value(v)) } => {
                    if *v > incrs {
                        return Err(format!("{node:?} read {v} after {incrs} increments"));
                    }
                    reads.insert(*node, *v);
                }
                _ => {}
            }
        }
        if self.config.favour_first {
            let first = reads.get(&Node::Replica(0));
            let second = reads.get(&Node::Replica(1));
            if let (Some(a), Some(b)) = (first, second) {
                if a < b {
                    return Err(format!("Replica(0) read {a}, less than Replica(1)'s {b}"));
                }
            }
        }
        Ok(())
    }
}

fn model(replicas: usize, over_read: bool, favour_first: bool) -> Model<GCounter> {
    let setup = Setup::with_config(
        &Sizes::new().with(Role::Replica, replicas),
        Config {
            over_read,
            favour_first,
        },
    )
    .expect("setup");
    let workload = Workload::none(&setup).each(&setup, Role::Replica, |_| {
        NodeWorkload::Script(vec![Step::send(input::Incr), Step::call(input::Read)])
    });
    Model::new(setup, Faults::none(), workload)
}

fn run(model: &Model<GCounter>, symmetry: bool) -> verdict::Report<GCounter> {
    let reductions = Reductions {
        symmetry,
        ..Reductions::none()
    };
    check(
        model,
        &CheckOptions {
            reductions,
            strategy: Strategy::Bfs,
            threads: 1,
            ..CheckOptions::default()
        },
    )
}

fn symmetry_note(report: &verdict::Report<GCounter>) -> verdict::check::Note {
    report
        .stats
        .notes
        .iter()
        .find(|n| n.topic == Topic::Symmetry)
        .cloned()
        .unwrap_or_else(|| panic!("no symmetry note in {:?}", report.stats.notes))
}

#[test]
fn history_keeps_symmetry_on_with_fewer_states_and_the_same_verdict() {
    let m = model(3, false, false);
    assert!(m.history_only, "the invariant reads history only");
    let plain = run(&m, false);
    let reduced = run(&m, true);
    let note = symmetry_note(&reduced);
    assert!(
        note.is(Topic::Symmetry, Status::On) && note.detail == "Replica x3",
        "{note:?}"
    );
    assert!(plain.exhausted() && reduced.exhausted());
    assert!(
        reduced.stats.unique * 3 < plain.stats.unique,
        "{} states with symmetry, {} without",
        reduced.stats.unique,
        plain.stats.unique
    );
    assert_eq!(reduced.stats.terminal > 0, plain.stats.terminal > 0);
}

#[test]
fn history_with_symmetry_still_finds_a_planted_bug_and_replays_it() {
    let m = model(3, true, false);
    let plain = run(&m, false);
    let reduced = run(&m, true);
    assert_eq!(symmetry_note(&reduced).status, Status::On);
    for report in [&plain, &reduced] {
        let Outcome::Violation(cx) = &report.outcome else {
            panic!("no violation: {:?}", report.stats.notes);
        };
        let again = cx.reproduce(&m).expect("replays").expect("violates");
        assert!(again.to_string().contains("reads_are_bounded"), "{again}");
    }
    // Both breadth first: both shortest.
    assert_eq!(
        plain.counterexample().map(|c| c.len()),
        reduced.counterexample().map(|c| c.len())
    );
}

#[test]
fn an_invariant_that_singles_out_a_node_through_history_turns_symmetry_off() {
    let m = model(3, false, true);
    let plain = run(&m, false);
    let reduced = run(&m, true);
    let note = symmetry_note(&reduced);
    assert!(
        note.status == Status::Off && note.detail.contains("Replica (renaming"),
        "{:?}",
        reduced.stats.notes
    );
    // Same verdict as without symmetry: the bias is found.
    assert!(!plain.passed() && !reduced.passed());
}
