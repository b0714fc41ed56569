//! `twophase`: check two-phase commit with N resource managers.
//!
//! ```text
//! twophase check --rms 9                      # exits 0
//! twophase check --rms 3 --commit-early       # exits 1: committed and aborted
//! twophase simulate --rms 5 --seeds 0..1000   # random runs
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use verdict::cli::{
    run_check, run_replay, run_simulate, trace_faults, CheckArgs, ReplayArgs, SimulateArgs,
    EXIT_USAGE,
};
use verdict::System;
use verdict_examples::twophase::{model, TwoPhase};

#[derive(Parser)]
#[command(
    name = "twophase",
    version,
    about = "Two-phase commit, checked with Verdict"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct Variant {
    /// Number of resource managers.
    #[arg(long, default_value_t = 3, value_name = "N")]
    rms: usize,
    /// Check the deliberately broken manager that commits once all but one prepared.
    #[arg(long)]
    commit_early: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Explore every reachable state and report any violated invariant.
    Check {
        #[command(flatten)]
        variant: Variant,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Run seeded random executions and report any violated invariant.
    Simulate {
        #[command(flatten)]
        variant: Variant,
        #[command(flatten)]
        simulate: SimulateArgs,
    },
    /// Replay a counterexample written by `check --trace-json`.
    Replay {
        #[command(flatten)]
        variant: Variant,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// Print the system's roles, fields, handlers with footprints, and invariants.
    Describe,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check { variant, check } => {
            match model(variant.rms, check.faults, variant.commit_early) {
                Ok(m) => run_check(&m, &check),
                Err(e) => usage(e),
            }
        }
        Command::Simulate { variant, simulate } => {
            match model(variant.rms, simulate.faults, variant.commit_early) {
                Ok(m) => run_simulate(&m, &simulate),
                Err(e) => usage(e),
            }
        }
        Command::Replay { variant, replay } => {
            let faults = match trace_faults(&replay.file) {
                Ok(f) => f,
                Err(e) => return usage(e),
            };
            match model(variant.rms, faults, variant.commit_early) {
                Ok(m) => run_replay(&m, &replay),
                Err(e) => usage(e),
            }
        }
        Command::Describe => {
            print!("{}", TwoPhase::meta());
            ExitCode::SUCCESS
        }
    }
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
