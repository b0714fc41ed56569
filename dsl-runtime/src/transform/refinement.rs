//! Property transfer by bounded trace refinement: every external trace of
//! an implementation (a transformed system under a harsh fault model) is a
//! trace of a specification (the base system on the network it was checked
//! on).
//!
//! If it is, every property of the base's external traces — what its
//! trace invariants say, linearizability of its outputs — holds for the
//! transformed system too, without restating it. The check explores the
//! implementation breadth first, and alongside each implementation world
//! keeps the set of specification worlds that can have produced the same
//! external trace (inputs and outputs, in order), closed under the
//! specification's silent steps (those without inputs or outputs). An
//! implementation step with external events advances the set; when it
//! becomes empty, the specification cannot produce that trace, and the
//! implementation's steps to it are the counterexample.
//!
//! Pairs (implementation world, specification set) already seen are not
//! explored again, so the check is exhaustive when the implementation's
//! state space is finite (for transformed systems, usually only with
//! [`Model::saturating_duplicates`]) and otherwise bounded by depth or by
//! a number of pairs. The report says which.
//!
//! Traces are compared exactly, including where the environment gives
//! inputs: both models should have the same workload. A fault model with
//! crashes lets a crashed client move on without its reply, which a
//! specification without crashes cannot; give the specification a workload
//! whose scripts do not wait for outputs in that case.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::budget::MemoryBudget;
use crate::check::{thousands, Counterexample, Violation};
use crate::ctx::Effects;
use crate::fingerprint::Fingerprinter;
use crate::search::{self, Bound, Ended, Limits, Space};
use crate::semantics::{Action, Event, Model, StepError, TraceEvent, World};
use crate::system::System;

/// One external event: what the outside world sees.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum External<N, I, O> {
    /// `node` received an input.
    Input(N, I),
    /// `node` emitted an output.
    Output(N, O),
}

impl<N: fmt::Display, I: fmt::Debug, O: fmt::Debug> fmt::Debug for External<N, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            External::Input(n, i) => write!(f, "{n} <- {i:?}"),
            External::Output(n, o) => write!(f, "{n} -> {o:?}"),
        }
    }
}

/// The external event type of system `S`.
pub type ExternalOf<S> = External<<S as System>::Node, <S as System>::Input, <S as System>::Output>;

/// Bounds of a refinement check.
#[derive(Debug, Clone, Default)]
pub struct RefinementOptions {
    /// Do not expand implementation worlds at this depth.
    pub max_depth: Option<usize>,
    /// Stop after this many (implementation world, specification set) pairs.
    pub max_pairs: Option<u64>,
    /// The memory the check may take beyond what the process holds when
    /// it starts; `None`: the default share of what is available. Reaching
    /// it ends the check as bounded ([`Bound::Memory`]).
    pub memory: Option<MemoryBudget>,
}

/// Counters of a refinement check.
#[derive(Debug, Clone, Default)]
pub struct RefinementStats {
    /// Distinct (implementation world, specification set) pairs.
    pub pairs: u64,
    /// Implementation steps taken.
    pub steps: u64,
    /// Distinct sets of specification worlds.
    pub spec_sets: usize,
    /// The largest specification set.
    pub largest_set: usize,
    /// The deepest implementation world reached.
    pub max_depth: usize,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl fmt::Display for RefinementStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pairs: {}  steps: {}  specification sets: {} (largest {})  depth: {}  time: {:.2?}",
            thousands(self.pairs),
            thousands(self.steps),
            thousands(self.spec_sets as u64),
            self.largest_set,
            self.max_depth,
            self.elapsed
        )
    }
}

/// A trace of the implementation the specification cannot produce.
pub struct RefinementCounterexample<T: System> {
    /// The implementation's steps, from its initial world.
    pub events: Vec<Event<T>>,
    /// The external trace those steps produce, up to and including the
    /// first event the specification cannot produce.
    pub trace: Vec<ExternalOf<T>>,
    /// Why the check failed, in a sentence.
    pub reason: String,
}

impl<T: System> fmt::Debug for RefinementCounterexample<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefinementCounterexample")
            .field("events", &self.events)
            .field("trace", &self.trace)
            .field("reason", &self.reason)
            .finish()
    }
}

impl<T: System> RefinementCounterexample<T> {
    /// The external trace, then the implementation's steps (replayed with
    /// its handlers), then the reason.
    pub fn render(&self, implementation: &Model<T>) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "  external trace:");
        for (i, e) in self.trace.iter().enumerate() {
            let mark = if i + 1 == self.trace.len() {
                "   <- the specification cannot do this"
            } else {
                ""
            };
            let _ = writeln!(out, "    {e:?}{mark}");
        }
        let _ = writeln!(out, "  produced by the implementation:");
        let cx = Counterexample::new(
            Violation::Invariant {
                name: "refinement",
                node: None,
                message: self.reason.clone(),
            },
            self.events.clone(),
        );
        out.push_str(&cx.render(implementation));
        out
    }
}

/// How a refinement check ended.
#[derive(Debug)]
pub enum RefinementOutcome<T: System> {
    /// Every reachable pair was explored: every trace of the implementation
    /// (of any length) is a trace of the specification.
    Holds,
    /// No counterexample within the bounds, which cut exploration short.
    Bounded {
        /// Which bound: the depth, or the number of pairs (`States`).
        bound: Bound,
    },
    /// The implementation has a trace the specification does not.
    Fails(Box<RefinementCounterexample<T>>),
}

/// The result of a refinement check.
#[derive(Debug)]
pub struct RefinementReport<T: System> {
    /// How it ended.
    pub outcome: RefinementOutcome<T>,
    /// What it took.
    pub stats: RefinementStats,
}

impl<T: System> RefinementReport<T> {
    /// Whether no counterexample was found.
    pub fn passed(&self) -> bool {
        !matches!(self.outcome, RefinementOutcome::Fails(_))
    }

    /// The counterexample, if one was found.
    pub fn counterexample(&self) -> Option<&RefinementCounterexample<T>> {
        match &self.outcome {
            RefinementOutcome::Fails(c) => Some(c),
            _ => None,
        }
    }
}

/// Takes `action` on a copy of `world`: the next world and the external
/// events the step recorded (its input, its outputs, and a chained
/// client's next input). Worlds in the search keep an empty trace, so the
/// step's events are exactly what it appended, and are taken out again.
fn take<X: System>(
    model: &Model<X>,
    world: &World<X>,
    action: Action,
    effects: &mut Effects<X>,
) -> Result<(World<X>, Vec<ExternalOf<X>>), StepError> {
    let mut next = world.clone();
    model.apply(&mut next, action, effects)?;
    let events = next.trace.drain(..).map(external).collect();
    Ok((next, events))
}

/// A trace event as an external event.
fn external<X: System>(e: TraceEvent<X>) -> ExternalOf<X> {
    match e {
        TraceEvent::Input { node, input } => External::Input(node, input),
        TraceEvent::Output { node, output } => External::Output(node, output),
    }
}

/// `model` set up for the search: recording each step's external events in
/// order (the trace, not the history), for [`take`] to collect.
fn recording<X: System>(model: &Model<X>) -> Model<X> {
    let mut model = model.clone();
    model.record_trace = true;
    model.history_only = false;
    model
}

/// A specification world that may have produced the trace so far, with the
/// outputs of its last step not yet matched by the implementation.
struct Candidate<S: System> {
    world: World<S>,
    pending: Vec<ExternalOf<S>>,
    fp: u64,
}

impl<S: System> Candidate<S> {
    fn new(world: World<S>, pending: Vec<ExternalOf<S>>) -> Self {
        let mut h = Fingerprinter::default();
        h.write_u64(world.fingerprint());
        pending.hash(&mut h);
        Candidate {
            fp: h.finish(),
            world,
            pending,
        }
    }
}

/// The specification side: interned sets of candidates, closed under silent
/// steps, and memoized transitions between them.
struct SpecSide<'m, S: System> {
    model: &'m Model<S>,
    sets: Vec<Vec<Candidate<S>>>,
    ids: HashMap<u64, usize>,
    memo: HashMap<(usize, ExternalOf<S>), Option<usize>>,
    effects: Effects<S>,
}

impl<'m, S: System> SpecSide<'m, S> {
    fn new(model: &'m Model<S>) -> Self {
        SpecSide {
            model,
            sets: Vec::new(),
            ids: HashMap::new(),
            memo: HashMap::new(),
            effects: Effects::default(),
        }
    }

    /// Closes `cands` under silent steps and interns the result.
    fn intern(&mut self, cands: Vec<Candidate<S>>) -> usize {
        let mut seen: HashMap<u64, ()> = HashMap::new();
        let mut all: Vec<Candidate<S>> = Vec::new();
        let mut work: Vec<usize> = Vec::new();
        for c in cands {
            if seen.insert(c.fp, ()).is_none() {
                work.push(all.len());
                all.push(c);
            }
        }
        while let Some(i) = work.pop() {
            if !all[i].pending.is_empty() {
                continue;
            }
            let world = all[i].world.clone();
            for action in self.model.enabled(&world) {
                if matches!(action, Action::Input { .. }) {
                    continue;
                }
                let Ok((next, events)) = take(self.model, &world, action, &mut self.effects) else {
                    continue;
                };
                if !events.is_empty() {
                    continue;
                }
                let c = Candidate::new(next, Vec::new());
                if seen.insert(c.fp, ()).is_none() {
                    work.push(all.len());
                    all.push(c);
                }
            }
        }
        all.sort_by_key(|c| c.fp);
        let mut h = Fingerprinter::default();
        for c in &all {
            h.write_u64(c.fp);
        }
        let key = h.finish();
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        self.sets.push(all);
        self.ids.insert(key, self.sets.len() - 1);
        self.sets.len() - 1
    }

    /// The set after the specification produces `event` from set `id`, or
    /// `None` when no candidate can.
    fn advance(&mut self, id: usize, event: &ExternalOf<S>) -> Option<usize> {
        if let Some(&next) = self.memo.get(&(id, event.clone())) {
            return next;
        }
        let mut next: Vec<Candidate<S>> = Vec::new();
        for i in 0..self.sets[id].len() {
            let cand = &self.sets[id][i];
            if let Some((first, rest)) = cand.pending.split_first() {
                if first == event {
                    next.push(Candidate::new(cand.world.clone(), rest.to_vec()));
                }
                continue;
            }
            let world = cand.world.clone();
            for action in self.model.enabled(&world) {
                let Ok((after, mut events)) = take(self.model, &world, action, &mut self.effects)
                else {
                    continue;
                };
                if events.first() == Some(event) {
                    events.remove(0);
                    next.push(Candidate::new(after, events));
                }
            }
        }
        let result = (!next.is_empty()).then(|| self.intern(next));
        self.memo.insert((id, event.clone()), result);
        result
    }
}

/// Why the product search stopped at a pair: what implementation step
/// number `index` there did.
enum Mismatch<T: System> {
    /// The step failed (a handler error).
    StepFailed { index: usize, error: String },
    /// The step produced these external events, the last of which the
    /// specification cannot produce after the trace so far.
    Unmatched {
        index: usize,
        produced: Vec<ExternalOf<T>>,
    },
}

/// The product of the implementation and the specification sets, as the
/// shared search walks it: a state is (implementation world, specification
/// set), a step the index of an implementation action.
struct Product<'m, T: System, S: System> {
    imp: &'m Model<T>,
    /// Shared by the search's threads: its sets and memo only grow.
    spec: Mutex<SpecSide<'m, S>>,
}

impl<T, S> Space for Product<'_, T, S>
where
    T: System<Node = S::Node, Input = S::Input, Output = S::Output>,
    S: System,
{
    type State = (World<T>, usize);
    type Step = usize;
    type Found = Mismatch<T>;

    fn fingerprint(&self, (world, set): &(World<T>, usize)) -> u64 {
        let mut h = Fingerprinter::default();
        h.write_u64(world.fingerprint());
        h.write_usize(*set);
        h.finish()
    }

    fn expand(
        &self,
        (world, set): &(World<T>, usize),
        out: &mut Vec<(usize, (World<T>, usize))>,
    ) -> Result<(), Mismatch<T>> {
        let mut effects = Effects::default();
        for (index, action) in self.imp.enabled(world).into_iter().enumerate() {
            let (next, events) =
                take(self.imp, world, action, &mut effects).map_err(|e| Mismatch::StepFailed {
                    index,
                    error: e.to_string(),
                })?;
            let mut spec = self.spec.lock().unwrap_or_else(|e| e.into_inner());
            let mut next_set = Some(*set);
            let mut matched = 0;
            for e in &events {
                next_set = next_set.and_then(|s| spec.advance(s, e));
                if next_set.is_none() {
                    break;
                }
                matched += 1;
            }
            drop(spec);
            let Some(next_set) = next_set else {
                // The trace ends at the first event the specification cannot match.
                let produced = events[..=matched].to_vec();
                return Err(Mismatch::Unmatched { index, produced });
            };
            out.push((index, (next, next_set)));
        }
        Ok(())
    }
}

/// Checks, within `options`, that every external trace of `implementation`
/// is a trace of `specification`. Worlds are explored without their
/// traces (each step's external events are read as it records them), so
/// states are merged across histories and the search stays small.
pub fn check_refinement<T, S>(
    implementation: &Model<T>,
    specification: &Model<S>,
    options: &RefinementOptions,
) -> RefinementReport<T>
where
    T: System<Node = S::Node, Input = S::Input, Output = S::Output>,
    S: System,
{
    let started = Instant::now();
    let imp = recording(implementation);
    let spec_model = recording(specification);
    let mut stats = RefinementStats::default();
    let finish = |outcome, mut stats: RefinementStats, spec: &SpecSide<S>| {
        stats.spec_sets = spec.sets.len();
        stats.largest_set = spec.sets.iter().map(Vec::len).max().unwrap_or(0);
        stats.elapsed = started.elapsed();
        RefinementReport { outcome, stats }
    };
    let mut spec = SpecSide::new(&spec_model);
    let fail = |reason: String| {
        RefinementOutcome::Fails(Box::new(RefinementCounterexample {
            events: Vec::new(),
            trace: Vec::new(),
            reason,
        }))
    };
    let (init, spec_init) = match (imp.init(), spec_model.init()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) => {
            return finish(
                fail(format!("the implementation cannot start: {e}")),
                stats,
                &spec,
            )
        }
        (_, Err(e)) => {
            return finish(
                fail(format!("the specification cannot start: {e}")),
                stats,
                &spec,
            )
        }
    };
    // Chained workloads give clients their first input while starting: those
    // events are the start of both traces.
    let (mut init, mut spec_init) = (init, spec_init);
    let first: Vec<ExternalOf<T>> = init.trace.drain(..).map(external).collect();
    let spec_first: Vec<ExternalOf<S>> = spec_init.trace.drain(..).map(external).collect();
    let mut root_set = Some(spec.intern(vec![Candidate::new(spec_init, spec_first)]));
    for e in &first {
        root_set = root_set.and_then(|set| spec.advance(set, e));
    }
    let Some(root_set) = root_set else {
        let outcome = RefinementOutcome::Fails(Box::new(RefinementCounterexample {
            events: Vec::new(),
            trace: first,
            reason: "the specification cannot start with the same external events".into(),
        }));
        return finish(outcome, stats, &spec);
    };
    let product = Product {
        imp: &imp,
        spec: Mutex::new(spec),
    };
    let limits = Limits {
        max_depth: options.max_depth,
        max_states: options.max_pairs.map(|m| m as usize),
        ..Limits::default()
    }
    .with_memory(
        &options
            .memory
            .clone()
            .unwrap_or_else(MemoryBudget::default_share),
    );
    let mut graph = search::search(&product, (init, root_set), &limits);
    stats.pairs = graph.len() as u64;
    stats.steps = graph.steps();
    stats.max_depth = graph.depth();
    let spec = product.spec.into_inner().unwrap_or_else(|e| e.into_inner());
    let outcome = match graph.take_ended() {
        Ended::Complete => RefinementOutcome::Holds,
        Ended::Bounded(bound) => RefinementOutcome::Bounded { bound },
        Ended::Found { found, at } => {
            let mut chain: Vec<usize> = graph.path(at).into_iter().map(|(_, i)| i).collect();
            let (index, produced, error) = match found {
                Mismatch::StepFailed { index, error } => (index, Vec::new(), Some(error)),
                Mismatch::Unmatched { index, produced } => (index, produced, None),
            };
            chain.push(index);
            let mut cx = counterexample(&imp, &chain, produced);
            cx.reason = match error {
                Some(e) => format!("the implementation's step failed: {e}"),
                None => {
                    let last = cx
                        .trace
                        .last()
                        .map(|e| format!("{e:?}"))
                        .unwrap_or_default();
                    format!(
                        "the specification has no run with this external trace: it cannot do `{last}` here"
                    )
                }
            };
            RefinementOutcome::Fails(Box::new(cx))
        }
    };
    finish(outcome, stats, &spec)
}

/// The events of taking, from `model`'s initial world, the action with
/// each index in `chain` among the world's enabled actions.
pub(crate) fn replay_indices<T: System>(
    model: &Model<T>,
    chain: &[usize],
    mut on_step: impl FnMut(&World<T>, Action),
) -> Option<World<T>> {
    let mut effects = Effects::default();
    let mut world = model.init().ok()?;
    for &i in chain {
        let &action = model.enabled(&world).get(i)?;
        on_step(&world, action);
        model.apply(&mut world, action, &mut effects).ok()?;
    }
    Some(world)
}

/// The implementation's steps along `chain` (indices of enabled actions);
/// its external trace ends with `last_events`.
fn counterexample<T: System>(
    model: &Model<T>,
    chain: &[usize],
    last_events: Vec<ExternalOf<T>>,
) -> RefinementCounterexample<T> {
    let mut events = Vec::with_capacity(chain.len());
    let mut trace = Vec::new();
    let mut effects = Effects::default();
    if let Ok(mut world) = model.init() {
        trace.extend(world.trace.drain(..).map(external));
        let last = chain.len().saturating_sub(1);
        for (step, &i) in chain.iter().enumerate() {
            let Some(&action) = model.enabled(&world).get(i) else {
                break;
            };
            events.push(model.event(&world, action));
            let Ok((next, produced)) = take(model, &world, action, &mut effects) else {
                break;
            };
            if step < last {
                trace.extend(produced);
            }
            world = next;
        }
    }
    trace.extend(last_events);
    RefinementCounterexample {
        events,
        trace,
        reason: String::new(),
    }
}
