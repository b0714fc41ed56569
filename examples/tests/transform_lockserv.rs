//! The lock server under the transformers: correct on a reliable network,
//! broken by a harsh one, correct again once wrapped.

use verdict::check::Reductions;
use verdict::prelude::*;
use verdict::transform::{
    check_transparent, plan_retransmitting, recovering_model, reliable_model, wrap_model, Ghost,
    GhostView, Observed, Observer, Reliable, ReliableConfig,
};
use verdict::{Outcome, Trigger, Violation};
use verdict_examples::lockserv::{self, Input, LockServ, Output};

fn harsh() -> Faults {
    "drop,dup,reorder".parse().unwrap()
}

fn base(clients: usize) -> Model<LockServ> {
    lockserv::model(clients, 1, Faults::none()).unwrap()
}

fn invariant_name(v: &Violation) -> &'static str {
    match v {
        Violation::Invariant { name, .. } => name,
        other => panic!("not an invariant violation: {other}"),
    }
}

#[test]
fn the_harsh_network_breaks_the_bare_lock_server() {
    let report = check(
        &lockserv::model(2, 1, harsh()).unwrap(),
        &CheckOptions::default(),
    );
    let cx = report.counterexample().expect("a violation");
    assert_eq!(invariant_name(&cx.violation), "mutual_exclusion");
}

#[test]
fn reliable_delivery_restores_mutual_exclusion_exhaustively() {
    let mut model = reliable_model(&base(2), harsh());
    plan_retransmitting(&mut model, false);
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    assert!(report.stats.unique > 1_000, "{}", report.stats);
}

#[test]
fn reductions_see_through_the_wrappers_and_agree_with_the_full_search() {
    let full = CheckOptions::default();
    let reductions = CheckOptions {
        reductions: Reductions::all(),
        ..CheckOptions::default()
    };
    let mut reliable = reliable_model(&base(3), harsh());
    plan_retransmitting(&mut reliable, false);
    let options = CheckOptions {
        max_depth: Some(10),
        ..reductions.clone()
    };
    let reduced = check(&reliable, &options);
    let unreduced = check(
        &reliable,
        &CheckOptions {
            max_depth: Some(10),
            ..full.clone()
        },
    );
    assert!(reduced.passed() && unreduced.passed());
    assert!(
        reduced.stats.unique * 3 < unreduced.stats.unique,
        "{} vs {}",
        reduced.stats,
        unreduced.stats
    );
    // Crash recovery relabels too, and finds the same (no) violation.
    let recovering = recovering_model(&base(3), Faults::none().crash(1));
    let (a, b) = (check(&recovering, &reductions), check(&recovering, &full));
    assert!(matches!(a.outcome, Outcome::Exhausted) && matches!(b.outcome, Outcome::Exhausted));
    assert!(a.stats.unique < b.stats.unique);
}

#[test]
fn reliable_delivery_without_deduplication_is_caught() {
    let config = ReliableConfig {
        dedup: false,
        ..ReliableConfig::default()
    };
    let mut model = wrap_model::<Reliable<LockServ>, _>(&base(2), config, harsh());
    plan_retransmitting(&mut model, false);
    let report = check(&model, &CheckOptions::default());
    let cx = report.counterexample().expect("a violation");
    let text = cx.render(&model);
    assert!(
        text.contains("receives Grant #0") && text.contains("=> invariant"),
        "{text}"
    );
}

#[test]
fn crash_recovery_survives_crashes_that_break_the_bare_server() {
    let faults = Faults::none().crash(1);
    let bare = check(
        &lockserv::model(2, 1, faults).unwrap(),
        &CheckOptions::default(),
    );
    assert!(!bare.passed(), "a crash of the server forgets the queue");
    let report = check(
        &recovering_model(&base(2), faults),
        &CheckOptions::default(),
    );
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
}

#[test]
fn reliable_over_crash_recovery_survives_everything_at_once() {
    let faults: Faults = "drop,dup,reorder,crash=1".parse().unwrap();
    let mut model = reliable_model(&recovering_model(&base(2), Faults::none()), faults);
    plan_retransmitting(&mut model, false);
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
}

/// Ghost: whether this client was told `Locked` and has not unlocked since.
struct Holding;

impl Observer<LockServ> for Holding {
    type Ghost = bool;
    const NAME: &'static str = "told_locked";

    fn initial(_node: lockserv::Node) -> bool {
        false
    }

    fn observe(ghost: &mut bool, step: &Observed<'_, LockServ>) {
        if matches!(step.trigger, Trigger::Input(Input::Unlock(_))) {
            *ghost = false;
        }
        if step
            .effects
            .outputs
            .iter()
            .any(|o| matches!(o, Output::Locked(_)))
        {
            *ghost = true;
        }
    }

    fn invariant(nodes: &[GhostView<'_, LockServ, bool>]) -> Result<(), String> {
        let holders: Vec<String> = nodes
            .iter()
            .filter(|n| *n.ghost)
            .map(|n| n.node.to_string())
            .collect();
        if holders.len() <= 1 {
            Ok(())
        } else {
            Err(format!("told Locked at once: {}", holders.join(", ")))
        }
    }
}

fn ghost_model(faults: Faults) -> Model<Ghost<LockServ, Holding>> {
    let base = lockserv::model(2, 1, faults).unwrap();
    wrap_model::<Ghost<LockServ, Holding>, _>(&base, (), faults)
}

#[test]
fn the_ghost_invariant_holds_on_a_reliable_network_and_fails_under_duplication() {
    let ok = check(&ghost_model(Faults::none()), &CheckOptions::default());
    assert!(matches!(ok.outcome, Outcome::Exhausted), "{:?}", ok.outcome);
    assert_eq!(
        Ghost::<LockServ, Holding>::meta()
            .invariants
            .last()
            .unwrap()
            .name,
        "told_locked"
    );
    // Under duplication a base invariant fails first; the ghost's must fail
    // on that same world too.
    let model = ghost_model(Faults::none().dups(Some(1)));
    let report = check(&model, &CheckOptions::default());
    let cx = report.counterexample().expect("a violation");
    let (_, steps) = cx.replay(&model).unwrap();
    let last = &steps.last().unwrap().world;
    let ghost_invariant = Ghost::<LockServ, Holding>::meta().invariants.len() - 1;
    let verdict = Ghost::<LockServ, Holding>::check_global(ghost_invariant, &model.setup, last);
    assert!(
        verdict
            .as_ref()
            .is_err_and(|e| e.contains("told Locked at once")),
        "{verdict:?}"
    );
}

#[test]
fn the_ghost_keeps_to_its_footprints() {
    // The audit compares every reachable step's changed fields, sends,
    // outputs and timers with the ghost's metadata.
    let report = check(
        &ghost_model(Faults::none()).auditing_footprints(true),
        &CheckOptions::default(),
    );
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    assert!(report.stats.unique > 10);
}

#[test]
fn the_ghost_changes_nothing_the_base_can_see() {
    for faults in [
        Faults::none(),
        Faults::none().dups(Some(1)),
        Faults::none().crash(1),
    ] {
        let report = check_transparent(
            &ghost_model(faults),
            &lockserv::model(2, 1, faults).unwrap(),
            &CheckOptions::default(),
        );
        assert!(report.difference.is_none(), "{faults}: {report}");
        assert!(!report.bounded);
        assert!(report.worlds > 50, "{report}");
    }
    // A budget of one byte over what the process holds ends the check as
    // bounded (where the platform reports resident memory).
    if verdict::check::memory::resident_bytes().is_some() {
        let faults = Faults::none().drop();
        let large = lockserv::model(3, 2, faults).unwrap();
        let report = check_transparent(
            &wrap_model::<Ghost<LockServ, Holding>, _>(&large, (), faults),
            &large,
            &CheckOptions {
                memory: Some(verdict::MemoryBudget::new(1, "test")),
                ..CheckOptions::default()
            },
        );
        assert!(report.difference.is_none(), "{report}");
        assert!(report.bounded, "{report}");
    }
}

#[test]
fn ghost_metadata_widens_reads_but_keeps_base_writes() {
    let base = LockServ::meta();
    let meta = Ghost::<LockServ, Holding>::meta();
    assert_eq!(meta.handlers.len(), base.handlers.len());
    for (b, g) in base.handlers.iter().zip(meta.handlers) {
        assert_eq!(b.name, g.name);
        assert!(b.writes.is_subset(&g.writes));
        assert_eq!(b.sends, g.sends);
    }
    let client = meta.role_named("Client").unwrap();
    let last = meta.roles[client].fields.last().unwrap();
    assert_eq!(last.name, "told_locked");
}
