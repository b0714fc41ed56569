//! Automatic symmetry reduction for the nodes of one parameterised role.
//!
//! Nodes of a role such as `Client(u8)` run the same handlers. When the
//! handlers and invariants treat them alike (no `if me == Client(0)`), two
//! worlds that differ only by renaming those nodes have the same future and
//! the same verdict, so the search keeps one of them: the world is rewritten
//! into a canonical form by sorting the role's nodes and renaming every node
//! id it holds (states, messages, trace, partition; timers and workload
//! positions move with their node).
//!
//! Soundness needs only that the canonical form is a renaming of the world,
//! which holds by construction; a better sort key merges more worlds. The
//! key of a node is a hash of its slot and of the packets it sends and
//! receives, with every symmetric node id collapsed to one, so it does not
//! depend on the current numbering. Ties keep their order.
//!
//! A role takes part only when all its nodes have the same workload. When a
//! field, message, input or output type cannot be relabelled (see
//! [`crate::Relabel`]), the world is left as it is: the reduction only
//! weakens.

use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::fingerprint::{spread, Fingerprinter};
use crate::semantics::{Model, Network, Packet, TraceEvent, World};
use crate::system::System;

/// A renaming of nodes: where each node index goes, and the map on ids.
type Renaming<'a, S> = (
    &'a [usize],
    &'a dyn Fn(<S as System>::Node) -> <S as System>::Node,
);

/// The symmetric roles of a model and how to canonicalize its worlds.
pub struct Symmetry<S: System> {
    /// Node index ranges of the symmetric roles.
    ranges: Vec<Range<usize>>,
    /// For each node index: the node its ids collapse to for sort keys.
    collapse: Vec<S::Node>,
    /// Set when some value could not be relabelled.
    failed: AtomicBool,
    failure: std::sync::Mutex<Option<&'static str>>,
    skipped: Vec<String>,
}

impl<S: System> Symmetry<S> {
    /// The symmetry of `model`, or why there is none.
    pub fn new(model: &Model<S>) -> Result<Self, String> {
        let meta = S::meta();
        let setup = &model.setup;
        let init = model.init().map_err(|e| e.to_string())?;
        let mut ranges = Vec::new();
        let mut skipped = Vec::new();
        for (r, role) in meta.roles.iter().enumerate() {
            let range = setup.role_range(r);
            if role.param.is_none() || range.len() < 2 {
                continue;
            }
            let first = model.workload.of(range.start);
            if range.clone().any(|i| model.workload.of(i) != first) {
                skipped.push(format!("{} (workloads differ)", role.name));
                continue;
            }
            for i in range.clone() {
                let mut state = init.nodes[i].state.clone();
                S::relabel_state(&mut state, &|n| n)
                    .map_err(|what| format!("{what} cannot be relabelled"))?;
            }
            ranges.push(range);
        }
        // Sampled sanity check: renaming two nodes of the role must not
        // change what can happen (handlers such as `if me == Client(0)`, or
        // ordering by node id, break that).
        let mut r = 0;
        while r < ranges.len() {
            let candidate = Symmetry::build(model, vec![ranges[r].clone()]);
            if candidate.behaves_symmetrically(model, &init) {
                r += 1;
            } else {
                let role = meta.roles[S::role_of(setup.nodes()[ranges[r].start])].name;
                skipped.push(format!(
                    "{role} (renaming two of its nodes changes the successors of a sampled state: \
                     handlers or invariants treat them differently)"
                ));
                ranges.remove(r);
            }
        }
        if ranges.is_empty() {
            let why = if skipped.is_empty() {
                "no parameterised role has two or more nodes".to_string()
            } else {
                format!("no role qualifies: {}", skipped.join(", "))
            };
            return Err(why);
        }
        let mut sym = Symmetry::build(model, ranges);
        sym.skipped = skipped;
        Ok(sym)
    }

    fn build(model: &Model<S>, ranges: Vec<Range<usize>>) -> Self {
        let nodes = model.setup.nodes();
        let collapse = (0..nodes.len())
            .map(|i| match ranges.iter().find(|r| r.contains(&i)) {
                Some(r) => nodes[r.start],
                None => nodes[i],
            })
            .collect();
        Symmetry {
            ranges,
            collapse,
            failed: AtomicBool::new(false),
            failure: std::sync::Mutex::new(None),
            skipped: Vec::new(),
        }
    }

    /// Walks a few seeded random runs; at each state, swaps the first two
    /// nodes of each range and checks that the invariants judge the swapped
    /// world alike and that its successors are the swapped successors.
    fn behaves_symmetrically(&self, model: &Model<S>, init: &World<S>) -> bool {
        let mut rng = crate::rng::SplitMix64::new(0x5eed);
        let mut fx = crate::ctx::Effects::default();
        // Successors of `w`, each renamed by `rename` when given, as raw fingerprints.
        let successors = |w: &World<S>,
                          rename: Option<Renaming<'_, S>>,
                          fx: &mut crate::ctx::Effects<S>|
         -> Option<Vec<u64>> {
            let mut out = Vec::new();
            for a in model.enabled(w) {
                let mut next = w.clone();
                model.apply(&mut next, a, fx).ok()?;
                if let Some((new_index, map)) = rename {
                    let mut renamed = next.clone();
                    self.relabel_into(model, &next, &mut renamed, new_index, map)
                        .ok()?;
                    next = renamed;
                }
                out.push(next.fingerprint());
            }
            out.sort_unstable();
            out.dedup();
            Some(out)
        };
        for _walk in 0..24 {
            let mut w = init.clone();
            for _step in 0..40 {
                for range in &self.ranges {
                    let mut new_index: Vec<usize> = (0..w.nodes.len()).collect();
                    new_index.swap(range.start, range.start + 1);
                    let nodes = model.setup.nodes();
                    let map = |node: S::Node| match model.setup.index_of(node) {
                        Some(i) => nodes[new_index[i]],
                        None => node,
                    };
                    let mut swapped = w.clone();
                    if self
                        .relabel_into(model, &w, &mut swapped, &new_index, &map)
                        .is_err()
                    {
                        return true; // cannot tell; relabelling failures weaken the reduction anyway
                    }
                    // Symmetric: the invariants judge the renamed world as
                    // they judge the world (an invariant that singles a node
                    // out fails on one and not the other)...
                    let holds =
                        |w: &World<S>| crate::check::check_world(&model.setup, w, &mut []).is_ok();
                    if holds(&w) != holds(&swapped) {
                        return false;
                    }
                    // ...and the successors of the renamed world are the
                    // renamed successors.
                    let renamed = successors(&w, Some((&new_index, &map)), &mut fx);
                    if renamed.is_some() && renamed != successors(&swapped, None, &mut fx) {
                        return false;
                    }
                }
                let actions = model.enabled(&w);
                if actions.is_empty() {
                    break;
                }
                let a = actions[rng.below(actions.len() as u64) as usize];
                if model.apply(&mut w, a, &mut fx).is_err() {
                    break;
                }
            }
        }
        true
    }

    /// Roles left out, with the reason.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The symmetric roles, as `Client x3`.
    pub fn describe(&self, model: &Model<S>) -> String {
        let nodes = model.setup.nodes();
        self.ranges
            .iter()
            .map(|r| {
                let role = S::meta().roles[S::role_of(nodes[r.start])].name;
                format!("{role} x{}", r.len())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What could not be relabelled during the search, if anything.
    pub fn failure(&self) -> Option<&'static str> {
        if self.failed.load(Ordering::Relaxed) {
            *self.failure.lock().unwrap_or_else(|e| e.into_inner())
        } else {
            None
        }
    }

    fn fail(&self, what: &'static str) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(what);
        }
    }

    /// Rewrites `world` into its canonical form in `scratch` and swaps it
    /// in. Returns whether the world changed.
    pub fn canonicalize(
        &self,
        model: &Model<S>,
        world: &mut World<S>,
        scratch: &mut World<S>,
    ) -> bool {
        let Some(new_index) = self.canonical_renaming(model, world) else {
            return false;
        };
        if self.rename_into(model, world, scratch, &new_index) {
            std::mem::swap(world, scratch);
            true
        } else {
            false
        }
    }

    /// `world` with node index `i` renamed to `new_index[i]`; `None` when
    /// some value cannot be relabelled.
    pub(crate) fn renamed(
        &self,
        model: &Model<S>,
        world: &World<S>,
        new_index: &[usize],
    ) -> Option<World<S>> {
        let mut out = world.clone();
        self.rename_into(model, world, &mut out, new_index)
            .then_some(out)
    }

    /// Writes `world` renamed by `new_index` into `out`; false (and the
    /// failure recorded) when some value cannot be relabelled.
    fn rename_into(
        &self,
        model: &Model<S>,
        world: &World<S>,
        out: &mut World<S>,
        new_index: &[usize],
    ) -> bool {
        let nodes = model.setup.nodes();
        let map = |node: S::Node| match model.setup.index_of(node) {
            Some(i) => nodes[new_index[i]],
            None => node,
        };
        match self.relabel_into(model, world, out, new_index, &map) {
            Ok(()) => true,
            Err(what) => {
                self.fail(what);
                false
            }
        }
    }

    /// The renaming [`Symmetry::canonicalize`] applies to `world`: the new
    /// index of each node index, or `None` when it leaves the world as it
    /// is. Ties between sort keys keep their order, so two renamings of one
    /// world need not reach the same form; a counterexample's replay
    /// therefore follows the search's own forms (see
    /// `check::explore::replay_fingerprints`).
    pub(crate) fn canonical_renaming(
        &self,
        model: &Model<S>,
        world: &World<S>,
    ) -> Option<Vec<usize>> {
        let setup = &model.setup;
        let n = world.nodes.len();
        // Sort keys, with symmetric ids collapsed.
        let collapse = |node: S::Node| match setup.index_of(node) {
            Some(i) => self.collapse[i],
            None => node,
        };
        let mut keys = vec![0u64; n];
        for range in &self.ranges {
            for i in range.clone() {
                let slot = &world.nodes[i];
                let mut state = slot.state.clone();
                if let Err(what) = S::relabel_state(&mut state, &collapse) {
                    self.fail(what);
                    return None;
                }
                let mut h = Fingerprinter::default();
                state.hash(&mut h);
                h.write_u64(slot.timers);
                h.write_u64(
                    (slot.up as u64)
                        | (slot.awaiting as u64) << 1
                        | (slot.inputs_taken as u64) << 2,
                );
                keys[i] = h.finish();
            }
        }
        for p in world.network.packets() {
            let (Some(s), Some(d)) = (setup.index_of(p.src), setup.index_of(p.dst)) else {
                continue;
            };
            let mut msg = p.msg.clone();
            if let Err(what) = S::relabel_msg(&mut msg, &collapse) {
                self.fail(what);
                return None;
            }
            let mut h = Fingerprinter::default();
            msg.hash(&mut h);
            let m = h.finish();
            keys[s] = keys[s].wrapping_add(spread(m ^ 0x5e4d));
            keys[d] = keys[d].wrapping_add(spread(m ^ 0xd457));
        }
        // The permutation: new index of each old index.
        let mut new_index: Vec<usize> = (0..n).collect();
        let mut identity = true;
        for range in &self.ranges {
            let mut order: Vec<usize> = range.clone().collect();
            order.sort_by_key(|&i| keys[i]);
            for (pos, &old) in order.iter().enumerate() {
                let new = range.start + pos;
                new_index[old] = new;
                identity &= new == old;
            }
        }
        (!identity).then_some(new_index)
    }

    fn relabel_into(
        &self,
        model: &Model<S>,
        world: &World<S>,
        out: &mut World<S>,
        new_index: &[usize],
        map: &dyn Fn(S::Node) -> S::Node,
    ) -> Result<(), &'static str> {
        out.nodes.clone_from(&world.nodes);
        for (old, slot) in world.nodes.iter().enumerate() {
            let target = &mut out.nodes[new_index[old]];
            target.state.clone_from(&slot.state);
            S::relabel_state(&mut target.state, map)?;
            target.up = slot.up;
            target.timers = slot.timers;
            target.inputs_taken = slot.inputs_taken;
            target.awaiting = slot.awaiting;
        }
        let mut network = Network::new(world.network.is_unordered());
        for p in world.network.packets() {
            let mut msg = p.msg.clone();
            S::relabel_msg(&mut msg, map)?;
            network.send(Packet {
                src: map(p.src),
                dst: map(p.dst),
                msg,
            });
        }
        out.network = network;
        out.trace.clear();
        for e in &world.trace {
            out.trace.push(match e {
                TraceEvent::Input { node, input } => {
                    let mut input = input.clone();
                    S::relabel_input(&mut input, map)?;
                    TraceEvent::Input {
                        node: map(*node),
                        input,
                    }
                }
                TraceEvent::Output { node, output } => {
                    let mut output = output.clone();
                    S::relabel_output(&mut output, map)?;
                    TraceEvent::Output {
                        node: map(*node),
                        output,
                    }
                }
            });
        }
        if model.history_only {
            restore_history_order(&mut out.trace);
        }
        out.used = world.used;
        out.partition = 0;
        for (old, &new) in new_index.iter().enumerate() {
            if world.partition >> old & 1 == 1 {
                out.partition |= 1 << new;
            }
        }
        Ok(())
    }
}

/// Puts a renamed history back in the order a history keeps (see
/// [`Model::history_only`]): each run of adjacent inputs, and each run of
/// adjacent outputs, sorted by node, each node's own events in their
/// order. Renaming nodes keeps the runs but not their node order; re-sorted,
/// the renamed history is the one the renamed run would have recorded, so
/// renamed worlds compare equal to the worlds the renamed runs reach.
fn restore_history_order<S: System>(trace: &mut [TraceEvent<S>]) {
    let mut start = 0;
    while start < trace.len() {
        let input = trace[start].is_input();
        let len = trace[start..]
            .iter()
            .take_while(|e| e.is_input() == input)
            .count();
        // Stable: one node's events keep their order.
        trace[start..start + len].sort_by_key(|e| e.node());
        start += len;
    }
}
