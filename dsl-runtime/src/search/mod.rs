//! The breadth-first state-graph search behind every check that needs more
//! than an invariant verdict: liveness (which needs the whole graph),
//! refinement (a product of implementation and specification) and ghost
//! transparency (a ghost system stepped beside its base).
//!
//! Each of those describes its states as a [`Space`]: how to fingerprint a
//! state and how to expand it into labelled successors, or stop with a
//! finding. [`search`] does the rest once for all of them: one visited
//! index, one level-by-level frontier expanded on every thread, one parent
//! link per state for the path back, and the depth and state bounds. The
//! result is the same whatever the thread count: threads expand contiguous
//! runs of a level and their successors are merged in order, so state
//! numbers, parents and the finding reported are those of a serial search.
//!
//! The invariant checker ([`crate::check`](mod@crate::check)) has its own explorer, tuned for
//! what only it does: reductions, depth-first and in-place search,
//! incremental fingerprints and a memory budget. It shares this module's
//! [`Bound`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::budget::{resident_bytes, MemoryBudget};

/// A bound that cut a search short, leaving part of the space unexplored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `--depth`: worlds at the depth limit were not expanded.
    Depth,
    /// `--max-states`: the search stopped at that many unique states.
    States,
    /// `--memory`: the process's memory reached the search's budget. (The
    /// invariant checker says more, in its own `Outcome::MemoryBound`.)
    Memory,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bound::Depth => "depth",
            Bound::States => "states",
            Bound::Memory => "memory",
        })
    }
}

/// A state space the search can walk.
pub trait Space: Sync {
    /// A state of the space.
    type State: Send + Sync;
    /// How one state leads to another; paths are lists of steps.
    type Step: Copy + Send + Sync;
    /// What makes the search stop at a state (a violation, a difference).
    type Found: Send;

    /// A fingerprint that identifies the state: states with the same
    /// fingerprint are one state of the graph.
    fn fingerprint(&self, state: &Self::State) -> u64;

    /// The successors of `state`, pushed to `out` in a fixed order, or what
    /// was found at `state` (the search then stops there).
    fn expand(
        &self,
        state: &Self::State,
        out: &mut Vec<(Self::Step, Self::State)>,
    ) -> Result<(), Self::Found>;
}

/// How far a search may go and how.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// States at this depth are not expanded.
    pub max_depth: Option<usize>,
    /// The search stops when it would hold more unique states than this.
    pub max_states: Option<usize>,
    /// Threads that expand each level.
    pub threads: usize,
    /// Keep every state and every edge (liveness needs the graph); without
    /// it only the frontier's states are held.
    pub keep_graph: bool,
    /// The search stops when the process's resident memory reaches this
    /// many bytes (read after every batch, on platforms that report it).
    pub max_resident: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: None,
            max_states: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            keep_graph: false,
            max_resident: None,
        }
    }
}

impl Limits {
    /// `budget` more than the process holds now, as a ceiling on its
    /// resident memory (none when the budget is unlimited or the platform
    /// reports no resident size).
    pub fn with_memory(mut self, budget: &MemoryBudget) -> Self {
        self.max_resident = if budget.is_unlimited() {
            None
        } else {
            resident_bytes().map(|now| now.saturating_add(budget.bytes))
        };
        self
    }
}

/// A state's number: its place in discovery (breadth-first) order; the
/// initial state is 0.
pub type StateId = u32;

/// How a search ended.
#[derive(Debug)]
pub enum Ended<F> {
    /// Every reachable state was expanded.
    Complete,
    /// A bound cut the search short.
    Bounded(Bound),
    /// `found` was reported by [`Space::expand`] at state `at`: the first
    /// such state in breadth-first order, so its path is a shortest one.
    Found {
        /// What was found.
        found: F,
        /// Where.
        at: StateId,
    },
}

/// The explored part of a space.
pub struct Graph<Sp: Space> {
    ended: Ended<Sp::Found>,
    /// Parent and step of each state (the initial state has none).
    parents: Vec<Option<(StateId, Sp::Step)>>,
    /// States by number, when the graph was kept.
    states: Vec<Sp::State>,
    /// Outgoing edges by state, when the graph was kept.
    edges: Vec<Vec<(StateId, Sp::Step)>>,
    steps: u64,
    depth: usize,
}

impl<Sp: Space> fmt::Debug for Graph<Sp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("states", &self.parents.len())
            .field("steps", &self.steps)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl<Sp: Space> Graph<Sp> {
    /// How the search ended.
    pub fn ended(&self) -> &Ended<Sp::Found> {
        &self.ended
    }

    /// Takes the ending out (the graph keeps [`Ended::Complete`]).
    pub fn take_ended(&mut self) -> Ended<Sp::Found> {
        std::mem::replace(&mut self.ended, Ended::Complete)
    }

    /// Unique states found.
    pub fn len(&self) -> usize {
        self.parents.len()
    }

    /// Whether no state was found (never: the initial state always is).
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// Successors generated, counting those already seen.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The depth of the deepest state found.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The steps from the initial state to `at`, each with the state it
    /// was taken from.
    pub fn path(&self, at: StateId) -> Vec<(StateId, Sp::Step)> {
        let mut path = Vec::new();
        let mut v = at;
        while let Some(&Some((p, step))) = self.parents.get(v as usize) {
            path.push((p, step));
            v = p;
        }
        path.reverse();
        path
    }

    /// Every kept state, by number.
    pub fn states(&self) -> &[Sp::State] {
        &self.states
    }

    /// The edges out of state `id`, in the order [`Space::expand`] gave
    /// them (empty unless the graph was kept).
    pub fn edges(&self, id: StateId) -> &[(StateId, Sp::Step)] {
        self.edges.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// Edges in the kept graph.
    pub fn edge_count(&self) -> usize {
        self.edges.iter().map(Vec::len).sum()
    }
}

/// Fingerprints are already well mixed: index them as they are.
#[derive(Default)]
struct Passthrough(u64);

impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Index = HashMap<u64, StateId, BuildHasherDefault<Passthrough>>;

/// States expanded per round of the threads; bounds the successors held
/// before they are merged.
const BATCH: usize = 512;

/// Below this many states a round runs on the calling thread.
const SERIAL_BELOW: usize = 64;

/// A successor as a worker hands it to the merge: its fingerprint, and the
/// state itself only when the index did not know it when the batch began
/// (most successors of a level are states seen before; dropping them in
/// the worker keeps them out of memory and out of the serial merge).
struct Successor<Sp: Space> {
    step: Sp::Step,
    fp: u64,
    target: Target<Sp::State>,
}

/// Where a successor leads.
enum Target<St> {
    /// A state the index held when the batch began.
    Known(StateId),
    /// A state it did not hold (an earlier state of the same batch on
    /// another thread may still have found it).
    New(St),
    /// The same state as a `New` one earlier in this thread's part of the
    /// batch, which the merge meets first: already indexed when this is
    /// merged.
    Again,
}

/// What expanding one state produced.
type Expanded<Sp> = Result<Vec<Successor<Sp>>, <Sp as Space>::Found>;

/// Expands `batch` on up to `threads` threads, results in batch order.
/// `index` is only read: the merge that writes it runs after. Each thread
/// drops a successor it already handed over earlier in its part, so
/// states met twice within a level are not held twice until the merge.
fn expand_batch<Sp: Space>(
    space: &Sp,
    batch: &[(StateId, Sp::State)],
    threads: usize,
    index: &Index,
) -> Vec<Expanded<Sp>> {
    map_parts(batch, threads, |part| {
        let mut handed: HashSet<u64, BuildHasherDefault<Passthrough>> = HashSet::default();
        part.iter()
            .map(|(_, s)| {
                let mut out = Vec::new();
                space.expand(s, &mut out)?;
                Ok(out
                    .into_iter()
                    .map(|(step, state)| {
                        let fp = space.fingerprint(&state);
                        let target = match index.get(&fp) {
                            Some(&j) => Target::Known(j),
                            None if handed.insert(fp) => Target::New(state),
                            None => Target::Again,
                        };
                        Successor { step, fp, target }
                    })
                    .collect())
            })
            .collect()
    })
}

/// `f` of each item, on up to `threads` threads, in the items' order.
pub fn map_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    map_parts(items, threads, |part| part.iter().map(&f).collect())
}

/// `f` of contiguous parts of `items`, one part per thread (up to
/// `threads`), the results joined in the items' order.
fn map_parts<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() < SERIAL_BELOW {
        return f(items);
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| scope.spawn(move || f(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Searches `space` breadth first from `root` within `limits`.
pub fn search<Sp: Space>(space: &Sp, root: Sp::State, limits: &Limits) -> Graph<Sp> {
    let mut g = Graph {
        ended: Ended::Complete,
        parents: vec![None],
        states: Vec::new(),
        edges: Vec::new(),
        steps: 0,
        depth: 0,
    };
    let mut index = Index::default();
    index.insert(space.fingerprint(&root), 0);
    let mut frontier: Vec<(StateId, Sp::State)> = vec![(0, root)];
    let mut depth = 0usize;
    let threads = limits.threads.max(1);
    while !frontier.is_empty() {
        if limits.max_depth.is_some_and(|d| depth >= d) {
            g.ended = Ended::Bounded(Bound::Depth);
            break;
        }
        let mut next: Vec<(StateId, Sp::State)> = Vec::new();
        let mut level = frontier.into_iter().peekable();
        while level.peek().is_some() {
            let batch: Vec<(StateId, Sp::State)> = level.by_ref().take(BATCH).collect();
            let results = expand_batch(space, &batch, threads, &index);
            for ((id, state), result) in batch.into_iter().zip(results) {
                let successors = match result {
                    Ok(s) => s,
                    Err(found) => {
                        g.ended = Ended::Found { found, at: id };
                        return g;
                    }
                };
                let mut out_edges = Vec::new();
                for succ in successors {
                    g.steps += 1;
                    let Successor { step, fp, target } = succ;
                    let known = match target {
                        Target::Known(j) => Ok(j),
                        Target::New(state) => index.get(&fp).copied().ok_or(state),
                        // Its first occurrence was merged above (a bound
                        // or a finding would have returned before this).
                        Target::Again => match index.get(&fp) {
                            Some(&j) => Ok(j),
                            None => continue,
                        },
                    };
                    let j = match known {
                        Ok(j) => j,
                        Err(succ) => {
                            if limits.max_states.is_some_and(|m| g.parents.len() >= m) {
                                g.ended = Ended::Bounded(Bound::States);
                                return g;
                            }
                            let j = g.parents.len() as StateId;
                            index.insert(fp, j);
                            g.parents.push(Some((id, step)));
                            g.depth = depth + 1;
                            next.push((j, succ));
                            j
                        }
                    };
                    if limits.keep_graph {
                        out_edges.push((j, step));
                    }
                }
                if limits.keep_graph {
                    // States are expanded in number order, so this is slot `id`.
                    g.states.push(state);
                    g.edges.push(out_edges);
                }
            }
            if limits
                .max_resident
                .is_some_and(|m| resident_bytes().is_some_and(|r| r >= m))
            {
                g.ended = Ended::Bounded(Bound::Memory);
                return g;
            }
        }
        frontier = next;
        depth += 1;
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs (a, b) with a, b < n; a step adds 1 to either. The state
    /// `stop`, if any, is a finding.
    struct Grid {
        n: u32,
        stop: Option<(u32, u32)>,
    }

    impl Space for Grid {
        type State = (u32, u32);
        type Step = char;
        type Found = &'static str;
        fn fingerprint(&self, s: &(u32, u32)) -> u64 {
            u64::from(s.0) << 32 | u64::from(s.1)
        }
        fn expand(
            &self,
            s: &(u32, u32),
            out: &mut Vec<(char, (u32, u32))>,
        ) -> Result<(), &'static str> {
            if Some(*s) == self.stop {
                return Err("stop");
            }
            if s.0 + 1 < self.n {
                out.push(('a', (s.0 + 1, s.1)));
            }
            if s.1 + 1 < self.n {
                out.push(('b', (s.0, s.1 + 1)));
            }
            Ok(())
        }
    }

    fn limits(threads: usize, keep_graph: bool) -> Limits {
        Limits {
            threads,
            keep_graph,
            ..Limits::default()
        }
    }

    #[test]
    fn explores_every_state_once_with_shortest_paths() {
        let g = search(&Grid { n: 30, stop: None }, (0, 0), &limits(1, true));
        assert!(matches!(g.ended(), Ended::Complete));
        assert_eq!(g.len(), 900);
        // Every state but the last row and column has two successors.
        assert_eq!(g.steps(), 2 * 29 * 30);
        assert_eq!(g.edge_count(), 2 * 29 * 30);
        assert_eq!(g.depth(), 58);
        for (id, s) in g.states().iter().enumerate() {
            assert_eq!(g.path(id as StateId).len() as u32, s.0 + s.1, "{s:?}");
        }
    }

    #[test]
    fn threads_do_not_change_the_graph() {
        let space = Grid { n: 120, stop: None };
        let one = search(&space, (0, 0), &limits(1, true));
        let four = search(&space, (0, 0), &limits(4, true));
        assert_eq!(one.len(), 14_400);
        assert_eq!(one.states(), four.states());
        for id in 0..one.len() as StateId {
            assert_eq!(one.edges(id), four.edges(id));
            assert_eq!(one.path(id), four.path(id));
        }
    }

    #[test]
    fn a_finding_stops_the_search_on_a_shortest_path() {
        let space = Grid {
            n: 100,
            stop: Some((3, 4)),
        };
        let mut g = search(&space, (0, 0), &limits(2, false));
        let Ended::Found { found, at } = g.take_ended() else {
            panic!("expected a finding");
        };
        assert_eq!(found, "stop");
        let steps: Vec<char> = g.path(at).into_iter().map(|(_, s)| s).collect();
        assert_eq!(steps.len(), 7);
        assert_eq!(steps.iter().filter(|&&c| c == 'a').count(), 3);
        assert!(g.states().is_empty(), "the graph was not kept");
    }

    #[test]
    fn bounds_stop_the_search_and_say_which() {
        let space = Grid { n: 50, stop: None };
        let deep = search(
            &space,
            (0, 0),
            &Limits {
                max_depth: Some(3),
                ..limits(1, false)
            },
        );
        assert!(matches!(deep.ended(), Ended::Bounded(Bound::Depth)));
        assert_eq!(deep.len(), 1 + 2 + 3 + 4);
        let wide = search(
            &space,
            (0, 0),
            &Limits {
                max_states: Some(100),
                ..limits(2, false)
            },
        );
        assert!(matches!(wide.ended(), Ended::Bounded(Bound::States)));
        assert_eq!(wide.len(), 100);
        // A bound the space fits in is not reported.
        let fits = search(
            &Grid { n: 5, stop: None },
            (0, 0),
            &Limits {
                max_states: Some(25),
                max_depth: Some(9),
                ..limits(1, false)
            },
        );
        assert!(matches!(fits.ended(), Ended::Complete));
    }

    #[test]
    fn a_memory_ceiling_stops_the_search() {
        if resident_bytes().is_none() {
            return; // the platform reports no resident size
        }
        let g = search(
            &Grid { n: 200, stop: None },
            (0, 0),
            &Limits {
                max_resident: Some(1),
                ..limits(1, true)
            },
        );
        assert!(matches!(g.ended(), Ended::Bounded(Bound::Memory)));
        assert!(g.len() < 40_000, "stopped after the first batch");
    }
}
