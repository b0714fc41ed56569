//! `twophase`: two-phase commit with N resource managers; check it,
//! simulate it, or deploy it.
//!
//! ```text
//! twophase check --rms 9                      # exits 0
//! twophase check --rms 3 --commit-early       # exits 1: committed and aborted
//! twophase simulate --rms 5 --seeds 0..1000   # random runs
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::twophase::{workload, Config, Role, TwoPhase};

const COMMIT_EARLY: Flag<bool> = Flag::bool(
    "commit-early",
    "The deliberately broken manager that commits once all but one prepared",
);

fn main() -> ExitCode {
    App::<TwoPhase>::new("twophase")
        .about("Two-phase commit, checked and deployed with Verdict")
        .size_flag(Role::Rm, "rms", 3, "Number of resource managers")
        .config_flag(COMMIT_EARLY)
        .config(|flags| Config {
            commit_early: flags.get(COMMIT_EARLY),
        })
        .workload(|setup, _| workload(setup))
        .run()
}
