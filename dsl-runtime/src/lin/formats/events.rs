//! Turning per-client event lines into a [`History`]: the part every reader
//! shares (one pending operation per client, completions matched to it,
//! failed operations dropped).

use super::ParseError;
use crate::lin::hash::FastMap;
use crate::lin::history::{ClientId, History};

/// How a client's pending operation ended.
pub(crate) enum Completion<Ret> {
    /// With this result.
    Returned(Ret),
    /// Finished with no known result.
    Unknown,
    /// The client gave up on it (Jepsen's `:info`): it stays open.
    Abandoned,
    /// It certainly did not take effect: it is left out of the history.
    Failed,
}

enum Event<Ret> {
    Invoke(usize),
    Complete(usize, Completion<Ret>),
}

/// Collects events, then builds the history.
pub(crate) struct Recorder<Op, Ret> {
    ops: Vec<(ClientId, Op, bool)>,
    events: Vec<Event<Ret>>,
    pending: FastMap<ClientId, usize>,
}

impl<Op, Ret> Recorder<Op, Ret> {
    pub(crate) fn new() -> Self {
        Recorder {
            ops: Vec::new(),
            events: Vec::new(),
            pending: FastMap::default(),
        }
    }

    /// `client` invokes `op` on line `line`.
    pub(crate) fn invoke(
        &mut self,
        line: usize,
        client: ClientId,
        op: Op,
    ) -> Result<(), ParseError> {
        if self.pending.contains_key(&client) {
            return Err(ParseError::at(
                line,
                format!(
                    "client {client} invokes an operation while its previous one is still pending"
                ),
            ));
        }
        if self.ops.len() >= (u32::MAX - 1) as usize {
            return Err(ParseError::at(
                line,
                "too many operations (at most 2^32 - 2)",
            ));
        }
        let index = self.ops.len();
        self.ops.push((client, op, false));
        self.events.push(Event::Invoke(index));
        self.pending.insert(client, index);
        Ok(())
    }

    /// The operation `client` has pending, if any.
    pub(crate) fn pending(&self, client: ClientId) -> Option<&Op> {
        self.pending.get(&client).map(|&i| &self.ops[i].1)
    }

    /// `client`'s pending operation ends on line `line`.
    pub(crate) fn complete(
        &mut self,
        line: usize,
        client: ClientId,
        how: Completion<Ret>,
    ) -> Result<(), ParseError> {
        let Some(index) = self.pending.remove(&client) else {
            return Err(ParseError::at(
                line,
                format!("client {client} completes an operation it never invoked"),
            ));
        };
        match how {
            Completion::Abandoned => {}
            Completion::Failed => self.ops[index].2 = true,
            how => self.events.push(Event::Complete(index, how)),
        }
        Ok(())
    }

    /// The history; operations still pending stay open.
    pub(crate) fn finish(self) -> History<Op, Ret> {
        let mut history = History::with_capacity(self.ops.len());
        let mut ids = vec![None; self.ops.len()];
        let mut ops: Vec<Option<(ClientId, Op, bool)>> = self.ops.into_iter().map(Some).collect();
        for event in self.events {
            match event {
                Event::Invoke(i) => {
                    if let Some((client, op, dropped)) = ops[i].take() {
                        if !dropped {
                            ids[i] = Some(history.invoke(client, op));
                        }
                    }
                }
                Event::Complete(i, how) => {
                    let Some(id) = ids[i] else { continue };
                    // Each operation completes at most once (the pending map
                    // guarantees it), so these cannot fail.
                    let _ = match how {
                        Completion::Returned(ret) => history.complete(id, ret),
                        _ => history.complete_unknown(id),
                    };
                }
            }
        }
        history
    }
}
