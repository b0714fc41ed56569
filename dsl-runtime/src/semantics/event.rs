//! Events: the step rules of the semantics.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::choice::{Branch, ChoiceError};
use crate::meta::HandlerId;
use crate::semantics::network::Packet;
use crate::system::System;

/// A step a world can take, by index into that world (cheap to enumerate;
/// meaningful only for the world it was enumerated from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Node `node` receives workload input number `choice` of its choices
    /// (always 0 for scripts).
    Input {
        /// Node index.
        node: usize,
        /// Which of the node's input choices.
        choice: usize,
        /// The answers to its handler's choices.
        branch: Branch,
    },
    /// The packet at this index is delivered; its handler's choices are
    /// answered by the branch.
    Deliver(usize, Branch),
    /// Timer `timer` of node `node` fires.
    Timeout {
        /// Node index.
        node: usize,
        /// Timer index.
        timer: usize,
        /// The answers to its handler's choices.
        branch: Branch,
    },
    /// The packet at this index is lost.
    Drop(usize),
    /// The packet at this index is duplicated.
    Duplicate(usize),
    /// Node `node` crashes.
    Crash(usize),
    /// Node `node` restarts.
    Restart(usize),
    /// The network splits: the nodes whose bits are set on one side.
    Partition(u64),
    /// The link between the two nodes whose bits are set stops carrying
    /// messages either way.
    Cut(u64),
    /// The partition, or the cut link, heals.
    Heal,
}

impl Action {
    /// The answers this step gives its handler's choices
    /// ([`crate::Ctx::choose`]); [`Branch::FIRST`] for steps that run none.
    pub fn branch(self) -> Branch {
        match self {
            Action::Input { branch, .. }
            | Action::Deliver(_, branch)
            | Action::Timeout { branch, .. } => branch,
            _ => Branch::FIRST,
        }
    }

    /// The same step with other answers (unchanged for steps that run no
    /// handler that can choose).
    pub fn with_branch(self, branch: Branch) -> Action {
        match self {
            Action::Input { node, choice, .. } => Action::Input {
                node,
                choice,
                branch,
            },
            Action::Deliver(j, _) => Action::Deliver(j, branch),
            Action::Timeout { node, timer, .. } => Action::Timeout {
                node,
                timer,
                branch,
            },
            other => other,
        }
    }
}

/// A step described by value: what happened, to whom. This is the form of
/// counterexample traces, stable across runs and printable.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Event<S: System> {
    /// An external input arrives at a node.
    Input {
        /// The node.
        node: S::Node,
        /// The input.
        input: S::Input,
    },
    /// A message is delivered.
    Deliver(Packet<S>),
    /// A timer fires.
    Timeout {
        /// The node.
        node: S::Node,
        /// The timer.
        timer: S::Timer,
    },
    /// A message is lost.
    Drop(Packet<S>),
    /// A message is duplicated.
    Duplicate(Packet<S>),
    /// A node crashes.
    Crash(S::Node),
    /// A node restarts.
    Restart(S::Node),
    /// The network splits; these nodes are on one side.
    Partition(Vec<S::Node>),
    /// The link between these two nodes is cut.
    Cut(S::Node, S::Node),
    /// The partition, or the cut link, heals.
    Heal,
    /// `step`, whose handler chose: these are its answers to
    /// [`crate::Ctx::choose`], in order.
    Chose {
        /// The answers.
        choices: Vec<u32>,
        /// The event itself.
        step: Box<Event<S>>,
    },
}

impl<S: System> Clone for Event<S> {
    fn clone(&self) -> Self {
        match self {
            Event::Input { node, input } => Event::Input {
                node: *node,
                input: input.clone(),
            },
            Event::Deliver(p) => Event::Deliver(p.clone()),
            Event::Timeout { node, timer } => Event::Timeout {
                node: *node,
                timer: *timer,
            },
            Event::Drop(p) => Event::Drop(p.clone()),
            Event::Duplicate(p) => Event::Duplicate(p.clone()),
            Event::Crash(n) => Event::Crash(*n),
            Event::Restart(n) => Event::Restart(*n),
            Event::Partition(side) => Event::Partition(side.clone()),
            Event::Cut(a, b) => Event::Cut(*a, *b),
            Event::Heal => Event::Heal,
            Event::Chose { choices, step } => Event::Chose {
                choices: choices.clone(),
                step: step.clone(),
            },
        }
    }
}

impl<S: System> PartialEq for Event<S> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Event::Input { node: a, input: x }, Event::Input { node: b, input: y }) => {
                a == b && x == y
            }
            (Event::Deliver(p), Event::Deliver(q))
            | (Event::Drop(p), Event::Drop(q))
            | (Event::Duplicate(p), Event::Duplicate(q)) => p == q,
            (Event::Timeout { node: a, timer: x }, Event::Timeout { node: b, timer: y }) => {
                a == b && x == y
            }
            (Event::Crash(a), Event::Crash(b)) | (Event::Restart(a), Event::Restart(b)) => a == b,
            (Event::Partition(a), Event::Partition(b)) => a == b,
            (Event::Cut(a, b), Event::Cut(c, d)) => a == c && b == d,
            (Event::Heal, Event::Heal) => true,
            (
                Event::Chose {
                    choices: a,
                    step: x,
                },
                Event::Chose {
                    choices: b,
                    step: y,
                },
            ) => a == b && x == y,
            _ => false,
        }
    }
}

impl<S: System> fmt::Debug for Event<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<S: System> fmt::Display for Event<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Input { node, input } => write!(f, "{node} receives input {input:?}"),
            Event::Deliver(p) => write!(f, "{} receives {:?} from {}", p.dst, p.msg, p.src),
            Event::Timeout { node, timer } => write!(f, "{node}: timer {timer:?} fires"),
            Event::Drop(p) => write!(f, "network drops {:?} from {} to {}", p.msg, p.src, p.dst),
            Event::Duplicate(p) => {
                write!(
                    f,
                    "network duplicates {:?} from {} to {}",
                    p.msg, p.src, p.dst
                )
            }
            Event::Crash(n) => write!(f, "{n} crashes"),
            Event::Restart(n) => write!(f, "{n} restarts"),
            Event::Partition(side) => {
                let names: Vec<String> = side.iter().map(|n| n.to_string()).collect();
                write!(
                    f,
                    "network partitions {{{}}} from the rest",
                    names.join(", ")
                )
            }
            Event::Cut(a, b) => write!(f, "network cuts the link between {a} and {b}"),
            Event::Heal => write!(f, "network heals"),
            Event::Chose { choices, step } => match choices.as_slice() {
                [one] => write!(f, "{step}, choosing {one}"),
                many => write!(f, "{step}, choosing {many:?}"),
            },
        }
    }
}

impl<S: System> Event<S> {
    /// The node the event happens at, if it is one node's event.
    pub fn node(&self) -> Option<S::Node> {
        match self {
            Event::Input { node, .. } | Event::Timeout { node, .. } => Some(*node),
            Event::Deliver(p) => Some(p.dst),
            Event::Crash(n) | Event::Restart(n) => Some(*n),
            Event::Drop(_)
            | Event::Duplicate(_)
            | Event::Partition(_)
            | Event::Cut(..)
            | Event::Heal => None,
            Event::Chose { step, .. } => step.node(),
        }
    }

    /// The event without what its handler chose ([`Event::Chose`] unwrapped).
    pub fn unchosen(&self) -> &Event<S> {
        match self {
            Event::Chose { step, .. } => step.unchosen(),
            other => other,
        }
    }

    /// Whether the event is a fault rather than normal progress.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            Event::Drop(_)
                | Event::Duplicate(_)
                | Event::Crash(_)
                | Event::Restart(_)
                | Event::Partition(_)
                | Event::Cut(..)
                | Event::Heal
        )
    }
}

/// What a step did, beyond the new world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepInfo {
    /// The index of the node whose handler ran, if one did.
    pub node: Option<usize>,
    /// The handler that ran, if any.
    pub handler: Option<HandlerId>,
    /// The input handler of a chained workload that ran in the same step,
    /// because the first handler emitted an output (see
    /// [`crate::NodeWorkload::Chain`]).
    pub chained: Option<HandlerId>,
}

/// A step that went wrong because of the system, not the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// A handler sent a message to a node that is not part of this run.
    SendToUnknownNode {
        /// The sending node.
        from: String,
        /// The destination named.
        to: String,
        /// The handler.
        handler: &'static str,
    },
    /// A handler armed more timers than the world can track.
    TooManyTimers,
    /// The model's ignore rule ([`crate::semantics::Model::ignoring`]) said
    /// a node ignores a message, but its handler acted on it.
    IgnoredMessageHandled {
        /// The receiver.
        node: String,
        /// The sender.
        from: String,
        /// The message, printed with `Debug`.
        message: String,
        /// The handler that acted.
        handler: &'static str,
    },
    /// A step took a node from a state where the ignore rule ignores a
    /// packet in flight to it to one where it does not: the rule's "for
    /// good" does not hold (found by
    /// [`crate::semantics::Model::auditing_ignore_rule`]).
    IgnoredMessageRevived {
        /// The receiver.
        node: String,
        /// The sender.
        from: String,
        /// The message, printed with `Debug`.
        message: String,
        /// The handler whose step changed the receiver's state.
        handler: &'static str,
    },
    /// A step did something its handler's footprint does not declare
    /// (found by [`crate::semantics::Model::auditing_footprints`]).
    FootprintViolated {
        /// The node the handler ran at.
        node: String,
        /// The handler (`?` when none ran).
        handler: &'static str,
        /// What it did that was not declared.
        what: String,
    },
    /// A handler's choice could not be answered (see [`crate::choice`]).
    BadChoice {
        /// The node whose handler chose.
        node: String,
        /// What was wrong.
        error: ChoiceError,
    },
    /// A handler panicked.
    HandlerPanicked {
        /// The node whose handler panicked.
        node: String,
        /// The panic message.
        message: String,
    },
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::SendToUnknownNode { from, to, handler } => write!(
                f,
                "handler `{handler}` on {from} sent a message to {to}, which is not part of this run"
            ),
            StepError::TooManyTimers => write!(f, "a node has more than 64 timers"),
            StepError::IgnoredMessageHandled {
                node,
                from,
                message,
                handler,
            } => write!(
                f,
                "the ignore rule says {node} ignores {message} from {from}, but handler \
                 `{handler}` acts on it; make the rule return false for this state and message"
            ),
            StepError::IgnoredMessageRevived {
                node,
                from,
                message,
                handler,
            } => write!(
                f,
                "the ignore rule said {node} ignores {message} from {from} for good, but after \
                 handler `{handler}` ran it no longer does; the rule may only lean on fields \
                 that never change back"
            ),
            StepError::FootprintViolated {
                node,
                handler,
                what,
            } => write!(
                f,
                "footprint audit: handler `{handler}` on {node} {what}; the checker's reductions \
                 trust footprints, so declare it in the handler's footprint (or, for metadata \
                 written by hand, in the system's `meta()`) or stop the handler doing it"
            ),
            StepError::BadChoice { node, error } => write!(f, "a handler on {node}: {error}"),
            StepError::HandlerPanicked { node, message } => {
                write!(f, "a handler on {node} panicked: {message}")
            }
        }
    }
}

impl std::error::Error for StepError {}
