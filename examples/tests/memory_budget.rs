//! A check that reaches its memory budget stops with a bounded verdict and
//! exit code 3, in every search: breadth first, depth first in place and
//! with a stack of worlds, the dynamic reduction, one thread and several.

use std::process::Command;

use verdict::check::Reached;
use verdict::check::{Status, Topic};
use verdict::prelude::*;
use verdict::{MemoryBudget, Reductions, Strategy};
use verdict_examples::{lockserv, ricart_agrawala};

/// Lockserv with 3 clients and 2 rounds: 454k states, far past 2 MiB.
fn big() -> Model<lockserv::LockServ> {
    lockserv::model(3, 2, Faults::none()).unwrap()
}

fn budget(bytes: u64) -> Option<MemoryBudget> {
    Some(MemoryBudget::new(bytes, "test"))
}

fn assert_bounded<S: System>(what: &str, report: &verdict::Report<S>, bytes: u64) {
    assert!(
        matches!(report.outcome, Outcome::MemoryBound { .. }),
        "{what}: {} after {} states",
        match &report.outcome {
            Outcome::Exhausted => "exhausted",
            Outcome::Bounded { .. } => "bounded",
            Outcome::Violation(_) => "violation",
            Outcome::MemoryBound { .. } => "memory",
        },
        report.stats.unique
    );
    let s = &report.stats;
    assert_eq!(s.memory_budget, bytes, "{what}");
    assert!(
        s.unique > 100,
        "{what}: stopped before searching ({} states)",
        s.unique
    );
    // The account never runs far past the budget: tables grow only when
    // it has room, the check at every new state stops the rest, and each
    // thread holds back at most a sixteenth of its share of the budget.
    assert!(
        s.held_bytes <= bytes + bytes / 8,
        "{what}: held {} of {bytes}",
        s.held_bytes
    );
    if let Outcome::MemoryBound { reached } = report.outcome {
        if reached == Reached::Held {
            assert!(s.held_bytes >= bytes / 2, "{what}: held {}", s.held_bytes);
        }
    }
}

#[test]
fn every_search_stops_at_a_small_budget() {
    const BYTES: u64 = 3 << 20;
    let modes: [(&str, Strategy, Reductions, usize); 5] = [
        (
            "bfs, 2 threads, symmetry and por",
            Strategy::Bfs,
            Reductions::all(),
            2,
        ),
        (
            "bfs, 1 thread, no reduction",
            Strategy::Bfs,
            Reductions::none(),
            1,
        ),
        (
            "dfs in place, 2 threads",
            Strategy::Dfs,
            Reductions {
                symmetry: false,
                dynamic_por: false,
                ..Reductions::all()
            },
            2,
        ),
        (
            "dfs with a stack of worlds (symmetry)",
            Strategy::Dfs,
            Reductions {
                dynamic_por: false,
                ..Reductions::all()
            },
            2,
        ),
        (
            "dynamic por",
            Strategy::Dfs,
            Reductions {
                symmetry: false,
                ..Reductions::all()
            },
            1,
        ),
    ];
    for (what, strategy, reductions, threads) in modes {
        let options = CheckOptions {
            strategy,
            reductions,
            threads,
            memory: budget(BYTES),
            ..CheckOptions::default()
        };
        let report = check(&big(), &options);
        assert_bounded(what, &report, BYTES);
        if what == "dynamic por" {
            assert!(
                report
                    .stats
                    .notes
                    .iter()
                    .any(|n| n.is(Topic::DynamicPartialOrder, Status::On)),
                "{:?}",
                report.stats.notes
            );
        }
    }
}

#[test]
fn the_model_carries_a_budget_and_the_options_override_it() {
    let model = big().with_memory_budget(2 << 20);
    let report = check(&model, &CheckOptions::default());
    assert_bounded("model budget", &report, 2 << 20);
    assert_eq!(report.stats.memory_source, "Model::with_memory_budget");
    // A small system fits a small budget and is explored to the end.
    let small = ricart_agrawala::model(2, 1, false)
        .unwrap()
        .with_memory_budget(2 << 20);
    let options = CheckOptions {
        memory: budget(64 << 20),
        ..CheckOptions::default()
    };
    let report = check(&small, &options);
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.stats.memory_budget, 64 << 20);
}

#[test]
fn the_command_line_says_bounded_and_exits_3() {
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args([
            "check",
            "--clients",
            "3",
            "--rounds",
            "2",
            "--memory",
            "3MiB",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("BOUNDED: memory budget 3.0 MiB reached"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing violated so far"), "{stdout}");
    assert!(stdout.contains("to go further: --dfs"), "{stdout}");
    // A budget that is not a size is refused as usage.
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(["check", "--memory", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a memory size is a number"));
    // The default budget is said in the report.
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(["check", "--clients", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("budget (default: 3/4 of the"), "{stdout}");
}
