//! `paxos`: check single-decree Paxos (3 servers) with N register clients,
//! whose history must be linearizable.
//!
//! ```text
//! paxos check --clients 3                          # exits 0
//! paxos check --clients 2 --accept-lower-ballots   # exits 1
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use verdict::cli::{
    run_check, run_replay, run_simulate, trace_faults, CheckArgs, ReplayArgs, SimulateArgs,
    EXIT_USAGE,
};
use verdict::System;
use verdict_examples::paxos::{model, Paxos};

#[derive(Parser)]
#[command(
    name = "paxos",
    version,
    about = "Single-decree Paxos with register clients, checked with Verdict"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct Variant {
    /// Number of register clients (each puts, then gets).
    #[arg(long, default_value_t = 2, value_name = "N")]
    clients: usize,
    /// Check the deliberately broken server that accepts lower ballots.
    #[arg(long)]
    accept_lower_ballots: bool,
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
            match model(variant.clients, check.faults, variant.accept_lower_ballots) {
                Ok(m) => run_check(&m, &check),
                Err(e) => usage(e),
            }
        }
        Command::Simulate { variant, simulate } => {
            match model(
                variant.clients,
                simulate.faults,
                variant.accept_lower_ballots,
            ) {
                Ok(m) => run_simulate(&m, &simulate),
                Err(e) => usage(e),
            }
        }
        Command::Replay { variant, replay } => {
            let faults = match trace_faults(&replay.file) {
                Ok(f) => f,
                Err(e) => return usage(e),
            };
            match model(variant.clients, faults, variant.accept_lower_ballots) {
                Ok(m) => run_replay(&m, &replay),
                Err(e) => usage(e),
            }
        }
        Command::Describe => {
            print!("{}", Paxos::meta());
            ExitCode::SUCCESS
        }
    }
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
