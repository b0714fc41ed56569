//! Splitting a history into independent sub-histories (P-compositionality).
//!
//! When the specification is a product of independent objects (the keys of
//! a map), a history is linearizable exactly when the sub-history of each
//! object is. Checking the parts apart turns one search over the product of
//! their interleavings into a few small searches, and the parts can go to
//! different cores.

use super::hash::FastMap;
use super::history::{History, OpId};
use super::spec::Spec;
use std::ops::Range;

/// Groups of operations that are checked together, each in invocation order.
#[derive(Default)]
pub(crate) struct Partitions {
    /// All members, group after group.
    pub(crate) members: Vec<OpId>,
    /// The range of `members` of each group, smallest group first: small
    /// parts are decided quickly, and with the time slicing of
    /// `Checker::check_in_rounds` a violation in one of them then ends the
    /// check early, whatever the big parts would take.
    pub(crate) groups: Vec<Range<usize>>,
}

impl Partitions {
    /// Splits `history` by [`Spec::partition_key`], or keeps it whole when
    /// `enabled` is false or some operation has no key.
    pub(crate) fn split<S: Spec>(
        &mut self,
        spec: &S,
        history: &History<S::Op, S::Ret>,
        enabled: bool,
    ) {
        self.members.clear();
        self.groups.clear();
        let n = history.len();
        if n == 0 {
            return;
        }
        let whole = |me: &mut Self| {
            me.members.extend((0..n as u32).map(OpId));
            me.groups.push(0..n);
        };
        if !enabled {
            return whole(self);
        }
        let mut group_of_key: FastMap<u64, u32> = FastMap::default();
        let mut group_of_op: Vec<u32> = Vec::with_capacity(n);
        for op in history.operations() {
            let Some(key) = spec.partition_key(&op.op) else {
                return whole(self);
            };
            let next = group_of_key.len() as u32;
            group_of_op.push(*group_of_key.entry(key).or_insert(next));
        }
        if group_of_key.len() == 1 {
            return whole(self);
        }
        // Counting sort by group keeps invocation order inside each group.
        let mut sizes = vec![0usize; group_of_key.len()];
        for &g in &group_of_op {
            sizes[g as usize] += 1;
        }
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        order.sort_by_key(|&g| sizes[g]);
        let mut start = vec![0usize; sizes.len()];
        let mut at = 0;
        for &g in &order {
            start[g] = at;
            self.groups.push(at..at + sizes[g]);
            at += sizes[g];
        }
        self.members.resize(n, OpId(0));
        for (i, &g) in group_of_op.iter().enumerate() {
            self.members[start[g as usize]] = OpId(i as u32);
            start[g as usize] += 1;
        }
    }

    /// The members of group `g`.
    pub(crate) fn group(&self, g: usize) -> &[OpId] {
        &self.members[self.groups[g].clone()]
    }
}
