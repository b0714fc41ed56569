//! Crash recovery: a system written for nodes that never crash keeps its
//! guarantees when they crash and restart.
//!
//! The discipline is the write-ahead rule: a node's effects (messages,
//! outputs, timer changes) leave it only after the state change that
//! produced them is durable. Then a crash at any moment either loses the
//! whole event (it was never logged: for a message, the same as the network
//! losing it; for an input, as if it never arrived) or nothing (it was
//! logged: recovery rebuilds the state the effects came from). Verdict's
//! step is atomic — a handler's state change and its effects happen
//! together — so in the checker the rule amounts to: every field of the
//! base is durable, and a crash loses only what is not part of the state.
//!
//! [`CrashRecovery<S>`] therefore
//! - marks every field of `S` durable (the runtime persists durable state
//!   before it releases a handler's effects, which is the write-ahead rule);
//! - remembers which of the base's timers are armed, and re-arms them on
//!   restart (a crash disarms timers);
//! - never shows the base a `Restart`: the base was not written for
//!   crashes, so recovery is transparent and the node resumes where it was.
//!
//! # Assumes and guarantees
//!
//! - Assumes: the base is correct on the network it runs on when nodes do
//!   not crash. While a node is down, messages to it may be lost; the base
//!   must tolerate that, or be wrapped by [`crate::transform::Reliable`]
//!   too (`Reliable<CrashRecovery<S>>`).
//! - Guarantees: a crash-restart of a node looks to everyone else like a
//!   pause of that node during which messages to it may be lost. Outputs
//!   a node was about to emit when it crashed are lost with the event,
//!   as with any external client that times out.
//!
//! Base invariants are evaluated on the base states, the same packets in
//! flight and the trace, unchanged.

use std::marker::PhantomData;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ctx::{Effects, TimerOp};
use crate::faults::Faults;
use crate::meta::{FieldSet, HandlerId, InvariantId, RoleId, SystemMeta, TriggerMeta};
use crate::semantics::{Model, World};
use crate::setup::{Cluster, Setup};
use crate::system::{System, Trigger};
use crate::transform::layer::{cached_meta, timers_set_by, MetaBuilder};
use crate::transform::projection::{project_world, same_network, Reads};
use crate::transform::wrap_model;

/// System `S` made to survive crash-restart by keeping all of its state
/// durable and re-arming its timers on restart. See the
/// [module documentation](self).
pub struct CrashRecovery<S>(PhantomData<fn() -> S>);

crate::transform::layer::marker_traits!(CrashRecovery<S>);

/// The state of a node of [`CrashRecovery`]: the base's, all of it
/// durable, and the base timers armed (with their durations), to re-arm on
/// restart.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecoveringState<St, T> {
    /// The base system's state.
    pub base: St,
    /// Armed base timers, sorted by timer id.
    pub armed: Vec<(T, Duration)>,
}

fn build_meta<S: System>() -> SystemMeta {
    let base = S::meta();
    let mut b = MetaBuilder::from_base(format!("CrashRecovery<{}>", base.name), base, true);
    let armed = b.add_field_to_all(
        "recovery_timers",
        "Vec<(Timer, Duration)>: armed timers, re-armed after a restart",
        true,
    );
    for h in &mut b.handlers {
        if !h.sets.is_empty() || matches!(h.trigger, TriggerMeta::Timer(_)) {
            h.writes.extend(&armed[h.role]);
            h.reads = h.reads.minus(&h.writes);
        }
    }
    for (r, role) in base.roles.iter().enumerate() {
        b.add_handler(
            r,
            TriggerMeta::Restart,
            format!(
                "{} on restart (crash recovery: state kept, timers re-armed)",
                role.name
            ),
            armed[r].clone(),
            FieldSet::EMPTY,
            vec![],
            timers_set_by(base, r),
        );
    }
    b.build()
}

/// Records a base timer change in the list of armed timers.
fn track<S: System>(armed: &mut Vec<(S::Timer, Duration)>, op: &TimerOp<S::Timer>) {
    let (timer, set) = match *op {
        TimerOp::Set(t, d) => (t, Some(d)),
        TimerOp::Cancel(t) => (t, None),
    };
    let id = S::timer_id(timer);
    let at = armed.binary_search_by_key(&id, |(t, _)| S::timer_id(*t));
    match (at, set) {
        (Ok(i), Some(d)) => armed[i].1 = d,
        (Err(i), Some(d)) => armed.insert(i, (timer, d)),
        (Ok(i), None) => {
            armed.remove(i);
        }
        (Err(_), None) => {}
    }
}

impl<S: System> System for CrashRecovery<S> {
    type Node = S::Node;
    type Role = S::Role;
    type State = RecoveringState<S::State, S::Timer>;
    type Input = S::Input;
    type Output = S::Output;
    type Msg = S::Msg;
    type Timer = S::Timer;
    type Config = S::Config;

    fn meta() -> &'static SystemMeta {
        cached_meta::<Self>(build_meta::<S>)
    }

    super::forward_to_base!(S, nodes);

    fn initial_state(node: Self::Node, config: &Self::Config) -> Self::State {
        RecoveringState {
            base: S::initial_state(node, config),
            armed: Vec::new(),
        }
    }

    fn dispatch(
        cluster: Cluster<'_, Self::Node, Self::Config>,
        node: Self::Node,
        state: &mut Self::State,
        trigger: Trigger<Self>,
        effects: &mut Effects<Self>,
    ) -> Option<HandlerId> {
        let mut fx = Effects::<S>::default();
        let base = match trigger {
            Trigger::Restart => {
                effects.timers.extend(
                    state
                        .armed
                        .iter()
                        .map(|&(timer, after)| TimerOp::Set(timer, after)),
                );
                return Some(restart_handler(S::meta(), S::role_of(node)));
            }
            Trigger::Start => Trigger::Start,
            Trigger::Input(input) => Trigger::Input(input),
            Trigger::Message { from, msg } => Trigger::Message { from, msg },
            Trigger::Timer(t) => {
                // A timer that fires is no longer armed.
                track::<S>(&mut state.armed, &TimerOp::Cancel(t));
                Trigger::Timer(t)
            }
        };
        let ran = S::dispatch(cluster, node, &mut state.base, base, &mut fx);
        for op in &fx.timers {
            track::<S>(&mut state.armed, op);
        }
        effects.sends.append(&mut fx.sends);
        effects.outputs.append(&mut fx.outputs);
        effects.timers.append(&mut fx.timers);
        ran
    }

    fn crash(_node: Self::Node, _state: &mut Self::State, _config: &Self::Config) {
        // Everything is durable: the log restores the state the node had.
    }

    super::forward_to_base!(S, kinds);

    fn check_global(
        invariant: InvariantId,
        setup: &Setup<Self>,
        world: &World<Self>,
    ) -> Result<(), String> {
        let reads = Reads::of::<S>(invariant);
        let base = setup.with_system::<S>(setup.config().clone());
        let projected = project_world::<Self, S>(
            world,
            reads,
            u64::MAX,
            |st| st.base.clone(),
            || same_network::<Self, S>(&world.network),
        );
        S::check_global(invariant, &base, &projected)
    }

    super::forward_to_base!(S, local);

    fn relabel_state(
        state: &mut Self::State,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        // Armed timers name no nodes.
        S::relabel_state(&mut state.base, map)
    }

    fn relabel_msg(
        msg: &mut Self::Msg,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        S::relabel_msg(msg, map)
    }

    super::forward_to_base!(S, relabel_io);

    super::forward_to_base!(S, stale);

    fn changed_fields(role: RoleId, before: &Self::State, after: &Self::State) -> Option<FieldSet> {
        let mut changed = S::changed_fields(role, &before.base, &after.base)?;
        if before.armed != after.armed {
            changed.insert(S::meta().roles[role].fields.len());
        }
        Some(changed)
    }

    fn fields(state: &Self::State) -> Vec<(&'static str, String)> {
        let mut fields = S::fields(&state.base);
        fields.push(("recovery_timers", format!("{:?}", state.armed)));
        fields
    }
}

/// The model of `CrashRecovery<S>` around `base`'s model: the same nodes,
/// workload and configuration, under `faults`.
pub fn recovering_model<S: System>(base: &Model<S>, faults: Faults) -> Model<CrashRecovery<S>> {
    wrap_model::<CrashRecovery<S>, S>(base, base.setup.config().clone(), faults)
}

/// The id of the transformer's restart handler of `role`: after the base's.
fn restart_handler(base: &SystemMeta, role: RoleId) -> HandlerId {
    base.handlers.len() + role
}
