//! Breadth-first exploration with a fingerprint visited set.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

use crate::check::counterexample::{Counterexample, Violation};
use crate::check::invariants::check_world;
use crate::check::{CheckOptions, Outcome, Report, Stats};
use crate::ctx::Effects;
use crate::semantics::{Action, Event, Model, World};
use crate::system::System;

/// Fingerprints are already well mixed: use them as their own hash.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Fingerprint -> parent fingerprint (the initial world is its own parent).
pub(crate) type Parents = HashMap<u64, u64, BuildHasherDefault<IdentityHasher>>;

pub(super) fn run<S: System>(model: &Model<S>, options: &CheckOptions) -> Report<S> {
    let started = Instant::now();
    let mut stats = Stats {
        invariant_evals: vec![0; S::meta().invariants.len()],
        ..Stats::default()
    };
    let finish = |outcome: Outcome<S>, mut stats: Stats| {
        stats.elapsed = started.elapsed();
        Report { outcome, stats }
    };
    let init = match model.init() {
        Ok(world) => world,
        Err(e) => {
            let cx = Counterexample::new(Violation::Step(e), Vec::new());
            return finish(Outcome::Violation(Box::new(cx)), stats);
        }
    };
    stats.states = 1;
    stats.unique = 1;
    if let Err(v) = check_world(&model.setup, &init, &mut stats.invariant_evals) {
        return finish(
            Outcome::Violation(Box::new(Counterexample::new(v, Vec::new()))),
            stats,
        );
    }
    let init_fp = init.fingerprint();
    let mut parents = Parents::default();
    parents.insert(init_fp, init_fp);
    let mut queue: VecDeque<(World<S>, u64, usize)> = VecDeque::new();
    queue.push_back((init, init_fp, 0));
    let mut actions: Vec<Action> = Vec::new();
    let mut effects = Effects::default();
    let mut bound: Option<&'static str> = None;

    while let Some((world, fp, depth)) = queue.pop_front() {
        if options.max_depth.is_some_and(|d| depth >= d) {
            bound = Some("depth");
            continue;
        }
        actions.clear();
        model.actions(&world, &mut actions);
        for &action in &actions {
            let mut next = world.clone();
            stats.states += 1;
            if let Err(e) = model.apply(&mut next, action, &mut effects) {
                let mut events = path_to(model, &parents, fp);
                events.push(model.event(&world, action));
                let cx = Counterexample::new(Violation::Step(e), events);
                return finish(Outcome::Violation(Box::new(cx)), stats);
            }
            let next_fp = next.fingerprint();
            if parents.contains_key(&next_fp) {
                continue;
            }
            parents.insert(next_fp, fp);
            stats.unique += 1;
            stats.max_depth = stats.max_depth.max(depth + 1);
            if let Err(v) = check_world(&model.setup, &next, &mut stats.invariant_evals) {
                let events = path_to(model, &parents, next_fp);
                return finish(
                    Outcome::Violation(Box::new(Counterexample::new(v, events))),
                    stats,
                );
            }
            if options.max_states.is_some_and(|m| stats.unique >= m) {
                return finish(Outcome::Bounded { bound: "states" }, stats);
            }
            queue.push_back((next, next_fp, depth + 1));
        }
    }
    let outcome = match bound {
        Some(bound) => Outcome::Bounded { bound },
        None => Outcome::Exhausted,
    };
    finish(outcome, stats)
}

/// The events leading from the initial world to the world with fingerprint
/// `target`, found by replaying handlers along the parent chain.
pub(crate) fn path_to<S: System>(
    model: &Model<S>,
    parents: &Parents,
    target: u64,
) -> Vec<Event<S>> {
    let mut chain = vec![target];
    let mut fp = target;
    while let Some(&parent) = parents.get(&fp) {
        if parent == fp {
            break;
        }
        chain.push(parent);
        fp = parent;
    }
    chain.reverse();
    let Ok(mut world) = model.init() else {
        return Vec::new();
    };
    let mut effects = Effects::default();
    let mut events = Vec::with_capacity(chain.len());
    for &want in &chain[1..] {
        let found = model.enabled(&world).into_iter().find_map(|action| {
            let mut next = world.clone();
            model.apply(&mut next, action, &mut effects).ok()?;
            (next.fingerprint() == want).then(|| (model.event(&world, action), next))
        });
        match found {
            Some((event, next)) => {
                events.push(event);
                world = next;
            }
            // Only possible if handlers are not deterministic.
            None => break,
        }
    }
    events
}
