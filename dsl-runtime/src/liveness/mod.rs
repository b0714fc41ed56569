//! Liveness: `eventually` properties checked under weak fairness.
//!
//! An `eventually` property declares a goal, a predicate over the world.
//! It holds when in every *fair* run the goal holds again and again: a run
//! that ends (no step enabled) ends where the goal holds, and a run that
//! goes round a cycle passes a state where it holds on every round.
//!
//! Fairness is weak fairness of the steps the system and its users take:
//! a delivery of a given message, a given timer, or a node's next workload
//! input, if enabled in every state from some point on, is eventually
//! taken. Faults are not fair: the network may drop or duplicate messages
//! forever and nodes may crash, each within the fault model's budgets. So
//! "with at most one crash" is the fault model `crash=1`, and a model with
//! unlimited `drop` lets the network lose every retry.
//!
//! A check may also take an *assumption*: a predicate on (world, step)
//! that rules steps out, for a timing assumption the untimed semantics
//! cannot express (Raft's "a follower connected to a live leader hears
//! from it before its election timer fires" is one; see
//! [`crate::transform::raft_timely_elections`]). Only the steps it allows
//! are explored, and fairness asks only for those. Every verdict then
//! holds under that assumption and no further.
//!
//! The check builds the whole reachable state graph with the shared
//! breadth-first search ([`crate::search`], every level expanded on all
//! threads; no reductions, so keep configurations small: see below), keeps
//! the states where the goal does not hold,
//! splits them into strongly connected components, and reports a component
//! that is *fair* (every step enabled in all its states is also taken
//! inside it) or a state where the run ends. The counterexample is a lasso:
//! a shortest prefix to that component, then a cycle through it that takes
//! every step fairness demands.
//!
//! Why no reductions: partial-order reduction prunes interleavings that
//! matter here (a cycle can be left out, and with it the lasso, unless the
//! ample sets obey a cycle condition and respect fairness), and symmetry
//! would need each edge relabelled back to real node names before a lasso
//! could be read off the quotient graph. Neither is built, so liveness
//! explores the plain graph.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use crate::budget::MemoryBudget;
use crate::ctx::Effects;
use crate::fingerprint::Fingerprinter;
use crate::search::{self, Bound, Ended, Limits, Space};
use crate::semantics::{Action, Event, Model, World};
use crate::system::System;
use crate::violation::{Counterexample, Violation};

pub use crate::meta::EventuallyMeta;

/// A liveness counterexample: a prefix, then a cycle repeated forever.
#[derive(Debug)]
pub struct Lasso<S: System> {
    /// The property that fails.
    pub property: &'static str,
    /// Prefix and cycle, in one list of events; `violation` says where the
    /// cycle starts.
    pub counterexample: Counterexample<S>,
    /// Index of the first event of the cycle; equal to the length when the
    /// run simply stops (no step is enabled).
    pub cycle_start: usize,
}

/// The result of a liveness check.
#[derive(Debug)]
pub enum LivenessOutcome<S: System> {
    /// Every property holds in every fair run.
    Holds,
    /// A property fails: a fair lasso where its goal never holds.
    Violation(Box<Lasso<S>>),
    /// The graph outgrew a bound (states or memory); nothing is claimed.
    Bounded(Bound),
    /// The initial world could not be built (a start handler failed).
    CannotStart(String),
}

/// The result of a liveness check, with the size of the graph.
#[derive(Debug)]
pub struct LivenessReport<S: System> {
    /// How it ended.
    pub outcome: LivenessOutcome<S>,
    /// States in the graph.
    pub states: usize,
    /// Edges in the graph.
    pub edges: usize,
}

/// Fairness identity of a step: the same message delivery, timer or
/// workload input in different states. Faults have none (not fair).
fn fair_key<S: System>(model: &Model<S>, world: &World<S>, a: Action) -> Option<u64> {
    let mut h = Fingerprinter::default();
    match a {
        Action::Deliver(..) | Action::Timeout { .. } | Action::Input { .. } => {
            // Every branch of a choosing step is the same event here: weak
            // fairness asks that the event happen, not any one answer.
            match model.event_without_choices(world, a) {
                Event::Deliver(p) => {
                    h.write_u8(1);
                    p.hash(&mut h);
                }
                Event::Timeout { node, timer } => {
                    h.write_u8(2);
                    node.hash(&mut h);
                    timer.hash(&mut h);
                }
                Event::Input { node, input } => {
                    h.write_u8(3);
                    node.hash(&mut h);
                    input.hash(&mut h);
                }
                _ => return None,
            }
            Some(h.finish())
        }
        _ => None,
    }
}

/// Which steps a liveness check may take: `true` for a step the
/// assumption allows in that world.
pub type Assumption<'a, S> = &'a (dyn Fn(&World<S>, Action) -> bool + Sync);

/// The steps `world` enables that `assume` allows.
fn allowed<S: System>(
    model: &Model<S>,
    world: &World<S>,
    assume: Assumption<'_, S>,
) -> Vec<Action> {
    let mut actions = model.enabled(world);
    actions.retain(|&a| assume(world, a));
    actions
}

/// The reachable worlds and the steps between them, as the shared search
/// walks them: every allowed step that the model can take.
struct Steps<'a, S: System> {
    model: &'a Model<S>,
    assume: Assumption<'a, S>,
}

impl<S: System> Space for Steps<'_, S> {
    type State = World<S>;
    type Step = Action;
    type Found = std::convert::Infallible;

    fn fingerprint(&self, world: &World<S>) -> u64 {
        world.fingerprint()
    }

    fn expand(
        &self,
        world: &World<S>,
        out: &mut Vec<(Action, World<S>)>,
    ) -> Result<(), Self::Found> {
        let mut effects = Effects::default();
        for a in allowed(self.model, world, self.assume) {
            let mut next = world.clone();
            if self.model.apply(&mut next, a, &mut effects).is_ok() {
                out.push((a, next));
            }
        }
        Ok(())
    }
}

type Graph<'a, S> = search::Graph<Steps<'a, S>>;

/// Strongly connected components of the subgraph of states in `keep`
/// (iterative Tarjan). Returns the component id of each kept state.
fn components<S: System>(g: &Graph<'_, S>, keep: &[bool]) -> Vec<Option<u32>> {
    let n = g.len();
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![None; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut next_index = 0u32;
    let mut next_comp = 0u32;
    for root in 0..n {
        if !keep[root] || index[root] != u32::MAX {
            continue;
        }
        let mut call: Vec<(u32, usize)> = vec![(root as u32, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut e)) = call.last_mut() {
            let vu = v as usize;
            if let Some(&(w, _)) = g.edges(v).get(*e) {
                *e += 1;
                let wu = w as usize;
                if !keep[wu] {
                    continue;
                }
                if index[wu] == u32::MAX {
                    index[wu] = next_index;
                    low[wu] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[wu] = true;
                    call.push((w, 0));
                } else if on_stack[wu] {
                    low[vu] = low[vu].min(index[wu]);
                }
            } else {
                call.pop();
                if let Some(&(p, _)) = call.last() {
                    low[p as usize] = low[p as usize].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = Some(next_comp);
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
    }
    comp
}

/// Checks every `eventually` property of `S` on `model`, exploring at most
/// `max_states` states.
pub fn check_liveness<S: System>(model: &Model<S>, max_states: usize) -> LivenessReport<S> {
    check_liveness_assuming(model, max_states, &|_, _| true)
}

/// [`check_liveness`] over the runs whose every step `assume` allows (see
/// the [module documentation](self)).
pub fn check_liveness_assuming<S: System>(
    model: &Model<S>,
    max_states: usize,
    assume: Assumption<'_, S>,
) -> LivenessReport<S> {
    let options = LivenessOptions {
        max_states,
        ..LivenessOptions::default()
    };
    check_liveness_with(model, &options, assume)
}

/// Bounds and threads of a liveness check.
#[derive(Debug, Clone)]
pub struct LivenessOptions {
    /// The graph may hold this many states; a larger one is
    /// [`LivenessOutcome::Bounded`].
    pub max_states: usize,
    /// The memory the check may take beyond what the process holds when
    /// it starts; reaching it is [`LivenessOutcome::Bounded`] too.
    pub memory: MemoryBudget,
    /// Threads that expand each level (0: one per core). The verdict and
    /// the lasso are the same for every count.
    pub threads: usize,
}

impl Default for LivenessOptions {
    fn default() -> Self {
        LivenessOptions {
            max_states: 5_000_000,
            threads: 0,
            memory: MemoryBudget::default_share(),
        }
    }
}

/// [`check_liveness_assuming`] with every option given.
pub fn check_liveness_with<S: System>(
    model: &Model<S>,
    options: &LivenessOptions,
    assume: Assumption<'_, S>,
) -> LivenessReport<S> {
    let max_states = options.max_states;
    let init = match model.init() {
        Ok(w) => w,
        Err(e) => {
            return LivenessReport {
                outcome: LivenessOutcome::CannotStart(e.to_string()),
                states: 0,
                edges: 0,
            }
        }
    };
    let mut limits = Limits {
        max_states: Some(max_states),
        keep_graph: true,
        ..Limits::default()
    }
    .with_memory(&options.memory);
    if options.threads > 0 {
        limits.threads = options.threads;
    }
    let g = search::search(&Steps { model, assume }, init, &limits);
    if let Ended::Bounded(bound) = g.ended() {
        return LivenessReport {
            outcome: LivenessOutcome::Bounded(*bound),
            states: g.len(),
            edges: 0,
        };
    }
    let states = g.len();
    let edges = g.edge_count();
    let done = |outcome| LivenessReport {
        outcome,
        states,
        edges,
    };
    // Fair steps enabled in each state.
    let enabled: Vec<Vec<u64>> = search::map_parallel(g.states(), limits.threads, |w| {
        let mut keys: Vec<u64> = allowed(model, w, assume)
            .into_iter()
            .filter_map(|a| fair_key(model, w, a))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    });
    for (p, meta) in S::eventually().iter().enumerate() {
        let keep: Vec<bool> = search::map_parallel(g.states(), limits.threads, |w| {
            !S::check_eventually(p, &model.setup, w)
        });
        let comp = components(&g, &keep);
        let count = comp.iter().flatten().max().map_or(0, |&c| c as usize + 1);
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); count];
        for (i, c) in comp.iter().enumerate() {
            if let Some(c) = c {
                members[*c as usize].push(i as u32);
            }
        }
        // Components in order of their first state's discovery, so the
        // reported lasso is among the shortest.
        let mut order: Vec<usize> = (0..count).collect();
        order.sort_by_key(|&c| members[c].iter().min().copied());
        for c in order {
            let states_in = &members[c];
            let inside = |j: u32| comp[j as usize] == Some(c as u32);
            let first = states_in[0] as usize;
            let stops = g.edges(first as u32).is_empty();
            let internal: Vec<(u32, u32, Action)> = states_in
                .iter()
                .flat_map(|&i| {
                    g.edges(i)
                        .iter()
                        .filter(|(j, _)| inside(*j))
                        .map(move |&(j, a)| (i, j, a))
                })
                .collect();
            if !stops && internal.is_empty() {
                continue; // a transient state, not a cycle
            }
            // Fair steps enabled everywhere in the component must be taken in it.
            let mut always: Vec<u64> = enabled[first].clone();
            for &i in states_in {
                always.retain(|k| enabled[i as usize].binary_search(k).is_ok());
            }
            let taken: Vec<u64> = internal
                .iter()
                .filter_map(|&(i, _, a)| fair_key(model, &g.states()[i as usize], a))
                .collect();
            if always.iter().any(|k| !taken.contains(k)) {
                continue; // unfair: some step is enabled forever but never taken
            }
            let lasso = build_lasso(model, &g, states_in, &internal, &always, meta.name, inside);
            return done(LivenessOutcome::Violation(Box::new(lasso)));
        }
    }
    done(LivenessOutcome::Holds)
}

/// The lasso through a fair component: a shortest prefix to its earliest
/// state, then a cycle that takes each required fair step and returns.
fn build_lasso<S: System>(
    model: &Model<S>,
    g: &Graph<'_, S>,
    states_in: &[u32],
    internal: &[(u32, u32, Action)],
    required: &[u64],
    property: &'static str,
    inside: impl Fn(u32) -> bool,
) -> Lasso<S> {
    let start = *states_in.iter().min().unwrap_or(&0);
    // Prefix from parents.
    let mut events: Vec<Event<S>> = g
        .path(start)
        .iter()
        .map(|&(p, a)| model.event(&g.states()[p as usize], a))
        .collect();
    let cycle_start = events.len();
    // Shortest path inside the component from `from` to a state satisfying `goal`.
    let walk = |from: u32, goal: &dyn Fn(u32, Option<Action>) -> bool| -> Vec<(u32, Action)> {
        let mut prev: HashMap<u32, (u32, Action)> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        let mut seen = std::collections::HashSet::from([from]);
        while let Some(v) = queue.pop_front() {
            for &(w, a) in g.edges(v) {
                if !inside(w) {
                    continue;
                }
                if goal(v, Some(a))
                    || (seen.insert(w) && {
                        prev.insert(w, (v, a));
                        queue.push_back(w);
                        false
                    })
                {
                    let mut steps = vec![(v, a)];
                    let mut x = v;
                    while let Some(&(p, pa)) = prev.get(&x) {
                        steps.push((p, pa));
                        x = p;
                    }
                    steps.reverse();
                    return steps;
                }
            }
        }
        Vec::new()
    };
    if !internal.is_empty() {
        let mut at = start;
        let mut steps: Vec<(u32, Action)> = Vec::new();
        for &k in required {
            let part = walk(at, &|v, a| {
                a.is_some_and(|a| fair_key(model, &g.states()[v as usize], a) == Some(k))
            });
            if let Some(&(v, a)) = part.last() {
                at = g
                    .edges(v)
                    .iter()
                    .find(|(_, b)| *b == a)
                    .map_or(at, |&(w, _)| w);
            }
            steps.extend(part);
        }
        // Back to the start (at least one step).
        let back = walk(at, &|v, a| {
            a.is_some_and(|a| g.edges(v).iter().any(|&(w, b)| b == a && w == start))
        });
        steps.extend(back);
        events.extend(
            steps
                .iter()
                .map(|&(v, a)| model.event(&g.states()[v as usize], a)),
        );
    }
    let message = if cycle_start == events.len() {
        format!(
            "the run stops after step {cycle_start} (no step is enabled) and the goal does not hold"
        )
    } else {
        format!(
            "steps {}..{} repeat forever (a fair cycle) and the goal never holds",
            cycle_start + 1,
            events.len()
        )
    };
    Lasso {
        property,
        counterexample: Counterexample::new(
            Violation::Liveness {
                property,
                message,
                cycle_start: (cycle_start < events.len()).then_some(cycle_start),
            },
            events,
        ),
        cycle_start,
    }
}
