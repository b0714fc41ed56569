//! The entry points: check a history against a specification.

use super::explain::Explanation;
use super::history::History;
use super::partition::Partitions;
use super::search::{Found, Limits, Search};
use super::spec::Spec;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Below this many operations a check never starts threads: spawning costs
/// more than the search of a small history.
pub const PARALLEL_MIN_OPS: usize = 512;

/// Placements a part may make in the first round of time slicing.
const FIRST_SLICE: u64 = 1024;

/// How to check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryOptions {
    /// Give up with [`Verdict::Unknown`] after this long. `None`: no limit.
    pub timeout: Option<Duration>,
    /// Check each independent part on its own when the specification says
    /// how to split ([`Spec::partition_key`]). Turn off only to measure.
    pub partition: bool,
    /// Threads to use for a history with several parts; `0` means one per
    /// core. Histories under [`PARALLEL_MIN_OPS`] operations always use one.
    pub threads: usize,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            timeout: None,
            partition: true,
            threads: 0,
        }
    }
}

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Some order of the operations consistent with real time is legal.
    Linearizable,
    /// No such order exists; the explanation shows where every attempt got
    /// stuck.
    NotLinearizable(Box<Explanation>),
    /// The time limit passed before the search could decide.
    Unknown,
}

impl Verdict {
    /// True for [`Verdict::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }

    /// The explanation of a [`Verdict::NotLinearizable`].
    pub fn explanation(&self) -> Option<&Explanation> {
        match self {
            Verdict::NotLinearizable(e) => Some(e),
            _ => None,
        }
    }
}

/// Counters from the last check, for tuning and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryStats {
    /// Sub-histories the history was split into.
    pub partitions: usize,
    /// Sub-histories whose search ran (a violation stops the others).
    pub searched: usize,
    /// Configurations (set of placed operations, state) explored in total.
    pub configurations: usize,
    /// Largest number of distinct model states met in one sub-history.
    pub max_states: usize,
}

/// What running checks have done so far, for a progress display: given to
/// [`Checker::report_progress`] (one value may serve several checkers) and
/// read from another thread while they run.
#[derive(Debug, Default)]
pub struct HistoryProgress {
    partitions: AtomicU64,
    decided: AtomicU64,
    configurations: AtomicU64,
}

impl HistoryProgress {
    /// Sub-histories of the histories begun so far.
    pub fn partitions(&self) -> u64 {
        self.partitions.load(Ordering::Relaxed)
    }

    /// Sub-histories whose search has ended (decided, cut short by a
    /// violation elsewhere, or out of time).
    pub fn decided(&self) -> u64 {
        self.decided.load(Ordering::Relaxed)
    }

    /// Configurations explored so far, in all sub-histories.
    pub fn configurations(&self) -> u64 {
        self.configurations.load(Ordering::Relaxed)
    }
}

/// Checks histories against one specification, keeping its buffers from one
/// history to the next: the cheap way to check many small histories (a model
/// checker calling it at every state).
///
/// ```
/// use verdict::lin::{Checker, History, Verdict, specs::{Register, RegisterOp, RegisterRet}};
/// let mut checker = Checker::new(Register);
/// let mut h = History::new();
/// let w = h.invoke(0, RegisterOp::Write(1));
/// h.complete(w, RegisterRet::Ok).unwrap();
/// let r = h.invoke(1, RegisterOp::Read);
/// h.complete(r, RegisterRet::Value(None)).unwrap(); // stale read
/// assert!(matches!(checker.check(&h), Verdict::NotLinearizable(_)));
/// ```
pub struct Checker<S: Spec> {
    spec: S,
    options: HistoryOptions,
    search: Search<S>,
    partitions: Partitions,
    stats: HistoryStats,
    cores: Option<usize>,
    progress: Option<Arc<HistoryProgress>>,
}

impl<S: Spec> Checker<S> {
    /// A checker with the default options.
    pub fn new(spec: S) -> Self {
        Self::with_options(spec, HistoryOptions::default())
    }

    /// A checker with the given options.
    pub fn with_options(spec: S, options: HistoryOptions) -> Self {
        Checker {
            spec,
            options,
            search: Search::new(),
            partitions: Partitions::default(),
            stats: HistoryStats::default(),
            cores: None,
            progress: None,
        }
    }

    /// Counts what later checks do into `progress` as they run.
    pub fn report_progress(&mut self, progress: Arc<HistoryProgress>) {
        self.progress = Some(progress);
    }

    /// The specification checked against.
    pub fn spec(&self) -> &S {
        &self.spec
    }

    /// The options, to change between checks.
    pub fn options_mut(&mut self) -> &mut HistoryOptions {
        &mut self.options
    }

    /// Counters from the last check.
    pub fn stats(&self) -> HistoryStats {
        self.stats
    }

    /// Checks `history`.
    pub fn check(&mut self, history: &History<S::Op, S::Ret>) -> Verdict {
        let deadline = self.options.timeout.map(|t| Instant::now() + t);
        self.partitions
            .split(&self.spec, history, self.options.partition);
        let groups = self.partitions.groups.len();
        self.stats = HistoryStats {
            partitions: groups,
            ..HistoryStats::default()
        };
        let progress = self.progress.clone();
        let progress = progress.as_deref();
        if let Some(p) = progress {
            p.partitions.fetch_add(groups as u64, Ordering::Relaxed);
        }
        if groups >= 2 && history.len() >= PARALLEL_MIN_OPS {
            // Asking the system for the core count reads files (tens of
            // microseconds): only here, and once per checker.
            let threads = match self.options.threads {
                0 => *self.cores.get_or_insert_with(|| {
                    std::thread::available_parallelism().map_or(1, |n| n.get())
                }),
                t => t,
            }
            .min(groups);
            return self.check_in_rounds(history, threads, deadline, progress);
        }
        // Small or single-part histories: one reused search, part after part.
        let limits = Limits {
            deadline,
            cancel: None,
            live: progress.map(|p| &p.configurations),
        };
        for g in 0..groups {
            let members = self.partitions.group(g).iter().copied();
            self.search.sub.build(&self.spec, history, members);
            let found = self.search.run(&self.spec, history, &limits);
            self.search.publish(&limits);
            if let Some(p) = progress {
                p.decided.fetch_add(1, Ordering::Relaxed);
            }
            self.stats.searched += 1;
            self.stats.configurations += self.search.explored();
            self.stats.max_states = self.stats.max_states.max(self.search.states_seen());
            match found {
                Found::Linearizable => {}
                Found::NotLinearizable => {
                    let mut explanation = self.search.explain(&self.spec, history);
                    explanation.partitioned = groups > 1;
                    return Verdict::NotLinearizable(Box::new(explanation));
                }
                Found::Stopped | Found::Paused => return Verdict::Unknown,
            }
        }
        Verdict::Linearizable
    }

    /// Checks several parts by time slicing: in each round every undecided
    /// part resumes its search for a budget of placements (doubling from
    /// round to round), on `threads` threads. An easy violation in a late
    /// part is then found after a bounded amount of work on the hard parts
    /// before it, instead of after they finish (some never do), and no work
    /// is thrown away. In a round, a violation in part `i` cancels the parts
    /// after `i` but not those before, and the first violating part of the
    /// round is reported: the outcome does not depend on thread timing.
    fn check_in_rounds(
        &mut self,
        history: &History<S::Op, S::Ret>,
        threads: usize,
        deadline: Option<Instant>,
        progress: Option<&HistoryProgress>,
    ) -> Verdict {
        struct Slot<S: Spec> {
            group: usize,
            search: Option<Box<Search<S>>>,
            found: Found,
            explanation: Option<Explanation>,
            explored: usize,
            states: usize,
        }
        let spec = &self.spec;
        let partitions = &self.partitions;
        let mut slots: Vec<Mutex<Slot<S>>> = (0..partitions.groups.len())
            .map(|group| {
                Mutex::new(Slot {
                    group,
                    search: None,
                    found: Found::Paused,
                    explanation: None,
                    explored: 0,
                    states: 0,
                })
            })
            .collect();
        let mut slice = FIRST_SLICE;
        let mut stats = self.stats;
        loop {
            let next = AtomicUsize::new(0);
            let first_violation = AtomicUsize::new(usize::MAX);
            let work = || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= slots.len() {
                    break;
                }
                if i > first_violation.load(Ordering::Relaxed) {
                    continue;
                }
                let mut guard = slots[i].lock().unwrap_or_else(|e| e.into_inner());
                let slot = &mut *guard;
                let group = slot.group;
                let search = slot.search.get_or_insert_with(|| {
                    let mut search = Box::new(Search::new());
                    search
                        .sub
                        .build(spec, history, partitions.group(group).iter().copied());
                    search.start(spec);
                    search
                });
                let limits = Limits {
                    deadline,
                    cancel: Some((&first_violation, i)),
                    live: progress.map(|p| &p.configurations),
                };
                let found = search.resume(spec, history, &limits, slice);
                search.publish(&limits);
                if found != Found::Paused {
                    if let Some(p) = progress {
                        p.decided.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if found == Found::NotLinearizable {
                    first_violation.fetch_min(i, Ordering::Relaxed);
                    slot.explanation = Some(search.explain(spec, history));
                }
                if found != Found::Paused {
                    // Free a finished part's tables here, on this worker,
                    // while the others go on.
                    slot.explored = search.explored();
                    slot.states = search.states_seen();
                    slot.search = None;
                }
                slot.found = found;
            };
            if threads >= 2 && slots.len() >= 2 {
                std::thread::scope(|scope| {
                    for _ in 1..threads.min(slots.len()) {
                        scope.spawn(work);
                    }
                    work();
                });
            } else {
                work();
            }
            let cut = first_violation.load(Ordering::Relaxed);
            let mut stopped = false;
            let mut remaining = Vec::with_capacity(slots.len());
            for (i, slot) in slots.into_iter().enumerate() {
                let mut slot = slot.into_inner().unwrap_or_else(|e| e.into_inner());
                let finished = slot.found != Found::Paused || i >= cut;
                if finished {
                    if let Some(search) = &slot.search {
                        slot.explored = search.explored();
                        slot.states = search.states_seen();
                    }
                    stats.searched += usize::from(slot.explored > 0 || slot.search.is_some());
                    stats.configurations += slot.explored;
                    stats.max_states = stats.max_states.max(slot.states);
                }
                if i == cut {
                    self.stats = stats;
                    let mut explanation = slot.explanation.take().unwrap_or_else(|| Explanation {
                        checked_ops: partitions.group(slot.group).to_vec(),
                        partitioned: true,
                        longest_prefix: Vec::new(),
                        state_after_prefix: String::new(),
                        owed: None,
                        unplaceable: Vec::new(),
                    });
                    explanation.partitioned = true;
                    return Verdict::NotLinearizable(Box::new(explanation));
                }
                match slot.found {
                    Found::Paused => remaining.push(Mutex::new(slot)),
                    Found::Stopped => stopped = true,
                    Found::Linearizable | Found::NotLinearizable => {}
                }
            }
            self.stats = stats;
            if stopped {
                return Verdict::Unknown;
            }
            if remaining.is_empty() {
                return Verdict::Linearizable;
            }
            slots = remaining;
            slice = slice.saturating_mul(2);
        }
    }
}

/// Checks `history` against `spec` with the default options.
pub fn check_history<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>) -> Verdict {
    Checker::new(spec).check(history)
}

/// Checks `history` against `spec` with the given options.
pub fn check_history_with<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    options: &HistoryOptions,
) -> Verdict {
    Checker::with_options(spec, options.clone()).check(history)
}

impl<S: Spec> Spec for &S {
    type Op = S::Op;
    type Ret = S::Ret;
    type State = S::State;

    fn init(&self) -> S::State {
        (**self).init()
    }

    fn step(&self, state: &S::State, op: &S::Op, ret: Option<&S::Ret>, next: &mut Vec<S::State>) {
        (**self).step(state, op, ret, next)
    }

    fn is_read_only(&self, op: &S::Op, ret: Option<&S::Ret>) -> bool {
        (**self).is_read_only(op, ret)
    }

    fn partition_key(&self, op: &S::Op) -> Option<u64> {
        (**self).partition_key(op)
    }
}
