//! The entry points: check a history against a specification.

use super::explain::Explanation;
use super::history::History;
use super::partition::Partitions;
use super::search::{Found, Limits, Search};
use super::spec::Spec;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Below this many operations a check never starts threads: spawning costs
/// more than the search of a small history.
pub const PARALLEL_MIN_OPS: usize = 512;

/// How to check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// Give up with [`Verdict::Unknown`] after this long. `None`: no limit.
    pub timeout: Option<Duration>,
    /// Check each independent part on its own when the specification says
    /// how to split ([`Spec::partition_key`]). Turn off only to measure.
    pub partition: bool,
    /// Threads to use for a history with several parts; `0` means one per
    /// core. Histories under [`PARALLEL_MIN_OPS`] operations always use one.
    pub threads: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
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
pub struct CheckStats {
    /// Sub-histories the history was split into.
    pub partitions: usize,
    /// Sub-histories whose search ran (a violation stops the others).
    pub searched: usize,
    /// Configurations (set of placed operations, state) explored in total.
    pub configurations: usize,
    /// Largest number of distinct model states met in one sub-history.
    pub max_states: usize,
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
    options: CheckOptions,
    search: Search<S>,
    partitions: Partitions,
    stats: CheckStats,
}

impl<S: Spec> Checker<S> {
    /// A checker with the default options.
    pub fn new(spec: S) -> Self {
        Self::with_options(spec, CheckOptions::default())
    }

    /// A checker with the given options.
    pub fn with_options(spec: S, options: CheckOptions) -> Self {
        Checker {
            spec,
            options,
            search: Search::new(),
            partitions: Partitions::default(),
            stats: CheckStats::default(),
        }
    }

    /// The specification checked against.
    pub fn spec(&self) -> &S {
        &self.spec
    }

    /// The options, to change between checks.
    pub fn options_mut(&mut self) -> &mut CheckOptions {
        &mut self.options
    }

    /// Counters from the last check.
    pub fn stats(&self) -> CheckStats {
        self.stats
    }

    /// Checks `history`.
    pub fn check(&mut self, history: &History<S::Op, S::Ret>) -> Verdict {
        let deadline = self.options.timeout.map(|t| Instant::now() + t);
        self.partitions
            .split(&self.spec, history, self.options.partition);
        let groups = self.partitions.groups.len();
        self.stats = CheckStats {
            partitions: groups,
            ..CheckStats::default()
        };
        let threads = match self.options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            t => t,
        }
        .min(groups);
        if threads >= 2 && history.len() >= PARALLEL_MIN_OPS {
            return self.check_parallel(history, threads, deadline);
        }
        let limits = Limits {
            deadline,
            cancel: None,
        };
        let mut stopped = false;
        for g in 0..groups {
            let members = self.partitions.group(g).iter().copied();
            self.search.sub.build(&self.spec, history, members);
            let found = self.search.run(&self.spec, history, &limits);
            self.stats.searched += 1;
            self.stats.configurations += self.search.explored();
            self.stats.max_states = self.stats.max_states.max(self.search.states_seen());
            match found {
                Found::Linearizable => {}
                Found::NotLinearizable => {
                    let explanation = self.search.explain(&self.spec, history);
                    return Verdict::NotLinearizable(Box::new(explanation));
                }
                Found::Stopped => {
                    stopped = true;
                    break;
                }
            }
        }
        if stopped {
            Verdict::Unknown
        } else {
            Verdict::Linearizable
        }
    }

    /// Checks the parts on `threads` threads (this one included). Workers
    /// take parts in order; a violation in part `i` cancels the parts after
    /// `i` but not those before, so the reported part is always the first
    /// violating one, whatever the timing: verdict and explanation are
    /// deterministic.
    fn check_parallel(
        &mut self,
        history: &History<S::Op, S::Ret>,
        threads: usize,
        deadline: Option<Instant>,
    ) -> Verdict {
        let groups = self.partitions.groups.len();
        let next = AtomicUsize::new(0);
        let first_violation = AtomicUsize::new(usize::MAX);
        let violation: Mutex<Option<(usize, Explanation)>> = Mutex::new(None);
        let stopped = AtomicUsize::new(0);
        let totals = Mutex::new(CheckStats::default());
        let spec = &self.spec;
        let partitions = &self.partitions;
        let work = |search: &mut Search<S>| {
            let mut local = CheckStats::default();
            loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                if g >= groups || g > first_violation.load(Ordering::Relaxed) {
                    break;
                }
                search
                    .sub
                    .build(spec, history, partitions.group(g).iter().copied());
                let limits = Limits {
                    deadline,
                    cancel: Some((&first_violation, g)),
                };
                let found = search.run(spec, history, &limits);
                local.searched += 1;
                local.configurations += search.explored();
                local.max_states = local.max_states.max(search.states_seen());
                match found {
                    Found::Linearizable => {}
                    Found::NotLinearizable => {
                        first_violation.fetch_min(g, Ordering::Relaxed);
                        let explanation = search.explain(spec, history);
                        let mut slot = violation.lock().unwrap_or_else(|e| e.into_inner());
                        if slot.as_ref().map_or(true, |(at, _)| g < *at) {
                            *slot = Some((g, explanation));
                        }
                    }
                    Found::Stopped => {
                        stopped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
            t.searched += local.searched;
            t.configurations += local.configurations;
            t.max_states = t.max_states.max(local.max_states);
        };
        let own_search = &mut self.search;
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|| work(&mut Search::new()));
            }
            work(own_search);
        });
        let totals = totals.into_inner().unwrap_or_else(|e| e.into_inner());
        self.stats.searched = totals.searched;
        self.stats.configurations = totals.configurations;
        self.stats.max_states = totals.max_states;
        let violation = violation.into_inner().unwrap_or_else(|e| e.into_inner());
        match violation {
            Some((_, explanation)) => Verdict::NotLinearizable(Box::new(explanation)),
            None if stopped.load(Ordering::Relaxed) > 0 => Verdict::Unknown,
            None => Verdict::Linearizable,
        }
    }
}

/// Checks `history` against `spec` with the default options.
pub fn check<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>) -> Verdict {
    Checker::new(spec).check(history)
}

/// Checks `history` against `spec` with the given options.
pub fn check_with<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    options: &CheckOptions,
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
