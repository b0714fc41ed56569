//! Why a history is not linearizable, in terms a person can check by hand.
//!
//! The search keeps the longest partial linearization it reached (the most
//! operations placed in one legal order). At that point some operation that
//! already returned still had to be placed, and none of the operations that
//! could go next works: each is either not allowed by the specification in
//! the state reached, or allowed but followed by no complete order. The
//! explanation lists exactly that.

use super::history::{History, OpId, OpOutcome, Operation};
use serde::{Deserialize, Serialize};
use std::fmt::{Debug, Write};

/// Why an operation could not be placed next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// The specification does not allow this operation with this result in
    /// the state after the prefix.
    NotAllowed,
    /// Allowed there, but no order of the remaining operations completes the
    /// history after it.
    DeadEnd,
}

/// An operation that could not be placed after the longest prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unplaceable {
    /// The operation.
    pub op: OpId,
    /// Why.
    pub reason: Reason,
}

/// Evidence that a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The operations checked together when the violation was found: one
    /// partition (all operations on one key, say), or the whole history when
    /// it was not partitioned. Read-only operations whose result is unknown
    /// are left out: they cannot matter.
    pub checked_ops: Vec<OpId>,
    /// Whether `checked_ops` is one part of a history split by key.
    pub partitioned: bool,
    /// The longest partial linearization found, in linearization order.
    pub longest_prefix: Vec<OpId>,
    /// The model state after that prefix (its `Debug` text).
    pub state_after_prefix: String,
    /// The operation with the earliest return among those not in the prefix:
    /// it had to take effect before it returned, so one of the
    /// `unplaceable` operations had to go next.
    pub owed: Option<OpId>,
    /// The operations that could go next after the prefix, none of which
    /// works.
    pub unplaceable: Vec<Unplaceable>,
}

/// A one-line description of an operation: `client 3: Write(4) -> Ok`.
pub fn describe<Op: Debug, Ret: Debug>(op: &Operation<Op, Ret>) -> String {
    let result = match &op.outcome {
        OpOutcome::Returned(ret) => format!("{ret:?}"),
        OpOutcome::Unknown => "unknown".to_string(),
        OpOutcome::Open => "never returned".to_string(),
    };
    format!("client {}: {:?} -> {}", op.client, op.op, result)
}

impl Explanation {
    /// The explanation as text, naming operations from `history` (the one
    /// that was checked).
    pub fn to_text<Op: Debug, Ret: Debug>(&self, history: &History<Op, Ret>) -> String {
        let name = |id: OpId| match history.get(id) {
            Some(op) => format!("{id} {}", describe(op)),
            None => format!("{id} (not in this history)"),
        };
        let mut out = String::new();
        let total = self.checked_ops.len();
        let scope = if self.partitioned {
            format!("in one partition: {total} of {} operations", history.len())
        } else {
            format!("{total} operations checked")
        };
        let _ = writeln!(out, "not linearizable ({scope})");
        let _ = writeln!(
            out,
            "longest linearizable prefix: {} of {} operations",
            self.longest_prefix.len(),
            total
        );
        for (i, &id) in self.longest_prefix.iter().enumerate() {
            let _ = writeln!(out, "  {:>4}. {}", i + 1, name(id));
        }
        let _ = writeln!(out, "state after the prefix: {}", self.state_after_prefix);
        if let Some(owed) = self.owed {
            let at = history
                .get(owed)
                .and_then(|op| op.finished_at)
                .map_or(String::new(), |e| format!(" (event {e})"));
            let _ = writeln!(
                out,
                "{} returned{at} before it could be placed: something had to go next, and nothing can:",
                owed
            );
        }
        for u in &self.unplaceable {
            let why = match u.reason {
                Reason::NotAllowed => "not allowed in this state",
                Reason::DeadEnd => "allowed, but no complete order follows",
            };
            let _ = writeln!(out, "  {}: {why}", name(u.op));
        }
        out
    }

    /// The operations that cannot be placed because the specification
    /// rejects them in the state after the prefix.
    pub fn not_allowed(&self) -> impl Iterator<Item = OpId> + '_ {
        self.unplaceable
            .iter()
            .filter(|u| u.reason == Reason::NotAllowed)
            .map(|u| u.op)
    }
}
