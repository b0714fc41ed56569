//! Reliable delivery: a system written for a reliable network keeps its
//! guarantees on one that drops, duplicates and reorders messages.
//!
//! [`Reliable<S>`] numbers the messages of each channel (sender, receiver)
//! from 0, keeps each one in the sender's outbox until the receiver
//! acknowledges it, and retransmits the oldest unacknowledged message of
//! each channel when its `Retransmit` timer fires. The receiver hands the
//! base system only the message it expects next on that channel, so the base
//! sees every message exactly once and in the order it was sent — the
//! reliable network of [`crate::Faults::none`]. Every data packet is
//! answered with a cumulative acknowledgement (`Ack(next)`: everything
//! before `next` arrived), so a lost acknowledgement is repaired by the next
//! retransmission.
//!
//! # Assumes and guarantees
//!
//! - Assumes: any fault model of the network (drop, duplicate, reorder,
//!   partition). The transformer's own bookkeeping is declared durable, so
//!   crash-restart does not reset sequence numbers; whether the base's
//!   state survives a crash is the base's business (wrap it in
//!   [`crate::transform::CrashRecovery`] for that).
//! - Guarantees (safety): every external trace is a trace of `S` on the
//!   reliable network ([`crate::transform::refinement`] checks this within
//!   bounds). Liveness additionally needs the network to deliver some
//!   retransmission eventually.
//!
//! # Checking it
//!
//! Base invariants are evaluated on a projection: base states, base timers,
//! the trace, and as the network the messages sent and not yet delivered
//! to the base (unacknowledged outbox entries at or after the receiver's
//! next expected sequence number), in send order per channel — the network
//! the base would see if it ran on a reliable one. The physical copies,
//! duplicates and acknowledgements in flight are not shown to base
//! invariants.
//!
//! Retransmission makes copies of packets at any time, so under a drop
//! fault model the number of packets in flight is unbounded; see
//! [`crate::transform::plan`] for how the checker is bounded (or made
//! exhaustive) for transformed systems.
//!
//! Base handlers keep their ids and footprints; their metadata gains the
//! transformer's two fields (`reliable_out`, `reliable_in`), the `Ack`
//! message and the `Retransmit` timer where they touch them, and each role
//! gains handlers for acknowledgements, retransmission, restart and
//! undelivered (duplicate or early) data.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ctx::{Effects, TimerOp};
use crate::faults::Faults;
use crate::meta::{
    FieldSet, HandlerId, InvariantId, KindId, RoleId, SystemMeta, TimerId, TriggerMeta,
};
use crate::semantics::{Model, Network, Packet, World};
use crate::setup::{Cluster, Setup};
use crate::system::{System, Trigger};
use crate::transform::layer::{cached_meta, kinds_sent_by, with_kinds, MetaBuilder};
use crate::transform::projection::{base_setup, first_timers, project_world, Reads};
use crate::transform::wrap_model;

/// System `S` made reliable over a network that drops, duplicates and
/// reorders: sequence numbers, acknowledgements, retransmission and
/// deduplication. See the [module documentation](self).
pub struct Reliable<S>(PhantomData<fn() -> S>);

crate::transform::layer::marker_traits!(Reliable<S>);

/// The settings of [`Reliable`]: the base's own and the transformer's.
#[derive(Clone, Debug)]
pub struct ReliableConfig<C> {
    /// The base system's configuration.
    pub base: C,
    /// How long the runtime waits before retransmitting (the checker
    /// ignores durations: a timer may fire at any point).
    pub retransmit_after: Duration,
    /// Hand the base only the next expected message of each channel.
    /// `false` is a deliberate bug (every data packet is delivered,
    /// duplicates included), kept so tests can show what the refinement
    /// check catches.
    pub dedup: bool,
}

impl<C: Default> Default for ReliableConfig<C> {
    fn default() -> Self {
        ReliableConfig {
            base: C::default(),
            retransmit_after: Duration::from_millis(50),
            dedup: true,
        }
    }
}

impl<C> ReliableConfig<C> {
    /// The transformer's defaults around a base configuration.
    pub fn new(base: C) -> Self {
        ReliableConfig {
            base,
            retransmit_after: Duration::from_millis(50),
            dedup: true,
        }
    }
}

/// A message of [`Reliable`]: a numbered base message, or an acknowledgement.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReliableMsg<M> {
    /// Base message number `seq` of its channel.
    Data {
        /// Its number on its channel, from 0.
        seq: u32,
        /// The base message.
        msg: M,
    },
    /// Every message of the channel numbered below `next` has arrived.
    Ack {
        /// The next number the receiver expects.
        next: u32,
    },
}

impl<M: fmt::Debug> fmt::Debug for ReliableMsg<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReliableMsg::Data { seq, msg } => write!(f, "{msg:?} #{seq}"),
            ReliableMsg::Ack { next } => write!(f, "Ack(next #{next})"),
        }
    }
}

/// A timer of [`Reliable`]: one of the base's, or retransmission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReliableTimer<T> {
    /// A base timer.
    Base(T),
    /// Resend the oldest unacknowledged message of each channel.
    Retransmit,
}

/// The sending side of one channel.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Outbox<N, M> {
    /// The receiver.
    pub to: N,
    /// The number the next message sent on this channel gets.
    pub next_seq: u32,
    /// Sent and not yet acknowledged, oldest first; the last one is number
    /// `next_seq - 1`.
    pub unacked: Vec<M>,
}

impl<N, M> Outbox<N, M> {
    /// The number of the oldest unacknowledged message.
    pub fn first_seq(&self) -> u32 {
        // Saturating: a state read back from storage is not trusted to be
        // consistent.
        self.next_seq.saturating_sub(self.unacked.len() as u32)
    }
}

impl<N: fmt::Debug, M: fmt::Debug> fmt::Debug for Outbox<N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "to {:?}: next #{}", self.to, self.next_seq)?;
        if !self.unacked.is_empty() {
            let first = self.first_seq();
            let items: Vec<String> = self
                .unacked
                .iter()
                .enumerate()
                .map(|(i, m)| format!("{m:?} #{}", first + i as u32))
                .collect();
            write!(f, ", unacked [{}]", items.join(", "))?;
        }
        Ok(())
    }
}

/// The state of a node of [`Reliable`]: the base's, plus per-channel
/// sending and receiving positions. Lists are sorted by peer, so equal
/// states are equal values.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReliableState<N, St, M> {
    /// The base system's state.
    pub base: St,
    /// One outbox per peer this node has sent to.
    pub outboxes: Vec<Outbox<N, M>>,
    /// Per peer this node has received from: the next number it expects.
    pub expected: Vec<(N, u32)>,
}

impl<N: Copy + Ord, St, M> ReliableState<N, St, M> {
    fn new(base: St) -> Self {
        ReliableState {
            base,
            outboxes: Vec::new(),
            expected: Vec::new(),
        }
    }

    /// The next number this node expects from `from`.
    pub fn expected_from(&self, from: N) -> u32 {
        match self.expected.binary_search_by(|(n, _)| n.cmp(&from)) {
            Ok(i) => self.expected[i].1,
            Err(_) => 0,
        }
    }

    fn set_expected(&mut self, from: N, next: u32) {
        match self.expected.binary_search_by(|(n, _)| n.cmp(&from)) {
            Ok(i) => self.expected[i].1 = next,
            Err(i) => self.expected.insert(i, (from, next)),
        }
    }

    /// The outbox towards `to`, if this node has ever sent to it.
    pub fn outbox(&self, to: N) -> Option<&Outbox<N, M>> {
        self.outboxes
            .binary_search_by(|o| o.to.cmp(&to))
            .ok()
            .map(|i| &self.outboxes[i])
    }

    /// Queues `msg` for `to`; returns its number.
    fn enqueue(&mut self, to: N, msg: M) -> u32 {
        let i = match self.outboxes.binary_search_by(|o| o.to.cmp(&to)) {
            Ok(i) => i,
            Err(i) => {
                self.outboxes.insert(
                    i,
                    Outbox {
                        to,
                        next_seq: 0,
                        unacked: Vec::new(),
                    },
                );
                i
            }
        };
        let outbox = &mut self.outboxes[i];
        let seq = outbox.next_seq;
        outbox.next_seq += 1;
        outbox.unacked.push(msg);
        seq
    }

    /// Forgets the messages to `from` numbered below `next`.
    fn acknowledge(&mut self, from: N, next: u32) {
        if let Ok(i) = self.outboxes.binary_search_by(|o| o.to.cmp(&from)) {
            let outbox = &mut self.outboxes[i];
            let done = next.saturating_sub(outbox.first_seq()) as usize;
            let done = done.min(outbox.unacked.len());
            outbox.unacked.drain(..done);
        }
    }

    /// Whether any message waits for an acknowledgement.
    pub fn has_unacked(&self) -> bool {
        self.outboxes.iter().any(|o| !o.unacked.is_empty())
    }
}

/// Handler ids of the transformer's own handlers: after the base's, per
/// role an `Ack` handler, a `Retransmit` handler, a restart handler, and one
/// handler per base message kind for data that is not delivered.
struct Ids {
    base_handlers: usize,
    kinds: usize,
}

impl Ids {
    fn of(base: &SystemMeta) -> Self {
        Ids {
            base_handlers: base.handlers.len(),
            kinds: base.messages.len(),
        }
    }
    fn first(&self, role: RoleId) -> HandlerId {
        self.base_handlers + role * (3 + self.kinds)
    }
    fn ack(&self, role: RoleId) -> HandlerId {
        self.first(role)
    }
    fn retransmit(&self, role: RoleId) -> HandlerId {
        self.first(role) + 1
    }
    fn restart(&self, role: RoleId) -> HandlerId {
        self.first(role) + 2
    }
    fn undelivered(&self, role: RoleId, kind: KindId) -> HandlerId {
        self.first(role) + 3 + kind
    }
}

fn build_meta<S: System>() -> SystemMeta {
    let base = S::meta();
    let mut b = MetaBuilder::from_base(format!("Reliable<{}>", base.name), base, false);
    let out = b.add_field_to_all(
        "reliable_out",
        "Vec<Outbox>: per peer, next number and unacknowledged messages",
        true,
    );
    let inn = b.add_field_to_all(
        "reliable_in",
        "Vec<(Node, u32)>: per peer, the next number expected",
        true,
    );
    let ack_kind = b.messages.len();
    b.messages.push("Ack");
    let retransmit: TimerId = b.timers.len();
    b.timers.push("Retransmit");
    for h in &mut b.handlers {
        let r = h.role;
        if matches!(h.trigger, TriggerMeta::Message(_)) {
            h.writes.extend(&inn[r]);
            h.sends = with_kinds(h.sends, &[ack_kind]);
        }
        if !h.sends.is_empty() {
            h.writes.extend(&out[r]);
            h.sets = with_kinds(h.sets, &[retransmit]);
        }
        if h.trigger == TriggerMeta::Restart {
            h.reads.extend(&out[r]);
            h.sets = with_kinds(h.sets, &[retransmit]);
        }
        h.reads = h.reads.minus(&h.writes);
    }
    let ids = Ids::of(base);
    for (r, role) in base.roles.iter().enumerate() {
        let name = role.name;
        let id = b.add_handler(
            r,
            TriggerMeta::Message(ack_kind),
            format!("{name} on reliable Ack"),
            FieldSet::EMPTY,
            out[r].clone(),
            vec![],
            vec![retransmit],
        );
        debug_assert_eq!(id, ids.ack(r));
        b.add_handler(
            r,
            TriggerMeta::Timer(retransmit),
            format!("{name} on timer Retransmit"),
            out[r].clone(),
            FieldSet::EMPTY,
            kinds_sent_by(base, r),
            vec![retransmit],
        );
        b.add_handler(
            r,
            TriggerMeta::Restart,
            format!("{name} on restart (reliable: re-arm retransmission)"),
            out[r].clone(),
            FieldSet::EMPTY,
            vec![],
            vec![retransmit],
        );
        for (k, kind) in base.messages.iter().enumerate() {
            let id = b.add_handler(
                r,
                TriggerMeta::Message(k),
                format!("{name} on reliable {kind} not delivered (duplicate, early or unhandled)"),
                FieldSet::EMPTY,
                inn[r].clone(),
                vec![ack_kind],
                vec![],
            );
            debug_assert_eq!(id, ids.undelivered(r, k));
        }
    }
    // A delivery may release messages held back for order, running base
    // handlers of other kinds: if any of a role's message handlers
    // chooses, every delivery to that role may.
    for h in &mut b.handlers {
        let on_message = |t: TriggerMeta| matches!(t, TriggerMeta::Message(_));
        if on_message(h.trigger)
            && base
                .handlers
                .iter()
                .any(|x| x.role == h.role && x.chooses && on_message(x.trigger))
        {
            h.chooses = true;
        }
    }
    b.build()
}

/// The model of `Reliable<S>` around `base`'s model: the same nodes and
/// workload, the base's configuration with the transformer's defaults,
/// under `faults`.
pub fn reliable_model<S: System>(base: &Model<S>, faults: Faults) -> Model<Reliable<S>> {
    let config = ReliableConfig::new(base.setup.config().clone());
    wrap_model::<Reliable<S>, S>(base, config, faults)
}

/// The base messages sent and not yet delivered to the base, per channel in
/// send order: the network the base system would see.
fn undelivered<S: System>(setup: &Setup<Reliable<S>>, world: &World<Reliable<S>>) -> Network<S> {
    let mut net = Network::new(false);
    for (i, slot) in world.nodes.iter().enumerate() {
        let src = setup.nodes()[i];
        for outbox in &slot.state.outboxes {
            let expected = setup
                .index_of(outbox.to)
                .map_or(0, |j| world.nodes[j].state.expected_from(src));
            let first = outbox.first_seq();
            for (k, msg) in outbox.unacked.iter().enumerate() {
                if first + k as u32 >= expected {
                    net.send(Packet {
                        src,
                        dst: outbox.to,
                        msg: msg.clone(),
                    });
                }
            }
        }
    }
    net
}

impl<S: System> System for Reliable<S> {
    type Node = S::Node;
    type Role = S::Role;
    type State = ReliableState<S::Node, S::State, S::Msg>;
    type Input = S::Input;
    type Output = S::Output;
    type Msg = ReliableMsg<S::Msg>;
    type Timer = ReliableTimer<S::Timer>;
    type Config = ReliableConfig<S::Config>;

    fn meta() -> &'static SystemMeta {
        cached_meta::<Self>(build_meta::<S>)
    }

    super::forward_to_base!(S, nodes);

    fn initial_state(node: Self::Node, config: &Self::Config) -> Self::State {
        ReliableState::new(S::initial_state(node, &config.base))
    }

    fn dispatch(
        cluster: Cluster<'_, Self::Node, Self::Config>,
        node: Self::Node,
        state: &mut Self::State,
        trigger: Trigger<Self>,
        effects: &mut Effects<Self>,
    ) -> Option<HandlerId> {
        let config = cluster.config;
        let base_cluster = Cluster {
            nodes: cluster.nodes,
            config: &config.base,
        };
        let ids = Ids::of(S::meta());
        let role = S::role_of(node);
        let had_unacked = state.has_unacked();
        let mut rearm = false;
        let mut fx = Effects::<S>::default();
        let base = |state: &mut Self::State, trigger: Trigger<S>, fx: &mut Effects<S>| {
            S::dispatch(base_cluster, node, &mut state.base, trigger, fx)
        };
        let ran = match trigger {
            Trigger::Start => base(state, Trigger::Start, &mut fx),
            Trigger::Input(input) => base(state, Trigger::Input(input), &mut fx),
            Trigger::Timer(ReliableTimer::Base(t)) => base(state, Trigger::Timer(t), &mut fx),
            Trigger::Timer(ReliableTimer::Retransmit) => {
                rearm = true;
                for outbox in &state.outboxes {
                    if let Some(msg) = outbox.unacked.first() {
                        let seq = outbox.first_seq();
                        effects.sends.push((
                            outbox.to,
                            ReliableMsg::Data {
                                seq,
                                msg: msg.clone(),
                            },
                        ));
                    }
                }
                Some(ids.retransmit(role))
            }
            Trigger::Restart => {
                rearm = true;
                base(state, Trigger::Restart, &mut fx).or(Some(ids.restart(role)))
            }
            Trigger::Message {
                from,
                msg: ReliableMsg::Ack { next },
            } => {
                state.acknowledge(from, next);
                Some(ids.ack(role))
            }
            Trigger::Message {
                from,
                msg: ReliableMsg::Data { seq, msg },
            } => {
                let expected = state.expected_from(from);
                let kind = S::message_kind(&msg);
                let deliver = seq == expected || (!config.dedup && seq < expected);
                if seq == expected {
                    state.set_expected(from, expected + 1);
                }
                let ran = if deliver {
                    base(state, Trigger::Message { from, msg }, &mut fx)
                } else {
                    None
                };
                effects.sends.push((
                    from,
                    ReliableMsg::Ack {
                        next: state.expected_from(from),
                    },
                ));
                ran.or(Some(ids.undelivered(role, kind)))
            }
        };
        for (to, msg) in fx.sends {
            let seq = state.enqueue(to, msg.clone());
            effects.sends.push((to, ReliableMsg::Data { seq, msg }));
        }
        effects.outputs.append(&mut fx.outputs);
        effects
            .timers
            .extend(fx.timers.into_iter().map(|op| match op {
                TimerOp::Set(t, d) => TimerOp::Set(ReliableTimer::Base(t), d),
                TimerOp::Cancel(t) => TimerOp::Cancel(ReliableTimer::Base(t)),
            }));
        let has_unacked = state.has_unacked();
        if has_unacked && (rearm || !had_unacked) {
            effects.timers.push(TimerOp::Set(
                ReliableTimer::Retransmit,
                config.retransmit_after,
            ));
        } else if !has_unacked && had_unacked {
            effects
                .timers
                .push(TimerOp::Cancel(ReliableTimer::Retransmit));
        }
        ran
    }

    fn crash(node: Self::Node, state: &mut Self::State, config: &Self::Config) {
        // The transformer's bookkeeping is durable: resetting sequence
        // numbers would make a restarted receiver accept old duplicates.
        S::crash(node, &mut state.base, &config.base);
    }

    fn timer_id(timer: Self::Timer) -> TimerId {
        match timer {
            ReliableTimer::Base(t) => S::timer_id(t),
            ReliableTimer::Retransmit => S::meta().timers.len(),
        }
    }

    fn timer(id: TimerId) -> Self::Timer {
        if id < S::meta().timers.len() {
            ReliableTimer::Base(S::timer(id))
        } else {
            ReliableTimer::Retransmit
        }
    }

    fn input_kind(input: &Self::Input) -> KindId {
        S::input_kind(input)
    }

    fn output_kind(output: &Self::Output) -> KindId {
        S::output_kind(output)
    }

    fn message_kind(msg: &Self::Msg) -> KindId {
        match msg {
            ReliableMsg::Data { msg, .. } => S::message_kind(msg),
            ReliableMsg::Ack { .. } => S::meta().messages.len(),
        }
    }

    fn check_global(
        invariant: InvariantId,
        setup: &Setup<Self>,
        world: &World<Self>,
    ) -> Result<(), String> {
        if invariant >= S::meta().invariants.len() {
            return Ok(());
        }
        let reads = Reads::of::<S>(invariant);
        let base = base_setup::<Self, S>(setup, &setup.config().base);
        let timers = first_timers(S::meta().timers.len());
        let projected = project_world::<Self, S>(
            world,
            reads,
            timers,
            |st| st.base.clone(),
            || undelivered(setup, world),
        );
        S::check_global(invariant, &base, &projected)
    }

    super::forward_to_base!(S, local_in_base_config);

    /// Renames the base state's nodes, and the peers and messages of the
    /// transformer's bookkeeping, which is then sorted by peer again.
    fn relabel_state(
        state: &mut Self::State,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        S::relabel_state(&mut state.base, map)?;
        for outbox in &mut state.outboxes {
            outbox.to = map(outbox.to);
            for msg in &mut outbox.unacked {
                S::relabel_msg(msg, map)?;
            }
        }
        state.outboxes.sort_by_key(|o| o.to);
        for (peer, _) in &mut state.expected {
            *peer = map(*peer);
        }
        state.expected.sort_by_key(|(peer, _)| *peer);
        Ok(())
    }

    fn relabel_msg(
        msg: &mut Self::Msg,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        match msg {
            ReliableMsg::Data { msg, .. } => S::relabel_msg(msg, map),
            ReliableMsg::Ack { .. } => Ok(()),
        }
    }

    super::forward_to_base!(S, relabel_io);

    /// Old data (numbered below what the receiver expects) and old
    /// acknowledgements (acknowledging nothing still unacknowledged) are
    /// stale. Delivering old data only repeats an acknowledgement, which
    /// the sender can obtain again by retransmitting its oldest
    /// unacknowledged message if it still needs it; delivering an old
    /// acknowledgement does nothing.
    fn is_stale(
        config: &Self::Config,
        dst_state: &Self::State,
        src: Self::Node,
        msg: &Self::Msg,
    ) -> bool {
        match msg {
            // Without deduplication (the deliberate bug) old data is delivered
            // again, so it is never stale.
            ReliableMsg::Data { seq, .. } => config.dedup && *seq < dst_state.expected_from(src),
            ReliableMsg::Ack { next } => {
                dst_state.outbox(src).is_none_or(|o| *next <= o.first_seq())
            }
        }
    }

    fn changed_fields(role: RoleId, before: &Self::State, after: &Self::State) -> Option<FieldSet> {
        let mut changed = S::changed_fields(role, &before.base, &after.base)?;
        let base = S::meta().roles[role].fields.len();
        if before.outboxes != after.outboxes {
            changed.insert(base);
        }
        if before.expected != after.expected {
            changed.insert(base + 1);
        }
        Some(changed)
    }

    fn fields(state: &Self::State) -> Vec<(&'static str, String)> {
        let mut fields = S::fields(&state.base);
        fields.push(("reliable_out", format!("{:?}", state.outboxes)));
        let expected: Vec<String> = state
            .expected
            .iter()
            .map(|(n, e)| format!("from {n}: #{e}"))
            .collect();
        fields.push(("reliable_in", format!("[{}]", expected.join(", "))));
        fields
    }
}
