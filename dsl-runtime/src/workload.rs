//! Workloads: which external inputs each node may receive during a run.
//!
//! Exhaustive checking needs a bound on the outside world. A workload gives
//! each node either a script (inputs in order, optionally waiting for an
//! output before the next) or a bag of inputs it may receive in any order, up
//! to a count.

use crate::meta::RoleEnum;
use crate::setup::Setup;
use crate::system::System;

/// One scripted input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<I> {
    /// The input.
    pub input: I,
    /// Whether the next input waits until the node emits an output, as a
    /// client waits for a reply.
    pub awaits_output: bool,
}

impl<I> Step<I> {
    /// An input after which the script goes on at once. Takes the payload
    /// or the input itself: `Step::send(input::Unlock)`.
    pub fn send(input: impl Into<I>) -> Self {
        Step {
            input: input.into(),
            awaits_output: false,
        }
    }

    /// An input after which the script waits for an output of the node:
    /// `Step::call(input::Lock)`.
    pub fn call(input: impl Into<I>) -> Self {
        Step {
            input: input.into(),
            awaits_output: true,
        }
    }
}

/// The inputs one node may receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeWorkload<I> {
    /// These inputs, in this order.
    Script(Vec<Step<I>>),
    /// These inputs, in this order, as a client that calls again the
    /// moment it has a reply: the first arrives when the run starts, each
    /// next one in the same step as the node's output answering the
    /// previous one. The checker then does not explore delays between a
    /// reply and the next call (which `Script` with [`Step::call`] does),
    /// and the state space is smaller.
    Chain(Vec<I>),
    /// Any of `choices`, in any order, at most `max` inputs in all.
    Any {
        /// The inputs to choose from at each point.
        choices: Vec<I>,
        /// How many inputs in total.
        max: u16,
    },
}

impl<I> NodeWorkload<I> {
    /// How many inputs the node receives at most.
    pub fn len(&self) -> usize {
        match self {
            NodeWorkload::Script(steps) => steps.len(),
            NodeWorkload::Chain(inputs) => inputs.len(),
            NodeWorkload::Any { max, .. } => *max as usize,
        }
    }

    /// Whether the node receives no inputs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The inputs of every node of a run, by node index.
#[derive(Debug)]
pub struct Workload<S: System> {
    per_node: Vec<Option<NodeWorkload<S::Input>>>,
}

impl<S: System> Clone for Workload<S> {
    fn clone(&self) -> Self {
        Workload {
            per_node: self.per_node.clone(),
        }
    }
}

impl<S: System> Workload<S> {
    /// No inputs at all.
    pub fn none(setup: &Setup<S>) -> Self {
        Workload {
            per_node: vec![None; setup.len()],
        }
    }

    /// Gives `node` the inputs of `work`; nodes not in the setup are ignored.
    pub fn with(mut self, setup: &Setup<S>, node: S::Node, work: NodeWorkload<S::Input>) -> Self {
        if let Some(i) = setup.index_of(node) {
            self.per_node[i] = Some(work);
        }
        self
    }

    /// Gives each node of `role` (`Role::Client`) the workload
    /// `make(node)` returns.
    pub fn each(
        mut self,
        setup: &Setup<S>,
        role: S::Role,
        mut make: impl FnMut(S::Node) -> NodeWorkload<S::Input>,
    ) -> Self {
        for i in setup.role_range(role.id()) {
            self.per_node[i] = Some(make(setup.nodes()[i]));
        }
        self
    }

    /// The same inputs for system `T`, which takes the same inputs on the
    /// same nodes (a transformer of `S`).
    pub fn with_system<T: System<Input = S::Input>>(&self) -> Workload<T> {
        Workload {
            per_node: self.per_node.clone(),
        }
    }

    /// Whether some input waits for an output (a [`Step::call`] or a
    /// [`NodeWorkload::Chain`]), so what nodes emit decides when inputs
    /// arrive.
    pub fn waits_for_outputs(&self) -> bool {
        self.per_node.iter().flatten().any(|w| match w {
            NodeWorkload::Script(steps) => steps.iter().any(|s| s.awaits_output),
            NodeWorkload::Chain(inputs) => inputs.len() > 1,
            NodeWorkload::Any { .. } => false,
        })
    }

    /// The workload of the node with index `i`.
    pub fn of(&self, i: usize) -> Option<&NodeWorkload<S::Input>> {
        self.per_node.get(i).and_then(Option::as_ref)
    }

    /// The total number of inputs the workload can deliver.
    pub fn total_inputs(&self) -> usize {
        self.per_node.iter().flatten().map(NodeWorkload::len).sum()
    }

    /// A one-line summary for reports.
    pub fn describe(&self, setup: &Setup<S>) -> String {
        let parts: Vec<String> = self
            .per_node
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let w = w.as_ref()?;
                let node = setup.nodes()[i];
                Some(match w {
                    NodeWorkload::Script(steps) => {
                        let items: Vec<String> = steps
                            .iter()
                            .map(|s| {
                                let wait = if s.awaits_output { " (await)" } else { "" };
                                format!("{:?}{wait}", s.input)
                            })
                            .collect();
                        format!("{node}: {}", items.join(", "))
                    }
                    NodeWorkload::Chain(inputs) => {
                        let items: Vec<String> = inputs.iter().map(|i| format!("{i:?}")).collect();
                        format!("{node}: {} (each on the previous reply)", items.join(", "))
                    }
                    NodeWorkload::Any { choices, max } => {
                        format!("{node}: up to {max} of {choices:?}")
                    }
                })
            })
            .collect();
        if parts.is_empty() {
            "no inputs".to_string()
        } else {
            parts.join("; ")
        }
    }
}
