//! Swarm testing (Groce et al., ISSTA 2012): each run draws its own
//! configuration, a random subset of the event kinds the model allows,
//! each kind kept with a random weight. A run then picks among the enabled
//! steps of the kinds it kept, in proportion to their weights.
//!
//! Why it helps: one "everything on, evenly" mix makes some behaviours
//! nearly impossible. A leader's heartbeats repair a lagging follower
//! before an election can exploit it; a flush timer empties a buffer
//! before it can fill. A configuration without (or with little of) the
//! repairing kind makes the deep behaviour likely, and over many runs
//! every kind is left out, or made rare, in some of them.

use super::kinds::EventKinds;
use super::rng::SplitMix64;
use crate::semantics::{Action, Model, World};
use crate::system::System;

/// The weights a kept kind may get; 0 leaves the kind out.
const WEIGHTS: [u32; 4] = [0, 1, 3, 9];

/// A salt so a run's configuration is drawn from another stream than its
/// steps: the configuration of seed `s` does not depend on its run.
const SALT: u64 = 0x5a4d_0000_5a4d_0001;

/// One run's configuration: a weight per event kind (0: left out).
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    kinds: EventKinds,
    weights: Vec<u32>,
}

impl SwarmConfig {
    /// The configuration of the run with this seed: each kind the model
    /// allows gets a weight drawn from 0 (left out), 1, 3 and 9.
    pub fn for_seed<S: System>(model: &Model<S>, seed: u64) -> Self {
        let kinds = EventKinds::of::<S>();
        let mut rng = SplitMix64::new(seed ^ SALT);
        let mut weights = vec![0; kinds.len()];
        for k in kinds.allowed(model) {
            weights[k] = WEIGHTS[rng.below(WEIGHTS.len() as u64) as usize];
        }
        SwarmConfig { kinds, weights }
    }

    /// Picks one of `actions` in proportion to its kind's weight; `None`
    /// when every enabled step is of a kind left out (the run ends there).
    pub fn pick<S: System>(
        &self,
        model: &Model<S>,
        world: &World<S>,
        actions: &[Action],
        rng: &mut SplitMix64,
        scratch: &mut Vec<u32>,
    ) -> Option<usize> {
        scratch.clear();
        let mut total = 0u64;
        for &a in actions {
            let w = self.weights[self.kinds.of_action(model, world, a)];
            scratch.push(w);
            total += w as u64;
        }
        if total == 0 {
            return None;
        }
        let mut x = rng.below(total);
        for (i, &w) in scratch.iter().enumerate() {
            if x < w as u64 {
                return Some(i);
            }
            x -= w as u64;
        }
        None
    }

    /// The configuration in words: the kinds kept with their weights, and
    /// the kinds left out.
    pub fn describe<S: System>(&self, model: &Model<S>) -> String {
        let mut kept = Vec::new();
        let mut out = Vec::new();
        for k in self.kinds.allowed(model) {
            match self.weights[k] {
                0 => out.push(self.kinds.name::<S>(k)),
                w => kept.push(format!("{} x{w}", self.kinds.name::<S>(k))),
            }
        }
        let none = |v: &Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        format!("kept {}; left out {}", none(&kept), none(&out))
    }
}
