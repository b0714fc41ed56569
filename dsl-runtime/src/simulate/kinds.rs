//! Event kinds: the classes of step a strategy reasons about (an input
//! variant, a message variant delivered, a timer, a fault), numbered from
//! the system's metadata so every run of a model agrees on them.

use crate::meta::TriggerMeta;
use crate::semantics::{Action, Model, World};
use crate::system::System;
use crate::workload::NodeWorkload;

/// The fault kinds, after the inputs, messages and timers.
const FAULTS: [&str; 7] = [
    "drop",
    "duplicate",
    "crash",
    "restart",
    "partition",
    "heal",
    "cut",
];

/// The event kinds of a system: inputs, then messages, then timers, then
/// the seven fault kinds.
#[derive(Debug, Clone, Copy)]
pub struct EventKinds {
    inputs: usize,
    messages: usize,
    timers: usize,
}

impl EventKinds {
    /// The kinds of system `S`.
    pub fn of<S: System>() -> Self {
        let meta = S::meta();
        EventKinds {
            inputs: meta.inputs.len(),
            messages: meta.messages.len(),
            timers: meta.timers.len(),
        }
    }

    /// How many kinds there are.
    pub fn len(&self) -> usize {
        self.inputs + self.messages + self.timers + FAULTS.len()
    }

    /// Whether there are none (never: the fault kinds always exist).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The first fault kind's number.
    fn faults(&self) -> usize {
        self.inputs + self.messages + self.timers
    }

    /// A readable name of kind `k`, e.g. `message Vote` or `timer Election`.
    pub fn name<S: System>(&self, k: usize) -> String {
        let meta = S::meta();
        if k < self.inputs {
            format!("input {}", meta.inputs[k])
        } else if k < self.inputs + self.messages {
            format!("message {}", meta.messages[k - self.inputs])
        } else if k < self.faults() {
            format!("timer {}", meta.timers[k - self.inputs - self.messages])
        } else {
            FAULTS.get(k - self.faults()).unwrap_or(&"?").to_string()
        }
    }

    /// The kinds `model` can ever take a step of: inputs its workload
    /// offers, messages some handler receives, timers some handler serves,
    /// faults its fault model allows.
    pub fn allowed<S: System>(&self, model: &Model<S>) -> Vec<usize> {
        let meta = S::meta();
        let mut out = Vec::new();
        let mut inputs = vec![false; self.inputs];
        for i in 0..model.setup.nodes().len() {
            let mut mark = |input: &S::Input| {
                if let Some(seen) = inputs.get_mut(S::input_kind(input)) {
                    *seen = true;
                }
            };
            match model.workload.of(i) {
                Some(NodeWorkload::Script(steps)) => steps.iter().for_each(|s| mark(&s.input)),
                Some(NodeWorkload::Chain(chain)) => chain.iter().for_each(&mut mark),
                Some(NodeWorkload::Any { choices, .. }) => choices.iter().for_each(&mut mark),
                None => {}
            }
        }
        out.extend((0..self.inputs).filter(|&k| inputs[k]));
        let handled =
            |t: &dyn Fn(&TriggerMeta) -> bool| meta.handlers.iter().any(|h| t(&h.trigger));
        for m in 0..self.messages {
            if handled(&|t| *t == TriggerMeta::Message(m)) {
                out.push(self.inputs + m);
            }
        }
        for t in 0..self.timers {
            if handled(&|x| *x == TriggerMeta::Timer(t)) {
                out.push(self.inputs + self.messages + t);
            }
        }
        let f = &model.faults;
        let faults = [
            f.drop.allows(0),
            f.duplicate.allows(0),
            f.crash.allows(0),
            f.restart,
            f.partition.allows(0),
            f.partition.allows(0) || f.cut.allows(0),
            f.cut.allows(0),
        ];
        let base = self.faults();
        out.extend((0..FAULTS.len()).filter(|&k| faults[k]).map(|k| base + k));
        out
    }

    /// The kind of `action` on `world`. Drops a fault model forces (a
    /// packet to a crashed node, or across a partition) count as drops.
    pub fn of_action<S: System>(
        &self,
        model: &Model<S>,
        world: &World<S>,
        action: Action,
    ) -> usize {
        let base = self.faults();
        match action {
            Action::Input { node, choice, .. } => {
                let slot = &world.nodes[node];
                let input = match model.workload.of(node) {
                    Some(NodeWorkload::Script(steps)) => {
                        steps.get(slot.inputs_taken as usize).map(|s| &s.input)
                    }
                    Some(NodeWorkload::Chain(chain)) => chain.get(slot.inputs_taken as usize),
                    Some(NodeWorkload::Any { choices, .. }) => choices.get(choice),
                    None => None,
                };
                input.map_or(0, |i| S::input_kind(i).min(self.inputs.saturating_sub(1)))
            }
            Action::Deliver(j, _) => world
                .network
                .packets()
                .get(j)
                .map_or(base, |p| self.inputs + S::message_kind(&p.msg)),
            Action::Timeout { timer, .. } => self.inputs + self.messages + timer,
            Action::Drop(_) => base,
            Action::Duplicate(_) => base + 1,
            Action::Crash(_) => base + 2,
            Action::Restart(_) => base + 3,
            Action::Partition(_) => base + 4,
            Action::Heal => base + 5,
            Action::Cut(_) => base + 6,
        }
    }
}
