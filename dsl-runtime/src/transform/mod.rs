//! System transformers: check a system once on a simple network, then wrap
//! it to survive a harsher one.
//!
//! A transformer is a generic type that implements [`System`] for any
//! system it wraps: `Reliable<LockServ>` is a system, and so is
//! `Reliable<CrashRecovery<LockServ>>`. It runs the base's handlers
//! unchanged, inside its own, so the code that was checked is the code
//! that runs, on the checker's worlds and on real sockets alike.
//!
//! | transformer | makes the base survive | how |
//! |---|---|---|
//! | [`Reliable`] | drop, duplicate, reorder | sequence numbers, cumulative acks, retransmission, deduplication |
//! | [`CrashRecovery`] | crash-restart | all state durable (logged before effects leave), timers re-armed |
//! | [`PrimaryBackup`] | crash-restart of one replica, without disks | a [`StateMachine`] replicated on two nodes, snapshots, resends |
//! | [`Raft`] | crash-restart of a minority of servers, any network | a [`StateMachine`] replicated by Raft: elections, log replication, durable term, vote and log |
//! | [`Ghost`] | (nothing) | bookkeeping for proofs, checked to change nothing |
//! | [`Upgrade`] | a rolling upgrade to a new version | nodes switch version one by one (`--faults upgrade=N`), adapters between versions' messages |
//!
//! What carries the base's guarantees over:
//! - base invariants are evaluated on a *projection* of the wrapper's world
//!   ([`projection`]): the base states, and whatever the transformer says
//!   the base would see of the network;
//! - base handlers keep their ids and footprints in the wrapper's
//!   [`crate::SystemMeta`], widened only by the fields the transformer
//!   touches around them ([`layer`]), so footprint-based reductions stay
//!   sound; wrappers forward relabelling, so symmetry reduction applies;
//! - [`refinement`] checks, within bounds, that every external trace of the
//!   wrapped system under the harsh fault model is a trace of the base on
//!   the network it was checked on: then every property of the base's
//!   traces holds for the wrapped system too.
//!
//! # Writing a transformer
//!
//! 1. A marker type `struct MyT<S>(PhantomData<fn() -> S>)`.
//! 2. Wrapper types for what changes: a state holding `base: S::State` and
//!    the transformer's own fields; a message type around `S::Msg` if
//!    messages change; a timer type with the base's timers first.
//! 3. `impl<S: System> System for MyT<S>`:
//!    - `meta()`: `layer::cached_meta::<Self>(build)`, where `build` starts
//!      from `layer::MetaBuilder::from_base(..)`, widens the copied base
//!      handlers by the fields the wrapper touches, and adds the wrapper's
//!      fields, message kinds, timers and handlers *after* the base's;
//!    - `dispatch`: translate the trigger, call `S::dispatch` with a
//!      `Cluster { nodes, config: &config.base }` and a fresh
//!      [`crate::Effects<S>`], then translate the base's effects (number
//!      them, log them, forward them) into your own; return the base
//!      handler's id when it ran, your handler's id otherwise;
//!    - `check_global`: project the world with
//!      [`projection::project_world`] and call `S::check_global`;
//!      `check_local`: call `S::check_local` on `state.base`;
//!    - `crash`: decide what survives; `relabel_*`: forward to the base
//!      and rename the node ids in your own fields.
//! 4. Say what it assumes and guarantees, check the base's invariants on
//!    it under the harsher fault model, and run [`check_refinement`]
//!    against the base, including a deliberately broken variant that the
//!    refinement check must catch.
//!
//! Everything here is checked within stated bounds, not proved: a check is
//! exhaustive only when the report says every reachable state (or pair)
//! was explored.

/// Inside `impl System for Wrapper<S>`: the methods a wrapper takes from
/// `S` unchanged. `nodes` forwards node naming (the wrapper has `S`'s
/// nodes); `kinds` forwards timers and input, output and message kinds
/// (the wrapper keeps `S`'s timer, input, output and message types);
/// `local` checks `S`'s local invariants on the state's `base` field;
/// `relabel_io` renames node ids in inputs and outputs as `S` does (the
/// wrapper keeps `S`'s input and output types); `stale` judges a message
/// stale as `S` does, on the state's `base` field.
macro_rules! forward_to_base {
    ($S:ident, local) => {
        fn check_local(
            invariant: $crate::meta::InvariantId,
            node: Self::Node,
            state: &Self::State,
            config: &Self::Config,
        ) -> Result<(), String> {
            $S::check_local(invariant, node, &state.base, config)
        }
    };
    // The same, for a wrapper whose configuration holds the base's in `base`.
    ($S:ident, local_in_base_config) => {
        fn check_local(
            invariant: $crate::meta::InvariantId,
            node: Self::Node,
            state: &Self::State,
            config: &Self::Config,
        ) -> Result<(), String> {
            $S::check_local(invariant, node, &state.base, &config.base)
        }
    };
    ($S:ident, relabel_io) => {
        fn relabel_input(
            input: &mut Self::Input,
            map: &dyn Fn(Self::Node) -> Self::Node,
        ) -> Result<(), &'static str> {
            $S::relabel_input(input, map)
        }

        fn relabel_output(
            output: &mut Self::Output,
            map: &dyn Fn(Self::Node) -> Self::Node,
        ) -> Result<(), &'static str> {
            $S::relabel_output(output, map)
        }
    };
    ($S:ident, stale) => {
        fn is_stale(
            config: &Self::Config,
            dst_state: &Self::State,
            src: Self::Node,
            msg: &Self::Msg,
        ) -> bool {
            $S::is_stale(config, &dst_state.base, src, msg)
        }
    };
    ($S:ident, nodes) => {
        fn node(role: $crate::meta::RoleId, instance: usize) -> Self::Node {
            $S::node(role, instance)
        }

        fn role_of(node: Self::Node) -> $crate::meta::RoleId {
            $S::role_of(node)
        }

        fn instance_of(node: Self::Node) -> usize {
            $S::instance_of(node)
        }
    };
    ($S:ident, kinds) => {
        fn timer_id(timer: Self::Timer) -> $crate::meta::TimerId {
            $S::timer_id(timer)
        }

        fn timer(id: $crate::meta::TimerId) -> Self::Timer {
            $S::timer(id)
        }

        fn input_kind(input: &Self::Input) -> $crate::meta::KindId {
            $S::input_kind(input)
        }

        fn output_kind(output: &Self::Output) -> $crate::meta::KindId {
            $S::output_kind(output)
        }

        fn message_kind(msg: &Self::Msg) -> $crate::meta::KindId {
            $S::message_kind(msg)
        }
    };
}
pub(crate) use forward_to_base;

pub mod crash_recovery;
pub mod ghost;
pub mod layer;
pub mod origin;
pub mod plan;
pub mod primary_backup;
pub mod projection;
pub mod raft;
pub mod refinement;
pub mod reliable;
pub mod sessions;
pub mod state_machine;
pub mod upgrade;

pub use crash_recovery::{recovering_model, CrashRecovery, RecoveringState};
pub use ghost::{check_transparent, Difference, Ghost, GhostState, GhostView, Observed, Observer};
pub use origin::{Answered, Asked, Origin, Tagged};
pub use plan::{plan_retransmitting, Plan, DEFAULT_DEPTH};
pub use primary_backup::{PbBug, PbConfig, PbNode, PbRole, PrimaryBackup};
pub use raft::{
    timely_elections as raft_timely_elections, LogEntry, Membership, Payload, Progress, Raft,
    RaftBug, RaftConfig, RaftNode, RaftRole, Standing, BOUNDED_STALLS as RAFT_BOUNDED_STALLS,
};
pub use refinement::{check_refinement, RefinementOptions, RefinementOutcome, RefinementReport};
pub use reliable::{
    reliable_model, Reliable, ReliableConfig, ReliableMsg, ReliableState, ReliableTimer,
};
pub use state_machine::{check_linearizable, check_linearizable_with, StateMachine};
pub use upgrade::{upgrade_model, Upgrade, UpgradePlan, Versioned, VersionedTimer};

use crate::faults::Faults;
use crate::semantics::Model;
use crate::system::System;

/// The model of transformer `T` around `base`'s model: the same nodes and
/// workload, `T`'s configuration and the fault model `faults` (usually
/// harsher than the one `base` was checked under).
pub fn wrap_model<T, S>(base: &Model<S>, config: T::Config, faults: Faults) -> Model<T>
where
    T: System<Node = S::Node, Input = S::Input, Output = S::Output>,
    S: System,
{
    let mut model = Model::new(
        base.setup.with_system::<T>(config),
        faults,
        base.workload.with_system::<T>(),
    );
    model.record_trace |= base.record_trace;
    model
}
