//! Priority scheduling with random change points: PCT (Burckhardt et al.,
//! ASPLOS 2010) in the message-passing form of PCTCP (Ozkan et al., OOPSLA
//! 2018).
//!
//! The schedulable units are *event sources*: a channel (sender,
//! receiver), whose messages are delivered in order like a PCTCP chain; a
//! node's timer; a node's input; and each fault kind at a node or channel.
//! Each source gets a random priority the first time it has an enabled
//! step, and every step the enabled source of highest priority goes
//! (choosing at random among that source's own steps, e.g. a handler's
//! branches). `d - 1` steps drawn at random from the run's `k` steps are
//! change points: at the `i`-th one the source about to go drops below
//! every initial priority, to `d - i`, and the next source goes instead.
//!
//! Event sources are not threads that end: a timer re-arms itself, so the
//! top source could fire forever without changing anything. A step that
//! leaves the world as it was (same node state, same network, same
//! partition) therefore sends its source below all others, as if it had
//! blocked. This rule is not part of PCT's analysis (see [`PctBound`]).

use super::rng::SplitMix64;
use crate::semantics::{Action, Model, World};
use crate::system::System;

/// Priorities of sources that have not yet changed: above every other.
const INITIAL: u64 = 1 << 62;
/// Priorities given at change points: `CHANGED + d - i`.
const CHANGED: u64 = 1 << 40;

/// The probability bound PCT gives for `n` sources, `k` steps and bug
/// depth `d`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PctBound {
    /// Event sources seen in a run (the most over all runs).
    pub sources: u64,
    /// Steps a run may take (its depth bound).
    pub steps: u64,
    /// The bug depth asked for.
    pub depth: usize,
}

impl PctBound {
    /// `1 / (n * k^(d-1))`: the chance per run of meeting a bug of depth
    /// `d`, under PCT's assumptions.
    pub fn per_run(&self) -> f64 {
        let k = self.steps.max(1) as f64;
        1.0 / (self.sources.max(1) as f64 * k.powi(self.depth.saturating_sub(1) as i32))
    }

    /// `(1 - p)^runs`: the chance that `runs` runs all miss such a bug.
    pub fn missed_after(&self, runs: u64) -> f64 {
        (1.0 - self.per_run()).powf(runs as f64)
    }
}

/// The PCT scheduler of one run.
#[derive(Debug)]
pub struct Pct {
    depth: usize,
    /// The steps at which priorities change, ascending.
    change_points: Vec<usize>,
    next_change: usize,
    /// Sources seen, with their priorities (few: a linear scan wins).
    priorities: Vec<(u64, u64)>,
    /// The next priority for a source whose step changed nothing.
    blocked: u64,
    /// The source of the step just picked.
    last: u64,
}

impl Pct {
    /// The scheduler for a run of at most `k` steps and bug depth `d` (at
    /// least 1), drawing its change points from `rng`.
    pub fn new(depth: usize, k: usize, rng: &mut SplitMix64) -> Self {
        let depth = depth.max(1);
        let mut change_points: Vec<usize> = (1..depth)
            .map(|_| rng.below(k.max(1) as u64) as usize)
            .collect();
        change_points.sort_unstable();
        Pct {
            depth,
            change_points,
            next_change: 0,
            priorities: Vec::new(),
            blocked: CHANGED - 1,
            last: 0,
        }
    }

    /// The steps at which priorities change.
    pub fn change_points(&self) -> &[usize] {
        &self.change_points
    }

    /// How many sources the run has seen.
    pub fn sources(&self) -> usize {
        self.priorities.len()
    }

    fn priority(&mut self, source: u64, rng: &mut SplitMix64) -> u64 {
        if let Some(&(_, p)) = self.priorities.iter().find(|(s, _)| *s == source) {
            return p;
        }
        let p = INITIAL | (rng.next_u64() >> 2);
        self.priorities.push((source, p));
        p
    }

    fn set(&mut self, source: u64, priority: u64) {
        if let Some(e) = self.priorities.iter_mut().find(|(s, _)| *s == source) {
            e.1 = priority;
        }
    }

    /// Picks step number `step` of the run among `actions` (not empty). At
    /// a change point the source about to go drops first, and the step
    /// goes to the next source, as in PCT.
    pub fn pick<S: System>(
        &mut self,
        model: &Model<S>,
        world: &World<S>,
        actions: &[Action],
        step: usize,
        rng: &mut SplitMix64,
    ) -> usize {
        let mut top = self.top(model, world, actions, rng);
        while self.change_points.get(self.next_change) == Some(&step) {
            self.next_change += 1;
            let p = CHANGED + (self.depth - self.next_change) as u64;
            self.set(top.1, p);
            top = self.top(model, world, actions, rng);
        }
        self.last = top.1;
        top.0
    }

    /// The step of the enabled source of highest priority (one of its
    /// steps at random), and that source.
    fn top<S: System>(
        &mut self,
        model: &Model<S>,
        world: &World<S>,
        actions: &[Action],
        rng: &mut SplitMix64,
    ) -> (usize, u64) {
        let mut best = (0u64, 0u64);
        let mut ties = 0u64;
        let mut chosen = 0;
        for (i, &a) in actions.iter().enumerate() {
            let source = source_of(model, world, a);
            let p = self.priority(source, rng);
            if p > best.0 || i == 0 {
                best = (p, source);
                ties = 1;
                chosen = i;
            } else if source == best.1 {
                // Reservoir sampling among the top source's own steps.
                ties += 1;
                if rng.below(ties) == 0 {
                    chosen = i;
                }
            }
        }
        (chosen, best.1)
    }

    /// After the picked step: `changed` says whether it changed the world.
    pub fn after(&mut self, changed: bool) {
        if !changed {
            let p = self.blocked;
            self.blocked = self.blocked.saturating_sub(1);
            self.set(self.last, p);
        }
    }
}

/// The event source of `action`, as a number (equal for steps of one
/// source in any world of the run).
fn source_of<S: System>(model: &Model<S>, world: &World<S>, action: Action) -> u64 {
    let channel = |j: usize| {
        world.network.packets().get(j).map_or(u64::MAX, |p| {
            let src = model.setup.index_of(p.src).unwrap_or(usize::MAX) as u64;
            let dst = model.setup.index_of(p.dst).unwrap_or(usize::MAX) as u64;
            (src & 0xffff) << 16 | (dst & 0xffff)
        })
    };
    let (tag, key) = match action {
        Action::Deliver(j, _) => (1, channel(j)),
        Action::Drop(j) => (2, channel(j)),
        Action::Duplicate(j) => (3, channel(j)),
        Action::Timeout { node, timer, .. } => (4, (node as u64) << 16 | timer as u64),
        Action::Input { node, .. } => (5, node as u64),
        Action::Crash(node) => (6, node as u64),
        Action::Restart(node) => (7, node as u64),
        Action::Partition(side) => (8, side),
        Action::Heal => (9, 0),
        Action::Cut(ends) => (10, ends),
    };
    (tag << 56) ^ key
}
