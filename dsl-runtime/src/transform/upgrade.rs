//! Rolling upgrades: a system whose nodes switch, one at a time and at any
//! moment, from an old version to a new one, checked in every mixed world.
//!
//! An [`UpgradePlan`] names the two versions (two `system!` types with the
//! same roles in the same order) and says how to cross between them:
//! - [`UpgradePlan::migrate`] turns a node's old state into its new state
//!   when it upgrades;
//! - [`UpgradePlan::up`] adapts an old message for a new node, and
//!   [`UpgradePlan::down`] a new message for an old node. `None` means the
//!   receiver refuses it: the delivery runs no handler and the message is
//!   gone, as if the network had lost it;
//! - inputs reach a node in the old version's type and outputs leave it in
//!   that type ([`UpgradePlan::input_up`], [`UpgradePlan::output_down`]):
//!   the outside world does not know which version it talks to.
//!
//! [`Upgrade<P>`] is a [`System`] whose node state is
//! [`Versioned::Old`] or [`Versioned::New`] and whose messages carry their
//! version. Each version's own macro-generated handlers run unchanged on
//! its nodes. Every node starts old and arms the transformer's `upgrade`
//! timer; when it fires, the node migrates, its old timers are cancelled
//! and it runs the new version from then on. The model lets that timer fire
//! only while the fault model's `upgrade` budget allows
//! (`--faults upgrade=N`: at most N nodes upgrade in a run; `upgrade`
//! alone: any number), so a check explores every order and timing of
//! upgrades within the budget, with messages of both versions in flight.
//!
//! # Invariants
//!
//! The new version's invariants, by the same ids, hold in every world,
//! evaluated on a *new view* of it: a new node as it is, an old node as
//! [`UpgradePlan::migrate`] would turn it if it upgraded now, an old
//! message in flight as [`UpgradePlan::up`] reads it (a refused one is left
//! out), and the trace with old inputs and outputs read through
//! [`UpgradePlan::input_up`] and [`UpgradePlan::output_up`]. A local
//! invariant that the old version also declares (by name) is checked on an
//! old node with the old version's own definition instead. The old
//! version's invariants that the new one does not declare follow, checked
//! (with their own definitions) only while every node is still old.
//!
//! Why the new view: once every node has upgraded, every world *is* its
//! own new view, so a violation there is a violation of the new version;
//! before that, the new view is what the world would be if the old nodes
//! upgraded this instant and their messages were read by new nodes. What
//! it misses: an old-only property in a mixed world (it is not checked
//! there), and a bad old state that migration turns into a good new one.
//! What it may flag too early: a migrated view that is bad while the
//! budget would not let that node upgrade.
//!
//! # Metadata and reductions
//!
//! Old handlers keep their ids and footprints; the new version's fields,
//! message kinds, timers and handlers follow the old ones (handlers shifted
//! past the old ones, fields past each role's old fields), then a
//! `version` field per role and the transformer's start, restart and
//! upgrade handlers. An invariant of the new view reads every old field
//! of each role it covers (migration may read any of them), the `version`
//! fields and the new fields it declares. A handler's trigger is the one its version declares: a new
//! message delivered to an old node runs the old handler of the message
//! [`UpgradePlan::down`] made of it. An `upgrade` budget is a fault, so
//! partial-order reduction (which assumes no step of one node disables
//! another node's) is off whenever nodes may upgrade. Symmetry reduction
//! applies when both versions relabel (the budget counts upgrades, not
//! which node made them). `eventually` properties are not carried over.
//!
//! # Live
//!
//! With the `runtime` feature, `runtime::live_upgrade` serves an
//! `Upgrade<P>` as the upgraded program of a deployment: started on an
//! old node's data directory it migrates it, and it talks to old peers
//! through the plan's adapters. There every node is new from its start;
//! the upgrade timer never fires.

use std::marker::PhantomData;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ctx::{Effects, TimerOp};
use crate::faults::Faults;
use crate::meta::{
    FieldMeta, FieldSet, HandlerId, HandlerMeta, InvariantId, InvariantMeta, InvariantScope,
    RoleId, SystemMeta, TimerId, TriggerMeta,
};
use crate::semantics::{Model, Network, NodeSlot, Packet, TraceEvent, World};
use crate::setup::{Cluster, Setup, Sizes};
use crate::system::{System, Trigger};
use crate::transform::layer::{cached_meta, copy_invariant, leak_slice, leak_str, MetaBuilder};
use crate::transform::wrap_model;

/// How one system is upgraded to another, node by node. See the
/// [module documentation](self).
pub trait UpgradePlan: Send + Sync + 'static {
    /// The version the nodes run first.
    type Old: System;
    /// The version they upgrade to; it declares the same roles, in the
    /// same order, as [`UpgradePlan::Old`].
    type New: System;

    /// The state `node` has after upgrading from `old`.
    fn migrate(node: Node<Self>, old: &OldState<Self>) -> NewState<Self>;

    /// An old message as a new node reads it; `None`: refused (dropped).
    fn up(msg: &<Self::Old as System>::Msg) -> Option<<Self::New as System>::Msg>;

    /// A new message as an old node reads it; `None`: refused (dropped).
    fn down(msg: &<Self::New as System>::Msg) -> Option<<Self::Old as System>::Msg>;

    /// An external input, given in the old version's type, for a new node.
    fn input_up(input: &<Self::Old as System>::Input) -> <Self::New as System>::Input;

    /// An old output as the new version's invariants read it in the trace.
    fn output_up(output: &<Self::Old as System>::Output) -> <Self::New as System>::Output;

    /// A new node's output as the outside world (which speaks the old
    /// version's types) receives it.
    fn output_down(output: &<Self::New as System>::Output) -> <Self::Old as System>::Output;

    /// The new version's configuration for a run configured with `old`;
    /// its default configuration unless overridden.
    fn new_config(old: &<Self::Old as System>::Config) -> <Self::New as System>::Config {
        let _ = old;
        Default::default()
    }

    /// The new version's timers to arm on `node` right after it upgrades
    /// to `state` (its old timers are all cancelled); none by default.
    fn timers_after_upgrade(
        node: Node<Self>,
        state: &NewState<Self>,
    ) -> Vec<(<Self::New as System>::Timer, Duration)> {
        let _ = (node, state);
        Vec::new()
    }
}

/// A node of an upgrade: the old version's node type.
pub type Node<P> = <<P as UpgradePlan>::Old as System>::Node;
/// A node state of the old version.
pub type OldState<P> = <<P as UpgradePlan>::Old as System>::State;
/// A node state of the new version.
pub type NewState<P> = <<P as UpgradePlan>::New as System>::State;

/// The same node (same role, same instance) as a node of system `B`.
pub fn same_node<A: System, B: System>(node: A::Node) -> B::Node {
    B::node(A::role_of(node), A::instance_of(node))
}

/// A value of the old version or of the new one: a node's state, or a
/// message (which carries the version of the node that sent it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Versioned<O, N> {
    /// The old version's.
    Old(O),
    /// The new version's.
    New(N),
}

/// A timer of an upgrade: one of either version's, or the step that
/// upgrades the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VersionedTimer<O, N> {
    /// A timer of the old version.
    Old(O),
    /// A timer of the new version.
    New(N),
    /// The node switches to the new version.
    Upgrade,
}

/// System `P::Old` being upgraded to `P::New`, node by node. See the
/// [module documentation](self).
pub struct Upgrade<P>(PhantomData<fn() -> P>);

crate::transform::layer::marker_traits!(Upgrade<P>);

/// How long after its start an old node's `upgrade` timer is set to fire
/// (the checker fires it at any moment the budget allows).
pub const UPGRADE_AFTER: Duration = Duration::from_secs(1);

/// Sizes of the old and new versions' tables, for shifting ids.
struct Offsets {
    handlers: usize,
    messages: usize,
    timers: usize,
}

fn offsets<P: UpgradePlan>() -> Offsets {
    let old = P::Old::meta();
    Offsets {
        handlers: old.handlers.len(),
        messages: old.messages.len(),
        timers: old.timers.len(),
    }
}

/// The field count of `role` in the old version.
fn old_fields<P: UpgradePlan>(role: RoleId) -> usize {
    P::Old::meta().roles.get(role).map_or(0, |r| r.fields.len())
}

/// The id of the upgrade timer: after both versions' timers.
fn upgrade_timer_id<P: UpgradePlan>() -> TimerId {
    P::Old::meta().timers.len() + P::New::meta().timers.len()
}

fn shift(set: &FieldSet, by: usize) -> FieldSet {
    FieldSet::of(set.iter().map(|f| f + by))
}

fn build_meta<P: UpgradePlan>() -> SystemMeta {
    let (old, new) = (P::Old::meta(), P::New::meta());
    let off = offsets::<P>();
    let name = format!("Upgrade<{} -> {}>", old.name, new.name);
    let mut b = MetaBuilder::from_base(name, old, false);
    // Fields: the old ones, the new ones (prefixed), then `version`.
    let mut version_field = Vec::new();
    for (r, role) in b.roles.iter_mut().enumerate() {
        let fields = &mut role.3;
        if let Some(nr) = new.roles.get(r) {
            for f in nr.fields {
                fields.push(FieldMeta {
                    name: leak_str(format!("new.{}", f.name)),
                    ty: f.ty,
                    init: f.init,
                    durable: f.durable,
                });
            }
        }
        fields.push(FieldMeta {
            name: "version",
            ty: "old or new",
            init: "old",
            durable: true,
        });
        version_field.push(fields.len() - 1);
    }
    let all = |r: RoleId| FieldSet::all(version_field[r] + 1);
    b.messages
        .extend(new.messages.iter().map(|m| leak_str(format!("new {m}"))));
    b.kind_hashes.2.extend_from_slice(new.hashes.messages);
    b.timers
        .extend(new.timers.iter().map(|t| leak_str(format!("new {t}"))));
    b.timers.push("upgrade");
    let up = upgrade_timer_id::<P>();
    // Old handlers say which version they are (every step of a
    // counterexample then names the version that ran it); old start and
    // restart handlers also arm the upgrade timer.
    for h in &mut b.handlers {
        h.name = leak_str(format!("{} (old version)", h.name));
        if matches!(h.trigger, TriggerMeta::Start | TriggerMeta::Restart) {
            let mut sets = h.sets.to_vec();
            sets.push(up);
            h.sets = leak_slice(sets);
        }
    }
    let all_outputs: Vec<usize> = (0..old.outputs.len()).collect();
    for h in new.handlers {
        let by = old_fields::<P>(h.role);
        let trigger = match h.trigger {
            TriggerMeta::Message(k) => TriggerMeta::Message(k + off.messages),
            TriggerMeta::Timer(t) => TriggerMeta::Timer(t + off.timers),
            other => other,
        };
        b.handlers.push(HandlerMeta {
            role: h.role,
            trigger,
            name: leak_str(format!("{} (new version)", h.name)),
            reads: shift(&h.reads, by),
            writes: shift(&h.writes, by),
            sends: leak_slice(h.sends.iter().map(|k| k + off.messages).collect()),
            emits: if h.emits.is_empty() {
                &[]
            } else {
                leak_slice(all_outputs.clone())
            },
            sets: leak_slice(h.sets.iter().map(|t| t + off.timers).collect()),
            chooses: h.chooses,
            hash: h.hash,
        });
    }
    let old_timers: Vec<TimerId> = (0..old.timers.len()).collect();
    let new_timers: Vec<TimerId> = (0..new.timers.len()).map(|t| t + off.timers).collect();
    for (r, role) in old.roles.iter().enumerate() {
        for (trigger, what) in [
            (TriggerMeta::Start, "start"),
            (TriggerMeta::Restart, "restart"),
        ] {
            if !old.handlers_of(r).any(|(_, h)| h.trigger == trigger) {
                b.add_handler(
                    r,
                    trigger,
                    format!("{} on {what} (upgrade: arm the upgrade timer)", role.name),
                    FieldSet::EMPTY,
                    FieldSet::EMPTY,
                    vec![],
                    vec![up],
                );
            }
        }
        let mut sets = old_timers.clone();
        sets.extend(&new_timers);
        b.add_handler(
            r,
            TriggerMeta::Timer(up),
            format!("{} upgrades to {}", role.name, new.name),
            FieldSet::EMPTY,
            all(r),
            vec![],
            sets,
        );
    }
    // Invariants: the new version's on the new view, then the old-only ones.
    // A view reads, per role, every old field (migration may read any of
    // them) and the version; of the new fields only those declared.
    let old_and_version = |r: RoleId| {
        let mut set = FieldSet::all(old_fields::<P>(r));
        set.insert(version_field[r]);
        set
    };
    let in_scope = |scope: InvariantScope, r: RoleId| match scope {
        InvariantScope::Local(own) => own == r,
        _ => true,
    };
    let mut invariants: Vec<InvariantMeta> = Vec::new();
    for inv in new.invariants {
        let mut reads: Vec<(RoleId, FieldSet)> = (0..old.roles.len())
            .filter(|&r| in_scope(inv.scope, r))
            .map(|r| (r, old_and_version(r)))
            .collect();
        for (r, fields) in inv.reads_fields {
            if let Some((_, set)) = reads.iter_mut().find(|(role, _)| role == r) {
                set.extend(&shift(fields, old_fields::<P>(*r)));
            }
        }
        let mut copy = copy_invariant(inv);
        copy.reads_fields = leak_slice(reads);
        invariants.push(copy);
    }
    for inv in old.invariants {
        if new.invariants.iter().any(|n| n.name == inv.name) {
            continue;
        }
        let mut copy = copy_invariant(inv);
        // A global one is checked only while every node is old, so it
        // reads every role's version.
        let reads: Vec<(RoleId, FieldSet)> = (0..old.roles.len())
            .filter(|&r| in_scope(inv.scope, r))
            .map(|r| (r, old_and_version(r)))
            .collect();
        copy.reads_fields = leak_slice(reads);
        if !matches!(copy.scope, InvariantScope::Local(_)) {
            copy.scope = InvariantScope::Global;
        }
        invariants.push(copy);
    }
    b.invariants = invariants;
    b.build()
}

/// The id of the transformer's own handler of `role` on `trigger`.
fn own_handler<P: UpgradePlan>(role: RoleId, trigger: TriggerMeta) -> Option<HandlerId> {
    let first = offsets::<P>().handlers + P::New::meta().handlers.len();
    Upgrade::<P>::meta()
        .handlers_of(role)
        .find(|(id, h)| *id >= first && h.trigger == trigger)
        .map(|(id, _)| id)
}

/// The old version's invariant named like invariant `inv` of the upgrade.
fn old_invariant<P: UpgradePlan>(inv: InvariantId) -> Option<InvariantId> {
    let name = Upgrade::<P>::meta().invariants.get(inv)?.name;
    P::Old::meta()
        .invariants
        .iter()
        .position(|i| i.name == name)
}

/// The new version's setup for the nodes of `setup`.
fn new_setup<P: UpgradePlan>(setup: &Setup<Upgrade<P>>) -> Result<Setup<P::New>, String> {
    let mut sizes = Sizes::new();
    for (r, role) in P::Old::meta().roles.iter().enumerate() {
        if role.param.is_some() {
            sizes = sizes.with_name(role.name, setup.role_range(r).len());
        }
    }
    Setup::with_config(&sizes, P::new_config(setup.config()))
        .map_err(|e| format!("the new version cannot run these nodes: {e}"))
}

/// The new view of `world`; see the [module documentation](self).
fn new_view<P: UpgradePlan>(world: &World<Upgrade<P>>, setup: &Setup<Upgrade<P>>) -> World<P::New> {
    let off = offsets::<P>();
    let new_timers = crate::transform::projection::first_timers(P::New::meta().timers.len());
    let nodes = world
        .nodes
        .iter()
        .zip(setup.nodes())
        .map(|(slot, &node)| {
            let (state, timers) = match &slot.state {
                Versioned::Old(s) => (P::migrate(node, s), 0),
                Versioned::New(s) => (s.clone(), (slot.timers >> off.timers) & new_timers),
            };
            NodeSlot {
                state,
                up: slot.up,
                timers,
                inputs_taken: slot.inputs_taken,
                awaiting: slot.awaiting,
            }
        })
        .collect();
    let mut network = Network::new(world.network.is_unordered());
    for p in world.network.packets() {
        let msg = match &p.msg {
            Versioned::Old(m) => P::up(m),
            Versioned::New(m) => Some(m.clone()),
        };
        if let Some(msg) = msg {
            network.send(Packet {
                src: same_node::<P::Old, P::New>(p.src),
                dst: same_node::<P::Old, P::New>(p.dst),
                msg,
            });
        }
    }
    let trace = world
        .trace
        .iter()
        .map(|e| match e {
            TraceEvent::Input { node, input } => TraceEvent::Input {
                node: same_node::<P::Old, P::New>(*node),
                input: P::input_up(input),
            },
            TraceEvent::Output { node, output } => TraceEvent::Output {
                node: same_node::<P::Old, P::New>(*node),
                output: P::output_up(output),
            },
        })
        .collect();
    World {
        nodes,
        network,
        trace,
        used: world.used,
        partition: world.partition,
    }
}

/// The old view of a world whose nodes are all old; `None` when some
/// node has upgraded. New messages in flight are read through
/// [`UpgradePlan::down`].
fn old_view<P: UpgradePlan>(world: &World<Upgrade<P>>) -> Option<World<P::Old>> {
    let off = offsets::<P>();
    let old_timers = crate::transform::projection::first_timers(off.timers);
    let mut nodes = Vec::with_capacity(world.nodes.len());
    for slot in &world.nodes {
        let Versioned::Old(state) = &slot.state else {
            return None;
        };
        nodes.push(NodeSlot {
            state: state.clone(),
            up: slot.up,
            timers: slot.timers & old_timers,
            inputs_taken: slot.inputs_taken,
            awaiting: slot.awaiting,
        });
    }
    let mut network = Network::new(world.network.is_unordered());
    for p in world.network.packets() {
        let msg = match &p.msg {
            Versioned::Old(m) => Some(m.clone()),
            Versioned::New(m) => P::down(m),
        };
        if let Some(msg) = msg {
            network.send(Packet {
                src: p.src,
                dst: p.dst,
                msg,
            });
        }
    }
    Some(World {
        nodes,
        network,
        trace: crate::transform::projection::project_trace(&world.trace),
        used: world.used,
        partition: world.partition,
    })
}

impl<P: UpgradePlan> Upgrade<P> {
    /// Moves an old handler's effects into the upgrade's.
    fn old_effects(fx: Effects<P::Old>, effects: &mut Effects<Self>) {
        effects
            .sends
            .extend(fx.sends.into_iter().map(|(to, m)| (to, Versioned::Old(m))));
        effects.outputs.extend(fx.outputs);
        effects
            .timers
            .extend(fx.timers.into_iter().map(|op| match op {
                TimerOp::Set(t, d) => TimerOp::Set(VersionedTimer::Old(t), d),
                TimerOp::Cancel(t) => TimerOp::Cancel(VersionedTimer::Old(t)),
            }));
    }

    /// Moves a new handler's effects into the upgrade's.
    fn new_effects(fx: Effects<P::New>, effects: &mut Effects<Self>) {
        effects.sends.extend(
            fx.sends
                .into_iter()
                .map(|(to, m)| (same_node::<P::New, P::Old>(to), Versioned::New(m))),
        );
        effects
            .outputs
            .extend(fx.outputs.iter().map(|o| P::output_down(o)));
        effects
            .timers
            .extend(fx.timers.into_iter().map(|op| match op {
                TimerOp::Set(t, d) => TimerOp::Set(VersionedTimer::New(t), d),
                TimerOp::Cancel(t) => TimerOp::Cancel(VersionedTimer::New(t)),
            }));
    }

    /// The role whose old (`new == false`) or new fields are `names`.
    fn role_by_fields(names: &[(&'static str, String)], new: bool) -> Option<RoleId> {
        let meta = if new { P::New::meta() } else { P::Old::meta() };
        meta.roles.iter().position(|r| {
            r.fields.len() == names.len()
                && r.fields.iter().zip(names).all(|(f, (n, _))| f.name == *n)
        })
    }
}

impl<P: UpgradePlan> System for Upgrade<P> {
    type Node = Node<P>;
    type Role = <P::Old as System>::Role;
    type State = Versioned<OldState<P>, NewState<P>>;
    type Input = <P::Old as System>::Input;
    type Output = <P::Old as System>::Output;
    type Msg = Versioned<<P::Old as System>::Msg, <P::New as System>::Msg>;
    type Timer = VersionedTimer<<P::Old as System>::Timer, <P::New as System>::Timer>;
    type Config = <P::Old as System>::Config;

    fn meta() -> &'static SystemMeta {
        cached_meta::<Self>(build_meta::<P>)
    }

    fn node(role: RoleId, instance: usize) -> Self::Node {
        P::Old::node(role, instance)
    }

    fn role_of(node: Self::Node) -> RoleId {
        P::Old::role_of(node)
    }

    fn instance_of(node: Self::Node) -> usize {
        P::Old::instance_of(node)
    }

    fn initial_state(node: Self::Node, config: &Self::Config) -> Self::State {
        Versioned::Old(P::Old::initial_state(node, config))
    }

    fn dispatch(
        cluster: Cluster<'_, Self::Node, Self::Config>,
        node: Self::Node,
        state: &mut Self::State,
        trigger: Trigger<Self>,
        effects: &mut Effects<Self>,
    ) -> Option<HandlerId> {
        let role = P::Old::role_of(node);
        match state {
            Versioned::Old(old) => {
                let base = match trigger {
                    Trigger::Timer(VersionedTimer::Upgrade) => {
                        let migrated = P::migrate(node, old);
                        for t in 0..offsets::<P>().timers {
                            effects
                                .timers
                                .push(TimerOp::Cancel(VersionedTimer::Old(P::Old::timer(t))));
                        }
                        for (t, d) in P::timers_after_upgrade(node, &migrated) {
                            effects.timers.push(TimerOp::Set(VersionedTimer::New(t), d));
                        }
                        *state = Versioned::New(migrated);
                        return own_handler::<P>(role, TriggerMeta::Timer(upgrade_timer_id::<P>()));
                    }
                    Trigger::Timer(VersionedTimer::New(_)) => return None,
                    Trigger::Timer(VersionedTimer::Old(t)) => Trigger::Timer(t),
                    Trigger::Start => Trigger::Start,
                    Trigger::Restart => Trigger::Restart,
                    Trigger::Input(input) => Trigger::Input(input),
                    Trigger::Message {
                        from,
                        msg: Versioned::Old(msg),
                    } => Trigger::Message { from, msg },
                    Trigger::Message {
                        from,
                        msg: Versioned::New(msg),
                    } => Trigger::Message {
                        from,
                        msg: P::down(&msg)?,
                    },
                };
                let arm = match base {
                    Trigger::Start => Some(TriggerMeta::Start),
                    Trigger::Restart => Some(TriggerMeta::Restart),
                    _ => None,
                };
                let mut fx = Effects::<P::Old>::default();
                let ran = P::Old::dispatch(cluster, node, old, base, &mut fx);
                Self::old_effects(fx, effects);
                match arm {
                    Some(trigger) => {
                        effects
                            .timers
                            .push(TimerOp::Set(VersionedTimer::Upgrade, UPGRADE_AFTER));
                        ran.or_else(|| own_handler::<P>(role, trigger))
                    }
                    None => ran,
                }
            }
            Versioned::New(new) => {
                let base = match trigger {
                    Trigger::Timer(VersionedTimer::New(t)) => Trigger::Timer(t),
                    Trigger::Timer(_) => return None,
                    Trigger::Start => Trigger::Start,
                    Trigger::Restart => Trigger::Restart,
                    Trigger::Input(input) => Trigger::Input(P::input_up(&input)),
                    Trigger::Message {
                        from,
                        msg: Versioned::New(msg),
                    } => Trigger::Message {
                        from: same_node::<P::Old, P::New>(from),
                        msg,
                    },
                    Trigger::Message {
                        from,
                        msg: Versioned::Old(msg),
                    } => Trigger::Message {
                        from: same_node::<P::Old, P::New>(from),
                        msg: P::up(&msg)?,
                    },
                };
                let nodes: Vec<<P::New as System>::Node> = cluster
                    .nodes
                    .iter()
                    .map(|&n| same_node::<P::Old, P::New>(n))
                    .collect();
                let config = P::new_config(cluster.config);
                let new_cluster = Cluster {
                    nodes: &nodes,
                    config: &config,
                };
                let mut fx = Effects::<P::New>::default();
                let ran = P::New::dispatch(
                    new_cluster,
                    same_node::<P::Old, P::New>(node),
                    new,
                    base,
                    &mut fx,
                );
                Self::new_effects(fx, effects);
                ran.map(|h| h + offsets::<P>().handlers)
            }
        }
    }

    fn crash(node: Self::Node, state: &mut Self::State, config: &Self::Config) {
        match state {
            Versioned::Old(s) => P::Old::crash(node, s, config),
            Versioned::New(s) => {
                P::New::crash(same_node::<P::Old, P::New>(node), s, &P::new_config(config))
            }
        }
    }

    fn timer_id(timer: Self::Timer) -> TimerId {
        match timer {
            VersionedTimer::Old(t) => P::Old::timer_id(t),
            VersionedTimer::New(t) => offsets::<P>().timers + P::New::timer_id(t),
            VersionedTimer::Upgrade => upgrade_timer_id::<P>(),
        }
    }

    fn timer(id: TimerId) -> Self::Timer {
        let old = offsets::<P>().timers;
        if id < old {
            VersionedTimer::Old(P::Old::timer(id))
        } else if id < upgrade_timer_id::<P>() {
            VersionedTimer::New(P::New::timer(id - old))
        } else {
            VersionedTimer::Upgrade
        }
    }

    fn input_kind(input: &Self::Input) -> crate::meta::KindId {
        P::Old::input_kind(input)
    }

    fn output_kind(output: &Self::Output) -> crate::meta::KindId {
        P::Old::output_kind(output)
    }

    fn message_kind(msg: &Self::Msg) -> crate::meta::KindId {
        match msg {
            Versioned::Old(m) => P::Old::message_kind(m),
            Versioned::New(m) => offsets::<P>().messages + P::New::message_kind(m),
        }
    }

    fn check_global(
        invariant: InvariantId,
        setup: &Setup<Self>,
        world: &World<Self>,
    ) -> Result<(), String> {
        let new_count = P::New::meta().invariants.len();
        if invariant < new_count {
            let new_setup = new_setup::<P>(setup)?;
            return P::New::check_global(invariant, &new_setup, &new_view::<P>(world, setup));
        }
        let (Some(old_inv), Some(view)) = (old_invariant::<P>(invariant), old_view::<P>(world))
        else {
            return Ok(());
        };
        let old_setup = setup.with_system::<P::Old>(setup.config().clone());
        P::Old::check_global(old_inv, &old_setup, &view)
    }

    fn check_local(
        invariant: InvariantId,
        node: Self::Node,
        state: &Self::State,
        config: &Self::Config,
    ) -> Result<(), String> {
        let is_new_invariant = invariant < P::New::meta().invariants.len();
        let old_inv = old_invariant::<P>(invariant);
        match state {
            Versioned::Old(s) => match old_inv {
                Some(old) => P::Old::check_local(old, node, s, config),
                None if is_new_invariant => P::New::check_local(
                    invariant,
                    same_node::<P::Old, P::New>(node),
                    &P::migrate(node, s),
                    &P::new_config(config),
                ),
                None => Ok(()),
            },
            Versioned::New(s) if is_new_invariant => P::New::check_local(
                invariant,
                same_node::<P::Old, P::New>(node),
                s,
                &P::new_config(config),
            ),
            Versioned::New(_) => Ok(()),
        }
    }

    fn fields(state: &Self::State) -> Vec<(&'static str, String)> {
        let (own, new, version) = match state {
            Versioned::Old(s) => (P::Old::fields(s), false, P::Old::meta().name),
            Versioned::New(s) => (P::New::fields(s), true, P::New::meta().name),
        };
        let Some(role) = Self::role_by_fields(&own, new) else {
            return own;
        };
        let names = Self::meta().roles[role].fields;
        let old_count = old_fields::<P>(role);
        let mut own = own.into_iter();
        names
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let value = if i + 1 == names.len() {
                    let which = if new { "new" } else { "old" };
                    format!("{which} ({version})")
                } else if (i < old_count) != new {
                    own.next().map_or_else(String::new, |(_, v)| v)
                } else {
                    "-".to_string()
                };
                (f.name, value)
            })
            .collect()
    }

    fn changed_fields(role: RoleId, before: &Self::State, after: &Self::State) -> Option<FieldSet> {
        match (before, after) {
            (Versioned::Old(a), Versioned::Old(b)) => P::Old::changed_fields(role, a, b),
            (Versioned::New(a), Versioned::New(b)) => Some(shift(
                &P::New::changed_fields(role, a, b)?,
                old_fields::<P>(role),
            )),
            _ => Some(FieldSet::all(Self::meta().roles.get(role)?.fields.len())),
        }
    }

    fn relabel_state(
        state: &mut Self::State,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        match state {
            Versioned::Old(s) => P::Old::relabel_state(s, map),
            Versioned::New(s) => P::New::relabel_state(s, &|n| new_map::<P>(map, n)),
        }
    }

    fn relabel_msg(
        msg: &mut Self::Msg,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        match msg {
            Versioned::Old(m) => P::Old::relabel_msg(m, map),
            Versioned::New(m) => P::New::relabel_msg(m, &|n| new_map::<P>(map, n)),
        }
    }

    fn relabel_input(
        input: &mut Self::Input,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        P::Old::relabel_input(input, map)
    }

    fn relabel_output(
        output: &mut Self::Output,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        P::Old::relabel_output(output, map)
    }

    fn upgrade_timer() -> Option<TimerId> {
        Some(upgrade_timer_id::<P>())
    }
}

/// A renaming of old nodes applied to a new node.
fn new_map<P: UpgradePlan>(
    map: &dyn Fn(Node<P>) -> Node<P>,
    node: <P::New as System>::Node,
) -> <P::New as System>::Node {
    same_node::<P::Old, P::New>(map(same_node::<P::New, P::Old>(node)))
}

/// Why plan `P` cannot be checked: its versions' roles differ, or there
/// are too many timers; `None` when it can.
pub fn plan_problem<P: UpgradePlan>() -> Option<String> {
    let (old, new) = (P::Old::meta(), P::New::meta());
    let names = |m: &SystemMeta| m.roles.iter().map(|r| r.name).collect::<Vec<_>>();
    if names(old) != names(new) {
        return Some(format!(
            "an upgrade needs the same roles in both versions, in the same order: {} has {:?}, {} has {:?}",
            old.name,
            names(old),
            new.name,
            names(new)
        ));
    }
    if upgrade_timer_id::<P>() >= 64 {
        return Some("the two versions have more than 63 timers together".to_string());
    }
    None
}

/// The model of `Upgrade<P>` around the old version's `base` model: the
/// same nodes, workload and configuration, under `faults` (which should
/// have an `upgrade` budget, or no node upgrades). Refuses a plan whose
/// versions do not fit ([`plan_problem`]) or whose new version cannot run
/// these nodes.
pub fn upgrade_model<P: UpgradePlan>(
    base: &Model<P::Old>,
    faults: Faults,
) -> Result<Model<Upgrade<P>>, String> {
    if let Some(problem) = plan_problem::<P>() {
        return Err(problem);
    }
    let model = wrap_model::<Upgrade<P>, P::Old>(base, base.setup.config().clone(), faults);
    new_setup::<P>(&model.setup)?;
    Ok(model)
}
