//! Seeing a wrapper's world as its base system's world.
//!
//! A transformer keeps its base's invariants by evaluating them on a
//! projection: each node's base state, the base's timers, the trace (the
//! external inputs and outputs are the same types on both sides) and a
//! network of base messages that the transformer defines — for reliable
//! delivery, the messages sent and not yet delivered, whatever copies of
//! them are physically in flight. Only what an invariant declares it reads
//! is projected, so an invariant that reads neither the network nor the
//! trace costs a copy of the node states and nothing more.

use crate::meta::InvariantId;
use crate::semantics::{Network, NodeSlot, Packet, TraceEvent, World};
use crate::setup::Setup;
use crate::system::System;

/// The parts of a base world one invariant reads.
#[derive(Debug, Clone, Copy)]
pub struct Reads {
    /// Whether it reads the messages in flight.
    pub network: bool,
    /// Whether it reads the trace (or the history, which a model that keeps
    /// only the history holds in the same place).
    pub trace: bool,
}

impl Reads {
    /// What base invariant `inv` declares it reads; nothing for an id the
    /// base does not have.
    pub fn of<S: System>(inv: InvariantId) -> Reads {
        match S::meta().invariants.get(inv) {
            Some(i) => Reads {
                network: i.reads_network,
                trace: i.reads_trace || i.reads_history,
            },
            None => Reads {
                network: false,
                trace: false,
            },
        }
    }
}

/// The base world of `world`: node `i` gets `base_state(i, state)`, its
/// timers masked by `base_timers`, the trace when `reads.trace`, and the
/// network `network()` when `reads.network` (an empty one otherwise).
pub fn project_world<T, S>(
    world: &World<T>,
    reads: Reads,
    base_timers: u64,
    mut base_state: impl FnMut(&T::State) -> S::State,
    network: impl FnOnce() -> Network<S>,
) -> World<S>
where
    T: System<Node = S::Node, Input = S::Input, Output = S::Output>,
    S: System,
{
    World {
        nodes: world
            .nodes
            .iter()
            .map(|slot| NodeSlot {
                state: base_state(&slot.state),
                up: slot.up,
                timers: slot.timers & base_timers,
                inputs_taken: slot.inputs_taken,
                awaiting: slot.awaiting,
            })
            .collect(),
        network: if reads.network {
            network()
        } else {
            Network::new(world.network.is_unordered())
        },
        trace: if reads.trace {
            project_trace(&world.trace)
        } else {
            Vec::new()
        },
        used: world.used,
        partition: world.partition,
    }
}

/// The same external events, typed for the base system.
pub fn project_trace<T, S>(trace: &[TraceEvent<T>]) -> Vec<TraceEvent<S>>
where
    T: System<Node = S::Node, Input = S::Input, Output = S::Output>,
    S: System,
{
    trace
        .iter()
        .map(|e| match e {
            TraceEvent::Input { node, input } => TraceEvent::Input {
                node: *node,
                input: input.clone(),
            },
            TraceEvent::Output { node, output } => TraceEvent::Output {
                node: *node,
                output: output.clone(),
            },
        })
        .collect()
}

/// The packets in flight, unchanged, for a wrapper whose messages are its
/// base's.
pub fn same_network<T, S>(network: &Network<T>) -> Network<S>
where
    T: System<Node = S::Node, Msg = S::Msg>,
    S: System,
{
    let mut out = Network::new(network.is_unordered());
    for p in network.packets() {
        out.send(Packet {
            src: p.src,
            dst: p.dst,
            msg: p.msg.clone(),
        });
    }
    out
}

/// The base's setup: the same nodes with the base's configuration.
pub fn base_setup<T, S>(setup: &Setup<T>, base_config: &S::Config) -> Setup<S>
where
    T: System<Node = S::Node>,
    S: System,
{
    setup.with_system::<S>(base_config.clone())
}

/// The mask of the first `count` timers (a wrapper numbers its base's
/// timers first).
pub fn first_timers(count: usize) -> u64 {
    if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count) - 1
    }
}
