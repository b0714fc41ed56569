//! Raft's cluster membership: which servers vote, as the log says.
//!
//! Membership changes one server at a time (Ongaro's thesis, 4.1-4.3):
//! any majority of the old voters and any majority of the new ones then
//! share a server, so the two cannot elect two leaders of one term or
//! commit two different entries at one index. A configuration is a log
//! entry like any other, and every server uses the latest one in its log,
//! committed or not, from the moment it appends it. The checker's node
//! set is fixed, so a configuration is a subset of the server slots; a
//! slot outside it is a learner that the leader replicates to anyway, so a
//! server added later has caught up (or nearly) by then.
//!
//! Two rules keep single-server changes safe: at most one configuration
//! entry is uncommitted at a time, and a leader appends one only once an
//! entry of its own term is committed (the 2015 correction: without it,
//! two leaders of different terms can each append a change to the same
//! old configuration, and the two new configurations need not overlap).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::Relabel;

/// A configuration: the voting servers and how many changes led to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership<N: Ord> {
    /// Changes made since the initial configuration (bounds a check, see
    /// `Config::max_changes`).
    pub changes: u32,
    /// The voters; `None`: every server slot (the default, which keeps
    /// a run without changes exactly as it was before membership).
    pub voters: Option<BTreeSet<N>>,
}

impl<N: Ord> Default for Membership<N> {
    fn default() -> Self {
        Membership {
            changes: 0,
            voters: None,
        }
    }
}

impl<N: Ord + Copy> Membership<N> {
    /// Whether `node` votes and is counted in this configuration.
    pub fn votes(&self, node: N) -> bool {
        self.voters.as_ref().is_none_or(|v| v.contains(&node))
    }

    /// How many servers vote; `servers` is the number of slots.
    pub fn size(&self, servers: usize) -> usize {
        self.voters.as_ref().map_or(servers, BTreeSet::len)
    }

    /// Whether `nodes` (deduplicated by the caller) hold a majority of the
    /// voters; `servers` is the number of slots, for the default
    /// configuration.
    pub fn is_quorum(&self, nodes: impl IntoIterator<Item = N>, servers: usize) -> bool {
        let size = self.size(servers);
        let counted = nodes.into_iter().filter(|&n| self.votes(n)).count();
        counted > size / 2
    }

    /// The configuration after one change to `node`: added when it does
    /// not vote, removed when it does. `all` is every server slot.
    pub fn toggled(&self, node: N, all: &[N]) -> Membership<N> {
        let mut voters = self
            .voters
            .clone()
            .unwrap_or_else(|| all.iter().copied().collect());
        if !voters.remove(&node) {
            voters.insert(node);
        }
        Membership {
            changes: self.changes + 1,
            voters: Some(voters),
        }
    }
}

impl<N: Ord + Relabel<M>, M> Relabel<M> for Membership<N> {
    fn relabel(&mut self, map: &dyn Fn(M) -> M) {
        self.voters.relabel(map);
    }
}

/// What a log entry carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Payload<I, N: Ord> {
    /// A command for the state machine.
    Command(I),
    /// No command: the entry a leader appends to commit one of its own
    /// term before it may change the configuration.
    Noop,
    /// A new configuration, in force as soon as a server appends it.
    Config(Membership<N>),
}

impl<I: Relabel<M>, N: Ord + Relabel<M>, M> Relabel<M> for Payload<I, N> {
    fn relabel(&mut self, map: &dyn Fn(M) -> M) {
        match self {
            Payload::Command(input) => input.relabel(map),
            Payload::Noop => {}
            Payload::Config(membership) => membership.relabel(map),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_toggles_one_slot_and_quorums_count_only_voters() {
        let all = [0u8, 1, 2, 3];
        let initial = Membership::<u8>::default();
        assert!(initial.votes(3));
        assert!(initial.is_quorum([0, 1, 2], 4));
        assert!(!initial.is_quorum([0, 1], 4));
        let three = initial.toggled(3, &all);
        assert_eq!(three.changes, 1);
        assert!(!three.votes(3));
        assert!(three.is_quorum([0, 1], 4));
        assert!(!three.is_quorum([0, 3], 4));
        let four = three.toggled(3, &all);
        assert_eq!((four.changes, four.votes(3)), (2, true));
        assert!(!four.is_quorum([0, 1], 4));
    }
}
