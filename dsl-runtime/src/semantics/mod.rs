//! The semantics every part of Verdict shares: worlds, events and the step
//! function.
//!
//! A world is the state of every node (up or down, with armed timers), the
//! messages in flight and the trace of external inputs and outputs. Events
//! are the step rules: input, deliver, timeout, and the faults drop,
//! duplicate, crash, restart, partition and heal. [`Model`] decides which
//! events a world enables under a [`crate::Faults`] value and a
//! [`crate::Workload`], and applies them by running the generated handlers.

pub mod event;
pub mod model;
pub mod network;
pub mod world;

pub use event::{Action, Event, StepError, StepInfo};
pub use model::{IgnoreRule, Model};
pub use network::{Network, Packet};
pub use world::{FaultsUsed, NodeSlot, TraceEvent, World};
