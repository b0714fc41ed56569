//! Verdict: write a distributed system once, as event handlers in
//! [`system!`]; check it exhaustively within stated bounds, transform it to
//! survive harsher networks, and run the same handlers on real sockets.
//!
//! Verdict does not produce machine-checked proofs. It explores every
//! reachable state within the bounds you give (workload, fault budgets,
//! depth) and reports a shortest counterexample when an invariant fails.
//!
//! Start with the [`prelude`] and the book's tutorial.

// Generated code names `::verdict`, which must also resolve inside this crate.
extern crate self as verdict;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod budget;
pub mod change;
pub mod chart;
pub mod check;
pub mod choice;
pub mod cli;
pub mod ctx;
pub mod faults;
pub(crate) mod fingerprint;
pub mod induct;
pub mod lin;
pub mod liveness;
pub mod meta;
pub(crate) mod numbers;
pub mod observe;
pub mod progress;
pub mod rng;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod search;
pub mod semantics;
pub mod setup;
pub mod simulate;
pub mod system;
pub mod transform;
pub mod view;
pub(crate) mod violation;
pub mod workload;

pub use check::{
    check, CheckOptions, Counterexample, MemoryBudget, Outcome, Reductions, Relabel, Report, Stats,
    Strategy, Violation,
};
pub use ctx::{Ctx, Effects, MayChoose, MayEmit, MaySend, MaySet, TimerOp};
pub use faults::{Budget, Faults};
pub use meta::{RoleEnum, SystemMeta};
pub use semantics::{Event, Model, Packet, TraceEvent, World};
pub use setup::{Cluster, Setup, SetupError, Sizes};
pub use system::{Data, InvariantResult, System, Trigger};
pub use verdict_macros::{system, Relabel};
pub use workload::{NodeWorkload, Step, Workload};

/// Re-exported for generated code, so users need not depend on serde.
pub use serde;

/// Everything a system definition and its driver usually need.
pub mod prelude {
    pub use crate::check::{check, CheckOptions, Outcome};
    pub use crate::ctx::Ctx;
    pub use crate::faults::Faults;
    pub use crate::semantics::{Model, TraceEvent};
    pub use crate::setup::{Setup, Sizes};
    pub use crate::system;
    pub use crate::system::System;
    pub use crate::workload::{NodeWorkload, Step, Workload};
    pub use std::time::Duration;
}
