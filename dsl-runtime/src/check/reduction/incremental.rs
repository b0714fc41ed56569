//! Incremental invariant evaluation: after a step, only the invariants whose
//! declared reads meet what the step wrote are evaluated again.
//!
//! The parent state satisfied every invariant (violating states are never
//! expanded), so an invariant that reads nothing the step changed still
//! holds. What a step changes follows from the footprints: the handler's
//! `writes(..)` fields of its node, the network when it sends or a packet is
//! taken, the trace when an input arrives or the handler emits. Faults that
//! touch several things at once (crash, restart, partition) re-evaluate
//! everything.

use crate::semantics::{Action, StepInfo};
use crate::system::System;

/// Which invariants each kind of step can affect, as bit masks over
/// invariant ids (systems with more than 64 invariants re-check all).
#[derive(Debug, Clone)]
pub struct Affected {
    per_handler: Vec<u64>,
    network: u64,
    trace: u64,
}

/// A mask selecting every invariant.
pub const ALL: u64 = u64::MAX;

impl Affected {
    /// The tables for system `S`; `None` when it has more than 64 invariants.
    pub fn new<S: System>() -> Option<Self> {
        let meta = S::meta();
        if meta.invariants.len() > 64 {
            return None;
        }
        let mut network = 0;
        let mut trace = 0;
        for (i, inv) in meta.invariants.iter().enumerate() {
            if inv.reads_network {
                network |= 1 << i;
            }
            if inv.reads_trace || inv.reads_history {
                trace |= 1 << i;
            }
        }
        let per_handler = meta
            .handlers
            .iter()
            .map(|h| {
                let mut m = 0u64;
                for (i, inv) in meta.invariants.iter().enumerate() {
                    let reads_written = inv
                        .reads_fields
                        .iter()
                        .any(|(role, read)| *role == h.role && read.intersects(&h.writes));
                    if reads_written {
                        m |= 1 << i;
                    }
                }
                if !h.sends.is_empty() {
                    m |= network;
                }
                if !h.emits.is_empty() {
                    m |= trace;
                }
                m
            })
            .collect();
        Some(Affected {
            per_handler,
            network,
            trace,
        })
    }

    /// The invariants `action` (which ran the handler in `info`) may affect.
    pub fn mask(&self, action: Action, info: StepInfo) -> u64 {
        let mut handler = info.handler.map_or(0, |h| self.per_handler[h]);
        if let Some(h) = info.chained {
            handler |= self.per_handler[h] | self.trace;
        }
        match action {
            Action::Input { .. } => handler | self.trace,
            Action::Deliver(..) => handler | self.network,
            Action::Timeout { .. } => handler,
            Action::Drop(_) | Action::Duplicate(_) => self.network,
            Action::Crash(_)
            | Action::Restart(_)
            | Action::Partition(_)
            | Action::Cut(_)
            | Action::Heal => ALL,
        }
    }
}
