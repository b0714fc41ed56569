//! Handler-local inductiveness checks and counterexamples to induction.
//!
//! An invariant set is *inductive* when every step from any world that
//! satisfies all of it — reachable or not — leads to a world that satisfies
//! it again. Then it holds in every reachable world, at any size, by
//! induction on runs. `induct` splits that obligation into one per (kind of
//! step, invariant) pair:
//!
//! - **by footprint** ([`footprint`]): the step cannot change anything the
//!   invariant reads, so it preserves it — by construction, no search;
//! - otherwise it searches for a **counterexample to induction** (CTI): a
//!   pre-state satisfying every invariant from which one step breaks one.
//!   Pre-states come from the recombination [`domain`]; so "no CTI" means
//!   *no CTI within that bounded domain* — evidence, not a proof.
//!
//! [`infer`] mines candidate invariants from reachable worlds and prunes
//! them, Houdini-style, to a set that is inductive on the same domain.

pub mod domain;
pub mod footprint;
pub mod infer;
mod progress;
pub mod report;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::ctx::Effects;
use crate::fingerprint::Fingerprinter;
use crate::meta::{InvariantId, InvariantScope};
use crate::semantics::network::Network;
use crate::semantics::{Action, Event, Model, World};
use crate::system::System;

pub use crate::observe;
pub use domain::{Domain, ReachableFailure};
pub use footprint::{step_kinds, step_name, StepKind};
pub use report::render;

pub(crate) use progress::Watch;

/// Bounds of the induction search. The defaults suit the examples at their
/// default sizes.
#[derive(Debug, Clone)]
pub struct InductOptions {
    /// Reachable worlds the bounded check collects (breadth first).
    pub max_reachable: usize,
    /// Steps from the initial world the bounded check goes; `None`: no bound.
    pub max_depth: Option<usize>,
    /// Packets in flight in a recombined network.
    pub max_in_flight: usize,
    /// Distinct packets the recombination draws from (the message universe).
    pub max_packets: usize,
    /// Pre-states tried; beyond it they are sampled at random.
    pub max_prestates: u64,
    /// States per node the domain holds at most: the reachable ones, then
    /// those a field domain adds (`#[domain(..)]`, booleans) up to this.
    pub max_slots: usize,
    /// Seed of that sampling.
    pub seed: u64,
    /// Where the search counts what it does, for a progress display.
    pub(crate) progress: Option<Arc<Watch>>,
}

impl Default for InductOptions {
    fn default() -> Self {
        InductOptions {
            max_reachable: 100_000,
            max_depth: None,
            max_in_flight: 2,
            max_packets: 64,
            max_prestates: 200_000,
            max_slots: 256,
            seed: 0,
            progress: None,
        }
    }
}

impl InductOptions {
    /// The counts to bump (nobody's when no progress is shown).
    pub(crate) fn watch(&self) -> &Watch {
        self.progress.as_deref().unwrap_or(&progress::UNWATCHED)
    }

    /// The pre-states [`Domain::prestates`] yields at most.
    pub(crate) fn prestates_of<S: System>(&self, domain: &Domain<S>) -> u64 {
        domain.size().min(self.max_prestates as u128) as u64
    }
}

/// The verdict on one (kind of step, invariant) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairVerdict {
    /// The step cannot change what the invariant reads.
    ByFootprint,
    /// Searched: no pre-state in the domain lets this step break it.
    NoCti,
    /// Searched: a counterexample, by index in [`InductReport::ctis`].
    Cti(usize),
    /// Not searched, for the reason given (it reads the trace, which a
    /// recombined pre-state does not have).
    NotSearched(&'static str),
}

/// A counterexample to induction: a pre-state that satisfies every
/// invariant, one step, and the post-state where `invariant` fails.
#[derive(Debug, Clone)]
pub struct Cti<S: System> {
    /// The kind of step.
    pub kind: StepKind,
    /// The invariant it breaks.
    pub invariant: InvariantId,
    /// The pre-state, minimised: nodes that do not matter are in their
    /// initial state, packets that do not matter are gone.
    pub pre: World<S>,
    /// The step.
    pub event: Event<S>,
    /// The world after it.
    pub post: World<S>,
    /// Why the invariant fails there, as it says.
    pub message: String,
}

/// Numbers about the search, for the report.
#[derive(Debug, Clone, Default)]
pub struct SearchStats {
    /// Pre-states built.
    pub prestates: u64,
    /// Of those, the ones satisfying every searched invariant.
    pub satisfying: u64,
    /// Steps taken from them.
    pub steps: u64,
    /// Steps that failed (a handler error), skipped.
    pub failed_steps: u64,
}

/// The outcome of [`induct`].
#[derive(Debug)]
pub struct InductReport<S: System> {
    /// The rows of the table.
    pub kinds: Vec<StepKind>,
    /// `table[row][invariant]`.
    pub table: Vec<Vec<PairVerdict>>,
    /// The counterexamples found, minimised.
    pub ctis: Vec<Cti<S>>,
    /// Steps the footprints said cannot break an invariant, yet did: the
    /// metadata does not match the handlers (a hand-written system).
    pub footprint_errors: Vec<String>,
    /// The search's numbers.
    pub stats: SearchStats,
    /// The domain's numbers: reachable worlds, packets, pre-states in all.
    pub reachable: usize,
    /// Whether the bounded check covered every reachable world.
    pub reachable_exhausted: bool,
    /// Node states the field domains added to the reachable ones.
    pub varied: usize,
    /// Distinct packets in the universe, and whether it was capped.
    pub packets: (usize, bool),
    /// How many pre-states the recombination has in all.
    pub domain_size: u128,
    /// The initial world: a CTI shows only the nodes not in their state there.
    pub initial: World<S>,
}

impl<S: System> InductReport<S> {
    /// Whether no counterexample to induction was found.
    pub fn inductive(&self) -> bool {
        self.ctis.is_empty()
    }

    /// Pairs discharged by footprint, and all pairs.
    pub fn footprint_share(&self) -> (usize, usize) {
        let all = self.table.iter().flatten().count();
        let by = self
            .table
            .iter()
            .flatten()
            .filter(|v| **v == PairVerdict::ByFootprint)
            .count();
        (by, all)
    }

    /// The verdict on (`kind`, `invariant`), if `kind` is a row.
    pub fn verdict(&self, kind: StepKind, invariant: InvariantId) -> Option<PairVerdict> {
        let row = self.kinds.iter().position(|k| *k == kind)?;
        self.table[row].get(invariant).copied()
    }
}

/// Whether invariant `id` is one a recombined pre-state can be judged by:
/// it does not read the trace or the history.
pub fn is_state_invariant<S: System>(id: InvariantId) -> bool {
    let inv = &S::meta().invariants[id];
    inv.scope != InvariantScope::Trace && !inv.reads_trace && !inv.reads_history
}

/// Evaluates invariant `id` on `world`: `Err` says how it fails.
pub fn holds<S: System>(
    model: &Model<S>,
    world: &World<S>,
    id: InvariantId,
) -> Result<(), crate::violation::Violation> {
    crate::violation::check_invariant(&model.setup, world, id)
}

/// The kind of step `action` was, given the handler that ran.
pub(crate) fn kind_of<S: System>(
    model: &Model<S>,
    action: Action,
    handler: Option<crate::meta::HandlerId>,
) -> StepKind {
    let role = |i: usize| S::role_of(model.setup.nodes()[i]);
    match action {
        Action::Input { .. } | Action::Deliver(..) | Action::Timeout { .. } => {
            handler.map_or(StepKind::Unhandled, StepKind::Handler)
        }
        Action::Drop(_) => StepKind::Drop,
        Action::Duplicate(_) => StepKind::Duplicate,
        Action::Crash(i) => StepKind::Crash(role(i)),
        Action::Restart(i) => StepKind::Restart(role(i)),
        Action::Partition(_) | Action::Cut(_) | Action::Heal => StepKind::Partition,
    }
}

/// Checks each (kind of step, invariant) pair of `model`: by footprint, or
/// by a search for a counterexample to induction on the recombination
/// domain of a bounded check. `Err` when a reachable world already breaks
/// an invariant (the invariant is false, not merely not inductive).
pub fn induct<S: System>(
    model: &Model<S>,
    options: &InductOptions,
) -> Result<InductReport<S>, ReachableFailure> {
    let domain = domain::build(model, options)?;
    Ok(induct_on(model, options, &domain))
}

/// [`induct`] on a domain already built.
pub fn induct_on<S: System>(
    model: &Model<S>,
    options: &InductOptions,
    domain: &Domain<S>,
) -> InductReport<S> {
    let meta = S::meta();
    let n_inv = meta.invariants.len();
    let mid_step = model.reads_network_mid_step();
    let mut kinds = step_kinds(meta, &model.faults);
    let verdict_for = |kind: StepKind, id: InvariantId| {
        if !footprint::changes(meta, kind, mid_step).may_affect(&meta.invariants[id]) {
            PairVerdict::ByFootprint
        } else if !is_state_invariant::<S>(id) {
            PairVerdict::NotSearched("reads the trace")
        } else {
            PairVerdict::NoCti
        }
    };
    let mut table: Vec<Vec<PairVerdict>> = kinds
        .iter()
        .map(|&k| (0..n_inv).map(|i| verdict_for(k, i)).collect())
        .collect();
    let searched: Vec<InvariantId> = (0..n_inv).filter(|&i| is_state_invariant::<S>(i)).collect();
    let mut ctis: Vec<Cti<S>> = Vec::new();
    let mut footprint_errors = Vec::new();
    let mut stats = SearchStats::default();
    let mut effects = Effects::default();
    let mut actions = Vec::new();
    let watch = options.watch();
    watch.phase(
        "searching for counterexamples to induction",
        "pre-states",
        Some(options.prestates_of(domain)),
        String::new(),
    );
    for pre in domain.prestates(options) {
        watch.step();
        watch.examined(1);
        stats.prestates += 1;
        if !searched.iter().all(|&i| holds(model, &pre, i).is_ok()) {
            continue;
        }
        stats.satisfying += 1;
        actions.clear();
        model.actions(&pre, &mut actions);
        for &action in &actions {
            let mut post = pre.clone();
            let info = match model.apply(&mut post, action, &mut effects) {
                Ok(info) => info,
                Err(_) => {
                    stats.failed_steps += 1;
                    continue;
                }
            };
            stats.steps += 1;
            watch.examined(1);
            let kind = kind_of(model, action, info.handler);
            let row = match kinds.iter().position(|k| *k == kind) {
                Some(r) => r,
                None => {
                    kinds.push(kind);
                    table.push((0..n_inv).map(|i| verdict_for(kind, i)).collect());
                    kinds.len() - 1
                }
            };
            for &id in &searched {
                let verdict = table[row][id];
                if matches!(verdict, PairVerdict::Cti(_)) {
                    continue;
                }
                let Err(message) = holds(model, &post, id) else {
                    continue;
                };
                if verdict == PairVerdict::ByFootprint {
                    footprint_errors.push(format!(
                        "`{}` broke `{}`, which its footprint says it cannot change: the system's metadata does not match its handlers",
                        step_name(meta, kind),
                        meta.invariants[id].name
                    ));
                    continue;
                }
                let event = model.event(&pre, action);
                let cti = minimise(
                    model,
                    &searched,
                    &domain.initial,
                    Cti {
                        kind,
                        invariant: id,
                        pre: pre.clone(),
                        event,
                        post: post.clone(),
                        message: message.to_string(),
                    },
                );
                table[row][id] = PairVerdict::Cti(ctis.len());
                ctis.push(cti);
                watch.cti();
            }
        }
    }
    InductReport {
        kinds,
        table,
        ctis,
        footprint_errors,
        stats,
        reachable: domain.reachable,
        reachable_exhausted: domain.reachable_exhausted,
        varied: domain.varied,
        packets: (domain.packets, domain.packets_capped),
        domain_size: domain.size(),
        initial: domain.initial.clone(),
    }
}

fn slot_key<S: System>(slot: &crate::semantics::world::NodeSlot<S>) -> u64 {
    let mut h = Fingerprinter::with_seed(7);
    slot.hash(&mut h);
    h.finish()
}

/// `world` without the packet at `index`.
fn without_packet<S: System>(world: &World<S>, index: usize) -> World<S> {
    let mut out = world.clone();
    let mut net = Network::new(world.network.is_unordered());
    for (j, p) in world.network.packets().iter().enumerate() {
        if j != index {
            net.send(p.clone());
        }
    }
    out.network = net;
    out
}

/// If `pre` satisfies every invariant in `assumed` and `event` from it
/// breaks `invariant`, the post-state and the invariant's message.
fn still_breaks<S: System>(
    model: &Model<S>,
    assumed: &[InvariantId],
    pre: &World<S>,
    event: &Event<S>,
    invariant: InvariantId,
) -> Option<(World<S>, String)> {
    if !assumed.iter().all(|&i| holds(model, pre, i).is_ok()) {
        return None;
    }
    let action = model.action_for(pre, event)?;
    let mut post = pre.clone();
    model
        .apply(&mut post, action, &mut Effects::default())
        .ok()?;
    holds(model, &post, invariant)
        .err()
        .map(|m| (post, m.to_string()))
}

/// Shrinks a CTI's pre-state while it stays one: drops each packet the
/// step does not need, and puts each node back in its initial state, as
/// long as the pre-state still satisfies every invariant and the same step
/// still breaks the same invariant.
fn minimise<S: System>(
    model: &Model<S>,
    assumed: &[InvariantId],
    initial: &World<S>,
    mut cti: Cti<S>,
) -> Cti<S> {
    let mut changed = true;
    while changed {
        changed = false;
        for j in (0..cti.pre.network.len()).rev() {
            let smaller = without_packet(&cti.pre, j);
            if let Some((post, message)) =
                still_breaks(model, assumed, &smaller, &cti.event, cti.invariant)
            {
                (cti.pre, cti.post, cti.message) = (smaller, post, message);
                changed = true;
            }
        }
        for i in 0..cti.pre.nodes.len() {
            if slot_key(&cti.pre.nodes[i]) == slot_key(&initial.nodes[i]) {
                continue;
            }
            let mut smaller = cti.pre.clone();
            smaller.nodes[i] = initial.nodes[i].clone();
            if let Some((post, message)) =
                still_breaks(model, assumed, &smaller, &cti.event, cti.invariant)
            {
                (cti.pre, cti.post, cti.message) = (smaller, post, message);
                changed = true;
            }
        }
    }
    cti
}

/// The node indices of `world` not in their initial state, plus the one
/// `event` happens at: the nodes a CTI shows.
pub fn nodes_that_matter<S: System>(
    model: &Model<S>,
    initial: &World<S>,
    world: &World<S>,
    event: &Event<S>,
) -> Vec<usize> {
    let at = event.node().and_then(|n| model.setup.index_of(n));
    (0..world.nodes.len())
        .filter(|&i| slot_key(&world.nodes[i]) != slot_key(&initial.nodes[i]) || Some(i) == at)
        .collect()
}
