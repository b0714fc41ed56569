//! Property transfer: every external trace of the transformed lock server
//! under a harsh network is a trace of the lock server on a reliable one.

use verdict::prelude::*;
use verdict::transform::refinement::External;
use verdict::transform::{
    check_refinement, plan_retransmitting, reliable_model, wrap_model, RefinementOptions,
    RefinementOutcome, Reliable, ReliableConfig,
};
use verdict_examples::lockserv::{self, LockServ, Node};

fn harsh() -> Faults {
    "drop,dup,reorder".parse().unwrap()
}

fn spec() -> Model<LockServ> {
    lockserv::model(2, 1, Faults::none()).unwrap()
}

#[test]
fn reliable_lockserv_refines_lockserv_on_a_reliable_network() {
    let mut implementation = reliable_model(&spec(), harsh());
    plan_retransmitting(&mut implementation, false);
    let report = check_refinement(&implementation, &spec(), &RefinementOptions::default());
    assert!(
        matches!(report.outcome, RefinementOutcome::Holds),
        "{:?}",
        report.outcome
    );
    assert!(report.stats.pairs > 1_000, "{}", report.stats);
}

#[test]
fn a_transformer_that_forgets_deduplication_is_caught_with_a_counterexample() {
    let config = ReliableConfig {
        dedup: false,
        ..ReliableConfig::default()
    };
    let mut implementation = wrap_model::<Reliable<LockServ>, _>(&spec(), config, harsh());
    plan_retransmitting(&mut implementation, false);
    let report = check_refinement(&implementation, &spec(), &RefinementOptions::default());
    let cx = report.counterexample().expect("the refinement must fail");
    // Breadth first: the shortest such trace is a lock granted, then told twice.
    let client = Node::Client(0);
    let locked = External::Output(client, lockserv::Output::Locked(lockserv::output::Locked));
    assert_eq!(
        cx.trace,
        vec![
            External::Input(client, lockserv::Input::Lock(lockserv::input::Lock)),
            locked.clone(),
            locked,
        ]
    );
    assert_eq!(cx.events.len(), 4, "{:?}", cx.events);
    let text = cx.render(&implementation);
    assert!(text.contains("the specification cannot do this"), "{text}");
    assert!(text.contains("receives Grant #0"), "{text}");
}

#[test]
fn the_bare_lock_server_under_duplication_does_not_refine_itself_on_a_reliable_network() {
    let implementation = lockserv::model(2, 1, Faults::none().dups(Some(1))).unwrap();
    let report = check_refinement(&implementation, &spec(), &RefinementOptions::default());
    assert!(!report.passed());
}

#[test]
fn refinement_is_bounded_when_asked() {
    let implementation = reliable_model(&spec(), Faults::none().drop());
    let options = RefinementOptions {
        max_depth: Some(6),
        ..RefinementOptions::default()
    };
    let report = check_refinement(&implementation, &spec(), &options);
    assert!(
        matches!(
            report.outcome,
            RefinementOutcome::Bounded {
                bound: verdict::search::Bound::Depth
            }
        ),
        "{:?}",
        report.outcome
    );
}

#[test]
fn refinement_stops_at_its_memory_budget() {
    // One byte over what the process holds: the first batches of pairs
    // pass it (where the platform reports resident memory).
    if verdict::check::memory::resident_bytes().is_none() {
        return;
    }
    let implementation = reliable_model(&spec(), Faults::none().drop());
    let options = RefinementOptions {
        memory: Some(verdict::MemoryBudget::new(1, "test")),
        ..RefinementOptions::default()
    };
    let report = check_refinement(&implementation, &spec(), &options);
    assert!(
        matches!(
            report.outcome,
            RefinementOutcome::Bounded {
                bound: verdict::search::Bound::Memory
            }
        ),
        "{:?}",
        report.outcome
    );
}
