//! The depth-first search for a linearization of one sub-history.
//!
//! This is the Wing–Gong search as refined by Lowe (a memo of explored
//! configurations), with two reductions of our own on top; see the module
//! documentation of [`crate::lin`] for the argument that each keeps verdicts
//! exact. The search moves only integers: operations are local indices,
//! states are interned ids, steps are memoized (see [`super::transitions`]).
//!
//! Not-yet-placed operations sit in a doubly linked list in invocation order;
//! placing one unlinks it in O(1) and backtracking links it back in O(1)
//! (links are restored in the reverse order they were cut). A second list
//! holds the not-yet-placed operations that returned, in order of return: its
//! head is the earliest return still owed, and only operations invoked before
//! that return may be placed next.

use super::explain::{Explanation, Reason, Unplaceable};
use super::hash::zobrist_table;
use super::history::History;
use super::spec::Spec;
use super::subhistory::{SubHistory, NONE, READ_ONLY, REQUIRED};
use super::transitions::Transitions;
use super::visited::Visited;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// How often (in placements) the search looks at the clock and for a
/// cancellation.
const CHECK_EVERY: u32 = 1 << 12;

/// Identical operations further apart than this in the chain of
/// `same_prev` are not looked for (the reduction is optional).
const DOMINANCE_WALK: u32 = 8;

/// When to give up before a verdict.
pub(crate) struct Limits<'a> {
    /// Stop when this instant has passed.
    pub(crate) deadline: Option<Instant>,
    /// Stop when the counter drops below the given index (another worker
    /// found a violation in a sub-history that comes first).
    pub(crate) cancel: Option<(&'a AtomicUsize, usize)>,
    /// Where the configurations explored are added as the search goes,
    /// for a progress display.
    pub(crate) live: Option<&'a AtomicU64>,
}

impl Limits<'_> {
    fn hit(&self) -> bool {
        if let Some((counter, index)) = self.cancel {
            if counter.load(Ordering::Relaxed) < index {
                return true;
            }
        }
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// What the search of one sub-history concluded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    Linearizable,
    NotLinearizable,
    /// The time limit passed or the search was cancelled.
    Stopped,
    /// The placement budget of this call ran out; call `resume` again.
    Paused,
}

/// One placed operation on the search path.
#[derive(Clone, Copy)]
struct Frame {
    /// The local operation placed.
    op: u32,
    /// Which of its successor states was taken...
    k: u32,
    /// ...out of how many (so that backtracking knows whether another is
    /// left without asking the specification again).
    count: u32,
    /// The state before it.
    parent: u32,
    /// Placed by the read-only rule: its node has no other child.
    forced: bool,
}

/// The search of one sub-history, with buffers kept for the next one.
pub(crate) struct Search<S: Spec> {
    pub(crate) sub: SubHistory,
    trans: Transitions<S>,
    visited: Visited,
    /// Unplaced operations in invocation order; index `n` is the sentinel.
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Unplaced required operations in return order; index `n` is the sentinel.
    rnext: Vec<u32>,
    rprev: Vec<u32>,
    bits: Vec<u64>,
    /// One past the highest nonzero word of `bits` (0 when none).
    top: usize,
    zobrist: Vec<u64>,
    stack: Vec<Frame>,
    state: u32,
    set_hash: u64,
    /// The longest path seen, recorded lazily when the search backs out of it.
    best_path: Vec<u32>,
    best_len: usize,
    best_state: u32,
    best_pending: bool,
    /// How many leading frames of the stack equal `best_path`.
    shared: usize,
    /// Where a paused search resumes: entering a node for the first time,
    /// or trying the children of the current node from `cursor`.
    fresh: bool,
    cursor: u32,
    cursor_k: u32,
    /// Configurations of this search already added to [`Limits::live`].
    published: usize,
}

impl<S: Spec> Search<S> {
    pub(crate) fn new() -> Self {
        Search {
            sub: SubHistory::default(),
            trans: Transitions::new(),
            visited: Visited::new(),
            next: Vec::new(),
            prev: Vec::new(),
            rnext: Vec::new(),
            rprev: Vec::new(),
            bits: Vec::new(),
            top: 0,
            zobrist: Vec::new(),
            stack: Vec::new(),
            state: 0,
            set_hash: 0,
            best_path: Vec::new(),
            best_len: 0,
            best_state: 0,
            best_pending: false,
            shared: 0,
            fresh: true,
            cursor: 0,
            cursor_k: 0,
            published: 0,
        }
    }

    /// Adds the configurations explored since the last call to the
    /// progress counter of `limits`, if it has one.
    pub(crate) fn publish(&mut self, limits: &Limits<'_>) {
        if let Some(live) = limits.live {
            let now = self.explored();
            live.fetch_add(now.saturating_sub(self.published) as u64, Ordering::Relaxed);
            self.published = now;
        }
    }

    /// Number of configurations explored by the last search.
    pub(crate) fn explored(&self) -> usize {
        self.visited.len()
    }

    /// Number of distinct model states met by the last search.
    pub(crate) fn states_seen(&self) -> usize {
        self.trans.state_count()
    }

    fn reset_lists(&mut self) {
        let n = self.sub.len();
        let end = n as u32;
        // Two lists share the arrays: the read-only operations (sentinel
        // `n + 1`), scanned first at every node, and the others (sentinel
        // `n`), the ones the search branches on.
        self.next.clear();
        self.prev.clear();
        self.next.resize(n + 2, end);
        self.prev.resize(n + 2, end);
        let mut last = [end, end + 1];
        for o in 0..end {
            let list = usize::from(self.sub.flags[o as usize] & READ_ONLY != 0);
            self.next[last[list] as usize] = o;
            self.prev[o as usize] = last[list];
            last[list] = o;
        }
        for (list, sentinel) in [(0, end), (1, end + 1)] {
            self.next[last[list] as usize] = sentinel;
            self.prev[sentinel as usize] = last[list];
        }

        self.rnext.clear();
        self.rprev.clear();
        self.rnext.resize(n + 1, end);
        self.rprev.resize(n + 1, end);
        let mut last = end;
        for &i in &self.sub.by_return {
            self.rnext[last as usize] = i;
            self.rprev[i as usize] = last;
            last = i;
        }
        self.rnext[last as usize] = end;
        self.rprev[n] = last;

        self.bits.clear();
        self.bits.resize(n.div_ceil(64).max(1), 0);
        self.top = 0;
    }

    #[inline]
    fn lift(&mut self, o: u32) {
        let o = o as usize;
        let (p, q) = (self.prev[o], self.next[o]);
        self.next[p as usize] = q;
        self.prev[q as usize] = p;
        if self.sub.flags[o] & REQUIRED != 0 {
            let (p, q) = (self.rprev[o], self.rnext[o]);
            self.rnext[p as usize] = q;
            self.rprev[q as usize] = p;
        }
    }

    #[inline]
    fn unlift(&mut self, o: u32) {
        let oi = o as usize;
        if self.sub.flags[oi] & REQUIRED != 0 {
            let (p, q) = (self.rprev[oi], self.rnext[oi]);
            self.rnext[p as usize] = o;
            self.rprev[q as usize] = o;
        }
        let (p, q) = (self.prev[oi], self.next[oi]);
        self.next[p as usize] = o;
        self.prev[q as usize] = o;
    }

    #[inline]
    fn placed(&self, o: u32) -> bool {
        self.bits[(o / 64) as usize] & (1 << (o % 64)) != 0
    }

    /// True when an identical operation that returns earlier may be placed
    /// now instead of `o`: placing `o` first can then never be necessary.
    #[inline]
    fn dominated(&self, o: u32, first_return: u64) -> bool {
        let mut p = self.sub.same_prev[o as usize];
        let mut walked = 0;
        while p != NONE && walked < DOMINANCE_WALK {
            if !self.placed(p) && self.sub.call[p as usize] < first_return {
                return true;
            }
            p = self.sub.same_prev[p as usize];
            walked += 1;
        }
        false
    }

    /// Places `o`, moving to `to`, unless that configuration was explored
    /// before. Returns whether it was placed.
    #[inline]
    fn place(&mut self, o: u32, k: u32, count: u32, to: u32, forced: bool) -> bool {
        let word = (o / 64) as usize;
        let bit = 1u64 << (o % 64);
        self.bits[word] |= bit;
        let top = self.top.max(word + 1);
        let set_hash = self.set_hash ^ self.zobrist[o as usize];
        // The window of the set: from the word of the first unplaced
        // operation (every operation before it is placed) to the last
        // nonzero word. `o` is still linked, so it counts as unplaced here;
        // when it is the first, the next one is.
        let n = self.sub.len() as u32;
        let first_unplaced = |head: u32| {
            if head == o {
                self.next[o as usize]
            } else {
                head
            }
        };
        let first = first_unplaced(self.next[n as usize])
            .min(first_unplaced(self.next[n as usize + 1]))
            .min(n);
        let start = (first / 64) as usize;
        let window = &self.bits[start.min(top)..top];
        if !self
            .visited
            .insert(Visited::key(set_hash, to), to, start as u32, window)
        {
            self.bits[word] &= !bit;
            return false;
        }
        self.top = top;
        self.set_hash = set_hash;
        self.stack.push(Frame {
            op: o,
            k,
            count,
            parent: self.state,
            forced,
        });
        self.state = to;
        self.lift(o);
        if self.stack.len() > self.best_len {
            self.best_len = self.stack.len();
            self.best_pending = true;
        }
        true
    }

    /// Undoes the last placement and returns its frame.
    #[inline]
    fn unplace(&mut self) -> Option<Frame> {
        if self.best_pending {
            self.best_path.truncate(self.shared);
            self.best_path
                .extend(self.stack[self.shared..].iter().map(|f| f.op));
            self.best_state = self.state;
            self.shared = self.stack.len();
            self.best_pending = false;
        }
        let frame = self.stack.pop()?;
        self.shared = self.shared.min(self.stack.len());
        self.unlift(frame.op);
        self.bits[(frame.op / 64) as usize] &= !(1u64 << (frame.op % 64));
        while self.top > 0 && self.bits[self.top - 1] == 0 {
            self.top -= 1;
        }
        self.set_hash ^= self.zobrist[frame.op as usize];
        self.state = frame.parent;
        Some(frame)
    }

    /// Prepares to search the sub-history in `self.sub`.
    pub(crate) fn start(&mut self, spec: &S) {
        let n = self.sub.len();
        self.reset_lists();
        self.visited.reset();
        self.published = 0;
        zobrist_table(&mut self.zobrist, n);
        let init = self.trans.reset(
            self.sub.class_rep.len() as u32,
            &self.sub.class_read_only,
            &self.sub.class_skippable,
            spec.init(),
        );
        self.stack.clear();
        self.state = init;
        self.set_hash = 0;
        self.best_path.clear();
        self.best_len = 0;
        self.best_state = init;
        self.best_pending = false;
        self.shared = 0;
        self.fresh = true;
        self.cursor = n as u32;
        self.cursor_k = 0;
    }

    /// Searches the sub-history in `self.sub` (built from `history`) to the
    /// end.
    pub(crate) fn run(
        &mut self,
        spec: &S,
        history: &History<S::Op, S::Ret>,
        limits: &Limits<'_>,
    ) -> Found {
        self.start(spec);
        self.resume(spec, history, limits, u64::MAX)
    }

    /// Goes on with the search after [`Search::start`] or a pause, for at
    /// most `budget` placements.
    pub(crate) fn resume(
        &mut self,
        spec: &S,
        history: &History<S::Op, S::Ret>,
        limits: &Limits<'_>,
        mut budget: u64,
    ) -> Found {
        let n = self.sub.len();
        let end = n as u32;
        let ops = history.operations();
        let sub_class_op = |sub: &SubHistory, o: u32| {
            let rep = sub.class_rep[sub.class[o as usize] as usize];
            let op = &ops[rep.index()];
            (&op.op, op.outcome.returned())
        };

        let mut fresh = self.fresh;
        let mut cursor = self.cursor;
        let mut cursor_k = self.cursor_k;
        let mut until_check = CHECK_EVERY;
        loop {
            let advanced = 'advance: {
                let first = self.rnext[n];
                if first == end {
                    return Found::Linearizable;
                }
                let first_return = self.sub.ret[first as usize];
                if fresh {
                    // A read-only operation that may go now goes now, alone.
                    let mut o = self.next[n + 1];
                    while o != end + 1 && self.sub.call[o as usize] < first_return {
                        let (op, ret) = sub_class_op(&self.sub, o);
                        let class = self.sub.class[o as usize];
                        if self.trans.accepts(spec, self.state, class, op, ret) {
                            break 'advance self.place(o, 0, 1, self.state, true);
                        }
                        o = self.next[o as usize];
                    }
                    cursor = self.next[n];
                    cursor_k = 0;
                }
                let mut o = cursor;
                let mut k = cursor_k;
                while o != end && self.sub.call[o as usize] < first_return {
                    if !self.dominated(o, first_return) {
                        let (op, ret) = sub_class_op(&self.sub, o);
                        let class = self.sub.class[o as usize];
                        let succ = self.trans.successors(spec, self.state, class, op, ret);
                        while k < succ.len() {
                            let to = self.trans.nth(succ, k);
                            if self.place(o, k, succ.len(), to, false) {
                                break 'advance true;
                            }
                            k += 1;
                        }
                    }
                    o = self.next[o as usize];
                    k = 0;
                }
                false
            };
            if advanced {
                fresh = true;
                until_check -= 1;
                if until_check == 0 {
                    until_check = CHECK_EVERY;
                    self.publish(limits);
                    if limits.hit() {
                        self.fresh = true;
                        return Found::Stopped;
                    }
                }
                budget -= 1;
                if budget == 0 {
                    self.fresh = true;
                    // Slices can be shorter than CHECK_EVERY: look at the
                    // clock at the end of each.
                    return if limits.hit() {
                        Found::Stopped
                    } else {
                        Found::Paused
                    };
                }
                continue;
            }
            // Back out of every node left without an untried child.
            loop {
                let Some(frame) = self.unplace() else {
                    return Found::NotLinearizable;
                };
                if !frame.forced {
                    if frame.k + 1 < frame.count {
                        cursor = frame.op;
                        cursor_k = frame.k + 1;
                    } else {
                        cursor = self.next[frame.op as usize];
                        cursor_k = 0;
                    }
                    fresh = false;
                    break;
                }
            }
        }
    }

    /// Describes the deepest point the last (failed) search reached.
    pub(crate) fn explain(&mut self, spec: &S, history: &History<S::Op, S::Ret>) -> Explanation {
        let n = self.sub.len();
        let end = n as u32;
        self.reset_lists();
        let path = std::mem::take(&mut self.best_path);
        for &o in &path {
            self.lift(o);
            self.bits[(o / 64) as usize] |= 1 << (o % 64);
        }
        let state = self.best_state;
        let ops = history.operations();
        let first = self.rnext[n];
        let first_return = if first == end {
            u64::MAX
        } else {
            self.sub.ret[first as usize]
        };
        let mut unplaceable = Vec::new();
        for (head, sentinel) in [(self.next[n + 1], end + 1), (self.next[n], end)] {
            let mut o = head;
            while o != sentinel && self.sub.call[o as usize] < first_return {
                {
                    let rep = self.sub.class_rep[self.sub.class[o as usize] as usize];
                    let op = &ops[rep.index()];
                    let succ = self.trans.successors(
                        spec,
                        state,
                        self.sub.class[o as usize],
                        &op.op,
                        op.outcome.returned(),
                    );
                    let reason = if succ.len() == 0 {
                        Reason::NotAllowed
                    } else {
                        Reason::DeadEnd
                    };
                    unplaceable.push(Unplaceable {
                        op: self.sub.ids[o as usize],
                        reason,
                    });
                }
                o = self.next[o as usize];
            }
        }
        unplaceable.sort_by_key(|u| u.op);
        let explanation = Explanation {
            checked_ops: self.sub.ids.clone(),
            partitioned: false,
            longest_prefix: path.iter().map(|&o| self.sub.ids[o as usize]).collect(),
            state_after_prefix: format!("{:?}", self.trans.state(state)),
            owed: (first != end).then(|| self.sub.ids[first as usize]),
            unplaceable,
        };
        self.best_path = path;
        explanation
    }
}
