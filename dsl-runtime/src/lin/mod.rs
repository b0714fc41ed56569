//! Linearizability checking: is a concurrent history explained by some
//! sequential order of its operations?
//!
//! # The model
//!
//! A [`History`] records, per operation, who invoked it, what was invoked,
//! and how it ended ([`OpOutcome`]): with a result, with an unknown result (a
//! timeout), or never (the client crashed or gave up). Events are numbered
//! in the order they are recorded; "A finished before B started" is read
//! from those numbers and is the only real-time fact used.
//!
//! A [`Spec`] is the sequential behaviour: an initial state and a step
//! function from (state, operation, result) to the possible next states.
//! The history is *linearizable* when the operations can be put in one
//! sequence that
//! 1. keeps real-time order (if A finished before B started, A comes first),
//! 2. is legal for the spec, each operation returning what it did return,
//! 3. contains every operation that returned a result, and any subset of the
//!    others: an operation with an unknown result may be in the sequence
//!    (before its completion) or not; an open one may be anywhere after its
//!    invocation, or not at all.
//!
//! # The algorithm
//!
//! The checker searches depth first for such a sequence, one operation at a
//! time (Wing and Gong; Lowe's memo). At each point the operations that may
//! go next are those invoked before the earliest completion still owed. A
//! *configuration* is the set of operations placed plus the state they left;
//! each one reached is recorded, and a path that reaches a recorded
//! configuration stops, since its future was already explored. On top of
//! that classic search:
//!
//! - **Integers only in the hot loop.** States are interned to ids and the
//!   spec's step is memoized per (state id, operation class), where a class
//!   is a distinct (operation, result) pair; configurations are a bitset
//!   plus a state id, hashed incrementally (Zobrist), stored exactly.
//! - **Read-only operations go first, alone.** When an operation that never
//!   changes the state (a read, a failed compare-and-set:
//!   [`Spec::is_read_only`]) may go next and its result is allowed in the
//!   current state, it is placed without trying alternatives. Exact: in any
//!   successful order it could be moved to this point, since it changes
//!   nothing and everything that must precede it already has.
//! - **Identical operations are interchangeable.** Of operations with the
//!   same invocation, result and kind of outcome that may all go next, only
//!   the one that returns earliest is tried. Exact: swapping two identical
//!   operations in a successful order keeps it successful when the one
//!   placed first is the one with the earlier deadline.
//! - **Read-only operations with no result are dropped** before the search:
//!   they may always be left out.
//! - **Unknown results are a step, not an exception.** An operation that
//!   finished with an unknown result is placed before its completion like
//!   any finished operation, with "no effect" as one more possible step. So
//!   every finished operation is placed before its completion, which is
//!   what the two arguments above rely on.
//! - **P-compositionality, time-sliced.** When the spec splits the object
//!   into independent parts ([`Spec::partition_key`], per key for the
//!   maps), each part's sub-history is checked on its own. Histories with
//!   at least [`PARALLEL_MIN_OPS`] operations and several parts are checked
//!   in rounds, on all cores: each undecided part resumes its search for a
//!   budget of steps that doubles every round, smallest part first. Some
//!   parts of real histories take minutes to refute; a violation in an easy
//!   part is still found at once, and resumed searches lose no work.
//!
//! The search stops with [`Verdict::Unknown`] when [`HistoryOptions::timeout`]
//! passes. Otherwise verdicts and explanations are deterministic: the
//! search order is fixed, and in a round the violation reported is the one
//! of the first violating part, whatever the threads' timing.
//!
//! # Explanations
//!
//! A [`Verdict::NotLinearizable`] carries an [`Explanation`]: the longest
//! partial linearization the search reached, the state after it, and the
//! operations that could go next but cannot (refused by the spec, or leading
//! nowhere). [`Explanation::to_text`] prints it; [`timeline::to_svg`] and
//! [`timeline::to_html`] draw it.
//!
//! # Example
//!
//! ```
//! use verdict::lin::{check_history, History, Verdict};
//! use verdict::lin::specs::{Register, RegisterOp, RegisterRet};
//!
//! let mut h = History::new();
//! let w = h.invoke(0, RegisterOp::Write(1));
//! let r = h.invoke(1, RegisterOp::Read); // concurrent with the write
//! h.complete(r, RegisterRet::Value(Some(1))).unwrap();
//! h.complete(w, RegisterRet::Ok).unwrap();
//! assert_eq!(check_history(&Register, &h), Verdict::Linearizable);
//! ```
//!
//! Histories can also be read from text ([`formats`]); the `lincheck`
//! command-line tool does that for files.

mod check;
mod explain;
pub mod formats;
mod hash;
mod history;
mod partition;
mod search;
mod spec;
pub mod specs;
mod subhistory;
pub mod timeline;
mod transitions;
mod visited;

pub use check::{
    check_history, check_history_with, Checker, HistoryOptions, HistoryProgress, HistoryStats,
    Verdict, PARALLEL_MIN_OPS,
};
pub use explain::{describe, Explanation, Reason, Unplaceable};
pub use history::{ClientId, History, HistoryError, OpId, OpOutcome, Operation};
pub use spec::Spec;
