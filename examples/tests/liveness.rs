//! Liveness on the lock server: every client that asks eventually gets the
//! lock under weak fairness; when the network may drop requests forever, a
//! lasso shows a run where one never does.

use verdict::liveness::{check_liveness, LivenessOutcome};
use verdict::prelude::*;
use verdict::Violation;
use verdict_examples::lockserv::model;

/// Every property holds, on a graph of more than a handful of states.
fn assert_holds<S: verdict::System + std::fmt::Debug>(
    report: &verdict::liveness::LivenessReport<S>,
) {
    assert!(
        matches!(report.outcome, LivenessOutcome::Holds),
        "{:?}",
        report.outcome
    );
    assert!(report.states > 10);
}

#[test]
fn every_lock_is_granted_under_fairness() {
    let m = model(2, 1, Faults::none()).unwrap();
    assert_holds(&check_liveness(&m, 100_000));
}

#[test]
fn dropping_requests_forever_gives_a_lasso() {
    let m = model(2, 1, Faults::none().drop()).unwrap();
    let report = check_liveness(&m, 100_000);
    let LivenessOutcome::Violation(lasso) = report.outcome else {
        panic!("expected a lasso, got {:?}", report.outcome);
    };
    assert_eq!(lasso.property, "every_lock_granted");
    let cx = &lasso.counterexample;
    assert!(matches!(
        &cx.violation,
        Violation::Liveness {
            property: "every_lock_granted",
            ..
        }
    ));
    // The prefix replays and contains the lost request.
    let text = cx.render(&m);
    assert!(text.contains("network drops Lock"), "{text}");
    assert!(lasso.cycle_start <= cx.len());
    cx.replay(&m).expect("the lasso replays");
}

#[test]
fn the_lasso_and_the_graph_are_the_same_on_one_thread_and_on_several() {
    use verdict::liveness::{check_liveness_with, LivenessOptions};
    let m = model(2, 1, Faults::none().drop()).unwrap();
    let run = |threads| {
        let options = LivenessOptions {
            threads,
            ..LivenessOptions::default()
        };
        check_liveness_with(&m, &options, &|_, _| true)
    };
    let (one, four) = (run(1), run(4));
    assert_eq!((one.states, one.edges), (four.states, four.edges));
    let (LivenessOutcome::Violation(a), LivenessOutcome::Violation(b)) =
        (&one.outcome, &four.outcome)
    else {
        panic!("expected lassos: {:?} / {:?}", one.outcome, four.outcome);
    };
    assert_eq!(a.cycle_start, b.cycle_start);
    assert_eq!(a.counterexample.render(&m), b.counterexample.render(&m));
}

#[test]
fn a_graph_past_its_bounds_is_not_judged() {
    use verdict::liveness::{check_liveness_with, LivenessOptions};
    use verdict::search::Bound;
    use verdict::MemoryBudget;
    let m = model(2, 1, Faults::none()).unwrap();
    let states = check_liveness(&m, 10);
    assert!(
        matches!(states.outcome, LivenessOutcome::Bounded(Bound::States)),
        "{:?}",
        states.outcome
    );
    // A budget of one byte over what the process holds: the first batch
    // of states passes it (where the platform reports resident memory).
    if verdict::check::memory::resident_bytes().is_some() {
        let options = LivenessOptions {
            memory: MemoryBudget::new(1, "test"),
            ..LivenessOptions::default()
        };
        let report =
            check_liveness_with(&model(3, 2, Faults::none()).unwrap(), &options, &|_, _| {
                true
            });
        assert!(
            matches!(report.outcome, LivenessOutcome::Bounded(Bound::Memory)),
            "{:?}",
            report.outcome
        );
    }
}

// Raft under a partial partition: the link between the leader and one
// follower is cut, everything else works. Without pre-vote the cut-off
// follower times out, moves the cluster to a new term and deposes a leader
// the other follower still hears; terms run out before the client's
// request is answered. With pre-vote (and check-quorum) the follower that
// still hears the leader refuses the pre-vote, and the request is answered.
// All runs are under `raft_timely_elections`, Raft's timing assumption.

mod raft_partial_partition {
    use verdict::liveness::{check_liveness_assuming, LivenessOutcome, LivenessReport};
    use verdict::prelude::*;
    use verdict::semantics::Action;
    use verdict::transform::raft::Timer;
    use verdict::transform::{raft_timely_elections, Raft, RaftBug, RaftConfig, RaftNode};
    use verdict::{Event, World};
    use verdict_examples::kv::{self, Store};

    const MAX_STATES: usize = 2_000_000;

    fn model(pre_vote: bool, check_quorum: bool, bug: Option<RaftBug>) -> Model<Raft<Store>> {
        let config = RaftConfig {
            max_term: 2,
            max_log: 1,
            max_retries: Some(0),
            compact_after: 0,
            pre_vote,
            check_quorum,
            bug,
            ..RaftConfig::default()
        };
        kv::raft(3, 1, 1, Faults::none().cut(1), config).unwrap()
    }

    use crate::steps::take;

    /// Server(0) leads term 1, both followers have heard from it, nothing
    /// is in flight, the client has not asked yet, and the link between
    /// Server(0) and Server(2) is cut.
    fn leader_cut_from_one_follower(model: &Model<Raft<Store>>) -> World<Raft<Store>> {
        let mut world = model.init().unwrap();
        let s0 = RaftNode::Server(0);
        assert!(take(model, &mut world, |e| matches!(
            e,
            Event::Timeout { node, timer: Timer::Election } if *node == s0
        )));
        while take(model, &mut world, |e| matches!(e, Event::Deliver(_))) {}
        assert!(take(model, &mut world, |e| matches!(
            e,
            Event::Cut(a, b) if (*a, *b) == (s0, RaftNode::Server(2))
        )));
        assert!(world.network.is_empty());
        // Only that link is cut, both ways.
        assert!(world.across_partition(0, 2) && world.across_partition(2, 0));
        assert!(!world.across_partition(0, 1) && !world.across_partition(1, 2));
        world
    }

    fn check(
        pre_vote: bool,
        check_quorum: bool,
        bug: Option<RaftBug>,
    ) -> (Model<Raft<Store>>, LivenessReport<Raft<Store>>) {
        let base = model(pre_vote, check_quorum, bug);
        let start = leader_cut_from_one_follower(&base);
        let m = base.starting_from(start);
        let t = std::time::Instant::now();
        let report = check_liveness_assuming(&m, MAX_STATES, &|w, a: Action| {
            raft_timely_elections(&m, w, a)
        });
        eprintln!(
            "pre_vote={pre_vote} check_quorum={check_quorum} bug={bug:?}: {} states, {} edges, {:?}",
            report.states,
            report.edges,
            t.elapsed()
        );
        (m, report)
    }

    fn assert_livelock(m: &Model<Raft<Store>>, report: LivenessReport<Raft<Store>>) {
        let LivenessOutcome::Violation(lasso) = report.outcome else {
            panic!("expected a lasso, got {:?}", report.outcome);
        };
        assert_eq!(lasso.property, "every_request_answered");
        let text = lasso.counterexample.render(m);
        eprintln!("{text}");
        // The cut-off follower's election timer starts the trouble.
        assert!(
            text.contains("Server(2)") && text.contains("Election"),
            "{text}"
        );
        lasso.counterexample.replay(m).expect("the lasso replays");
    }

    #[test]
    fn without_pre_vote_the_cut_off_follower_deposes_the_leader() {
        let (m, report) = check(false, false, None);
        assert_livelock(&m, report);
    }

    #[test]
    fn with_pre_vote_and_check_quorum_every_request_is_answered() {
        let (_, report) = check(true, true, None);
        super::assert_holds(&report);
    }

    /// Check-quorum: a leader partitioned from both followers steps down
    /// at the end of its first round without answers; one that still hears
    /// a follower keeps leading.
    #[test]
    fn check_quorum_deposes_a_leader_cut_off_from_the_majority() {
        let config = RaftConfig {
            max_term: 2,
            max_log: 1,
            max_retries: Some(0),
            check_quorum: true,
            ..RaftConfig::default()
        };
        let m = kv::raft(3, 1, 1, Faults::none().partition(1), config).unwrap();
        let mut world = m.init().unwrap();
        let s0 = RaftNode::Server(0);
        let s0_election = |e: &Event<Raft<Store>>| matches!(e, Event::Timeout { node, timer: Timer::Election } if *node == s0);
        let leads = |w: &World<Raft<Store>>| {
            matches!(&w.nodes[0].state, verdict::transform::raft::State::Server(s)
                if s.standing == verdict::transform::Standing::Leader)
        };
        assert!(take(&m, &mut world, s0_election));
        while take(&m, &mut world, |e| matches!(e, Event::Deliver(_))) {}
        assert!(leads(&world));
        // A round in which both followers answered: it keeps leading.
        assert!(take(&m, &mut world, s0_election));
        assert!(leads(&world));
        // Cut it off from both; the next round heard nobody.
        assert!(take(
            &m,
            &mut world,
            |e| matches!(e, Event::Partition(side) if side == &vec![s0])
        ));
        assert!(take(&m, &mut world, s0_election));
        assert!(!leads(&world), "{:?}", world.nodes[0].state);
    }

    #[test]
    fn pre_vote_without_its_lease_check_livelocks_again() {
        let (m, report) = check(true, false, Some(RaftBug::PreVoteIgnoresLeader));
        assert_livelock(&m, report);
    }
}
