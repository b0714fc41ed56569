//! The pre-states a search for counterexamples to induction tries.
//!
//! DistAI-style sampling: a bounded check collects the worlds reachable in
//! a small instance; every node's states there, and every packet seen in
//! flight, are then recombined into worlds that need not be reachable —
//! each node in some state it reaches, the network some multiset of at most
//! `max_in_flight` packets it carries (or a whole network it carried). Such
//! a world that satisfies the invariants is a legitimate pre-state for an
//! induction step: an inductive invariant must be preserved from *every*
//! state satisfying it, reachable or not.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use crate::ctx::Effects;
use crate::fingerprint::Fingerprinter;
use crate::induct::InductOptions;
use crate::rng::SplitMix64;
use crate::semantics::network::{Network, Packet};
use crate::semantics::world::{FaultsUsed, NodeSlot};
use crate::semantics::{Model, StepError, World};
use crate::system::System;

/// Why the bounded check that feeds the domain stopped early: a reachable
/// world breaks an invariant (or a step failed), so the invariants are not
/// even true, let alone inductive.
#[derive(Debug, Clone)]
pub struct ReachableFailure {
    /// What failed, as one line.
    pub what: String,
}

/// The most networks a domain enumerates: `--max-in-flight` and
/// `--max-packets` beyond it are refused rather than filling memory.
pub const MAX_NETWORKS: u128 = 1_000_000;

/// How many multisets of at most `k` packets `n` distinct packets give.
pub fn multiset_count(n: usize, k: usize) -> u128 {
    // Sum over j <= k of C(n + j - 1, j) = C(n + k, k).
    let (n, k) = (n as u128, k as u128);
    let mut c: u128 = 1;
    for i in 1..=k {
        c = c.saturating_mul(n + i) / i;
        if c > MAX_NETWORKS * 1000 {
            return u128::MAX;
        }
    }
    c
}

/// The recombination domain of one model.
pub struct Domain<S: System> {
    /// Per node index, the distinct slots (state, up, timers, workload
    /// position) it has in reachable worlds, its initial one first, then
    /// those slots with one field set to another value of its domain
    /// ([`System::vary`]).
    pub slots: Vec<Vec<NodeSlot<S>>>,
    /// How many of the slots come from field domains rather than
    /// reachable worlds.
    pub varied: usize,
    /// The networks tried: every multiset of at most `max_in_flight`
    /// packets from the packet universe, then the distinct whole networks
    /// of reachable worlds not among them.
    pub networks: Vec<Network<S>>,
    /// Distinct packets seen in flight (the universe, capped).
    pub packets: usize,
    /// Whether the packet universe was cut at `max_packets`.
    pub packets_capped: bool,
    /// Reachable worlds collected.
    pub reachable: usize,
    /// Whether the bounded check explored every reachable world (else it
    /// stopped at `max_reachable`).
    pub reachable_exhausted: bool,
    /// The worlds collected by the bounded check, in breadth-first order
    /// (the mining input of inference).
    pub worlds: Vec<World<S>>,
    /// The initial world.
    pub initial: World<S>,
}

impl<S: System> Domain<S> {
    /// How many pre-states the recombination has in all.
    pub fn size(&self) -> u128 {
        self.slots
            .iter()
            .map(|s| s.len() as u128)
            .fold(self.networks.len() as u128, |a, b| a.saturating_mul(b))
    }

    /// The pre-states to try, one at a time: all of them when there are
    /// at most `max_prestates`, else that many distinct ones drawn at
    /// random (seeded).
    pub fn prestates<'a>(
        &'a self,
        options: &InductOptions,
    ) -> Box<dyn Iterator<Item = World<S>> + 'a> {
        let total = self.size();
        let cap = options.max_prestates as u128;
        if total <= cap {
            return Box::new((0..total).map(|k| self.decode(k)));
        }
        let mut rng = SplitMix64::new(options.seed);
        let mut seen = HashSet::new();
        let mut tries = 0u64;
        let limit = options.max_prestates.saturating_mul(4);
        Box::new(std::iter::from_fn(move || {
            while (seen.len() as u128) < cap && tries < limit {
                tries += 1;
                let k = (rng.next_u64() as u128 | ((rng.next_u64() as u128) << 64)) % total;
                if seen.insert(k) {
                    return Some(self.decode(k));
                }
            }
            None
        }))
    }

    /// The `k`-th pre-state in mixed-radix order (network fastest).
    fn decode(&self, mut k: u128) -> World<S> {
        let n = self.networks.len() as u128;
        let network = self.networks[(k % n) as usize].clone();
        k /= n;
        let nodes = self
            .slots
            .iter()
            .map(|s| {
                let len = s.len() as u128;
                let i = (k % len) as usize;
                k /= len;
                s[i].clone()
            })
            .collect();
        World {
            nodes,
            network,
            trace: Vec::new(),
            used: FaultsUsed::default(),
            partition: 0,
        }
    }
}

fn slot_key<S: System>(slot: &NodeSlot<S>) -> u64 {
    let mut h = Fingerprinter::with_seed(7);
    slot.hash(&mut h);
    h.finish()
}

/// Explores `model` breadth first up to `options.max_reachable` worlds,
/// checking every invariant on each, and builds the recombination domain
/// from what it saw.
pub fn build<S: System>(
    model: &Model<S>,
    options: &InductOptions,
) -> Result<Domain<S>, ReachableFailure> {
    let step_failed = |e: StepError| ReachableFailure {
        what: format!("a step failed: {e}"),
    };
    let initial = model.init().map_err(step_failed)?;
    let mut seen: HashSet<u64> = HashSet::new();
    let mut worlds: Vec<World<S>> = Vec::new();
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut exhausted = true;
    seen.insert(initial.fingerprint());
    worlds.push(initial.clone());
    queue.push_back(0);
    let mut effects = Effects::default();
    let mut evals = vec![0u64; S::meta().invariants.len()];
    let mut actions = Vec::new();
    let mut depths: Vec<usize> = vec![0];
    let watch = options.watch();
    watch.phase(
        "collecting reachable worlds",
        "reachable worlds",
        Some(options.max_reachable as u64),
        String::new(),
    );
    while let Some(i) = queue.pop_front() {
        watch.set_done(worlds.len() as u64);
        watch.examined(1);
        crate::violation::check_world(&model.setup, &worlds[i], &mut evals).map_err(|v| {
            ReachableFailure {
                what: v.to_string(),
            }
        })?;
        if options.max_depth.is_some_and(|d| depths[i] >= d) {
            exhausted = false;
            continue;
        }
        actions.clear();
        model.actions(&worlds[i], &mut actions);
        for &a in &actions {
            let mut next = worlds[i].clone();
            model
                .apply(&mut next, a, &mut effects)
                .map_err(step_failed)?;
            if !seen.insert(next.fingerprint()) {
                continue;
            }
            if worlds.len() >= options.max_reachable {
                exhausted = false;
                continue;
            }
            depths.push(depths[i] + 1);
            worlds.push(next);
            queue.push_back(worlds.len() - 1);
        }
    }
    Ok(recombine(model, options, initial, worlds, exhausted))
}

fn recombine<S: System>(
    model: &Model<S>,
    options: &InductOptions,
    initial: World<S>,
    worlds: Vec<World<S>>,
    exhausted: bool,
) -> Domain<S> {
    let n = initial.nodes.len();
    let mut slots: Vec<Vec<NodeSlot<S>>> = vec![Vec::new(); n];
    let mut slot_seen: Vec<HashSet<u64>> = vec![HashSet::new(); n];
    let mut packets: Vec<Packet<S>> = Vec::new();
    let mut packets_capped = false;
    let mut whole: Vec<Network<S>> = Vec::new();
    let mut whole_seen: HashSet<u64> = HashSet::new();
    let watch = options.watch();
    watch.phase(
        "recombining the reachable worlds' nodes and packets",
        "reachable worlds",
        Some(worlds.len() as u64),
        String::new(),
    );
    for w in &worlds {
        watch.step();
        for (i, slot) in w.nodes.iter().enumerate() {
            if slot_seen[i].insert(slot_key(slot)) {
                slots[i].push(slot.clone());
            }
        }
        for p in w.network.packets() {
            if !packets.contains(p) {
                if packets.len() < options.max_packets {
                    packets.push(p.clone());
                } else {
                    packets_capped = true;
                }
            }
        }
        if whole_seen.insert(w.network.fingerprint()) {
            whole.push(w.network.clone());
        }
    }
    let varied = add_domain_values(&mut slots, &mut slot_seen, options.max_slots);
    // Every multiset of at most `max_in_flight` packets, in send order of
    // the universe (a FIFO network keeps that order per channel).
    let unordered = model.faults.is_unordered();
    let mut networks: Vec<Network<S>> = Vec::new();
    let mut net_seen: HashSet<u64> = HashSet::new();
    let mut pick: Vec<usize> = Vec::new();
    multisets(
        packets.len(),
        options.max_in_flight,
        &mut pick,
        &mut |chosen| {
            let mut net = Network::new(unordered);
            for &j in chosen {
                net.send(packets[j].clone());
            }
            if net_seen.insert(net.fingerprint()) {
                networks.push(net);
            }
        },
    );
    for net in whole {
        if net_seen.insert(net.fingerprint()) {
            networks.push(net);
        }
    }
    Domain {
        slots,
        varied,
        networks,
        packets: packets.len(),
        packets_capped,
        reachable: worlds.len(),
        reachable_exhausted: exhausted,
        worlds,
        initial,
    }
}

/// Adds to each node's reachable slots those with one field set to
/// another value of its domain, until the node has `max_slots` slots;
/// returns how many it added. Variations of variations are not taken:
/// one field off a reachable state at a time.
fn add_domain_values<S: System>(
    slots: &mut [Vec<NodeSlot<S>>],
    seen: &mut [HashSet<u64>],
    max_slots: usize,
) -> usize {
    let mut added = 0;
    let mut states = Vec::new();
    for (node, seen) in slots.iter_mut().zip(seen.iter_mut()) {
        let reachable = node.len();
        'slots: for k in 0..reachable {
            states.clear();
            S::vary(&node[k].state, &mut states);
            for state in states.drain(..) {
                if node.len() >= max_slots {
                    break 'slots;
                }
                let mut slot = node[k].clone();
                slot.state = state;
                if seen.insert(slot_key(&slot)) {
                    node.push(slot);
                    added += 1;
                }
            }
        }
    }
    added
}

/// Calls `each` with every non-decreasing sequence of at most `left` more
/// indices below `n` after `pick` (each multiset once).
fn multisets(n: usize, left: usize, pick: &mut Vec<usize>, each: &mut impl FnMut(&[usize])) {
    each(pick);
    if left == 0 {
        return;
    }
    let from = pick.last().copied().unwrap_or(0);
    for j in from..n {
        pick.push(j);
        multisets(n, left - 1, pick, each);
        pick.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::multisets;

    #[test]
    fn multisets_of_at_most_two_of_three() {
        let mut all = Vec::new();
        multisets(3, 2, &mut Vec::new(), &mut |m| all.push(m.to_vec()));
        // 1 empty + 3 singletons + 6 pairs with repetition.
        assert_eq!(all.len(), 10);
        assert!(all.contains(&vec![1, 1]) && all.contains(&vec![0, 2]));
        assert_eq!(super::multiset_count(3, 2), 10);
        assert_eq!(super::multiset_count(64, 2), 2145);
        assert!(super::multiset_count(64, 9) > super::MAX_NETWORKS);
    }
}
