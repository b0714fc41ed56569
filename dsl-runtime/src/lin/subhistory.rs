//! A sub-history laid out for the search: plain arrays indexed by a local
//! operation number, classes of identical operations, and the facts the
//! search's reductions need, all computed once before the search starts.

use super::hash::FastMap;
use super::history::{History, OpId, OpOutcome};
use super::spec::Spec;

/// Marks "no operation" in `u32` links.
pub(crate) const NONE: u32 = u32::MAX;

/// The operation finished: it must be placed before its return. (One that
/// finished with an unknown result may also have done nothing; that is a
/// possible step of its class, see `class_skippable`, so it is still placed
/// before its return, which keeps every reduction of the search exact.)
pub(crate) const REQUIRED: u8 = 1;
/// Every step of the operation leaves the state as it was.
pub(crate) const READ_ONLY: u8 = 4;

/// Returns that never happen (open operations) sort after every event.
pub(crate) const NEVER: u64 = u64::MAX;

/// What makes two operations interchangeable for the search: invocation,
/// result (if known) and whether "no effect" is allowed.
type ClassKey<'h, S> = (&'h <S as Spec>::Op, Option<&'h <S as Spec>::Ret>, bool);

/// One sub-history in the layout the search wants. Local operation `i`
/// is history operation `ids[i]`; locals are in invocation order.
#[derive(Default)]
pub(crate) struct SubHistory {
    pub(crate) ids: Vec<OpId>,
    pub(crate) call: Vec<u64>,
    pub(crate) ret: Vec<u64>,
    pub(crate) flags: Vec<u8>,
    /// Class of each operation: operations with equal invocation and result
    /// share one, and so share memoized steps.
    pub(crate) class: Vec<u32>,
    /// For each class, one history operation that has it (for its op/result).
    pub(crate) class_rep: Vec<OpId>,
    /// For each class, whether it is read-only.
    pub(crate) class_read_only: Vec<bool>,
    /// For each class, whether "no effect at all" is one of its steps (an
    /// unknown result at completion: it may not have happened).
    pub(crate) class_skippable: Vec<bool>,
    /// The operation of the same class and kind with the next earlier return,
    /// or [`NONE`]: placing an operation while an identical one that returns
    /// earlier could go instead never helps, so the search skips it.
    pub(crate) same_prev: Vec<u32>,
    /// Required operations in order of return.
    pub(crate) by_return: Vec<u32>,
}

impl SubHistory {
    /// Number of operations.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Lays out the operations `members` (in invocation order) of `history`.
    /// Read-only operations that need not take effect are dropped: placing
    /// them or not changes nothing.
    pub(crate) fn build<S: Spec>(
        &mut self,
        spec: &S,
        history: &History<S::Op, S::Ret>,
        members: impl Iterator<Item = OpId>,
    ) {
        self.ids.clear();
        self.call.clear();
        self.ret.clear();
        self.flags.clear();
        self.class.clear();
        self.class_rep.clear();
        self.class_read_only.clear();
        self.class_skippable.clear();
        self.same_prev.clear();
        self.by_return.clear();

        let ops = history.operations();
        let mut classes: FastMap<ClassKey<'_, S>, u32> = FastMap::default();
        let read_only_of_class = &mut self.class_read_only;
        for id in members {
            let Some(op) = ops.get(id.index()) else {
                continue;
            };
            let ret = op.outcome.returned();
            let skippable = matches!(op.outcome, OpOutcome::Unknown) && op.finished_at.is_some();
            let next_class = classes.len() as u32;
            let class = *classes
                .entry((&op.op, ret, skippable))
                .or_insert(next_class);
            if class == next_class {
                self.class_rep.push(id);
                read_only_of_class.push(spec.is_read_only(&op.op, ret));
                self.class_skippable.push(skippable);
            }
            let read_only = read_only_of_class[class as usize];
            let mut flags = if read_only { READ_ONLY } else { 0 };
            let ret_at = match (&op.outcome, op.finished_at) {
                (OpOutcome::Returned(_), Some(at)) => {
                    flags |= REQUIRED;
                    at
                }
                (OpOutcome::Unknown, Some(at)) => {
                    flags |= REQUIRED;
                    at
                }
                // An operation with an outcome but no completion event (only
                // possible in hand-built data) is treated as never finishing.
                _ => NEVER,
            };
            if read_only && (skippable || flags & REQUIRED == 0) {
                continue;
            }
            self.ids.push(id);
            self.call.push(op.invoked_at);
            self.ret.push(ret_at);
            self.flags.push(flags);
            self.class.push(class);
        }

        let n = self.ids.len();
        self.by_return
            .extend((0..n as u32).filter(|&i| self.flags[i as usize] & REQUIRED != 0));
        let ret = &self.ret;
        self.by_return.sort_by_key(|&i| (ret[i as usize], i));

        // Chains of identical operations, each pointing at the one of the
        // same class and kind that returns just before it.
        let mut order: Vec<u32> = (0..n as u32).collect();
        let key = |i: u32| {
            let i = i as usize;
            (self.class[i], self.flags[i], self.ret[i], i)
        };
        order.sort_by_key(|&i| key(i));
        self.same_prev.resize(n, NONE);
        for pair in order.windows(2) {
            let (a, b) = (pair[0] as usize, pair[1] as usize);
            if self.class[a] == self.class[b] && self.flags[a] == self.flags[b] {
                self.same_prev[b] = a as u32;
            }
        }
    }
}
