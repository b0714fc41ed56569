//! Every reduction, alone and together, keeps every verdict on every
//! example, buggy variants included; failing checks still return a
//! counterexample that replays to the same invariant.

use verdict::check::{Status, Topic};
use verdict::prelude::*;
use verdict::{Outcome, Reductions, Strategy, System, Violation};
use verdict_examples::{counter, lockserv, paxos, twophase};

fn variants() -> Vec<Reductions> {
    let one = |f: fn(&mut Reductions)| {
        let mut r = Reductions::none();
        f(&mut r);
        r
    };
    vec![
        Reductions::none(),
        one(|r| r.symmetry = true),
        one(|r| r.por = true),
        one(|r| r.dynamic_por = true),
        one(|r| r.incremental = true),
        one(|r| r.ignore_rule = true),
        Reductions::all(),
    ]
}

fn name(v: &Violation) -> &'static str {
    match v {
        Violation::Invariant { name, .. } => name,
        Violation::Step(_) => "step",
        Violation::Deadlock { .. } => "deadlock",
        Violation::Liveness { property, .. } => property,
    }
}

/// Checks `model` under every reduction and strategy; all must agree with
/// `expect` (the violated invariant, or `None`), and every counterexample
/// must replay to it.
fn same_verdicts<S: System>(model: &Model<S>, expect: Option<&str>, max_depth: Option<usize>) {
    for reductions in variants() {
        for strategy in [Strategy::Bfs, Strategy::Dfs] {
            for threads in [1, 2] {
                let options = CheckOptions {
                    reductions,
                    strategy,
                    threads,
                    max_depth,
                    ..CheckOptions::default()
                };
                let report = check(model, &options);
                let what = format!("{reductions:?} {strategy} {threads} threads");
                match (&report.outcome, expect) {
                    (Outcome::Violation(cx), Some(inv)) => {
                        assert_eq!(name(&cx.violation), inv, "{what}");
                        let again = cx.reproduce(model).expect("replays").expect("violates");
                        assert_eq!(name(&again), inv, "{what}");
                    }
                    (Outcome::Exhausted | Outcome::Bounded { .. }, None) => {}
                    (Outcome::Violation(cx), None) => panic!("{what}: unexpected {}", cx.violation),
                    (Outcome::MemoryBound { .. }, None) => panic!("{what}: out of memory"),
                    (_, Some(inv)) => panic!("{what}: expected {inv} to fail"),
                }
            }
        }
    }
}

#[test]
fn lockserv_verdicts_do_not_depend_on_reductions() {
    same_verdicts(&lockserv::model(3, 1, Faults::none()).unwrap(), None, None);
    same_verdicts(
        &lockserv::model(3, 1, "dup=2".parse().unwrap()).unwrap(),
        Some("mutual_exclusion"),
        None,
    );
}

#[test]
fn counter_verdicts_do_not_depend_on_reductions() {
    same_verdicts(
        &counter::model(2, Faults::none(), false).unwrap(),
        None,
        None,
    );
    same_verdicts(
        &counter::model(2, "crash=1".parse().unwrap(), true).unwrap(),
        Some("replies_are_replicated"),
        None,
    );
}

#[test]
fn twophase_verdicts_do_not_depend_on_reductions() {
    same_verdicts(
        &twophase::model(3, Faults::none(), false).unwrap(),
        None,
        None,
    );
    same_verdicts(
        &twophase::model(3, Faults::none(), true).unwrap(),
        Some("consistent"),
        None,
    );
}

#[test]
fn paxos_verdicts_do_not_depend_on_reductions() {
    same_verdicts(&paxos::model(1, Faults::none(), false).unwrap(), None, None);
    same_verdicts(&paxos::model(1, Faults::none(), true).unwrap(), None, None);
}

#[test]
fn reductions_shrink_the_search_where_they_apply() {
    let m = twophase::model(5, Faults::none(), false).unwrap();
    let plain = check(&m, &CheckOptions::default()).stats.unique;
    let reduced = check(
        &m,
        &CheckOptions {
            reductions: Reductions::all(),
            ..CheckOptions::default()
        },
    )
    .stats;
    assert!(
        reduced.unique * 10 <= plain,
        "{} vs {plain}",
        reduced.unique
    );
    assert!(
        reduced
            .notes
            .iter()
            .any(|n| n.is(Topic::Symmetry, Status::On)),
        "{:?}",
        reduced.notes
    );
    // Incremental evaluation evaluates the invariant less often than once per state.
    let evals: u64 = reduced.invariant_evals.iter().sum();
    assert!(
        evals < reduced.unique,
        "{evals} evaluations for {} states",
        reduced.unique
    );
}

#[test]
fn symmetry_is_refused_for_roles_whose_nodes_behave_differently() {
    // Paxos servers break ties between ballots by node id.
    let m = paxos::model(1, Faults::none(), false).unwrap();
    let report = check(
        &m,
        &CheckOptions {
            reductions: Reductions::all(),
            ..CheckOptions::default()
        },
    );
    assert!(
        report
            .stats
            .notes
            .iter()
            .any(|n| n.topic == Topic::Symmetry && n.detail.contains("Server (renaming")),
        "{:?}",
        report.stats.notes
    );
}

/// Symmetry's canonical form breaks ties between equal sort keys by
/// position, so a renamed world need not reach the form the search kept.
/// A counterexample must still replay in full: as long as the one found
/// without symmetry (breadth first, both shortest), and to the violation.
#[test]
fn symmetric_counterexamples_replay_in_full() {
    for clients in 2..=4 {
        for rounds in 1..=2 {
            for faults in ["dup=1", "dup=2", "dup=1,drop=1", "dup=1,reorder"] {
                let model = lockserv::model(clients, rounds, faults.parse().unwrap()).unwrap();
                let what = format!("{clients} clients, {rounds} rounds, {faults}");
                let steps = |reductions: Reductions| {
                    let options = CheckOptions {
                        reductions,
                        strategy: Strategy::Bfs,
                        threads: 1,
                        ..CheckOptions::default()
                    };
                    let report = check(&model, &options);
                    let Outcome::Violation(cx) = &report.outcome else {
                        panic!("{what}: no violation");
                    };
                    let again = cx.reproduce(&model).expect("replays");
                    assert_eq!(again.as_ref().map(name), Some("mutual_exclusion"), "{what}");
                    cx.events.len()
                };
                let mut sym = Reductions::none();
                sym.symmetry = true;
                assert_eq!(steps(sym), steps(Reductions::none()), "{what}");
            }
        }
    }
}
