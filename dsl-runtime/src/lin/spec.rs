//! Sequential specifications: what the object is supposed to do when
//! operations run one at a time.

use std::fmt::Debug;
use std::hash::Hash;

/// The sequential behaviour a concurrent history is checked against.
///
/// The checker looks for an order of the operations, consistent with real
/// time, in which every operation is a legal [`Spec::step`] from the state the
/// previous ones left. States are hashed and compared so that a configuration
/// seen twice (same operations done, same state) is explored once; keep them
/// small and canonical (two states that behave alike should be equal).
///
/// A deterministic specification computes the one next state and its result,
/// and pushes the state only when the result matches:
///
/// ```
/// use verdict::lin::Spec;
///
/// /// A counter whose `Incr` returns the new value.
/// struct Counter;
///
/// impl Spec for Counter {
///     type Op = ();
///     type Ret = u64;
///     type State = u64;
///     fn init(&self) -> u64 { 0 }
///     fn step(&self, state: &u64, _op: &(), ret: Option<&u64>, next: &mut Vec<u64>) {
///         let after = state + 1;
///         if ret.map_or(true, |r| *r == after) {
///             next.push(after);
///         }
///     }
/// }
/// ```
pub trait Spec: Sync {
    /// An operation as invoked (with its arguments).
    type Op: Clone + Eq + Hash + Debug + Send + Sync;
    /// What an operation returns.
    type Ret: Clone + Eq + Hash + Debug + Send + Sync;
    /// The state of the object between operations.
    type State: Clone + Eq + Hash + Debug + Send + Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Pushes onto `next` every state the object may be in after running `op`
    /// in `state` and returning `ret` (`None`: the result is unknown, so any
    /// result is allowed). Pushes nothing when that result is impossible in
    /// that state. More than one state makes the specification
    /// nondeterministic; the checker tries each.
    fn step(
        &self,
        state: &Self::State,
        op: &Self::Op,
        ret: Option<&Self::Ret>,
        next: &mut Vec<Self::State>,
    );

    /// True when `op` returning `ret` never changes the state: every state
    /// [`Spec::step`] can push for it equals the state it started from (a
    /// read, a compare-and-set that failed).
    ///
    /// The checker then places such an operation as soon as it is allowed,
    /// without trying later positions, which removes most of the search on
    /// read-heavy histories. Answer `false` when unsure: a wrong `true` makes
    /// verdicts wrong, a wrong `false` only makes the check slower.
    fn is_read_only(&self, op: &Self::Op, ret: Option<&Self::Ret>) -> bool {
        let _ = (op, ret);
        false
    }

    /// The independent part of the object `op` touches (a key of a map), for
    /// checking each part on its own (P-compositionality).
    ///
    /// Return `Some(k)` only if the object is a product of independent
    /// objects and `op` reads and writes object `k` alone, so that the history
    /// is linearizable exactly when each per-`k` sub-history is. Equal keys
    /// for different parts are harmless (they are checked together); `None`
    /// for any operation checks the whole history at once.
    fn partition_key(&self, op: &Self::Op) -> Option<u64> {
        let _ = op;
        None
    }
}
