//! Change impact on five real edits of the desk example (`desk::v0`..`v5`):
//! `impact` between consecutive versions flags the expected invariants,
//! and each invariant it clears keeps its verdict *and* the set of values
//! it can see in reachable states (found by enumerating every reachable
//! world of both versions), which is the claim the analysis makes. Then
//! the check cache: a hit, a miss after an edit, a damaged entry.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Command, FromArgMatches};
use serde_json::Value;
use verdict::change::describe::InvariantDesc;
use verdict::change::{compare, Description};
use verdict::cli::{run_cached_check_to, CheckArgs};
use verdict::prelude::*;
use verdict::{Effects, Outcome, Violation, World};
use verdict_examples::desk::{v0, v1, v2, v3, v4, v5};

/// What the test knows of one version.
struct Version {
    description: Description,
    /// Per invariant: `holds`, or what the check of it alone found.
    verdicts: BTreeMap<String, String>,
    /// Per invariant: every value of what it reads, over reachable worlds.
    seen: BTreeMap<String, BTreeSet<String>>,
}

fn version<S: System>(model: Model<S>) -> Version {
    let description = Description::of(Some(&model));
    let mut verdicts = BTreeMap::new();
    for (i, inv) in S::meta().invariants.iter().enumerate() {
        let options = CheckOptions {
            only_invariants: Some(1 << i),
            ..CheckOptions::default()
        };
        let verdict = match check(&model, &options).outcome {
            Outcome::Exhausted => "holds".to_string(),
            Outcome::Violation(cx) => match cx.violation {
                Violation::Invariant { name, .. } => format!("violated: {name}"),
                other => format!("other violation: {other}"),
            },
            _ => panic!("{}: the check was cut short", inv.name),
        };
        verdicts.insert(inv.name.to_string(), verdict);
    }
    let worlds = reachable(&model);
    let seen = description
        .invariants
        .iter()
        .map(|inv| {
            let values = worlds.iter().map(|w| project(w, inv)).collect();
            (inv.name.clone(), values)
        })
        .collect();
    Version {
        description,
        verdicts,
        seen,
    }
}

/// Every reachable world, as JSON.
fn reachable<S: System>(model: &Model<S>) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut queue = VecDeque::from([model.init().expect("the initial world")]);
    let mut fx = Effects::default();
    while let Some(w) = queue.pop_front() {
        if !seen.insert(w.fingerprint()) {
            continue;
        }
        for a in model.enabled(&w) {
            let mut next: World<S> = w.clone();
            if model.apply(&mut next, a, &mut fx).is_ok() {
                queue.push_back(next);
            }
        }
        out.push(serde_json::to_value(&w).expect("a world serialises"));
        assert!(out.len() < 100_000, "the desk should be small");
    }
    out
}

/// What `inv` can see of world `w`: the fields it reads, per node, and the
/// network (as a sorted list of packets) and trace if it reads them.
fn project(w: &Value, inv: &InvariantDesc) -> String {
    let mut parts = Vec::new();
    for (i, node) in w["nodes"].as_array().expect("nodes").iter().enumerate() {
        let Some((role, fields)) = node["state"].as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        for r in inv.reads.iter().filter(|r| &r.role == role) {
            parts.push(format!("{i}.{}={}", r.field, fields[&r.field]));
        }
    }
    if inv.network {
        let mut packets: Vec<String> = w["network"]["packets"]
            .as_array()
            .expect("packets")
            .iter()
            .map(Value::to_string)
            .collect();
        packets.sort();
        parts.push(format!("network={packets:?}"));
    }
    if inv.trace || inv.history {
        parts.push(format!("trace={}", w["trace"]));
    }
    parts.join(" ")
}

fn versions() -> Vec<Version> {
    vec![
        version(v0::model(2).unwrap()),
        version(v1::model(2).unwrap()),
        version(v2::model(2).unwrap()),
        version(v3::model(2).unwrap()),
        version(v4::model(2).unwrap()),
        version(v5::model(2).unwrap()),
    ]
}

const LOCK_SIDE: [&str; 5] = [
    "mutual_exclusion",
    "queue_bounded",
    "asked_once",
    "one_grant_in_flight",
    "locked_alternates",
];
const CLOCK: [&str; 2] = ["ticks_bounded", "rings_follow_ticks"];

#[test]
fn impact_of_five_edits_is_as_expected_and_what_it_clears_is_unchanged() {
    let versions = versions();
    // Per edit, the invariants impact must flag (the rest it must clear).
    let expected: [Vec<&str>; 5] = [
        // v1, a handler body on the lock side: all of it, through the
        // grant, the output and the workload's wait for it.
        LOCK_SIDE.to_vec(),
        // v2, a widened footprint on the lock side: the same.
        LOCK_SIDE.to_vec(),
        // v3, a message added to the clock: the clock's invariants and the
        // one that reads the network.
        vec!["ticks_bounded", "rings_follow_ticks", "one_grant_in_flight"],
        // v4, an invariant changed: that invariant alone.
        vec!["mutual_exclusion"],
        // v5, the clock alone: its invariants and the network's.
        vec!["ticks_bounded", "rings_follow_ticks", "one_grant_in_flight"],
    ];
    let mut cleared = 0;
    for (edit, pair) in versions.windows(2).enumerate() {
        let (old, new) = (&pair[0], &pair[1]);
        let impact = compare(&old.description, &new.description);
        assert!(!impact.unchanged(), "edit {}", edit + 1);
        let flagged: BTreeSet<&str> = impact.affected().map(|i| i.name.as_str()).collect();
        let want: BTreeSet<&str> = expected[edit].iter().copied().collect();
        assert_eq!(flagged, want, "edit {}:\n{impact}", edit + 1);
        for inv in impact.unaffected() {
            cleared += 1;
            assert_eq!(
                old.verdicts[&inv.name],
                new.verdicts[&inv.name],
                "edit {}: impact cleared {} but its verdict changed",
                edit + 1,
                inv.name
            );
            assert_eq!(
                old.seen[&inv.name],
                new.seen[&inv.name],
                "edit {}: impact cleared {} ({}) but the values it reads in reachable states differ",
                edit + 1,
                inv.name,
                inv.reason
            );
        }
    }
    assert_eq!(cleared, 2 + 2 + 4 + 6 + 4);
    // The analysis is not vacuous: the edits do change what flagged
    // invariants see, and edits 1 and 5 break one each.
    assert_ne!(
        versions[0].seen["one_grant_in_flight"],
        versions[1].seen["one_grant_in_flight"]
    );
    assert_eq!(versions[0].verdicts["one_grant_in_flight"], "holds");
    assert_eq!(
        versions[1].verdicts["one_grant_in_flight"],
        "violated: one_grant_in_flight"
    );
    assert_ne!(
        versions[2].seen["rings_follow_ticks"],
        versions[3].seen["rings_follow_ticks"]
    );
    assert_eq!(versions[4].verdicts["ticks_bounded"], "holds");
    assert_eq!(
        versions[5].verdicts["ticks_bounded"],
        "violated: ticks_bounded"
    );
    for inv in CLOCK {
        assert_eq!(versions[0].verdicts[inv], "holds");
    }
}

#[test]
fn an_unchanged_build_has_no_impact_and_the_description_round_trips() {
    let a = Description::of(Some(&v3::model(2).unwrap()));
    let b = Description::of(Some(&v3::model(2).unwrap()));
    assert!(compare(&a, &b).unchanged());
    let back = Description::from_json(&a.to_json()).unwrap();
    assert_eq!(back, a);
    // Versions share most hashes: only what an edit touched differs.
    let v0 = Description::of(Some(&v0::model(2).unwrap()));
    let v1 = Description::of(Some(&v1::model(2).unwrap()));
    let differ: Vec<&str> = v0
        .handlers
        .iter()
        .zip(&v1.handlers)
        .filter(|(x, y)| x.hash != y.hash)
        .map(|(x, _)| x.name.as_str())
        .collect();
    assert_eq!(differ, ["Server on message Unlock"]);
    assert_ne!(v0.source_hash, v1.source_hash);
    // Another workload is a change: every input may arrive differently.
    let mut other = v1.clone();
    other.workload = Some("no inputs".into());
    let impact = compare(&v1, &other);
    assert!(impact.inputs.contains_key("Lock"));
    assert_eq!(impact.is_affected("locked_alternates"), Some(true));
    assert_eq!(impact.is_affected("ticks_bounded"), Some(false));
    // A file of another format is refused with a reason.
    let future = a.to_json().replacen("\"format\": 1", "\"format\": 99", 1);
    let err = Description::from_json(&future).unwrap_err();
    assert_eq!(err, verdict::change::DescriptionError::Format(99));
    assert!(err.to_string().contains("format 99"), "{err}");
}

fn check_args(dir: &Path) -> CheckArgs {
    let cmd = CheckArgs::augment_args(Command::new("check"));
    let m = cmd.get_matches_from(["check", "--cache", &dir.display().to_string()]);
    CheckArgs::from_arg_matches(&m).unwrap()
}

/// `check --cache` on `model`: exit code, what it printed, its warnings.
fn cached<S: System>(model: Model<S>, dir: &Path) -> (ExitCode, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_cached_check_to(model, &check_args(dir), false, dir, &mut out, &mut err);
    let text = |v: Vec<u8>| String::from_utf8(v).unwrap();
    (code, text(out), text(err))
}

#[test]
fn the_cache_answers_an_unchanged_system_and_rechecks_an_edited_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = cached(v0::model(2).unwrap(), dir.path());
    assert_eq!(code, ExitCode::from(0));
    assert!(out.contains("cache miss: no earlier check"), "{out}");
    assert!(out.contains("No violation found"), "{out}");
    assert!(out.contains("cached: "), "{out}");

    let (code, hit, _) = cached(v0::model(2).unwrap(), dir.path());
    assert_eq!(code, ExitCode::from(0));
    assert!(hit.contains("from cache"), "{hit}");
    assert!(hit.contains("No violation found"), "{hit}");

    // After edit 1 it re-checks, naming what impact flags and clears,
    // and finds the violation edit 1 brings.
    let (code, out, _) = cached(v1::model(2).unwrap(), dir.path());
    assert_eq!(code, ExitCode::from(1));
    assert!(!out.contains("from cache"), "{out}");
    assert!(out.contains("cache miss: 1 change(s)"), "{out}");
    assert!(out.contains("handler Server on message Unlock"), "{out}");
    assert!(
        out.contains("impact clears: ticks_bounded, rings_follow_ticks"),
        "{out}"
    );
    assert!(
        out.contains("VIOLATION: invariant `one_grant_in_flight`"),
        "{out}"
    );

    // A violation is cached with its exit code.
    let (code, _, _) = cached(v5::model(2).unwrap(), dir.path());
    assert_eq!(code, ExitCode::from(1));
    let (code, hit, _) = cached(v5::model(2).unwrap(), dir.path());
    assert_eq!(code, ExitCode::from(1));
    assert!(
        hit.contains("VIOLATION: invariant `ticks_bounded`"),
        "{hit}"
    );
    assert!(hit.contains("from cache"), "{hit}");
}

#[test]
fn a_damaged_entry_is_a_warning_and_a_recheck() {
    let dir = tempfile::tempdir().unwrap();
    cached(v0::model(2).unwrap(), dir.path());
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("verdict-")
        })
        .collect();
    assert_eq!(entries.len(), 1);
    let text = std::fs::read_to_string(&entries[0]).unwrap();
    std::fs::write(&entries[0], &text[..text.len() / 2]).unwrap();
    let (code, out, err) = cached(v0::model(2).unwrap(), dir.path());
    assert_eq!(code, ExitCode::from(0));
    assert!(err.contains("is damaged"), "{err}");
    assert!(!out.contains("from cache"), "{out}");
    assert!(out.contains("No violation found"), "{out}");
    // The re-check stored a whole entry again.
    let (_, hit, err) = cached(v0::model(2).unwrap(), dir.path());
    assert!(hit.contains("from cache"), "{hit}");
    assert!(err.is_empty(), "{err}");
}

const DESK: &str = env!("CARGO_BIN_EXE_desk");

fn desk(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(DESK)
        .args(args)
        .output()
        .unwrap();
    let text = |v: Vec<u8>| String::from_utf8(v).unwrap();
    (out.status.code(), text(out.stdout), text(out.stderr))
}

#[test]
fn the_cli_describes_compares_and_caches_with_documented_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v4.json");
    let (code, json, _) = desk(&["describe", "--json", "--transform", "v4"]);
    assert_eq!(code, Some(0));
    std::fs::write(&old, &json).unwrap();
    let old = old.to_str().unwrap();
    // Nothing changed: exit 0.
    let (code, out, _) = desk(&["impact", "--transform", "v4", "--against", old]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("No change"), "{out}");
    // Edit 5: exit 1, with the reasons; as JSON too.
    let (code, out, _) = desk(&["impact", "--transform", "v5", "--against", old]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ticks_bounded: reads Clock.ticks, written by Clock on timer Tick"),
        "{out}"
    );
    assert!(
        out.contains("Invariants the change cannot affect: 4"),
        "{out}"
    );
    let (code, out, _) = desk(&["impact", "--transform", "v5", "--against", old, "--json"]);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    let affected: Vec<&str> = v["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["affected"] == Value::Bool(true))
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        affected,
        ["ticks_bounded", "rings_follow_ticks", "one_grant_in_flight"]
    );
    // Not a description: exit 2 with a reason.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"states\": 3}").unwrap();
    let (code, _, err) = desk(&["impact", "--against", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no `format`"), "{err}");
    // The cache through the binary: the second run answers, exit code kept.
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let args = ["check", "--transform", "v5", "--cache", cache];
    let (first, out, _) = desk(&args);
    assert_eq!(first, Some(1), "{out}");
    let (second, out, _) = desk(&args);
    assert_eq!(second, Some(1), "{out}");
    assert!(out.contains("from cache"), "{out}");
    // Other flags are another key.
    let (_, out, _) = desk(&["check", "--transform", "v5", "--cache", cache, "--bfs"]);
    assert!(!out.contains("from cache"), "{out}");
}
