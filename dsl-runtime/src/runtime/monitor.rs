//! Runtime monitors: the system's local invariants, evaluated on the
//! node's state after every handler run.
//!
//! Local invariants are the ones the checker proved (within its bounds) for
//! one node at a time; checking them live catches what the bounds missed,
//! a handler bug the model did not reach, or a disk that lied.

use std::fmt::Display;
use std::str::FromStr;

use crate::meta::{InvariantId, InvariantScope};
use crate::system::System;

/// What to do about local invariants at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonitorMode {
    /// Do not evaluate them.
    #[default]
    Off,
    /// Evaluate them and log a violation with the event that caused it.
    Log,
    /// Log a violation, then stop the node before the event's effects leave.
    Fatal,
}

impl FromStr for MonitorMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(MonitorMode::Off),
            "log" => Ok(MonitorMode::Log),
            "fatal" => Ok(MonitorMode::Fatal),
            _ => Err(format!("`{s}`: use off, log or fatal")),
        }
    }
}

/// The local invariants of one node's role.
pub struct Monitor<S: System> {
    mode: MonitorMode,
    node: S::Node,
    invariants: Vec<InvariantId>,
}

/// A violated local invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorViolation {
    /// The invariant's name.
    pub invariant: &'static str,
    /// Its explanation, if it gave one.
    pub message: String,
}

impl<S: System> Monitor<S> {
    /// The monitor of `node`.
    pub fn new(mode: MonitorMode, node: S::Node) -> Self {
        let role = S::role_of(node);
        let invariants = S::meta()
            .invariants
            .iter()
            .enumerate()
            .filter(|(_, i)| i.scope == InvariantScope::Local(role))
            .map(|(id, _)| id)
            .collect();
        Monitor {
            mode,
            node,
            invariants,
        }
    }

    /// Whether the monitor evaluates anything.
    pub fn is_on(&self) -> bool {
        self.mode != MonitorMode::Off && !self.invariants.is_empty()
    }

    /// Whether a violation stops the node.
    pub fn is_fatal(&self) -> bool {
        self.mode == MonitorMode::Fatal
    }

    /// Evaluates every local invariant on `state`, logging each violation
    /// with `event`. Returns the violations.
    pub fn check(
        &self,
        state: &S::State,
        config: &S::Config,
        event: &dyn Display,
    ) -> Vec<MonitorViolation> {
        if !self.is_on() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for &id in &self.invariants {
            if let Err(message) = S::check_local(id, self.node, state, config) {
                let name = S::meta().invariants[id].name;
                let why = if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                };
                tracing::error!(
                    node = %self.node,
                    invariant = %name,
                    event = %event,
                    "local invariant violated{why}"
                );
                out.push(MonitorViolation {
                    invariant: name,
                    message,
                });
            }
        }
        out
    }
}
