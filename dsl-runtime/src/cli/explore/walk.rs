//! A walk through a model's state space: a path of steps from the initial
//! world, chosen one enabled event at a time, and what the page shows of it.
//!
//! A path is a list of indices, each into [`Model::enabled`] of the world
//! reached so far. The enumeration order is fixed for a model, so a path
//! names the same worlds on every replay: it is what the permalink carries.
//! Every world is stepped with [`Model::apply`], the checker's own step
//! function, so the explorer runs the same handlers as `check`.

use serde_json::{json, Value};

use crate::check::{check_selected, check_world, ReplayStep};
use crate::ctx::{Effects, TimerOp};
use crate::meta::InvariantScope;
use crate::semantics::{Action, Event, Model, World};
use crate::system::System;

/// The longest path the explorer replays; longer ones are refused.
pub const MAX_PATH: usize = 10_000;

/// The most enabled events one world lists (a partition fault over many
/// nodes enables one event per split); the rest are counted, not listed.
pub const MAX_LISTED: usize = 500;

/// A replayed path: the initial world and every step after it.
pub struct Walk<S: System> {
    /// The path, as given.
    pub path: Vec<usize>,
    /// The initial world.
    pub init: World<S>,
    /// Each step: event, handler, effects and the world after it.
    pub steps: Vec<ReplayStep<S>>,
}

impl<S: System> Walk<S> {
    /// Replays `path` from `model`'s initial world; `Err` says which step
    /// is not one of its world's enabled events, or which failed.
    pub fn replay(model: &Model<S>, path: &[usize]) -> Result<Walk<S>, String> {
        if path.len() > MAX_PATH {
            return Err(format!(
                "the path has {} steps; the explorer replays at most {MAX_PATH}",
                path.len()
            ));
        }
        let init = model
            .init()
            .map_err(|e| format!("the initial world cannot be built: {e}"))?;
        let mut world = init.clone();
        let mut steps = Vec::with_capacity(path.len());
        let mut enabled = Vec::new();
        for (n, &choice) in path.iter().enumerate() {
            enabled.clear();
            model.actions(&world, &mut enabled);
            let Some(&action) = enabled.get(choice) else {
                return Err(format!(
                    "step {}: event #{choice} does not exist; that world enables {} events \
                     (was the link made with the same command line?)",
                    n + 1,
                    enabled.len()
                ));
            };
            let event = model.event(&world, action);
            let mut effects = Effects::default();
            let info = model
                .apply(&mut world, action, &mut effects)
                .map_err(|e| format!("step {} ({event}) failed: {e}", n + 1))?;
            steps.push(ReplayStep {
                event,
                info,
                effects,
                world: world.clone(),
            });
        }
        Ok(Walk {
            path: path.to_vec(),
            init,
            steps,
        })
    }

    /// The world at the end of the path.
    pub fn world(&self) -> &World<S> {
        self.steps.last().map_or(&self.init, |s| &s.world)
    }

    /// The world after `n` steps (0: the initial one).
    fn world_at(&self, n: usize) -> &World<S> {
        if n == 0 {
            &self.init
        } else {
            &self.steps[n - 1].world
        }
    }

    /// The events of the path.
    pub fn events(&self) -> Vec<Event<S>> {
        self.steps.iter().map(|s| s.event.clone()).collect()
    }
}

/// The path that replays `events` from `model`'s initial world (or from
/// `from`, a walk's end, when given): each event's index among its
/// world's enabled events. How a saved trace or a counterexample found
/// from here becomes a path the page can show.
pub fn path_of<S: System>(
    model: &Model<S>,
    from: Option<&Walk<S>>,
    events: &[Event<S>],
) -> Result<Vec<usize>, String> {
    let (mut path, mut world) = match from {
        Some(w) => (w.path.clone(), w.world().clone()),
        None => (
            Vec::new(),
            model
                .init()
                .map_err(|e| format!("the initial world cannot be built: {e}"))?,
        ),
    };
    let mut enabled = Vec::new();
    let mut effects = Effects::default();
    for (n, event) in events.iter().enumerate() {
        enabled.clear();
        model.actions(&world, &mut enabled);
        let Some(i) = enabled
            .iter()
            .position(|&a| model.event(&world, a) == *event)
        else {
            return Err(format!(
                "step {} (`{event}`) is not possible at that point; was the trace recorded \
                 with the same sizes, faults and workload?",
                n + 1
            ));
        };
        model
            .apply(&mut world, enabled[i], &mut effects)
            .map_err(|e| format!("step {} ({event}) failed: {e}", n + 1))?;
        path.push(i);
    }
    Ok(path)
}

/// Every invariant on `world`, one by one: `(name, scope, Ok or why not)`.
fn invariants<S: System>(model: &Model<S>, world: &World<S>) -> Vec<Value> {
    let meta = S::meta();
    let mut evals = vec![0; meta.invariants.len()];
    if meta.invariants.len() > 64 {
        // One mask bit per invariant is not enough: report the first.
        let first = check_world(&model.setup, world, &mut evals).err();
        return meta
            .invariants
            .iter()
            .map(|inv| {
                let failed = first.as_ref().filter(|v| {
                    matches!(v, crate::check::Violation::Invariant { name, .. } if *name == inv.name)
                });
                invariant_json(model, inv, failed)
            })
            .collect();
    }
    meta.invariants
        .iter()
        .enumerate()
        .map(|(id, inv)| {
            let result = check_selected(&model.setup, world, 1 << id, None, &mut evals);
            invariant_json(model, inv, result.err().as_ref())
        })
        .collect()
}

fn invariant_json<S: System>(
    _model: &Model<S>,
    inv: &crate::meta::InvariantMeta,
    failed: Option<&crate::check::Violation>,
) -> Value {
    let scope = match inv.scope {
        InvariantScope::Global => "global".to_string(),
        InvariantScope::Local(r) => format!("local to {}", S::meta().roles[r].name),
        InvariantScope::Trace => "trace".to_string(),
    };
    match failed {
        None => json!({"name": inv.name, "scope": scope, "holds": true}),
        Some(v) => json!({"name": inv.name, "scope": scope, "holds": false, "why": v.to_string()}),
    }
}

/// Whether every invariant holds on `world`.
fn all_hold<S: System>(model: &Model<S>, world: &World<S>) -> Result<(), String> {
    let mut evals = vec![0; S::meta().invariants.len()];
    check_world(&model.setup, world, &mut evals).map_err(|v| v.to_string())
}

/// The timers armed at node `i`, by name.
fn timers<S: System>(world: &World<S>, i: usize) -> Vec<String> {
    let mut bits = world.nodes[i].timers;
    let mut out = Vec::new();
    while bits != 0 {
        let t = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        out.push(format!("{:?}", S::timer(t)));
    }
    out
}

/// The fields of every node that differ between two worlds:
/// `[{node, field, from, to}]`.
fn changes<S: System>(model: &Model<S>, before: &World<S>, after: &World<S>) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, (b, a)) in before.nodes.iter().zip(&after.nodes).enumerate() {
        let node = model.setup.nodes()[i].to_string();
        if b.up != a.up {
            out.push(json!({"node": node, "field": "(up)", "from": b.up.to_string(), "to": a.up.to_string()}));
        }
        for ((name, x), (_, y)) in S::fields(&b.state).iter().zip(S::fields(&a.state)) {
            if *x != y {
                out.push(json!({"node": node, "field": name, "from": x, "to": y}));
            }
        }
    }
    out
}

/// What a handler run did besides changing fields.
fn effects_json<S: System>(effects: &Effects<S>) -> Value {
    let sends: Vec<String> = effects
        .sends
        .iter()
        .map(|(to, m)| format!("{m:?} to {to}"))
        .collect();
    let outputs: Vec<String> = effects.outputs.iter().map(|o| format!("{o:?}")).collect();
    let timers: Vec<String> = effects
        .timers
        .iter()
        .map(|t| match t {
            TimerOp::Set(t, d) => format!("sets {t:?} ({d:?})"),
            TimerOp::Cancel(t) => format!("cancels {t:?}"),
        })
        .collect();
    json!({"sends": sends, "outputs": outputs, "timers": timers})
}

/// The kind of an event, for the page's colours and grouping.
fn kind(action: Action) -> &'static str {
    match action {
        Action::Input { .. } => "input",
        Action::Deliver(..) => "deliver",
        Action::Timeout { .. } => "timer",
        Action::Drop(_)
        | Action::Duplicate(_)
        | Action::Crash(_)
        | Action::Restart(_)
        | Action::Partition(_)
        | Action::Cut(_)
        | Action::Heal => "fault",
    }
}

/// The event as JSON, as `check --trace-json` writes it: what a test or a
/// script matches on.
fn event_json<S: System>(event: &Event<S>) -> Value {
    serde_json::to_value(event).unwrap_or(Value::Null)
}

/// Every event `world` enables, each with a preview of its step: the
/// fields it changes, what the handler sends, emits and sets, and which
/// invariants fail after it.
fn enabled_json<S: System>(model: &Model<S>, world: &World<S>) -> (Vec<Value>, usize) {
    let actions = model.enabled(world);
    let total = actions.len();
    let mut effects = Effects::default();
    let listed = actions
        .iter()
        .enumerate()
        .take(MAX_LISTED)
        .map(|(index, &action)| {
            let event = model.event(world, action);
            let mut next = world.clone();
            let preview = match model.apply(&mut next, action, &mut effects) {
                Ok(info) => {
                    let handler = info.handler.map(|h| S::meta().handlers[h].name);
                    let violates = all_hold(model, &next).err();
                    json!({
                        "handler": handler,
                        "changes": changes(model, world, &next),
                        "effects": effects_json(&effects),
                        "violates": violates,
                    })
                }
                Err(e) => json!({"error": e.to_string()}),
            };
            json!({
                "index": index,
                "kind": kind(action),
                "label": event.to_string(),
                "event": event_json(&event),
                "preview": preview,
            })
        })
        .collect();
    (listed, total)
}

/// Each fault kind the model allows, with what the path has used of its
/// budget: `duplicate: 1 of 2`, or `not counted` under an unlimited budget
/// (the checker counts only what it bounds).
fn faults_used<S: System>(model: &Model<S>, world: &World<S>) -> Vec<String> {
    use crate::faults::Budget;
    let f = &model.faults;
    let u = &world.used;
    [
        ("drop", f.drop, u.drop),
        ("duplicate", f.duplicate, u.duplicate),
        ("reorder", f.reorder, u.reorder),
        ("crash", f.crash, u.crash),
        ("partition", f.partition, u.partition),
        ("cut", f.cut, u.cut),
    ]
    .into_iter()
    .filter_map(|(name, budget, used)| match budget {
        Budget::Off => None,
        Budget::Limited(n) => Some(format!("{name}: {used} of {n}")),
        Budget::Unlimited => Some(format!("{name}: any number, not counted")),
    })
    .collect()
}

/// Everything the page shows of a walk's last world, and the path to it.
pub fn view<S: System>(model: &Model<S>, walk: &Walk<S>) -> Value {
    let nodes = model.setup.nodes();
    let world = walk.world();
    let n = walk.steps.len();
    let before = (n > 0).then(|| walk.world_at(n - 1));
    let node_views: Vec<Value> = world
        .nodes
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let old = before.map(|w| S::fields(&w.nodes[i].state));
            let fields: Vec<Value> = S::fields(&slot.state)
                .into_iter()
                .enumerate()
                .map(|(f, (name, value))| {
                    let changed = old.as_ref().is_some_and(|o| o[f].1 != value);
                    json!({"name": name, "value": value, "changed": changed})
                })
                .collect();
            json!({
                "name": nodes[i].to_string(),
                "up": slot.up,
                "fields": fields,
                "timers": timers(world, i),
                "awaiting": slot.awaiting,
                "inputs_taken": slot.inputs_taken,
            })
        })
        .collect();
    let in_flight: Vec<Value> = world
        .network
        .packets()
        .iter()
        .map(|p| json!({"src": p.src.to_string(), "dst": p.dst.to_string(), "msg": format!("{:?}", p.msg)}))
        .collect();
    let trace: Vec<String> = world.trace.iter().map(|t| format!("{t:?}")).collect();
    let steps: Vec<Value> = walk
        .steps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let handler = s.info.handler.map(|h| S::meta().handlers[h].name);
            json!({
                "n": k + 1,
                "label": s.event.to_string(),
                "event": event_json(&s.event),
                "handler": handler,
                "effects": effects_json(&s.effects),
                "violation": all_hold(model, &s.world).err(),
            })
        })
        .collect();
    let (enabled, total) = enabled_json(model, world);
    json!({
        "path": walk.path,
        "step": n,
        "initial_violation": all_hold(model, &walk.init).err(),
        "steps": steps,
        "world": {
            "nodes": node_views,
            "in_flight": in_flight,
            "trace": trace,
            "recording_trace": model.record_trace,
            "faults_used": faults_used(model, world),
            "partitioned": world.partition != 0,
        },
        "invariants": invariants(model, world),
        "enabled": enabled,
        "enabled_total": total,
        "chart": crate::chart::path_svg(model, &walk.events()),
    })
}

/// What does not change while exploring: the system and the model.
pub fn about<S: System>(model: &Model<S>, program: &str) -> Value {
    let meta = S::meta();
    let invariants: Vec<&str> = meta.invariants.iter().map(|i| i.name).collect();
    json!({
        "program": program,
        "system": meta.name,
        "nodes": model.setup.describe(),
        "faults": model.faults.to_string(),
        "workload": model.workload.describe(&model.setup),
        "invariants": invariants,
    })
}

/// Parses a path written `3.0.12` (empty for the initial world).
pub fn parse_path(s: &str) -> Result<Vec<usize>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let parts = s.split(['.', ',']);
    let mut path = Vec::new();
    for (n, p) in parts.enumerate() {
        if n >= MAX_PATH {
            return Err(format!(
                "the path is longer than {MAX_PATH} steps, the most the explorer replays"
            ));
        }
        let i = p.trim().parse::<usize>().map_err(|_| {
            format!("`{p}` in the path is not an event number; a path reads like 3.0.12")
        })?;
        path.push(i);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::parse_path;

    #[test]
    fn paths_parse_and_bad_ones_say_why() {
        assert_eq!(parse_path(""), Ok(vec![]));
        assert_eq!(parse_path("3.0.12"), Ok(vec![3, 0, 12]));
        assert!(parse_path("3.x").unwrap_err().contains("`x`"));
        assert!(parse_path("-1").is_err());
        let long = vec!["0"; super::MAX_PATH + 1].join(".");
        assert!(parse_path(&long).unwrap_err().contains("longer"));
    }
}
