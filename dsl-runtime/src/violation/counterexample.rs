//! Counterexamples: the events that lead to a violation, replayable and
//! printable step by step.

use std::fmt::{self, Write as _};

use super::invariants::check_world;
use crate::ctx::{Effects, TimerOp};
use crate::semantics::{Event, Model, StepError, StepInfo, World};
use crate::system::System;

/// What went wrong at the end of a counterexample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// An invariant does not hold.
    Invariant {
        /// The invariant's name.
        name: &'static str,
        /// For a local invariant, the node where it fails.
        node: Option<String>,
        /// The invariant's explanation, if it gave one.
        message: String,
    },
    /// A handler did something the semantics cannot carry out.
    Step(StepError),
    /// No step is enabled while some node still waits: for a reply to a
    /// call of its workload (see [`crate::semantics::Model::deadlocked`]).
    Deadlock {
        /// The nodes left waiting, by name.
        waiting: Vec<String>,
    },
    /// An `eventually` property fails in a fair run (a liveness check).
    Liveness {
        /// The property's name.
        property: &'static str,
        /// How the run avoids it.
        message: String,
        /// The index of the first event of the cycle the run repeats for
        /// ever; `None` when the run stops instead.
        cycle_start: Option<usize>,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Invariant {
                name,
                node,
                message,
            } => {
                write!(f, "invariant `{name}` is violated")?;
                if let Some(node) = node {
                    write!(f, " at {node}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Violation::Step(e) => write!(f, "step failed: {e}"),
            Violation::Deadlock { waiting } => write!(
                f,
                "deadlock: no step is enabled while {} still {} for a reply",
                waiting.join(", "),
                if waiting.len() == 1 { "waits" } else { "wait" }
            ),
            Violation::Liveness {
                property, message, ..
            } => {
                write!(f, "eventually `{property}` fails: {message}")
            }
        }
    }
}

/// A violation and the events that lead to it from the initial world.
pub struct Counterexample<S: System> {
    /// What is violated at the end.
    pub violation: Violation,
    /// The steps, in order.
    pub events: Vec<Event<S>>,
}

impl<S: System> fmt::Debug for Counterexample<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counterexample")
            .field("violation", &self.violation)
            .field("events", &self.events)
            .finish()
    }
}

/// One replayed step: the event, the world after it and what the handler did.
pub struct ReplayStep<S: System> {
    /// The event.
    pub event: Event<S>,
    /// The node whose handler ran, and which handler.
    pub info: StepInfo,
    /// Messages the handler sent, outputs it emitted, timers it changed.
    pub effects: Effects<S>,
    /// The world after the step.
    pub world: World<S>,
}

/// Why a trace could not be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// The initial world could not be built.
    Init(StepError),
    /// Step `index` (from 0) is not enabled at that point of the replay.
    NotEnabled {
        /// Which step.
        index: usize,
        /// The event, printed.
        event: String,
    },
    /// Step `index` failed.
    Step {
        /// Which step.
        index: usize,
        /// Why.
        error: StepError,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Init(e) => write!(f, "the initial world cannot be built: {e}"),
            ReplayError::NotEnabled { index, event } => write!(
                f,
                "step {} (`{event}`) is not possible at that point; was the trace recorded with \
                 the same sizes, faults and workload?",
                index + 1
            ),
            ReplayError::Step { index, error } => write!(f, "step {} failed: {error}", index + 1),
        }
    }
}

impl std::error::Error for ReplayError {}

impl<S: System> Counterexample<S> {
    /// A counterexample ending in `violation`.
    pub fn new(violation: Violation, events: Vec<Event<S>>) -> Self {
        Counterexample { violation, events }
    }

    /// How many steps it takes.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the initial world already violates.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Replays the events with the system's handlers: the initial world and
    /// every step. Deterministic handlers always reproduce the same worlds.
    pub fn replay(&self, model: &Model<S>) -> Result<(World<S>, Vec<ReplayStep<S>>), ReplayError> {
        replay(model, &self.events)
    }

    /// Replays the events and evaluates the invariants at the end, then
    /// whether the run is deadlocked there: the violation found by that
    /// replay, if any. A step that fails is a violation too.
    pub fn reproduce(&self, model: &Model<S>) -> Result<Option<Violation>, ReplayError> {
        let (init, steps) = match self.replay(model) {
            Ok(r) => r,
            Err(ReplayError::Step { index, error }) if index + 1 == self.events.len() => {
                return Ok(Some(Violation::Step(error)))
            }
            Err(e) => return Err(e),
        };
        let last = steps.last().map_or(&init, |s| &s.world);
        let mut evals = vec![0; S::meta().invariants.len()];
        if let Err(v) = check_world(&model.setup, last, &mut evals) {
            return Ok(Some(v));
        }
        Ok(model
            .deadlocked(last)
            .map(|waiting| Violation::Deadlock { waiting }))
    }

    /// The counterexample as text: the initial state, then each step with
    /// the node's state change, the effects and the messages in flight.
    pub fn render(&self, model: &Model<S>) -> String {
        let mut out = String::new();
        let (init, steps) = match self.replay(model) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(out, "(the trace could not be replayed: {e})");
                return out;
            }
        };
        let nodes = model.setup.nodes();
        let _ = writeln!(out, "  initial state:");
        for (i, slot) in init.nodes.iter().enumerate() {
            let fields: Vec<String> = S::fields(&slot.state)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(out, "    {}: {}", nodes[i], fields.join(", "));
        }
        if !init.network.is_empty() {
            let _ = writeln!(out, "    in flight: {}", in_flight(&init));
        }
        let mut before = &init;
        for (n, step) in steps.iter().enumerate() {
            let _ = writeln!(out, "  {:>3}. {}", n + 1, step.event);
            if let Some(i) = step.info.node {
                if let Some(h) = step.info.handler {
                    let _ = writeln!(out, "       handler: {}", S::meta().handlers[h].name);
                }
                let old = S::fields(&before.nodes[i].state);
                let new = S::fields(&step.world.nodes[i].state);
                for ((name, a), (_, b)) in old.iter().zip(&new) {
                    if a != b {
                        let _ = writeln!(out, "       {}.{name}: {a} -> {b}", nodes[i]);
                    }
                }
            }
            for (to, msg) in &step.effects.sends {
                let _ = writeln!(out, "       sends {msg:?} to {to}");
            }
            for o in &step.effects.outputs {
                let _ = writeln!(out, "       emits {o:?}");
            }
            for t in &step.effects.timers {
                match t {
                    TimerOp::Set(t, d) => {
                        let _ = writeln!(out, "       sets timer {t:?} ({d:?})");
                    }
                    TimerOp::Cancel(t) => {
                        let _ = writeln!(out, "       cancels timer {t:?}");
                    }
                }
            }
            let _ = writeln!(out, "       in flight: {}", in_flight(&step.world));
            before = &step.world;
        }
        let _ = writeln!(out, "  => {}", self.violation);
        out
    }
}

/// The messages in flight, in one line.
fn in_flight<S: System>(world: &World<S>) -> String {
    if world.network.is_empty() {
        return "(none)".to_string();
    }
    world
        .network
        .packets()
        .iter()
        .map(|p| format!("{}->{} {:?}", p.src, p.dst, p.msg))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replays `events` from the initial world of `model`.
pub fn replay<S: System>(
    model: &Model<S>,
    events: &[Event<S>],
) -> Result<(World<S>, Vec<ReplayStep<S>>), ReplayError> {
    let init = model.init().map_err(ReplayError::Init)?;
    replay_from(model, init, events)
}

/// Replays `events` from `init`, any world of `model` (reachable or not,
/// such as the pre-state of a counterexample to induction).
pub fn replay_from<S: System>(
    model: &Model<S>,
    init: World<S>,
    events: &[Event<S>],
) -> Result<(World<S>, Vec<ReplayStep<S>>), ReplayError> {
    let mut world = init.clone();
    let mut steps = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        let Some(action) = model.action_for(&world, event) else {
            // A trace from a check without the model's ignore rule delivers
            // packets the rule has already dropped here; delivering them
            // does nothing, by the rule's promise.
            if matches!(event, Event::Deliver(p) if model.drops(&world, p.src, p.dst, &p.msg)) {
                steps.push(ReplayStep {
                    event: event.clone(),
                    info: StepInfo::default(),
                    effects: Effects::default(),
                    world: world.clone(),
                });
                continue;
            }
            return Err(ReplayError::NotEnabled {
                index,
                event: event.to_string(),
            });
        };
        let mut effects = Effects::default();
        let info = model
            .apply(&mut world, action, &mut effects)
            .map_err(|error| ReplayError::Step { index, error })?;
        steps.push(ReplayStep {
            event: event.clone(),
            info,
            effects,
            world: world.clone(),
        });
    }
    Ok((init, steps))
}
