//! Simulation: seeded runs are reproducible, seed ranges shard, and a
//! failing run is shrunk to a short trace that replays to the violation.

use verdict::prelude::*;
use verdict::simulate::{run_one, simulate, SimulateOptions};
use verdict::Violation;
use verdict_examples::{lockserv, twophase};

#[test]
fn the_same_seed_gives_the_same_run() {
    let m = twophase::model(4, Faults::none(), false).unwrap();
    let a = run_one(&m, 42, 50);
    let b = run_one(&m, 42, 50);
    assert_eq!(a.0, b.0);
    assert!(a.1.is_none());
    let c = run_one(&m, 43, 50);
    assert!(a.0 != c.0 || a.0.len() < 3);
}

#[test]
fn correct_systems_pass_and_shards_cover_the_range() {
    let m = twophase::model(4, Faults::none(), false).unwrap();
    let mut total = 0;
    for seeds in [0..50, 50..100] {
        let r = simulate(
            &m,
            &SimulateOptions {
                seeds,
                depth: 60,
                ..SimulateOptions::default()
            },
        );
        assert!(r.failure.is_none());
        total += r.runs;
    }
    assert_eq!(total, 100);
}

#[test]
fn failures_are_shrunk_and_replay() {
    let m = lockserv::model(3, 1, "dup".parse().unwrap()).unwrap();
    let options = SimulateOptions {
        seeds: 0..500,
        depth: 200,
        ..SimulateOptions::default()
    };
    let r = simulate(&m, &options);
    let f = r.failure.expect("random runs find the duplicate grant");
    let cx = &f.counterexample;
    assert!(matches!(
        &cx.violation,
        Violation::Invariant {
            name: "mutual_exclusion" | "locked_outputs_alternate",
            ..
        }
    ));
    assert!(cx.len() <= f.steps);
    assert!(cx.len() <= 16, "shrunk to {} steps", cx.len());
    assert!(
        cx.reproduce(&m).unwrap().is_some(),
        "the shrunk trace violates"
    );
    // The smallest failing seed is reported, whatever the thread count.
    let one = simulate(
        &m,
        &SimulateOptions {
            threads: 1,
            ..options.clone()
        },
    );
    assert_eq!(one.failure.unwrap().seed, f.seed);
}
