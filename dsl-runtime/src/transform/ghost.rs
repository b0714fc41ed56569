//! Ghost state: bookkeeping that observes a system without influencing it.
//!
//! A proof often needs a variable the system does not have — how many
//! grants a client has received, the history of values a node has held —
//! to state an invariant. [`Ghost<S, O>`] adds such a variable to every
//! node: after each base handler runs, the [`Observer`] `O` sees the event,
//! the state before and after and the effects, all read-only, and updates
//! its ghost. The ghost can be read by the observer's own invariant, but
//! nothing flows back: the observer's signature gives it no way to change
//! the base state, send, emit or set a timer.
//!
//! That the ghost changes nothing is also checked, not only argued:
//! [`check_transparent`] explores the ghost system and, at every reachable
//! world and for every step, compares it with the base system taking the
//! same step from the same world without the ghost: the same next world
//! (states, network, timers, trace) and the same effects. A difference is
//! reported with the steps that lead to it.
//!
//! # Assumes and guarantees
//!
//! - Assumes: nothing of the network; the ghost is kept across crashes (it
//!   is a record of what happened, not state a node could lose).
//! - Guarantees: the same external traces and the same base worlds as `S`,
//!   under any fault model (checked by [`check_transparent`] within its
//!   bounds). Base invariants are evaluated on the base worlds unchanged;
//!   the observer's invariant is added after them.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::budget::MemoryBudget;
use crate::check::{thousands, CheckOptions};
use crate::ctx::Effects;
use crate::meta::{
    FieldSet, HandlerId, InvariantId, InvariantMeta, InvariantScope, RoleId, SystemMeta,
};
use crate::search::{self, Ended, Limits, Space};
use crate::semantics::{Event, Model, World};
use crate::setup::{Cluster, Setup};
use crate::system::{Data, System, Trigger};
use crate::transform::layer::{all_fields, cached_meta, leak_slice, MetaBuilder};
use crate::transform::projection::{project_world, same_network, Reads};
use crate::transform::refinement::replay_indices;

/// What an observer sees of one base step, all read-only.
pub struct Observed<'a, S: System> {
    /// The node the step happened at.
    pub node: S::Node,
    /// The event it handled.
    pub trigger: &'a Trigger<S>,
    /// The base handler that ran.
    pub handler: HandlerId,
    /// The node's base state before the step.
    pub before: &'a S::State,
    /// The node's base state after the step.
    pub after: &'a S::State,
    /// What the handler sent, emitted and set.
    pub effects: &'a Effects<S>,
}

/// One node as the observer's invariant sees it.
pub struct GhostView<'a, S: System, G> {
    /// The node.
    pub node: S::Node,
    /// Whether it is running.
    pub up: bool,
    /// Its base state.
    pub base: &'a S::State,
    /// Its ghost.
    pub ghost: &'a G,
}

/// Ghost bookkeeping over system `S`.
pub trait Observer<S: System>: Send + Sync + 'static {
    /// The ghost kept at each node.
    type Ghost: Data;
    /// The ghost's name: the added field and the observer's invariant are
    /// called this.
    const NAME: &'static str;

    /// The ghost `node` starts with.
    fn initial(node: S::Node) -> Self::Ghost;

    /// Updates `ghost` after one base step at its node.
    fn observe(ghost: &mut Self::Ghost, step: &Observed<'_, S>);

    /// An invariant over every node's base state and ghost, checked after
    /// the base's invariants. Holds by default.
    fn invariant(nodes: &[GhostView<'_, S, Self::Ghost>]) -> Result<(), String> {
        let _ = nodes;
        Ok(())
    }
}

/// System `S` with ghost bookkeeping `O` at every node. See the
/// [module documentation](self).
pub struct Ghost<S, O>(PhantomData<fn() -> (S, O)>);

crate::transform::layer::marker_traits!(Ghost<S, O>);

/// The state of a node of [`Ghost`]: the base's and the ghost.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GhostState<St, G> {
    /// The base system's state.
    pub base: St,
    /// The observer's ghost.
    pub ghost: G,
}

fn build_meta<S: System, O: Observer<S>>() -> SystemMeta {
    let base = S::meta();
    let mut b = MetaBuilder::from_base(format!("Ghost<{}, {}>", base.name, O::NAME), base, false);
    let whole: Vec<FieldSet> = (0..base.roles.len()).map(|r| all_fields(base, r)).collect();
    let ghost = b.add_field_to_all(O::NAME, std::any::type_name::<O::Ghost>(), true);
    for h in &mut b.handlers {
        // The observer may read the whole state after any handler.
        h.writes.extend(&ghost[h.role]);
        h.reads = whole[h.role].minus(&h.writes);
    }
    let reads_fields: Vec<(RoleId, FieldSet)> = (0..base.roles.len())
        .map(|r| (r, whole[r].union(&ghost[r])))
        .collect();
    b.invariants.push(InvariantMeta {
        name: O::NAME,
        scope: InvariantScope::Global,
        reads_fields: leak_slice(reads_fields),
        reads_network: false,
        reads_trace: false,
        reads_history: false,
        hash: crate::meta::mix_hash(b.source_hash, O::NAME),
    });
    b.build()
}

/// A copy of a trigger (whose derived `Clone` would require `S: Clone`).
fn copy_trigger<S: System>(t: &Trigger<S>) -> Trigger<S> {
    match t {
        Trigger::Start => Trigger::Start,
        Trigger::Input(i) => Trigger::Input(i.clone()),
        Trigger::Message { from, msg } => Trigger::Message {
            from: *from,
            msg: msg.clone(),
        },
        Trigger::Timer(t) => Trigger::Timer(*t),
        Trigger::Restart => Trigger::Restart,
    }
}

impl<S: System, O: Observer<S>> System for Ghost<S, O> {
    type Node = S::Node;
    type Role = S::Role;
    type State = GhostState<S::State, O::Ghost>;
    type Input = S::Input;
    type Output = S::Output;
    type Msg = S::Msg;
    type Timer = S::Timer;
    type Config = S::Config;

    fn meta() -> &'static SystemMeta {
        cached_meta::<Self>(build_meta::<S, O>)
    }

    super::forward_to_base!(S, nodes);

    fn initial_state(node: Self::Node, config: &Self::Config) -> Self::State {
        GhostState {
            base: S::initial_state(node, config),
            ghost: O::initial(node),
        }
    }

    fn dispatch(
        cluster: Cluster<'_, Self::Node, Self::Config>,
        node: Self::Node,
        state: &mut Self::State,
        trigger: Trigger<Self>,
        effects: &mut Effects<Self>,
    ) -> Option<HandlerId> {
        let trigger: Trigger<S> = match trigger {
            Trigger::Start => Trigger::Start,
            Trigger::Input(i) => Trigger::Input(i),
            Trigger::Message { from, msg } => Trigger::Message { from, msg },
            Trigger::Timer(t) => Trigger::Timer(t),
            Trigger::Restart => Trigger::Restart,
        };
        let seen = copy_trigger(&trigger);
        let before = state.base.clone();
        let mut fx = Effects::<S>::default();
        let handler = S::dispatch(cluster, node, &mut state.base, trigger, &mut fx);
        // Only a step a base handler ran is observed: the ghost is part of
        // that handler's footprint, and of no other step's.
        if let Some(handler) = handler {
            O::observe(
                &mut state.ghost,
                &Observed {
                    node,
                    trigger: &seen,
                    handler,
                    before: &before,
                    after: &state.base,
                    effects: &fx,
                },
            );
        }
        effects.sends.append(&mut fx.sends);
        effects.outputs.append(&mut fx.outputs);
        effects.timers.append(&mut fx.timers);
        handler
    }

    fn crash(node: Self::Node, state: &mut Self::State, config: &Self::Config) {
        S::crash(node, &mut state.base, config);
    }

    super::forward_to_base!(S, kinds);

    fn check_global(
        invariant: InvariantId,
        setup: &Setup<Self>,
        world: &World<Self>,
    ) -> Result<(), String> {
        let base_count = S::meta().invariants.len();
        if invariant == base_count {
            let views: Vec<GhostView<'_, S, O::Ghost>> = world
                .nodes
                .iter()
                .zip(setup.nodes())
                .map(|(slot, &node)| GhostView {
                    node,
                    up: slot.up,
                    base: &slot.state.base,
                    ghost: &slot.state.ghost,
                })
                .collect();
            return O::invariant(&views);
        }
        let base = setup.with_system::<S>(setup.config().clone());
        let projected = project_base::<S, O>(world, Reads::of::<S>(invariant));
        S::check_global(invariant, &base, &projected)
    }

    super::forward_to_base!(S, local);

    super::forward_to_base!(S, stale);

    fn changed_fields(role: RoleId, before: &Self::State, after: &Self::State) -> Option<FieldSet> {
        let mut changed = S::changed_fields(role, &before.base, &after.base)?;
        if before.ghost != after.ghost {
            changed.insert(S::meta().roles[role].fields.len());
        }
        Some(changed)
    }

    fn fields(state: &Self::State) -> Vec<(&'static str, String)> {
        let mut fields = S::fields(&state.base);
        fields.push((O::NAME, format!("{:?}", state.ghost)));
        fields
    }
}

/// The base world inside a ghost world.
fn project_base<S: System, O: Observer<S>>(world: &World<Ghost<S, O>>, reads: Reads) -> World<S> {
    project_world::<Ghost<S, O>, S>(
        world,
        reads,
        u64::MAX,
        |st| st.base.clone(),
        || same_network::<Ghost<S, O>, S>(&world.network),
    )
}

/// What [`check_transparent`] found.
pub struct TransparencyReport<S: System, O: Observer<S>> {
    /// Distinct ghost worlds explored.
    pub worlds: u64,
    /// Steps compared.
    pub steps: u64,
    /// Whether a bound cut exploration short.
    pub bounded: bool,
    /// The first step at which the ghost system and the base differ.
    pub difference: Option<Difference<Ghost<S, O>>>,
}

/// Where a ghost system and its base part ways.
pub struct Difference<T: System> {
    /// The steps leading to it; the last one is the differing step (none
    /// when the initial worlds or the enabled steps differ).
    pub events: Vec<Event<T>>,
    /// What differs.
    pub what: String,
}

impl<S: System, O: Observer<S>> fmt::Display for TransparencyReport<S, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.difference {
            None => write!(
                f,
                "the ghost changes nothing the base can see ({} worlds, {} steps compared{})",
                thousands(self.worlds),
                thousands(self.steps),
                if self.bounded {
                    ", within the bounds"
                } else {
                    ", every reachable world"
                }
            ),
            Some(Difference { events, what }) => {
                writeln!(f, "the ghost system differs from its base: {what}")?;
                for (i, e) in events.iter().enumerate() {
                    writeln!(f, "  {:>3}. {e}", i + 1)?;
                }
                Ok(())
            }
        }
    }
}

/// The base world of a ghost world, network and trace included, for
/// comparing with the base model's own world.
fn full_base<S: System, O: Observer<S>>(world: &World<Ghost<S, O>>) -> World<S> {
    project_base::<S, O>(
        world,
        Reads {
            network: true,
            trace: true,
        },
    )
}

/// Where the ghost and the base first part ways at a world: at step number
/// `step` there, or (`None`) in which steps they enable.
struct Parting {
    step: Option<usize>,
    what: &'static str,
}

/// The ghost system stepped beside its base, as the shared search walks it.
struct Beside<'m, S: System, O: Observer<S>> {
    ghost: &'m Model<Ghost<S, O>>,
    base: &'m Model<S>,
}

impl<S: System, O: Observer<S>> Space for Beside<'_, S, O> {
    type State = World<Ghost<S, O>>;
    type Step = usize;
    type Found = Parting;

    fn fingerprint(&self, world: &World<Ghost<S, O>>) -> u64 {
        world.fingerprint()
    }

    fn expand(
        &self,
        world: &World<Ghost<S, O>>,
        out: &mut Vec<(usize, World<Ghost<S, O>>)>,
    ) -> Result<(), Parting> {
        let projected = full_base::<S, O>(world);
        let actions = self.ghost.enabled(world);
        if actions != self.base.enabled(&projected) {
            return Err(Parting {
                step: None,
                what: "the base enables different steps",
            });
        }
        let (mut gfx, mut bfx) = (Effects::default(), Effects::default());
        for (index, &action) in actions.iter().enumerate() {
            let mut next = world.clone();
            let mut next_base = projected.clone();
            let a = self.ghost.apply(&mut next, action, &mut gfx);
            let b = self.base.apply(&mut next_base, action, &mut bfx);
            let same_effects =
                gfx.sends == bfx.sends && gfx.outputs == bfx.outputs && gfx.timers == bfx.timers;
            let same = a.is_ok() == b.is_ok()
                && same_effects
                && full_base::<S, O>(&next).fingerprint() == next_base.fingerprint();
            if !same {
                return Err(Parting {
                    step: Some(index),
                    what: "this step leads to a different base world or different effects",
                });
            }
            if a.is_ok() {
                out.push((index, next));
            }
        }
        Ok(())
    }
}

/// Explores `ghost` within `options` and checks, at every reachable world
/// and for every enabled step, that `base` (the same model without the
/// ghost) enables the same steps and that each leads to the same base world
/// with the same effects.
pub fn check_transparent<S: System, O: Observer<S>>(
    ghost: &Model<Ghost<S, O>>,
    base: &Model<S>,
    options: &CheckOptions,
) -> TransparencyReport<S, O> {
    let mut report = TransparencyReport {
        worlds: 0,
        steps: 0,
        bounded: false,
        difference: None,
    };
    let init = match (ghost.init(), base.init()) {
        (Ok(g), Ok(b)) => (g, b),
        _ => {
            report.difference = Some(Difference {
                events: Vec::new(),
                what: "the initial worlds cannot be built".into(),
            });
            return report;
        }
    };
    if full_base::<S, O>(&init.0).fingerprint() != init.1.fingerprint() {
        report.difference = Some(Difference {
            events: Vec::new(),
            what: "the initial worlds differ".into(),
        });
        return report;
    }
    let limits = Limits {
        max_depth: options.max_depth,
        max_states: options.max_states.map(|m| m as usize),
        ..Limits::default()
    }
    .with_memory(
        &options
            .memory
            .clone()
            .unwrap_or_else(MemoryBudget::default_share),
    );
    let mut graph = search::search(&Beside { ghost, base }, init.0, &limits);
    report.worlds = graph.len() as u64;
    report.steps = graph.steps();
    match graph.take_ended() {
        Ended::Complete => {}
        Ended::Bounded(_) => report.bounded = true,
        Ended::Found { found, at } => {
            let mut chain: Vec<usize> = graph.path(at).into_iter().map(|(_, i)| i).collect();
            chain.extend(found.step);
            let mut events = Vec::with_capacity(chain.len());
            replay_indices(ghost, &chain, |world, action| {
                events.push(ghost.event(world, action));
            });
            report.difference = Some(Difference {
                events,
                what: found.what.into(),
            });
        }
    }
    report
}
