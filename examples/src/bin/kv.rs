//! `kv`: check the key-value store, on one server or replicated by
//! primary-backup, for linearizability.
//!
//! ```text
//! kv check                                                  # exits 0: one server, reliable network
//! kv check --faults crash=1                                 # exits 1: a crash loses the store
//! kv check --faults crash=1 --transform primary-backup      # exits 0
//! kv check --transform primary-backup --broken reply-before-ack   # exits 1
//! kv check --faults crash=1 --transform primary-backup --broken no-state-transfer   # exits 1
//! kv check --faults drop,dup,reorder,crash=1 --transform reliable-primary-backup --clients 1 --ops 2
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use verdict::cli::{run_check, run_replay, trace_faults, CheckArgs, ReplayArgs, EXIT_USAGE};
use verdict::transform::{plan_retransmitting, reliable_model, PbBug};
use verdict::{Faults, Model, System};
use verdict_examples::kv::{self, Kv};

#[derive(Parser)]
#[command(
    name = "kv",
    version,
    about = "The key-value store, single-server or replicated, checked for linearizability"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How the store is served.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Transform {
    /// One server holding the store in memory.
    None,
    /// The store replicated on a primary and a backup.
    PrimaryBackup,
    /// Primary-backup under reliable delivery, for lossy networks.
    ReliablePrimaryBackup,
}

/// A deliberate bug in primary-backup.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Broken {
    /// The primary replies before the backup has the command.
    ReplyBeforeAck,
    /// A restarted replica serves from an empty store.
    NoStateTransfer,
}

#[derive(clap::Args, Clone, Copy)]
struct Variant {
    /// Number of clients.
    #[arg(long, default_value_t = 2, value_name = "N")]
    clients: usize,
    /// Commands each client runs from its script.
    #[arg(long, default_value_t = 3, value_name = "N")]
    ops: usize,
    /// How the store is served.
    #[arg(long, value_enum, default_value_t = Transform::None)]
    transform: Transform,
    /// Check a deliberately broken primary-backup.
    #[arg(long, value_enum, value_name = "BUG")]
    broken: Option<Broken>,
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
    Describe {
        #[command(flatten)]
        variant: Variant,
    },
}

/// A subcommand that runs on a model.
enum Run {
    Check(CheckArgs),
    Replay(ReplayArgs),
    Describe,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check { variant, check } => dispatch(variant, check.faults, Run::Check(check)),
        Command::Replay { variant, replay } => match trace_faults(&replay.file) {
            Ok(faults) => dispatch(variant, faults, Run::Replay(replay)),
            Err(e) => usage(e),
        },
        Command::Describe { variant } => dispatch(variant, Faults::none(), Run::Describe),
    }
}

/// Builds the model `variant` asks for and runs `run` on it.
fn dispatch(variant: Variant, faults: Faults, run: Run) -> ExitCode {
    let Variant {
        clients,
        ops,
        transform,
        broken,
        ..
    } = variant;
    let bug = broken.map(|b| match b {
        Broken::ReplyBeforeAck => PbBug::ReplyBeforeAck,
        Broken::NoStateTransfer => PbBug::NoStateTransfer,
    });
    if transform == Transform::None && bug.is_some() {
        return usage("--broken applies to a primary-backup transform");
    }
    match transform {
        Transform::None => match kv::single(clients, ops, faults) {
            Ok(m) => on_model::<Kv>(m, false, run),
            Err(e) => usage(e),
        },
        Transform::PrimaryBackup => match kv::primary_backup(clients, ops, faults, bug) {
            Ok(m) => on_model(m, false, run),
            Err(e) => usage(e),
        },
        Transform::ReliablePrimaryBackup => match kv::primary_backup(clients, ops, faults, bug) {
            Ok(pb) => on_model(reliable_model(&pb, faults), true, run),
            Err(e) => usage(e),
        },
    }
}

/// Checks, replays or describes `model`; a system that retransmits first
/// gets the bounds (or the exact set-of-packets network) its state space
/// needs.
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
        Run::Describe => {
            print!("{}", S::meta());
            ExitCode::SUCCESS
        }
    }
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
