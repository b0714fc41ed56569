//! Command-line building blocks shared by every system's binary.
//!
//! Exit codes are the same everywhere: 0 when no violation was found (or
//! the command succeeded), 1 when a violation was found (by a check, a
//! simulation or a fatal runtime monitor), 2 on bad usage, bad
//! configuration or a failure to start or run (clap's own usage errors
//! also exit 2), 3 when a check stopped at its memory budget with no
//! violation found (the state space was not covered), 4 when `induct`
//! found a counterexample to induction (the invariants hold in the states
//! checked but are not inductive). `impact` exits 0 when no verdict can
//! change, 1 when one may (re-check), 2 on bad usage.

mod app;
mod change;
mod check;
mod deepen;
#[cfg(feature = "runtime")]
mod deploy;
#[cfg(feature = "explorer")]
mod explore;
mod flags;
mod induct;
mod simulate;

pub use app::{App, Use};
pub use change::{
    impact_code, print_description, run_cached_check, run_cached_check_to, run_impact, ImpactArgs,
    IMPACT_NONE, IMPACT_RECHECK,
};
pub use check::{
    print_header, print_report, run_check, run_check_retransmitting, run_replay, select_invariants,
    trace_faults, trace_header, CheckArgs, ReplayArgs, TraceFile,
};
pub use deepen::{run_deepening, Deepen};
#[cfg(feature = "runtime")]
pub use deploy::{ClientArgs, ClusterArgs, NodeArgs, RepairArgs, ServeArgs};
#[cfg(feature = "explorer")]
pub use explore::{run_explore, ExploreArgs};
pub use flags::{Flag, FlagValue, Flags};
pub use induct::{run_induct, InductArgs};
pub use simulate::{run_simulate, SeedRange, SimulateArgs};

/// Exit code: no violation found.
pub const EXIT_OK: u8 = 0;
/// Exit code: a violation was found.
pub const EXIT_VIOLATION: u8 = 1;
/// Exit code: bad usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: a check reached its memory budget and stopped, with no
/// violation found so far: an incomplete verdict, neither a pass nor a
/// violation.
pub const EXIT_MEMORY: u8 = 3;
/// Exit code: `induct` found a counterexample to induction.
pub const EXIT_NOT_INDUCTIVE: u8 = 4;
