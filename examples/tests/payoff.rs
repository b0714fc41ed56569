//! Reductions that pay: a check that outgrows its sample judges symmetry
//! and partial-order reduction against a plain search to the same depth,
//! switches off one that keeps more than half the states, says so, and
//! reaches the same verdict. The sample here is small so the decision
//! shows on small models; the rule counts states, so it is deterministic.

use verdict::check::{Note, Status, Topic};
use verdict::prelude::*;
use verdict::{Outcome, Reductions, Report, System, Violation};
use verdict_examples::{raft_election, ricart_agrawala, twophase};

fn judged(sample: u64) -> CheckOptions {
    CheckOptions {
        reductions: Reductions {
            payoff_sample: sample,
            ..Reductions::all()
        },
        threads: 1,
        ..CheckOptions::default()
    }
}

fn plain() -> CheckOptions {
    CheckOptions {
        reductions: Reductions::none(),
        threads: 1,
        ..CheckOptions::default()
    }
}

fn note<S: System>(report: &Report<S>, topic: Topic, status: Status) -> Option<&Note> {
    report.stats.notes.iter().find(|n| n.is(topic, status))
}

#[test]
fn partial_order_reduction_that_prunes_little_is_switched_off_and_said_so() {
    // Every Ricart–Agrawala site asks every other: the dynamic reduction
    // keeps most states, and its summaries and one thread cost more.
    let m = ricart_agrawala::model(3, 1, false).unwrap();
    let report = check(&m, &judged(500));
    let off = note(&report, Topic::DynamicPartialOrder, Status::DoesNotPay)
        .unwrap_or_else(|| panic!("{:?}", report.stats.notes));
    assert!(off.detail.contains("to depth"), "{off}");
    let judged = note(&report, Topic::Payoff, Status::Judged).expect("a payoff note");
    assert!(judged.detail.starts_with("500 states"), "{judged}");
    assert!(!report.stats.reductions.dynamic_por && !report.stats.reductions.por);
    // Same verdict, and the final search is the plain one.
    let full = check(&m, &plain());
    assert!(report.exhausted() && full.exhausted());
    assert_eq!(report.stats.unique, full.stats.unique);
    assert_eq!(report.stats.terminal, full.stats.terminal);
}

#[test]
fn symmetry_that_merges_is_kept_and_what_it_kept_is_reported() {
    let m = twophase::model(5, Faults::none(), false).unwrap();
    let report = check(&m, &judged(200));
    let pays = note(&report, Topic::Symmetry, Status::Pays)
        .unwrap_or_else(|| panic!("{:?}", report.stats.notes));
    assert!(
        pays.detail.contains("it kept") && pays.detail.contains("states ("),
        "{pays}"
    );
    assert!(report.stats.reductions.symmetry);
    let full = check(&m, &plain());
    assert!(report.exhausted() && full.exhausted());
    assert!(report.stats.unique * 2 < full.stats.unique);
}

#[test]
fn a_space_that_fits_the_sample_reports_what_the_reductions_saved() {
    let m = raft_election::model(3, 1, false).unwrap();
    let report = check(&m, &judged(1_000_000));
    let full = check(&m, &plain());
    let saved = note(&report, Topic::Payoff, Status::Saved)
        .unwrap_or_else(|| panic!("{:?}", report.stats.notes));
    let expect = format!(
        "kept {} of the {} states",
        verdict::check::thousands(report.stats.unique),
        verdict::check::thousands(full.stats.unique)
    );
    assert!(saved.detail.contains(&expect), "{saved} / {expect}");
}

#[test]
fn verdicts_and_counterexamples_do_not_change_when_a_reduction_is_switched_off() {
    // Ricart–Agrawala deferring on ties deadlocks; the broken Raft votes
    // twice; both found with the reductions judged on a small sample.
    let ra = ricart_agrawala::model(3, 1, true).unwrap();
    let report = check(&ra, &judged(200));
    let Outcome::Violation(cx) = &report.outcome else {
        panic!("no deadlock: {:?}", report.stats.notes);
    };
    assert!(
        matches!(cx.violation, Violation::Deadlock { .. }),
        "{}",
        cx.violation
    );
    let again = cx.reproduce(&ra).expect("replays").expect("violates");
    assert!(matches!(again, Violation::Deadlock { .. }));

    let raft = raft_election::model(3, 2, true).unwrap();
    for sample in [200, 5_000, 1_000_000] {
        let report = check(&raft, &judged(sample));
        let Outcome::Violation(cx) = &report.outcome else {
            panic!("sample {sample}: no violation: {:?}", report.stats.notes);
        };
        let again = cx.reproduce(&raft).expect("replays").expect("violates");
        assert!(again.to_string().contains("one_leader_per_term"), "{again}");
    }
    let good = raft_election::model(3, 2, false).unwrap();
    assert!(check(&good, &judged(2_000)).exhausted());
}
