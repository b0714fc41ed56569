//! Breadth first and depth first, on one thread and two, visit exactly the
//! same states: the depth-first search's in-place steps, its cache of
//! recently seen fingerprints and the sharing of work between threads must
//! neither lose a state nor invent one.

use verdict::prelude::*;
use verdict::{Outcome, Reductions, Stats, Strategy, System};
use verdict_examples::{paxos, twophase};

fn counts<S: System>(model: &Model<S>) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    for strategy in [Strategy::Bfs, Strategy::Dfs] {
        for threads in [1, 2] {
            let report = check(
                model,
                &CheckOptions {
                    reductions: Reductions::none(),
                    strategy,
                    threads,
                    ..CheckOptions::default()
                },
            );
            assert!(
                matches!(report.outcome, Outcome::Exhausted),
                "{strategy} {threads} threads did not exhaust the state space"
            );
            let Stats {
                unique, terminal, ..
            } = report.stats;
            out.push((format!("{strategy} {threads} threads"), unique, terminal));
        }
    }
    out
}

fn all_equal(counts: &[(String, u64, u64)], at_least: u64) {
    let (first, unique, terminal) = &counts[0];
    assert!(*unique >= at_least, "{first}: {unique} states");
    for (what, u, t) in &counts[1..] {
        assert_eq!((u, t), (unique, terminal), "{what} against {first}");
    }
}

#[test]
fn every_strategy_and_thread_count_sees_the_same_states() {
    all_equal(
        &counts(&paxos::model(2, Faults::none(), false).unwrap()),
        30_000,
    );
    all_equal(
        &counts(&twophase::model(6, Faults::none(), false).unwrap()),
        30_000,
    );
}
