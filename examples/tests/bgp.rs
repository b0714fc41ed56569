//! BGP under the policies of the stable paths problem: which instances
//! settle in every fair run, which oscillate, and that what they settle on
//! is loop-free and permitted.

use crate::command;

use verdict::liveness::{check_liveness, LivenessOutcome};
use verdict::prelude::*;
use verdict::World;
use verdict_examples::bgp::{self, instance, Bgp, Path, Policy, State};

fn policy(name: &str) -> Policy {
    instance(name)
        .expect("a known instance")
        .expect("it parses")
}

/// The model of an instance, without the per-step footprint audit (the
/// compiler already holds `system!` handlers to their footprints, and the
/// audit doubles the time of these exhaustive searches in debug builds).
fn model(name: &str) -> Model<Bgp> {
    bgp::model(policy(name), Faults::none(), false)
        .unwrap()
        .auditing_footprints(false)
}

/// Each router's selected path in `world`.
fn selections(world: &World<Bgp>) -> Vec<Option<Path>> {
    world
        .nodes
        .iter()
        .map(|n| match &n.state {
            State::Router(r) => r.best.clone(),
        })
        .collect()
}

#[test]
fn bad_gadget_oscillates_and_the_lasso_cycle_is_the_known_oscillation() {
    let m = model("bad-gadget");
    let report = check_liveness(&m, 1_000_000);
    let LivenessOutcome::Violation(lasso) = report.outcome else {
        panic!("BAD GADGET must oscillate: {:?}", report.outcome);
    };
    let cx = &lasso.counterexample;
    assert!(lasso.cycle_start < cx.len(), "a cycle, not a stop");
    let (init, steps) = cx.replay(&m).unwrap();
    let at = |i: usize| if i == 0 { &init } else { &steps[i - 1].world };
    // The cycle returns to the world it starts from.
    assert_eq!(
        at(lasso.cycle_start).fingerprint(),
        at(cx.len()).fingerprint()
    );
    // In it every router takes both its paths: the one through its
    // clockwise neighbour and its direct one, again and again.
    let seen: Vec<Vec<Option<Path>>> = (lasso.cycle_start..=cx.len())
        .map(|i| selections(at(i)))
        .collect();
    for (router, via) in [(1u8, 3u8), (2, 1), (3, 2)] {
        let r = router as usize;
        assert!(
            seen.iter().any(|s| s[r] == Some(vec![router, via, 0])),
            "router {router} never takes {router} {via} 0 in the cycle"
        );
        assert!(
            seen.iter().any(|s| s[r] == Some(vec![router, 0])),
            "router {router} never falls back to {router} 0 in the cycle"
        );
    }
}

/// Every weakly fair run of the instance settles.
fn assert_converges(name: &str) {
    let m = model(name);
    let report = check_liveness(&m, 2_000_000);
    assert!(
        matches!(report.outcome, LivenessOutcome::Holds),
        "{name}: {:?}",
        report.outcome
    );
    assert!(report.states > 50, "{name}: {} states", report.states);
}

#[test]
fn good_gadget_converges_in_every_fair_run() {
    assert_converges("good-gadget");
}

#[test]
fn the_gao_rexford_family_converges_in_every_fair_run() {
    for name in ["gao-rexford-2", "gao-rexford-3", "gao-rexford-4"] {
        assert_converges(name);
        assert!(policy(name).gao_rexford_violations().is_empty(), "{name}");
    }
}

#[test]
fn the_gao_rexford_violator_is_named_and_caught() {
    let p = policy("gao-rexford-violator");
    let breaks = p.gao_rexford_violations();
    assert_eq!(breaks.len(), 3, "{breaks:?}");
    assert!(breaks[0].contains("router 1 prefers `1 3 0` (a Peer route) to `1 0`"));
    let report = check_liveness(&model("gao-rexford-violator"), 1_000_000);
    assert!(matches!(report.outcome, LivenessOutcome::Violation(_)));
}

#[test]
fn disagree_has_two_stable_states_and_a_fair_oscillation_between_them() {
    let m = model("disagree");
    let report = check_liveness(&m, 100_000);
    let LivenessOutcome::Violation(lasso) = report.outcome else {
        panic!("in this model DISAGREE has a fair cycle");
    };
    assert!(lasso.cycle_start < lasso.counterexample.len());
    // The settled worlds (nothing in flight): exactly the two stable
    // assignments, both reached.
    let mut settled = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let (events, violation) = verdict::simulate::run_one(&m, seed, 400);
        assert!(violation.is_none(), "{violation:?}");
        let (init, steps) = verdict::check::replay(&m, &events).unwrap();
        let end = steps.last().map_or(&init, |s| &s.world);
        if end.network.is_empty() {
            settled.insert(selections(end));
        }
    }
    let stable: std::collections::BTreeSet<_> = [
        vec![Some(vec![0]), Some(vec![1, 2, 0]), Some(vec![2, 0])],
        vec![Some(vec![0]), Some(vec![1, 0]), Some(vec![2, 1, 0])],
    ]
    .into_iter()
    .collect();
    assert_eq!(settled, stable);
}

#[test]
fn instance_files_are_checked_when_read() {
    for (text, says) in [
        ("link 0 1", "no `routers N` line"),
        (
            "routers 3\nlink 0 1\npaths 1: 1 2 0",
            "not a simple path of links",
        ),
        (
            "routers 3\nlink 0 1\npaths 1: 1 0 | 1 1 0",
            "not a simple path",
        ),
        ("routers 2\nlink 0 x", "`x` is not a router number"),
        ("routers 2\nroute 0 1", "unknown keyword `route`"),
        ("routers 2\nlink 0 5", "beyond 0..2"),
        ("routers 1", "give 2 to 64"),
    ] {
        let err = Policy::parse("test", text).unwrap_err();
        assert!(err.contains(says), "{text:?}: {err}");
    }
    // Gao–Rexford rankings: customer routes first, then peer, then
    // provider routes; only valley-free paths.
    let p = Policy::parse("gr", &bgp::gao_rexford(4)).unwrap();
    // Router 2 peers with 1 and sells transit to 3 and 4, the origin's
    // providers: a customer route, shortest, lowest next hop first.
    assert_eq!(p.ranking[2][0], vec![2, 3, 0]);
    assert_eq!(p.ranking[2][1], vec![2, 4, 0]);
    assert!(p.ranking[2].iter().all(|path| path.len() >= 3));
    // Router 4 reaches the origin directly (its customer) before anything.
    assert_eq!(p.ranking[4][0], vec![4, 0]);
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    command::run(env!("CARGO_BIN_EXE_bgp"), args)
}

#[test]
fn the_binary_reports_the_oscillation_and_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("bad.svg");
    let chart_arg = chart.to_str().unwrap();
    let args = [
        "check",
        "--instance",
        "bad-gadget",
        "--liveness",
        "--trace-out",
        chart_arg,
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("LIVENESS VIOLATION: eventually `converged` fails"),
        "{out}"
    );
    assert!(out.contains("repeat forever"), "{out}");
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.contains("class=\"cycle\""), "the chart marks the cycle");
    assert!(
        svg.contains("repeat forever"),
        "the chart says which steps repeat"
    );
    // The violator: the binary names the broken rule before checking.
    let (code, out, _) = run(&["check", "--instance", "gao-rexford-violator"]);
    assert_eq!(code, Some(0), "safety holds: {out}");
    assert!(
        out.contains("breaks the Gao-Rexford preference rule"),
        "{out}"
    );
    // An instance of one's own, and one that is not there.
    let file = dir.path().join("line.txt");
    std::fs::write(
        &file,
        "routers 3\nlink 0 1\nlink 1 2\npaths 1: 1 0\npaths 2: 2 1 0\n",
    )
    .unwrap();
    let (code, out, err) = run(&["check", "--instance", file.to_str().unwrap(), "--liveness"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("every weakly fair run satisfies"), "{out}");
    let (code, _, err) = run(&["check", "--instance", "no-such-gadget"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not an instance name"), "{err}");
}

#[test]
fn an_update_lost_across_a_partition_leaves_a_settled_forwarding_loop() {
    // The example has no keepalives or session resets: an update the
    // network loses at a partition is never repaired, and the invariant
    // catches the loop that leaves once nothing is in flight.
    let m = bgp::model(policy("disagree"), "partition=1".parse().unwrap(), false).unwrap();
    let report = verdict::check::check(&m, &verdict::check::CheckOptions::default());
    let cx = report
        .counterexample()
        .expect("a lost update breaks routing");
    let text = cx.violation.to_string();
    assert!(text.contains("no_forwarding_loop_when_settled"), "{text}");
    assert!(text.contains("forwards along"), "{text}");
}

#[test]
fn withdrawing_and_announcing_again_settles_on_full_routes() {
    let m = bgp::model(policy("gao-rexford-2"), Faults::none(), true)
        .unwrap()
        .auditing_footprints(false);
    assert!(matches!(
        check_liveness(&m, 100_000).outcome,
        LivenessOutcome::Holds
    ));
    let mut withdrawals = 0;
    for seed in 0..100 {
        let (events, violation) = verdict::simulate::run_one(&m, seed, 500);
        assert!(violation.is_none(), "{violation:?}");
        withdrawals += events
            .iter()
            .filter(|e| {
                matches!(e, verdict::Event::Deliver(p)
                    if p.msg == bgp::Msg::Update(bgp::msg::Update(None)))
            })
            .count();
        let (init, steps) = verdict::check::replay(&m, &events).unwrap();
        let end = steps.last().map_or(&init, |s| &s.world);
        assert!(end.network.is_empty(), "seed {seed} did not settle");
        // After the announcement every router has a route again.
        assert!(selections(end).iter().all(Option::is_some), "seed {seed}");
    }
    assert!(withdrawals > 0, "the withdrawal reached some router");
}
