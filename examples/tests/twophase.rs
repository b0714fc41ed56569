//! Two-phase commit: consistent with any number of resource managers; the
//! manager that commits early is caught with a shortest counterexample.

use verdict::prelude::*;
use verdict::{Strategy, Violation};
use verdict_examples::twophase::model;

#[test]
fn commit_is_consistent() {
    for rms in 1..=4 {
        let report = check(
            &model(rms, Faults::none(), false).unwrap(),
            &CheckOptions::default(),
        );
        assert!(
            matches!(report.outcome, Outcome::Exhausted),
            "{rms}: {:?}",
            report.outcome
        );
    }
}

#[test]
fn committing_early_is_caught() {
    let m = model(3, Faults::none(), true).unwrap();
    let report = check(&m, &CheckOptions::default());
    let cx = report.counterexample().expect("must be caught");
    assert!(matches!(
        &cx.violation,
        Violation::Invariant {
            name: "consistent",
            ..
        }
    ));
    // Shortest: two prepare, the manager commits, one aborts, one commits.
    assert_eq!(cx.len(), 6, "{}", cx.render(&m));
}

#[test]
#[ignore = "release benchmark size: cargo test --release -p verdict-examples --test twophase -- --ignored"]
fn nine_resource_managers_exhaust() {
    let report = check(
        &model(9, Faults::none(), false).unwrap(),
        &CheckOptions::default(),
    );
    assert!(report.passed());
}

/// The in-place depth-first search (one thread, and two sharing work)
/// visits exactly the worlds breadth-first search does, and evaluates the
/// invariant once per world.
#[test]
fn depth_first_in_place_visits_every_world_once() {
    let m = model(5, Faults::none(), false).unwrap();
    let run = |strategy, threads| {
        let report = check(
            &m,
            &CheckOptions {
                reductions: verdict::Reductions::none(),
                strategy,
                threads,
                ..CheckOptions::default()
            },
        );
        assert!(matches!(report.outcome, Outcome::Exhausted));
        report.stats
    };
    let bfs = run(Strategy::Bfs, 1);
    for threads in [1, 2] {
        let dfs = run(Strategy::Dfs, threads);
        assert_eq!(dfs.unique, bfs.unique, "{threads} threads");
        assert_eq!(dfs.states, bfs.states, "{threads} threads");
        assert_eq!(
            dfs.invariant_evals, bfs.invariant_evals,
            "{threads} threads"
        );
    }
}
