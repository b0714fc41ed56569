//! The world: everything a run's future depends on.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::fingerprint::Fingerprinter;
use crate::semantics::network::Network;
use crate::system::System;

/// One node: its state, whether it is up, its armed timers and how far it
/// is through its workload.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct NodeSlot<S: System> {
    /// The node's state (a down node keeps only durable fields; the rest are
    /// at their initial values).
    pub state: S::State,
    /// Whether the node is running.
    pub up: bool,
    /// Armed timers: bit `t` is timer `t` of [`crate::meta::SystemMeta::timers`].
    pub timers: u64,
    /// How many workload inputs the node has received.
    pub inputs_taken: u16,
    /// Whether the node's workload waits for an output before its next input.
    pub awaiting: bool,
}

impl<S: System> Clone for NodeSlot<S> {
    fn clone(&self) -> Self {
        NodeSlot {
            state: self.state.clone(),
            up: self.up,
            timers: self.timers,
            inputs_taken: self.inputs_taken,
            awaiting: self.awaiting,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.state.clone_from(&source.state);
        self.up = source.up;
        self.timers = source.timers;
        self.inputs_taken = source.inputs_taken;
        self.awaiting = source.awaiting;
    }
}

impl<S: System> Hash for NodeSlot<S> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.state.hash(h);
        h.write_u64(
            (self.up as u64) | ((self.awaiting as u64) << 1) | ((self.inputs_taken as u64) << 2),
        );
        h.write_u64(self.timers);
    }
}

impl<S: System> std::fmt::Debug for NodeSlot<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeSlot")
            .field("state", &self.state)
            .field("up", &self.up)
            .field("timers", &self.timers)
            .field("inputs_taken", &self.inputs_taken)
            .field("awaiting", &self.awaiting)
            .finish()
    }
}

/// An external event, as the outside world sees it.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum TraceEvent<S: System> {
    /// `node` received an input.
    Input {
        /// The node.
        node: S::Node,
        /// The input.
        input: S::Input,
    },
    /// `node` emitted an output.
    Output {
        /// The node.
        node: S::Node,
        /// The output.
        output: S::Output,
    },
}

impl<S: System> TraceEvent<S> {
    /// Whether it is an input (a call) rather than an output.
    pub fn is_input(&self) -> bool {
        matches!(self, TraceEvent::Input { .. })
    }

    /// The node the event happened at.
    pub fn node(&self) -> S::Node {
        match self {
            TraceEvent::Input { node, .. } | TraceEvent::Output { node, .. } => *node,
        }
    }
}

impl<S: System> Clone for TraceEvent<S> {
    fn clone(&self) -> Self {
        match self {
            TraceEvent::Input { node, input } => TraceEvent::Input {
                node: *node,
                input: input.clone(),
            },
            TraceEvent::Output { node, output } => TraceEvent::Output {
                node: *node,
                output: output.clone(),
            },
        }
    }
}

impl<S: System> PartialEq for TraceEvent<S> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TraceEvent::Input { node: a, input: x }, TraceEvent::Input { node: b, input: y }) => {
                a == b && x == y
            }
            (
                TraceEvent::Output { node: a, output: x },
                TraceEvent::Output { node: b, output: y },
            ) => a == b && x == y,
            _ => false,
        }
    }
}
impl<S: System> Eq for TraceEvent<S> {}

impl<S: System> Hash for TraceEvent<S> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            TraceEvent::Input { node, input } => {
                h.write_u8(0);
                node.hash(h);
                input.hash(h);
            }
            TraceEvent::Output { node, output } => {
                h.write_u8(1);
                node.hash(h);
                output.hash(h);
            }
        }
    }
}

impl<S: System> std::fmt::Debug for TraceEvent<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceEvent::Input { node, input } => write!(f, "{node} <- {input:?}"),
            TraceEvent::Output { node, output } => write!(f, "{node} -> {output:?}"),
        }
    }
}

/// How many faults of each counted kind a run has taken so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FaultsUsed {
    /// Messages lost (not counting losses caused by crashes and partitions).
    pub drop: u8,
    /// Messages duplicated.
    pub duplicate: u8,
    /// Messages delivered ahead of earlier ones on their channel.
    pub reorder: u8,
    /// Node crashes.
    pub crash: u8,
    /// Partitions.
    pub partition: u8,
    /// Links cut.
    pub cut: u8,
    /// Nodes upgraded to the new version (see [`crate::faults::Faults::upgrade`]).
    pub upgrade: u8,
    /// Whether [`World::partition`] holds the two ends of a cut link
    /// rather than one side of a partition. Kept here, with the counters,
    /// so that every search saving and restoring those keeps it too.
    pub link_cut: bool,
}

/// The global state of a run.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct World<S: System> {
    /// Every node, by index.
    pub nodes: Vec<NodeSlot<S>>,
    /// Messages in flight.
    pub network: Network<S>,
    /// External inputs and outputs so far (recorded only when an invariant
    /// reads the trace, or when asked for).
    pub trace: Vec<TraceEvent<S>>,
    /// Faults taken so far, for budgets.
    pub used: FaultsUsed,
    /// The current network fault: bit `i` set for the nodes on one side of
    /// a partition, or for the two ends of a cut link when
    /// [`FaultsUsed::link_cut`]; 0 when the network is whole. (Renaming
    /// nodes maps these bits like any node set, so symmetry keeps both.)
    pub partition: u64,
}

impl<S: System> Clone for World<S> {
    fn clone(&self) -> Self {
        World {
            nodes: self.nodes.clone(),
            network: self.network.clone(),
            trace: self.trace.clone(),
            used: self.used,
            partition: self.partition,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.nodes.clone_from(&source.nodes);
        self.network.clone_from(&source.network);
        self.trace.clone_from(&source.trace);
        self.used = source.used;
        self.partition = source.partition;
    }
}

impl<S: System> std::fmt::Debug for World<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("nodes", &self.nodes)
            .field("network", &self.network)
            .field("trace", &self.trace)
            .field("used", &self.used)
            .field("partition", &self.partition)
            .finish()
    }
}

impl<S: System> World<S> {
    /// The state's fingerprint: equal for worlds with the same future.
    ///
    /// It is built from parts a search can keep from step to step: the sum
    /// of the nodes' fingerprints (each seeded with its index, so the sum
    /// still tells nodes apart), the network's own fingerprint, the trace's,
    /// and the fault counters.
    pub fn fingerprint(&self) -> u64 {
        let nodes =
            (0..self.nodes.len()).fold(0u64, |sum, i| sum.wrapping_add(self.node_fingerprint(i)));
        self.fingerprint_with(nodes, self.trace_fingerprint())
    }

    /// The fingerprint of node `i` alone; [`World::fingerprint`] sums them.
    pub fn node_fingerprint(&self, i: usize) -> u64 {
        let mut h = Fingerprinter::with_seed(i as u64);
        self.nodes[i].hash(&mut h);
        h.finish()
    }

    /// The fingerprint of the trace alone (steps that neither take an input
    /// nor emit an output leave it as it was).
    pub fn trace_fingerprint(&self) -> u64 {
        let mut h = Fingerprinter::with_seed(u64::MAX);
        self.trace.hash(&mut h);
        h.finish()
    }

    /// The fingerprint, given the sum of every node's
    /// [`World::node_fingerprint`] and the [`World::trace_fingerprint`]
    /// (equal to [`World::fingerprint`] when they are current). A search
    /// that knows which node a step changed updates the sum by that node
    /// alone.
    pub fn fingerprint_with(&self, node_sum: u64, trace_fingerprint: u64) -> u64 {
        debug_assert_eq!(
            self.network.fingerprint(),
            self.network.recompute_fingerprint(),
            "the network's cached fingerprint is stale"
        );
        let u = &self.used;
        let used = u64::from_le_bytes([
            u.drop,
            u.duplicate,
            u.reorder,
            u.crash,
            u.partition,
            u.cut,
            u.link_cut as u8,
            u.upgrade,
        ]);
        crate::fingerprint::combine(
            node_sum,
            self.network.fingerprint(),
            trace_fingerprint,
            self.partition,
            used,
        )
    }

    /// Whether a message from node index `a` to `b` crosses the partition,
    /// or goes over the cut link.
    pub fn across_partition(&self, a: usize, b: usize) -> bool {
        let side = |i: usize| (self.partition >> i) & 1;
        if self.used.link_cut {
            a != b && side(a) == 1 && side(b) == 1
        } else {
            self.partition != 0 && side(a) != side(b)
        }
    }
}
