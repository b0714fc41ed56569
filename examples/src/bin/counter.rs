//! `counter`: check the primary-backup counter, or its broken variant.
//!
//! ```text
//! counter check                        # exits 0
//! counter check --broken --faults crash=1   # exits 1: a reply the backup does not hold
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use verdict::cli::{run_check, run_replay, trace_faults, CheckArgs, ReplayArgs, EXIT_USAGE};
use verdict::System;
use verdict_examples::counter::{model, Counter};

#[derive(Parser)]
#[command(
    name = "counter",
    version,
    about = "The primary-backup counter, checked with Verdict"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct Variant {
    /// Increments the primary receives.
    #[arg(long, default_value_t = 3, value_name = "N")]
    increments: usize,
    /// Check the deliberately broken variant that replies before the backup acknowledges.
    #[arg(long)]
    broken: bool,
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
            match model(variant.increments, check.faults, variant.broken) {
                Ok(m) => run_check(&m, &check),
                Err(e) => usage(e),
            }
        }
        Command::Replay { variant, replay } => {
            let faults = match trace_faults(&replay.file) {
                Ok(f) => f,
                Err(e) => return usage(e),
            };
            match model(variant.increments, faults, variant.broken) {
                Ok(m) => run_replay(&m, &replay),
                Err(e) => usage(e),
            }
        }
        Command::Describe => {
            print!("{}", Counter::meta());
            ExitCode::SUCCESS
        }
    }
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
