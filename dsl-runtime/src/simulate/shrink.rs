//! Shrinking a failing trace by delta debugging.
//!
//! A candidate trace is the failing one with some events left out. It is
//! replayed leniently: each event is matched to an enabled step of the
//! current world ([`Model::action_for`]) and skipped when none matches;
//! after each step the invariants are evaluated, and the candidate is kept,
//! cut at that point, when the same invariant fails (or the same step error
//! happens). Chunks of half, a quarter, ... of the trace are tried until no
//! single event can be left out. The result replays exactly.

use crate::ctx::Effects;
use crate::semantics::{Event, Model};
use crate::system::System;
use crate::violation::{check_world, Violation};

/// Whether `v` is the same failure as `target` (same invariant, or same
/// kind of step error).
fn same(v: &Violation, target: &Violation) -> bool {
    match (v, target) {
        (Violation::Invariant { name: a, .. }, Violation::Invariant { name: b, .. }) => a == b,
        (Violation::Step(a), Violation::Step(b)) => {
            std::mem::discriminant(a) == std::mem::discriminant(b)
        }
        _ => false,
    }
}

/// Replays `events` leniently; returns the events actually taken, up to the
/// first step that shows `target`, or `None` if it never shows.
fn replay_until<S: System>(
    model: &Model<S>,
    events: &[Event<S>],
    target: &Violation,
) -> Option<Vec<Event<S>>> {
    let mut world = model.init().ok()?;
    let mut evals = vec![0; S::meta().invariants.len()];
    let mut effects = Effects::default();
    let mut taken = Vec::new();
    for e in events {
        let Some(action) = model.action_for(&world, e) else {
            continue;
        };
        taken.push(e.clone());
        match model.apply(&mut world, action, &mut effects) {
            Err(err) => {
                return same(&Violation::Step(err), target).then_some(taken);
            }
            Ok(_) => {
                if let Err(v) = check_world(&model.setup, &world, &mut evals) {
                    return same(&v, target).then_some(taken);
                }
            }
        }
    }
    None
}

/// A short trace that still ends in `violation`; `events` must reach it.
pub fn shrink<S: System>(
    model: &Model<S>,
    events: Vec<Event<S>>,
    violation: &Violation,
) -> Vec<Event<S>> {
    let Some(mut best) = replay_until(model, &events, violation) else {
        return events;
    };
    let mut chunk = best.len().div_ceil(2).max(1);
    loop {
        let mut improved = false;
        let mut start = 0;
        while start < best.len() {
            let end = (start + chunk).min(best.len());
            let candidate: Vec<Event<S>> =
                best[..start].iter().chain(&best[end..]).cloned().collect();
            match replay_until(model, &candidate, violation) {
                Some(shorter) if shorter.len() < best.len() => {
                    best = shorter;
                    improved = true;
                }
                _ => start += chunk,
            }
        }
        if chunk == 1 && !improved {
            break;
        }
        if !improved {
            chunk = chunk.div_ceil(2);
        }
    }
    best
}
