//! `lockserv`: check the lock server, or replay a counterexample.
//!
//! ```text
//! lockserv check --clients 3                 # exits 0: mutual exclusion holds
//! lockserv check --clients 3 --faults dup    # exits 1 with a counterexample
//! lockserv check --clients 3 --faults drop,dup,reorder --transform reliable   # exits 0
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use verdict::cli::{run_check, run_replay, CheckArgs, ReplayArgs, EXIT_USAGE};
use verdict::transform::{plan_retransmitting, recovering_model, reliable_model};
use verdict::{Faults, Model, System};
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

/// Which transformer wraps the lock server before it is checked.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Transform {
    /// The lock server as written.
    #[default]
    None,
    /// Sequence numbers, acknowledgements, retransmission, deduplication.
    Reliable,
    /// All state durable, timers re-armed after a restart.
    CrashRecovery,
    /// Reliable delivery over crash recovery.
    ReliableCrashRecovery,
}

#[derive(clap::Args, Clone, Copy)]
struct Wrap {
    /// Wrap the lock server in a system transformer first.
    #[arg(long, value_enum, default_value_t = Transform::None)]
    transform: Transform,
}

#[derive(Subcommand)]
enum Command {
    /// Explore every reachable state and report any violated invariant.
    Check {
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        wrap: Wrap,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Replay a counterexample written by `check --trace-json`.
    Replay {
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        wrap: Wrap,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// Print the system's roles, fields, handlers with footprints, and invariants.
    Describe,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { size, wrap, check } => {
            match model(size.clients, size.rounds, check.faults) {
                Ok(m) => transformed(&m, wrap.transform, check.faults, Run::Check(check)),
                Err(e) => usage(e),
            }
        }
        Command::Replay { size, wrap, replay } => {
            let faults = match verdict::cli::trace_faults(&replay.file) {
                Ok(f) => f,
                Err(e) => return usage(e),
            };
            match model(size.clients, size.rounds, faults) {
                Ok(m) => transformed(&m, wrap.transform, faults, Run::Replay(replay)),
                Err(e) => usage(e),
            }
        }
        Command::Describe => {
            print!("{}", LockServ::meta());
            ExitCode::SUCCESS
        }
    }
}

/// A subcommand that runs on a model.
enum Run {
    Check(CheckArgs),
    Replay(ReplayArgs),
}

/// Runs `run` on the lock server wrapped as `transform` asks, under `faults`.
fn transformed(base: &Model<LockServ>, transform: Transform, faults: Faults, run: Run) -> ExitCode {
    match transform {
        Transform::None => on_model(base.clone(), false, run),
        Transform::Reliable => on_model(reliable_model(base, faults), true, run),
        Transform::CrashRecovery => on_model(recovering_model(base, faults), false, run),
        Transform::ReliableCrashRecovery => on_model(
            reliable_model(&recovering_model(base, faults), faults),
            true,
            run,
        ),
    }
}

/// Checks or replays `model`; a system that retransmits first gets the
/// bounds (or the exact set-of-packets network) its state space needs.
fn on_model<S: System>(mut model: Model<S>, retransmits: bool, run: Run) -> ExitCode {
    match run {
        Run::Check(mut check) => {
            if retransmits {
                let bounded = check.depth.is_some() || check.max_states.is_some();
                let plan = plan_retransmitting(&mut model, bounded);
                for note in &plan.notes {
                    println!("{note}");
                }
                check.depth = check.depth.or(plan.default_depth);
            }
            run_check(&model, &check)
        }
        Run::Replay(replay) => {
            if retransmits {
                plan_retransmitting(&mut model, true);
            }
            run_replay(&model, &replay)
        }
    }
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
