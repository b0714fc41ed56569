//! Deep planted bugs: each of the pct, swarm and coverage strategies finds
//! one that uniform random simulation misses within the same runs (fixed
//! seeds, so the outcome is the same on every machine), and what they find
//! replays to the same violation.

use verdict::prelude::*;
use verdict::simulate::{simulate, SimulateOptions, SimulationReport, SimulationStrategy};
use verdict::transform::{RaftBug, RaftConfig};
use verdict::Violation;
use verdict_examples::{batcher, keypad, kv};

const PCT: SimulationStrategy = SimulationStrategy::Pct { bug_depth: 3 };

fn run<S: System>(
    model: &Model<S>,
    strategy: SimulationStrategy,
    runs: u64,
    depth: usize,
    threads: usize,
) -> SimulationReport<S> {
    simulate(
        model,
        &SimulateOptions {
            seeds: 0..runs,
            depth,
            threads,
            shrink: true,
            strategy,
            ..SimulateOptions::default()
        },
    )
}

/// The invariant the strategy's failure violates, after checking that its
/// (shrunk) trace replays to that violation.
fn found<S: System>(model: &Model<S>, report: &SimulationReport<S>) -> String {
    let f = report
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("not found in {} runs", report.runs));
    let cx = &f.counterexample;
    let again = cx.reproduce(model).expect("the trace replays");
    let (Some(Violation::Invariant { name, .. }), Violation::Invariant { name: first, .. }) =
        (again, &cx.violation)
    else {
        panic!("expected an invariant violation: {:?}", cx.violation);
    };
    assert_eq!(name, *first, "the trace replays to the same invariant");
    name.to_string()
}

#[test]
fn batcher_overflow_is_missed_by_uniform_and_found_by_pct_swarm_and_coverage() {
    let model = batcher::model(Faults::none(), true).unwrap();
    // Coverage needs ~30,000 of them; pct and swarm find it at once.
    let runs = 40_000;
    let uniform = run(&model, SimulationStrategy::Uniform, runs, 60, 0);
    assert!(uniform.failure.is_none(), "{:?}", uniform.failure);
    assert_eq!(uniform.runs, runs);
    for strategy in [PCT, SimulationStrategy::Swarm, SimulationStrategy::Coverage] {
        let report = run(&model, strategy, runs, 60, 0);
        assert_eq!(found(&model, &report), "no_item_lost", "{strategy}");
        let failure = report.failure.as_ref().unwrap();
        assert_eq!(
            failure.counterexample.len(),
            batcher::CAPACITY + 1,
            "21 deliveries, shrunk"
        );
        if strategy == SimulationStrategy::Swarm {
            // Swarm names the configuration that found it.
            let detail = failure.detail.as_deref().unwrap_or_default();
            assert!(detail.contains("kept message Item"), "{detail}");
        }
    }
    // The correct collector passes the same runs.
    let fixed = batcher::model(Faults::none(), false).unwrap();
    for strategy in [PCT, SimulationStrategy::Swarm, SimulationStrategy::Coverage] {
        let report = run(&fixed, strategy, 2_000, 60, 0);
        assert!(report.failure.is_none(), "{strategy}: {:?}", report.failure);
    }
}

#[test]
fn keypad_sequence_is_found_by_coverage_alone_and_on_any_number_of_threads() {
    let model = keypad::model(40, true).unwrap();
    let runs = 8_000;
    for strategy in [SimulationStrategy::Uniform, PCT, SimulationStrategy::Swarm] {
        let report = run(&model, strategy, runs, 40, 0);
        assert!(report.failure.is_none(), "{strategy}: {:?}", report.failure);
    }
    let one = run(&model, SimulationStrategy::Coverage, runs, 40, 1);
    assert_eq!(found(&model, &one), "keypad_never_opens");
    assert_eq!(
        one.failure.as_ref().unwrap().counterexample.len(),
        keypad::CODE_LEN
    );
    // The corpus changes only between batches, in seed order: two threads
    // find the same run.
    let two = run(&model, SimulationStrategy::Coverage, runs, 40, 2);
    assert_eq!(
        one.failure.as_ref().map(|f| f.seed),
        two.failure.as_ref().map(|f| f.seed)
    );
}

#[test]
fn raft_figure_8_is_missed_by_uniform_and_found_by_pct() {
    let config = RaftConfig {
        max_term: 4,
        max_log: 3,
        bug: Some(RaftBug::CommitByCountingOldTerms),
        ..RaftConfig::default()
    };
    let model = kv::raft(3, 2, 2, Faults::none(), config).unwrap();
    let runs = 8_000;
    let pct = run(&model, PCT, runs, 40, 0);
    assert_eq!(found(&model, &pct), "leader_completeness");
    let uniform = run(&model, SimulationStrategy::Uniform, runs, 40, 0);
    assert!(uniform.failure.is_none(), "{:?}", uniform.failure);
    let bound = pct.pct.expect("pct reports its bound");
    assert_eq!((bound.depth, bound.steps), (3, 40));
    assert!(bound.sources > 3 && bound.per_run() > 0.0 && bound.per_run() < 1.0);
}

/// `simulate --strategy` on a binary: what pct finds is written for
/// `replay`, which shows the same violation; a bad strategy is refused.
#[test]
fn the_cli_strategies_write_traces_that_replay() {
    let bin = env!("CARGO_BIN_EXE_batcher");
    let dir = std::env::temp_dir().join(format!("verdict-deep-bugs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("batcher.json");
    let trace = trace.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, out) = run(&[
        "simulate",
        "--broken",
        "--strategy",
        "pct",
        "--bug-depth",
        "2",
        "--runs",
        "100",
        "--depth",
        "60",
        "--trace-json",
        trace,
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("pct guarantee, under PCT's assumptions"),
        "{out}"
    );
    assert!(out.contains("runs/s"), "{out}");
    let (code, out) = run(&["replay", trace]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("invariant `no_item_lost` is violated"),
        "{out}"
    );
    let (code, out) = run(&[
        "simulate",
        "--broken",
        "--strategy",
        "swarm",
        "--runs",
        "100",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("found by swarm configuration of seed"),
        "{out}"
    );
    let (code, out) = run(&["simulate", "--strategy", "fastest"]);
    assert_eq!(code, Some(2), "{out}");
    let (code, out) = run(&["simulate", "--strategy", "pct", "--bug-depth", "0"]);
    assert_eq!(code, Some(2), "{out}");
    let (code, out) = run(&["simulate", "--strategy", "swarm", "--bug-depth", "2"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--bug-depth is for --strategy pct"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check --deepen`: the bounds below the bug pass, the first that shows
/// it is reported, and the bounds above it are not checked.
#[test]
fn deepening_stops_at_the_smallest_bound_that_fails() {
    let bin = env!("CARGO_BIN_EXE_keypad");
    let out = std::process::Command::new(bin)
        .args(["check", "--broken", "--deepen", "presses=18..25"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("--presses 19: no violation"), "{text}");
    assert!(text.contains("--presses 20: VIOLATION"), "{text}");
    assert!(text.contains("First failing bound: --presses 20"), "{text}");
    assert!(!text.contains("--presses 21"), "{text}");
    let out = std::process::Command::new(bin)
        .args(["check", "--deepen", "presses=1..3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = std::process::Command::new(bin)
        .args(["check", "--deepen", "rounds=1..3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
