//! Histories: what clients invoked, what came back, and in which order.
//!
//! A history is a sequence of events. Each operation has an invocation event
//! and at most one completion event; the order of all events is what defines
//! "operation A finished before operation B started", the only ordering a
//! linearizability checker may rely on. Callers record events in the order
//! they happened (behind a lock, when several threads record), and the
//! history numbers them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Names one operation of a [`History`]: its index in invocation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpId(pub u32);

impl OpId {
    /// The index of the operation in [`History::operations`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Who invoked an operation (a process, a connection, a node). Only used to
/// draw timelines and to describe operations: real-time order comes from the
/// event order alone.
pub type ClientId = u64;

/// How an operation ended, which decides what the checker may assume of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpOutcome<Ret> {
    /// It returned this result: it took effect exactly once, somewhere between
    /// its invocation and its completion.
    Returned(Ret),
    /// It finished, but its result is unknown (a timed-out request): it may
    /// have taken effect once before it finished, or not at all.
    Unknown,
    /// It never finished (a crashed client, Jepsen's `:info`): it may take
    /// effect at any point after its invocation, or never.
    Open,
}

impl<Ret> OpOutcome<Ret> {
    /// The returned result, if one is known.
    pub fn returned(&self) -> Option<&Ret> {
        match self {
            OpOutcome::Returned(ret) => Some(ret),
            OpOutcome::Unknown | OpOutcome::Open => None,
        }
    }
}

/// One operation of a history with its place among the history's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation<Op, Ret> {
    /// Who invoked it.
    pub client: ClientId,
    /// What was invoked.
    pub op: Op,
    /// How it ended.
    pub outcome: OpOutcome<Ret>,
    /// Position of the invocation among all events of the history.
    pub invoked_at: u64,
    /// Position of the completion among all events; `None` while open.
    pub finished_at: Option<u64>,
}

/// Why an event could not be recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// The id names no operation of this history.
    UnknownOp(OpId),
    /// The operation already has a completion.
    AlreadyFinished(OpId),
    /// A history holds at most `u32::MAX` operations.
    TooManyOps,
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::UnknownOp(id) => write!(f, "operation {id} is not in this history"),
            HistoryError::AlreadyFinished(id) => {
                write!(f, "operation {id} has already been completed")
            }
            HistoryError::TooManyOps => write!(f, "a history holds at most 2^32 - 1 operations"),
        }
    }
}

impl std::error::Error for HistoryError {}

/// A concurrent history of operations on one object.
///
/// Record invocations and completions in the order they happened:
///
/// ```
/// use verdict::lin::{History, specs::{RegisterOp, RegisterRet}};
/// let mut h = History::new();
/// let w = h.invoke(1, RegisterOp::Write(5));
/// let r = h.invoke(2, RegisterOp::Read);
/// h.complete(w, RegisterRet::Ok).unwrap();
/// h.complete(r, RegisterRet::Value(Some(5))).unwrap();
/// assert_eq!(h.len(), 2);
/// ```
///
/// Operations that are never completed stay open: the checker lets them take
/// effect at any point after their invocation, or not at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History<Op, Ret> {
    ops: Vec<Operation<Op, Ret>>,
    next_event: u64,
}

impl<Op, Ret> Default for History<Op, Ret> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Op, Ret> History<Op, Ret> {
    /// An empty history.
    pub fn new() -> Self {
        History {
            ops: Vec::new(),
            next_event: 0,
        }
    }

    /// An empty history with room for `ops` operations.
    pub fn with_capacity(ops: usize) -> Self {
        History {
            ops: Vec::with_capacity(ops),
            next_event: 0,
        }
    }

    /// Forgets every operation, keeping the allocation (for callers that
    /// check many small histories in a row).
    pub fn clear(&mut self) {
        self.ops.clear();
        self.next_event = 0;
    }

    /// Records that `client` invoked `op` now. The id names the operation in
    /// later calls. Past `u32::MAX` operations, use [`History::try_invoke`].
    pub fn invoke(&mut self, client: ClientId, op: Op) -> OpId {
        self.try_invoke(client, op).unwrap_or(OpId(u32::MAX))
    }

    /// Like [`History::invoke`], but says so when the history is full instead
    /// of handing out an id that names nothing.
    pub fn try_invoke(&mut self, client: ClientId, op: Op) -> Result<OpId, HistoryError> {
        let index = u32::try_from(self.ops.len()).map_err(|_| HistoryError::TooManyOps)?;
        if index == u32::MAX {
            return Err(HistoryError::TooManyOps);
        }
        let at = self.tick();
        self.ops.push(Operation {
            client,
            op,
            outcome: OpOutcome::Open,
            invoked_at: at,
            finished_at: None,
        });
        Ok(OpId(index))
    }

    /// Records that operation `id` returned `ret` now.
    pub fn complete(&mut self, id: OpId, ret: Ret) -> Result<(), HistoryError> {
        self.finish(id, OpOutcome::Returned(ret))
    }

    /// Records that operation `id` finished now without a known result (a
    /// timeout): it may or may not have taken effect.
    pub fn complete_unknown(&mut self, id: OpId) -> Result<(), HistoryError> {
        self.finish(id, OpOutcome::Unknown)
    }

    fn finish(&mut self, id: OpId, outcome: OpOutcome<Ret>) -> Result<(), HistoryError> {
        let at = self.next_event;
        let op = self
            .ops
            .get_mut(id.index())
            .ok_or(HistoryError::UnknownOp(id))?;
        if op.finished_at.is_some() {
            return Err(HistoryError::AlreadyFinished(id));
        }
        op.outcome = outcome;
        op.finished_at = Some(at);
        self.next_event += 1;
        Ok(())
    }

    fn tick(&mut self) -> u64 {
        let at = self.next_event;
        self.next_event += 1;
        at
    }

    /// Every operation, in invocation order (the index is the [`OpId`]).
    pub fn operations(&self) -> &[Operation<Op, Ret>] {
        &self.ops
    }

    /// The operation named `id`, if there is one.
    pub fn get(&self, id: OpId) -> Option<&Operation<Op, Ret>> {
        self.ops.get(id.index())
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when no operation was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of events (invocations plus completions) recorded so far.
    pub fn events(&self) -> u64 {
        self.next_event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_numbered_in_recording_order() {
        let mut h: History<&str, i32> = History::new();
        let a = h.invoke(0, "a");
        let b = h.invoke(1, "b");
        h.complete(b, 1).unwrap();
        h.complete_unknown(a).unwrap();
        let ops = h.operations();
        assert_eq!((ops[0].invoked_at, ops[0].finished_at), (0, Some(3)));
        assert_eq!((ops[1].invoked_at, ops[1].finished_at), (1, Some(2)));
        assert_eq!(ops[0].outcome, OpOutcome::Unknown);
        assert_eq!(ops[1].outcome, OpOutcome::Returned(1));
    }

    #[test]
    fn bad_completions_are_errors() {
        let mut h: History<&str, i32> = History::new();
        let a = h.invoke(0, "a");
        h.complete(a, 1).unwrap();
        assert_eq!(h.complete(a, 2), Err(HistoryError::AlreadyFinished(a)));
        assert_eq!(
            h.complete(OpId(9), 2),
            Err(HistoryError::UnknownOp(OpId(9)))
        );
        assert_eq!(h.operations()[0].outcome, OpOutcome::Returned(1));
    }
}
