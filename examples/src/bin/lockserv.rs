//! `lockserv`: check the lock server, or replay a counterexample.
//!
//! ```text
//! lockserv check --clients 3                 # exits 0: mutual exclusion holds
//! lockserv check --clients 3 --faults dup    # exits 1 with a counterexample
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use verdict::cli::{run_check, run_replay, CheckArgs, ReplayArgs, EXIT_USAGE};
use verdict::System;
use verdict_examples::lockserv::{model, LockServ};

#[derive(Parser)]
#[command(
    name = "lockserv",
    version,
    about = "The lock server, checked with Verdict"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct Size {
    /// Number of clients.
    #[arg(long, default_value_t = 3, value_name = "N")]
    clients: usize,
    /// Lock/unlock rounds per client.
    #[arg(long, default_value_t = 1, value_name = "N")]
    rounds: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Explore every reachable state and report any violated invariant.
    Check {
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Replay a counterexample written by `check --trace-json`.
    Replay {
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// Print the system's roles, fields, handlers with footprints, and invariants.
    Describe,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { size, check } => match model(size.clients, size.rounds, check.faults) {
            Ok(m) => run_check(&m, &check),
            Err(e) => usage(e),
        },
        Command::Replay { size, replay } => {
            let faults = match verdict::cli::trace_faults(&replay.file) {
                Ok(f) => f,
                Err(e) => return usage(e),
            };
            match model(size.clients, size.rounds, faults) {
                Ok(m) => run_replay(&m, &replay),
                Err(e) => usage(e),
            }
        }
        Command::Describe => {
            print!("{}", LockServ::meta());
            ExitCode::SUCCESS
        }
    }
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
