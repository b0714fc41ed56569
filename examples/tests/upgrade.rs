//! Rolling upgrades of the lock server to version 2: the correct plan
//! passes in every mixed-version world, the broken one fails with a
//! counterexample in which both versions run, and a zero budget is the
//! version 1 check exactly.

use std::collections::HashSet;
use std::process::{Command, Output};

use v2::LockServV2;
use verdict::check::{check, CheckOptions, Reductions};
use verdict::transform::upgrade::{upgrade_model, Upgrade, UpgradePlan, Versioned};
use verdict::{Effects, Event, Faults, Model, System, World};
use verdict_examples::lockserv::{self, LockServ};
use verdict_examples::lockserv_upgrade::{v2, BrokenToV2, ToV2};

const CLIENTS: usize = 2;

fn v1_model() -> Model<LockServ> {
    lockserv::model(CLIENTS, 1, Faults::none()).unwrap()
}

fn model<P: UpgradePlan<Old = LockServ>>(faults: Faults) -> Model<Upgrade<P>> {
    upgrade_model::<P>(&v1_model(), faults).unwrap()
}

/// A plain search: no symmetry, no partial-order reduction.
fn plain() -> CheckOptions {
    CheckOptions {
        threads: 1,
        reductions: Reductions::none(),
        ..CheckOptions::default()
    }
}

/// How many of a world's nodes run each version: (old, new).
fn versions<P: UpgradePlan>(world: &World<Upgrade<P>>) -> (usize, usize) {
    let new = world
        .nodes
        .iter()
        .filter(|n| matches!(n.state, Versioned::New(_)))
        .count();
    (world.nodes.len() - new, new)
}

/// Every reachable world of `model`, by a breadth-first search of its own.
fn reachable<S: System>(model: &Model<S>) -> Vec<World<S>> {
    let init = model.init().unwrap();
    let mut seen = HashSet::from([init.fingerprint()]);
    let mut frontier = vec![init];
    let mut all = Vec::new();
    while let Some(world) = frontier.pop() {
        for action in model.enabled(&world) {
            let mut next = world.clone();
            model
                .apply(&mut next, action, &mut Effects::default())
                .unwrap();
            if seen.insert(next.fingerprint()) {
                frontier.push(next);
            }
        }
        all.push(world);
    }
    all
}

#[test]
fn the_correct_upgrade_passes_in_every_mixed_world() {
    let v1 = check(&v1_model(), &plain());
    assert!(v1.exhausted());
    let upgraded = model::<ToV2>(Faults::none().upgrades(None));
    let report = check(&upgraded, &plain());
    assert!(report.exhausted(), "{:?}", report.outcome);
    assert!(
        report.stats.unique > v1.stats.unique,
        "{} upgrade states vs {} version 1 states",
        report.stats.unique,
        v1.stats.unique
    );
    // The search reached worlds running both versions, and worlds where
    // every node had upgraded.
    let worlds = reachable(&upgraded);
    assert_eq!(worlds.len() as u64, report.stats.unique);
    let mixed = worlds
        .iter()
        .filter(|w| {
            let (old, new) = versions(w);
            old > 0 && new > 0
        })
        .count();
    let all_new = worlds.iter().filter(|w| versions(w).0 == 0).count();
    assert!(mixed > 0 && all_new > 0, "mixed {mixed}, all new {all_new}");
    // Messages of both versions are in flight together somewhere.
    assert!(worlds.iter().any(|w| {
        let ps = w.network.packets();
        ps.iter().any(|p| matches!(p.msg, Versioned::Old(_)))
            && ps.iter().any(|p| matches!(p.msg, Versioned::New(_)))
    }));
    // A budget of one upgrade explores less than an unlimited one, more
    // than none, and never upgrades two nodes.
    let one = model::<ToV2>(Faults::none().upgrades(Some(1)));
    let worlds_one = reachable(&one);
    assert!(worlds_one.iter().all(|w| versions(w).1 <= 1));
    assert!(worlds_one.len() < worlds.len() && worlds_one.len() as u64 > v1.stats.unique);
    assert!(check(&one, &plain()).exhausted());
    // With the reductions (symmetry) it passes too.
    let reduced = CheckOptions {
        reductions: Reductions::all(),
        ..plain()
    };
    assert!(check(&upgraded, &reduced).exhausted());
}

#[test]
fn a_zero_budget_is_the_version_1_check() {
    let v1 = check(&v1_model(), &plain());
    for faults in [Faults::none(), Faults::none().upgrades(Some(0))] {
        let upgraded = model::<BrokenToV2>(faults);
        let report = check(&upgraded, &plain());
        assert!(report.exhausted(), "{:?}", report.outcome);
        assert_eq!(report.stats.unique, v1.stats.unique);
        assert_eq!(report.stats.states, v1.stats.states);
        assert!(reachable(&upgraded).iter().all(|w| versions(w).1 == 0));
    }
}

#[test]
fn the_broken_upgrade_fails_with_both_versions_running() {
    let upgraded = model::<BrokenToV2>(Faults::none().upgrades(None));
    let report = check(&upgraded, &plain());
    let cex = report
        .counterexample()
        .expect("the broken migration is caught");
    assert!(
        cex.violation.to_string().contains("mutual_exclusion"),
        "{}",
        cex.violation
    );
    // Replay it: at the end the server runs version 2, a client version 1.
    let mut world = upgraded.init().unwrap();
    for event in &cex.events {
        let action = upgraded.action_for(&world, event).unwrap();
        upgraded
            .apply(&mut world, action, &mut Effects::default())
            .unwrap();
    }
    let (old, new) = versions(&world);
    assert!(old > 0 && new > 0, "old {old}, new {new}");
    assert!(matches!(world.nodes[0].state, Versioned::New(_)));
}

fn lockserv_bin(args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(args)
        .output()
        .unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn the_binary_checks_both_plans() {
    let base = ["check", "--clients", "2", "--faults", "upgrade"];
    let (code, out, _) = lockserv_bin(&[&base[..], &["--transform", "upgrade-v2"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Checking Upgrade<LockServ -> LockServV2>"),
        "{out}"
    );
    assert!(out.contains("every reachable state was explored"), "{out}");

    // `--upgrades N` is `upgrade=N` in the fault model: the same check.
    let counts = |out: &str| {
        let line = out.lines().find(|l| l.contains("unique:")).unwrap_or("");
        line.split("time").next().unwrap_or("").to_string()
    };
    let flag = ["check", "--clients", "2", "--transform", "upgrade-v2"];
    let (code, via_flag, _) = lockserv_bin(&[&flag[..], &["--upgrades", "1"]].concat());
    assert_eq!(code, 0, "{via_flag}");
    assert!(via_flag.contains("under faults: upgrade=1"), "{via_flag}");
    let (_, via_faults, _) = lockserv_bin(&[&flag[..], &["--faults", "upgrade=1"]].concat());
    assert_eq!(counts(&via_flag), counts(&via_faults));
    assert!(counts(&via_flag).contains("unique: 266"), "{via_flag}");

    let (code, out, _) = lockserv_bin(&[&base[..], &["--transform", "upgrade-v2-broken"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("invariant `mutual_exclusion` is violated"),
        "{out}"
    );
    // The counterexample shows the server switching version while the
    // clients still run version 1.
    assert!(out.contains("Server upgrades to LockServV2"), "{out}");
    assert!(
        out.contains("Server.version: old (LockServ) -> new (LockServV2)"),
        "{out}"
    );
    assert!(out.contains("version=old (LockServ)"), "{out}");

    // The chart of the counterexample shows each node's version.
    let chart = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("upgrade-broken.svg");
    let path = chart.to_str().unwrap();
    let args = ["--transform", "upgrade-v2-broken", "--trace-out", path];
    let (code, out, _) = lockserv_bin(&[&base[..], &args].concat());
    assert_eq!(code, 1, "{out}");
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.contains("version=new (LockServV2)"), "{svg}");
    assert!(svg.contains("version=old (LockServ)"), "{svg}");
}

#[test]
#[cfg(feature = "runtime")]
fn the_runtime_refuses_an_upgrade_model_without_its_live_upgrade() {
    // Served as a plain system it would misread the old version's data
    // directory and peers; the lockserv binary serves it through its live
    // upgrade (examples/tests/upgrade_live.rs), a library user who does not
    // is refused.
    let why = verdict::runtime::refuses_to_serve::<Upgrade<ToV2>>().expect("refused");
    assert!(
        why.contains("rolling-upgrade model without a live upgrade"),
        "{why}"
    );
    assert!(why.contains("deploy the old or the new version"), "{why}");
    assert_eq!(verdict::runtime::refuses_to_serve::<LockServ>(), None);
}

#[test]
fn bad_upgrade_flags_exit_2() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["--transform", "upgrade-v2", "--faults", "upgrade=x"],
            "must be a number",
        ),
        (
            &["--transform", "upgrade-v2", "--faults", "upgrade=300"],
            "must be a number",
        ),
        (&["--faults", "upgrade=1"], "is not a rolling upgrade"),
        (&["--upgrades", "2"], "is not a rolling upgrade"),
        (
            &["--transform", "upgrade-v2", "--upgrades", "x"],
            "--upgrades",
        ),
        (
            &["--transform", "upgrade-v2", "--upgrades", "300"],
            "--upgrades",
        ),
        (
            &[
                "--transform",
                "upgrade-v2",
                "--upgrades",
                "1",
                "--faults",
                "upgrade",
            ],
            "give one",
        ),
    ];
    for (args, says) in cases {
        let (code, out, err) = lockserv_bin(&[&["check", "--clients", "2"][..], args].concat());
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// The correct plan, but an old server refuses version 2's `Release`.
struct RefusesRelease;

impl UpgradePlan for RefusesRelease {
    type Old = LockServ;
    type New = LockServV2;

    fn migrate(node: lockserv::Node, old: &lockserv::State) -> v2::State {
        ToV2::migrate(node, old)
    }
    fn up(msg: &lockserv::Msg) -> Option<v2::Msg> {
        ToV2::up(msg)
    }
    fn down(msg: &v2::Msg) -> Option<lockserv::Msg> {
        match msg {
            v2::Msg::Release(_) => None,
            other => ToV2::down(other),
        }
    }
    fn input_up(input: &lockserv::Input) -> v2::Input {
        ToV2::input_up(input)
    }
    fn output_up(output: &lockserv::Output) -> v2::Output {
        ToV2::output_up(output)
    }
    fn output_down(output: &v2::Output) -> lockserv::Output {
        ToV2::output_down(output)
    }
}

#[test]
fn a_refusing_adapter_is_caught_too() {
    // An upgraded client's release never reaches the old server, so the
    // other client waits for the lock forever: a deadlock, found only in
    // a mixed world (the client on version 2, the server on version 1).
    let upgraded = model::<RefusesRelease>(Faults::none().upgrades(None));
    let report = check(&upgraded, &plain());
    let cex = report
        .counterexample()
        .expect("the refused release is caught");
    assert!(
        cex.violation.to_string().contains("deadlock"),
        "{}",
        cex.violation
    );
    // On the way, a version 2 `Release` reached the server while it still
    // ran version 1, and was refused.
    let mut world = upgraded.init().unwrap();
    let mut refused = false;
    for event in &cex.events {
        if let Event::Deliver(p) = event {
            let release = matches!(p.msg, Versioned::New(v2::Msg::Release(_)));
            refused |= release && matches!(world.nodes[0].state, Versioned::Old(_));
        }
        let action = upgraded.action_for(&world, event).unwrap();
        upgraded
            .apply(&mut world, action, &mut Effects::default())
            .unwrap();
    }
    assert!(refused, "{cex:?}");
}
