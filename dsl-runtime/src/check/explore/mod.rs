//! The search engine shared by the breadth-first and depth-first drivers:
//! expanding one world into its successors (with the reductions), the
//! visited set, invariant checks, and turning a found violation into a
//! replayable counterexample.

pub mod bfs;
pub mod dfs;
mod dpor;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::check::memory::{resident_bytes, world_bytes, MemoryBudget, Meter, Reached};
use crate::check::note::{Note, Status, Topic};
use crate::check::reduction::incremental::{Affected, ALL};
use crate::check::reduction::por::Por;
use crate::check::reduction::symmetry::Symmetry;
use crate::check::stats::peak_rss_bytes;
use crate::check::visited::{chain, Insert, Visited};
use crate::check::{Bound, CheckOptions, Outcome, Report, Stats, Strategy};
use crate::ctx::Effects;
use crate::semantics::{
    Action, Event, FaultsUsed, Model, NodeSlot, StepError, StepInfo, TraceEvent, World,
};
use crate::system::System;
use crate::violation::{check_selected, Counterexample, Violation};

/// Where [`Worker::expand`] puts the new successors it finds.
pub(crate) enum Sink<'a, S: System> {
    /// Build each as a world of its own.
    Build(&'a mut dyn FnMut(Item<S>)),
    /// Keep only how to reach each from the expanded world (the in-place
    /// depth-first search enters them later on the same world).
    Collect(&'a mut Vec<Probe>),
}

/// How an in-place search hands work to idle threads (see [`Worker::dive`]).
pub(crate) struct Share<'a, S: System> {
    /// Whether another thread waits for work.
    pub(crate) want: &'a dyn Fn() -> bool,
    /// Puts built worlds where waiting threads find them.
    pub(crate) give: &'a mut dyn FnMut(Vec<Item<S>>),
}

/// A world waiting to be expanded.
pub(crate) struct Item<S: System> {
    world: World<S>,
    fp: u64,
    /// Each node's fingerprint and their sum, so a step rehashes only the
    /// node it changed (empty under symmetry, which renames every node).
    node_fps: Vec<u64>,
    node_sum: u64,
    /// The trace's fingerprint, rehashed only when a step changes the trace.
    trace_fp: u64,
    depth: u32,
    /// The fingerprints leading here (depth-first only; breadth-first
    /// follows parents in the visited set). For the world an in-place
    /// search walks, the trail to that search's root: the worker keeps the
    /// rest of the path (see [`Worker::trail_of`]).
    trail: Option<Arc<Trail>>,
}

/// One link of a depth-first path, shared by siblings.
pub(crate) struct Trail {
    fp: u64,
    prev: Option<Arc<Trail>>,
}

/// A violation found by some worker, resolved into a counterexample after
/// the search stops.
struct Found {
    violation: Violation,
    /// The last state of the path: the violating one, or for a failed step
    /// the state the step was taken from.
    at: u64,
    trail: Option<Arc<Trail>>,
    failed_step: Option<StepError>,
}

/// Everything the workers share.
pub(crate) struct Engine<'m, S: System> {
    model: &'m Model<S>,
    options: &'m CheckOptions,
    sym: Option<Symmetry<S>>,
    por: Option<Por>,
    affected: Option<Affected>,
    visited: Visited,
    stop: AtomicBool,
    found: Mutex<Option<Found>>,
    generated: AtomicU64,
    terminal: AtomicU64,
    max_depth: AtomicUsize,
    depth_bound_hit: AtomicBool,
    states_bound_hit: AtomicBool,
    evals: Mutex<Vec<u64>>,
    keep_trails: bool,
    /// Workers keep a [`RecentlySeen`] cache: depth first (which meets a
    /// state again soon; breadth first rarely does, and pays for the
    /// lookups) and no discovery depths needed.
    recent_seen: bool,
    /// Probes try steps on the network's fingerprint alone (the model's
    /// steps read no packet after changing one).
    network_trials: bool,
    /// The invariants checked, as a mask (bit `i` = invariant `i`; all
    /// when [`ALL`]).
    selected: u64,
    /// What the search holds, against its memory budget.
    meter: Arc<Meter>,
    /// New states found at each depth, breadth first (for the report's
    /// growth forecast).
    levels: Mutex<Vec<u64>>,
}

impl<'m, S: System> Engine<'m, S> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn report(&self, found: Found) {
        let mut slot = self.found.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(found);
        }
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Stops the search once the visited set holds `--max-states` worlds,
    /// or what the search holds reached its memory budget. Called at every
    /// new state: a few relaxed loads.
    fn stop_at_bounds(&self) {
        if self
            .options
            .max_states
            .is_some_and(|m| self.visited.len() >= m)
        {
            self.states_bound_hit.store(true, Ordering::Relaxed);
            self.stop.store(true, Ordering::Relaxed);
        }
        if self.meter.over() {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Reports `world` (fingerprint `at`, reached by `trail`), where no step
    /// is enabled, as a deadlock if some node still waits there (unless the
    /// check allows deadlocks). Returns whether it did.
    fn report_deadlock(&self, world: &World<S>, at: u64, trail: Option<Arc<Trail>>) -> bool {
        if self.model.deadlock_allowed.is_some() {
            return false;
        }
        let Some(waiting) = self.model.deadlocked(world) else {
            return false;
        };
        self.report(Found {
            violation: Violation::Deadlock { waiting },
            at,
            trail,
            failed_step: None,
        });
        true
    }

    /// Reports a step from `item` (reached by `trail`) that failed (a
    /// handler panicked).
    fn report_failed_step(&self, item: &Item<S>, trail: Option<Arc<Trail>>, e: StepError) {
        self.report(Found {
            violation: Violation::Step(e.clone()),
            at: item.fp,
            trail,
            failed_step: Some(e),
        });
    }
}

/// One thread's buffers.
pub(crate) struct Worker<S: System> {
    actions: Vec<Action>,
    ample: Vec<usize>,
    in_ample: Vec<bool>,
    effects: Effects<S>,
    spare: Option<World<S>>,
    scratch: Option<World<S>>,
    saved_trace: Vec<TraceEvent<S>>,
    batch: Vec<Probe>,
    /// Emptied frame lists, reused by the in-place search.
    spare_todo: Vec<Vec<Probe>>,
    evals: Vec<u64>,
    generated: u64,
    /// Worlds expanded with no step enabled.
    terminal: u64,
    /// The deepest world this worker reached (published with `generated`:
    /// a shared maximum updated per world would bounce between cores).
    max_depth: usize,
    /// Fingerprints this worker recently found in the visited set.
    recent: RecentlySeen,
    /// The in-place search's path below its root: the fingerprint of each
    /// state entered, while the root's item keeps the trail to the root.
    /// A path of plain numbers costs nothing per step; the trail is built
    /// from it only to report a violation.
    dive_path: Vec<u64>,
    /// A probe's copy of the node its step runs on (see `probe`).
    probe_saved: Option<NodeSlot<S>>,
    /// Worlds this worker made held (+) or let go (-) since it last told
    /// the meter, and other bytes likewise (the in-place search's frames).
    held_worlds: i64,
    held_other: i64,
    /// New worlds built, to sample one in [`WORLD_SAMPLE`] for its size.
    built: u64,
}

/// One new world in this many is measured for the meter's estimate.
const WORLD_SAMPLE: u64 = 64;

impl<S: System> Worker<S> {
    pub(crate) fn new() -> Self {
        Worker {
            actions: Vec::new(),
            ample: Vec::new(),
            in_ample: Vec::new(),
            effects: Effects::default(),
            spare: None,
            scratch: None,
            saved_trace: Vec::new(),
            batch: Vec::new(),
            spare_todo: Vec::new(),
            evals: vec![0; S::meta().invariants.len()],
            generated: 0,
            terminal: 0,
            max_depth: 0,
            recent: RecentlySeen::default(),
            dive_path: Vec::new(),
            probe_saved: None,
            held_worlds: 0,
            held_other: 0,
            built: 0,
        }
    }

    /// The world this worker held was let go (expanded and dropped).
    pub(crate) fn released(&mut self) {
        self.held_worlds -= 1;
    }

    /// Tells the meter what this worker's worlds and frames changed.
    fn publish_held(&mut self, eng: &Engine<'_, S>) {
        eng.meter
            .worlds_changed(std::mem::take(&mut self.held_worlds));
        eng.meter
            .other_changed(std::mem::take(&mut self.held_other));
    }

    /// Notes a new held world, measuring one in [`WORLD_SAMPLE`] for the
    /// meter's running estimate of a world's bytes.
    fn hold(&mut self, eng: &Engine<'_, S>, world: &World<S>) {
        self.held_worlds += 1;
        self.built += 1;
        if self.built % WORLD_SAMPLE == 1 {
            let est = world_bytes(world);
            let cur = eng.meter.world_bytes();
            eng.meter
                .set_world_bytes(if cur == 0 { est } else { (cur * 15 + est) / 16 });
        }
    }

    /// The fingerprints leading to `item`: its trail, extended by the
    /// in-place search's path when `item` is that search's current state.
    fn trail_of(&self, eng: &Engine<'_, S>, item: &Item<S>) -> Option<Arc<Trail>> {
        if !eng.keep_trails {
            return None;
        }
        let mut trail = item.trail.clone();
        for &fp in &self.dive_path {
            trail = Some(Arc::new(Trail { fp, prev: trail }));
        }
        trail
    }

    /// Adds this worker's counters to the engine's.
    pub(crate) fn flush(&mut self, eng: &Engine<'_, S>) {
        self.publish_held(eng);
        eng.generated.fetch_add(self.generated, Ordering::Relaxed);
        self.generated = 0;
        eng.terminal.fetch_add(self.terminal, Ordering::Relaxed);
        self.terminal = 0;
        eng.max_depth.fetch_max(self.max_depth, Ordering::Relaxed);
        let mut evals = eng.evals.lock().unwrap_or_else(|e| e.into_inner());
        for (a, b) in evals.iter_mut().zip(&mut self.evals) {
            *a += *b;
            *b = 0;
        }
    }

    /// Generates the successors of `item`, handing each new one to `sink`.
    pub(crate) fn expand(
        &mut self,
        eng: &Engine<'_, S>,
        item: &mut Item<S>,
        sink: &mut Sink<'_, S>,
    ) {
        if eng
            .options
            .max_depth
            .is_some_and(|d| item.depth as usize >= d)
        {
            eng.depth_bound_hit.store(true, Ordering::Relaxed);
            return;
        }
        let mut actions = std::mem::take(&mut self.actions);
        actions.clear();
        eng.model.actions(&item.world, &mut actions);
        if actions.is_empty() {
            self.terminal += 1;
            if eng.report_deadlock(&item.world, item.fp, self.trail_of(eng, item)) {
                self.actions = actions;
                return;
            }
        }
        let reduced = match &eng.por {
            Some(por) => por.ample(eng.model, &item.world, &actions, &mut self.ample),
            None => false,
        };
        if reduced {
            let ample = std::mem::take(&mut self.ample);
            let chosen: Vec<Action> = ample.iter().map(|&k| actions[k]).collect();
            let proviso = self.steps(eng, item, &chosen, true, sink);
            if proviso && !eng.stopped() {
                self.in_ample.clear();
                self.in_ample.resize(actions.len(), false);
                for &k in &ample {
                    self.in_ample[k] = true;
                }
                let rest: Vec<Action> = actions
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| !self.in_ample[*k])
                    .map(|(_, &a)| a)
                    .collect();
                self.steps(eng, item, &rest, false, sink);
            }
            self.ample = ample;
        } else {
            self.steps(eng, item, &actions, false, sink);
        }
        self.actions = actions;
        if self.generated > 4096 {
            eng.generated.fetch_add(self.generated, Ordering::Relaxed);
            self.generated = 0;
            self.publish_held(eng);
            eng.max_depth.fetch_max(self.max_depth, Ordering::Relaxed);
        } else if eng.meter.must_publish(self.held_worlds, self.held_other) {
            self.publish_held(eng);
        }
    }

    /// Takes each of `actions` from `item`. Returns whether the cycle
    /// proviso asks for full expansion (only meaningful for ample steps).
    ///
    /// Most successors were seen before, so a successor is not built as a
    /// copy of the world: each step is applied to `item`'s world in place,
    /// fingerprinted (rehashing only the node it changed) and undone, and
    /// its visited-set slot is prefetched. Only then are the fingerprints
    /// looked up — the memory loads overlap — and only a new world is built,
    /// by taking its step again on a copy. Under symmetry, which renames the
    /// whole world, successors are built as copies one by one instead.
    fn steps(
        &mut self,
        eng: &Engine<'_, S>,
        item: &mut Item<S>,
        actions: &[Action],
        ample: bool,
        sink: &mut Sink<'_, S>,
    ) -> bool {
        let mut proviso = false;
        if eng.sym.is_some() {
            let Sink::Build(push) = sink else {
                unreachable!("worlds renamed by symmetry are always built");
            };
            for &a in actions {
                if eng.stopped() {
                    break;
                }
                proviso |= self.step_copying(eng, item, a, ample, *push);
            }
            return proviso;
        }
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        let recent = eng.recent_seen;
        for &a in actions {
            match self.probe(eng, item, a) {
                Some(p) if recent && self.recent.contains(p.fp) => {}
                Some(p) => {
                    eng.visited.prefetch(p.fp);
                    batch.push(p);
                }
                None => break,
            }
        }
        for p in batch.drain(..) {
            if eng.stopped() {
                break;
            }
            proviso |= self.record(eng, item, p, ample, sink);
        }
        self.batch = batch;
        proviso
    }

    /// Applies `action` to `item`'s world in place, fingerprints the
    /// successor and undoes the step. `None` when the step failed (then
    /// reported).
    fn probe(&mut self, eng: &Engine<'_, S>, item: &mut Item<S>, action: Action) -> Option<Probe> {
        let model = eng.model;
        self.generated += 1;
        let node = model.node_of(&item.world, action);
        // The node the step runs on is saved into the worker's own slot
        // and swapped back afterwards: no node is moved through the stack.
        if let Some(i) = node {
            match &mut self.probe_saved {
                Some(saved) => saved.clone_from(&item.world.nodes[i]),
                None => self.probe_saved = Some(item.world.nodes[i].clone()),
            }
        }
        let (used, partition) = (item.world.used, item.world.partition);
        let world = &mut item.world;
        // The network notes (or, when the step reads it midway, records)
        // its changes to take them back; the trace is saved only when the
        // step can add to it.
        if eng.network_trials {
            world.network.start_trial();
        } else {
            world.network.start_journal();
        }
        let tracing = model.may_record(world, action);
        if tracing {
            self.saved_trace.clone_from(&world.trace);
        }
        let trace_len = world.trace.len();
        let result = model.apply(world, action, &mut self.effects);
        let probe = result.as_ref().ok().map(|&info| {
            let node_fp = info.node.map_or(0, |i| world.node_fingerprint(i));
            let node_sum = match info.node {
                Some(i) => item
                    .node_sum
                    .wrapping_sub(item.node_fps[i])
                    .wrapping_add(node_fp),
                None => item.node_sum,
            };
            let trace_fp = if world.trace.len() == trace_len {
                item.trace_fp
            } else {
                world.trace_fingerprint()
            };
            let fp = world.fingerprint_with(node_sum, trace_fp);
            debug_assert_eq!(
                fp,
                world.fingerprint(),
                "a step changed a node it did not report"
            );
            Probe {
                action,
                fp,
                info,
                node_fp,
                node_sum,
                trace_fp,
            }
        });
        // Put the parent back.
        debug_assert!(
            tracing || world.trace.len() == trace_len,
            "the trace changed unannounced"
        );
        if eng.network_trials {
            world.network.end_trial();
        } else {
            world.network.roll_back();
        }
        if tracing && world.trace.len() != trace_len {
            std::mem::swap(&mut world.trace, &mut self.saved_trace);
        }
        if let (Some(i), Some(saved)) = (node, &mut self.probe_saved) {
            std::mem::swap(&mut world.nodes[i], saved);
        }
        world.used = used;
        world.partition = partition;
        debug_assert_eq!(
            world.fingerprint(),
            item.fp,
            "undo did not restore the world"
        );
        match result {
            Ok(_) => probe,
            Err(e) => {
                eng.report_failed_step(item, self.trail_of(eng, item), e);
                None
            }
        }
    }

    /// Depth-first search of everything below `root` on `root`'s own world:
    /// a new successor is entered by taking its step in place (its network
    /// changes stay journaled), searched, and left by undoing the step, so
    /// no world is copied. Each frame of the path keeps the new successors
    /// it has yet to enter.
    ///
    /// With `share` (more than one thread), when another thread is idle the
    /// shallowest frame's unentered successors are built as worlds of their
    /// own (replaying the path from a copy of the root), their invariants
    /// checked as entering would, and given away.
    pub(crate) fn dive(
        &mut self,
        eng: &Engine<'_, S>,
        root: Item<S>,
        mut share: Option<Share<'_, S>>,
    ) {
        let origin = share.as_ref().map(|_| Origin {
            world: root.world.clone(),
            trail: root.trail.clone(),
            depth: root.depth,
        });
        let mut cur = root;
        let mut todo = self.spare_todo.pop().unwrap_or_default();
        todo.clear();
        self.expand(eng, &mut cur, &mut Sink::Collect(&mut todo));
        self.held_other += frame_bytes::<S>(&todo);
        let mut frames: Vec<Frame<S>> = vec![Frame {
            todo,
            entered: None,
        }];
        while let Some(top) = frames.last_mut() {
            if eng.stopped() {
                break;
            }
            let Some(p) = top.todo.pop() else {
                if let Some(frame) = frames.pop() {
                    self.held_other -= frame_bytes::<S>(&frame.todo);
                    if let Some(entered) = frame.entered {
                        self.leave(&mut cur, entered);
                    }
                    self.spare_todo.push(frame.todo);
                }
                continue;
            };
            let Some(entered) = self.enter(eng, &mut cur, p) else {
                continue;
            };
            let mut todo = self.spare_todo.pop().unwrap_or_default();
            todo.clear();
            self.expand(eng, &mut cur, &mut Sink::Collect(&mut todo));
            self.held_other += frame_bytes::<S>(&todo);
            frames.push(Frame {
                todo,
                entered: Some(entered),
            });
            if let (Some(share), Some(origin)) = (&mut share, &origin) {
                if (share.want)() {
                    self.share(eng, origin, &mut frames, share.give);
                }
            }
        }
        // Stopped early: the frames' successors are abandoned.
        for frame in frames {
            self.held_other -= frame_bytes::<S>(&frame.todo);
            self.spare_todo.push(frame.todo);
        }
        self.dive_path.clear();
        // The root's world, searched in place, is let go.
        self.released();
    }

    /// Takes a probed new successor's step on `cur`'s world in place and
    /// makes `cur` that successor, checking the invariants the step may
    /// affect. `None` when a violation was reported (`cur` is then as
    /// before).
    fn enter(&mut self, eng: &Engine<'_, S>, cur: &mut Item<S>, p: Probe) -> Option<Entered<S>> {
        let model = eng.model;
        let node = model.node_of(&cur.world, p.action);
        let mut entered = Entered {
            action: p.action,
            undo: Undo {
                slot: node.map(|i| (i, cur.world.nodes[i].clone())),
                used: cur.world.used,
                partition: cur.world.partition,
            },
            trace: model
                .may_record(&cur.world, p.action)
                .then(|| cur.world.trace.clone()),
            node_fp: None,
            fp: cur.fp,
            node_sum: cur.node_sum,
            trace_fp: cur.trace_fp,
        };
        cur.world.network.start_journal();
        if model
            .apply(&mut cur.world, p.action, &mut self.effects)
            .is_err()
        {
            // Not expected: handlers are deterministic and the probe of
            // this step succeeded.
            self.restore(cur, entered);
            return None;
        }
        if let Some(i) = p.info.node {
            entered.node_fp = Some((i, cur.node_fps[i]));
            cur.node_fps[i] = p.node_fp;
        }
        cur.fp = p.fp;
        cur.node_sum = p.node_sum;
        cur.trace_fp = p.trace_fp;
        cur.depth += 1;
        self.dive_path.push(p.fp);
        debug_assert_eq!(
            cur.world.fingerprint(),
            p.fp,
            "a handler is not deterministic"
        );
        self.max_depth = self.max_depth.max(cur.depth as usize);
        let (mask, node) = match &eng.affected {
            Some(aff) => (aff.mask(p.action, p.info), p.info.node),
            None => (ALL, None),
        };
        if let Err(v) = check_selected(
            &model.setup,
            &cur.world,
            mask & eng.selected,
            node,
            &mut self.evals,
        ) {
            eng.report(Found {
                violation: v,
                at: cur.fp,
                trail: self.trail_of(eng, cur),
                failed_step: None,
            });
            self.leave(cur, entered);
            return None;
        }
        eng.stop_at_bounds();
        Some(entered)
    }

    /// Undoes [`Worker::enter`]: `cur` becomes the parent again.
    fn leave(&mut self, cur: &mut Item<S>, entered: Entered<S>) {
        cur.depth -= 1;
        self.dive_path.pop();
        self.restore(cur, entered);
    }

    /// Puts back the world and the fingerprints `entered` saved.
    fn restore(&mut self, cur: &mut Item<S>, entered: Entered<S>) {
        let world = &mut cur.world;
        world.network.roll_back();
        if let Some(trace) = entered.trace {
            world.trace = trace;
        }
        entered.undo.put_back(world);
        if let Some((i, fp)) = entered.node_fp {
            cur.node_fps[i] = fp;
        }
        cur.fp = entered.fp;
        cur.node_sum = entered.node_sum;
        cur.trace_fp = entered.trace_fp;
        debug_assert_eq!(
            world.fingerprint(),
            cur.fp,
            "undo did not restore the world"
        );
    }

    /// Hands the unentered successors of the shallowest frame that has
    /// any to `give`, each as a world of its own.
    fn share(
        &mut self,
        eng: &Engine<'_, S>,
        origin: &Origin<S>,
        frames: &mut [Frame<S>],
        give: &mut dyn FnMut(Vec<Item<S>>),
    ) {
        let Some(k) = frames.iter().position(|f| !f.todo.is_empty()) else {
            return;
        };
        let model = eng.model;
        // The world of frame k: the root's, with the path's steps taken.
        let mut world = origin.world.clone();
        let mut trail = origin.trail.clone();
        for frame in &frames[1..=k] {
            let Some(entered) = &frame.entered else {
                return;
            };
            if model
                .apply(&mut world, entered.action, &mut self.effects)
                .is_err()
            {
                return;
            }
            trail = eng.keep_trails.then(|| {
                Arc::new(Trail {
                    fp: world.fingerprint(),
                    prev: trail.take(),
                })
            });
        }
        let depth = origin.depth + k as u32 + 1;
        let mut items = Vec::new();
        for p in frames[k].todo.drain(..) {
            let mut next = world.clone();
            if model.apply(&mut next, p.action, &mut self.effects).is_err() {
                continue;
            }
            let trail = eng.keep_trails.then(|| {
                Arc::new(Trail {
                    fp: p.fp,
                    prev: trail.clone(),
                })
            });
            let (mask, node) = match &eng.affected {
                Some(aff) => (aff.mask(p.action, p.info), p.info.node),
                None => (ALL, None),
            };
            if let Err(v) = check_selected(
                &model.setup,
                &next,
                mask & eng.selected,
                node,
                &mut self.evals,
            ) {
                eng.report(Found {
                    violation: v,
                    at: p.fp,
                    trail,
                    failed_step: None,
                });
                return;
            }
            self.max_depth = self.max_depth.max(depth as usize);
            let node_fps: Vec<u64> = (0..next.nodes.len())
                .map(|i| next.node_fingerprint(i))
                .collect();
            items.push(Item {
                node_sum: node_fps.iter().fold(0u64, |a, &b| a.wrapping_add(b)),
                trace_fp: next.trace_fingerprint(),
                node_fps,
                world: next,
                fp: p.fp,
                depth,
                trail,
            });
        }
        for item in &items {
            self.hold(eng, &item.world);
        }
        give(items);
    }

    /// Looks a probed successor up in the visited set; a new one is built
    /// and accepted. Returns what the cycle proviso needs (see `steps`).
    fn record(
        &mut self,
        eng: &Engine<'_, S>,
        item: &Item<S>,
        p: Probe,
        ample: bool,
        sink: &mut Sink<'_, S>,
    ) -> bool {
        let depth = item.depth + 1;
        let found = eng.visited.insert(p.fp, item.fp, depth);
        if eng.recent_seen {
            self.recent.remember(p.fp);
        }
        match found {
            Insert::Seen { depth: seen } => ample && seen.is_none_or(|d| d <= item.depth),
            Insert::New => {
                let push = match sink {
                    Sink::Collect(todo) => {
                        todo.push(p);
                        return false;
                    }
                    Sink::Build(push) => push,
                };
                let mut next = item.world.clone();
                // Handlers are deterministic: the same step again gives the
                // world that was fingerprinted.
                if eng
                    .model
                    .apply(&mut next, p.action, &mut self.effects)
                    .is_err()
                {
                    return false;
                }
                let mut node_fps = item.node_fps.clone();
                if let Some(i) = p.info.node {
                    node_fps[i] = p.node_fp;
                }
                debug_assert_eq!(next.fingerprint(), p.fp, "a handler is not deterministic");
                self.accept(
                    eng,
                    item,
                    p.action,
                    p.info,
                    next,
                    (p.fp, node_fps, p.node_sum, p.trace_fp),
                    *push,
                );
                false
            }
        }
    }

    /// [`Worker::step`] for searches that rename worlds (symmetry): the
    /// successor is a canonicalised copy.
    fn step_copying(
        &mut self,
        eng: &Engine<'_, S>,
        item: &Item<S>,
        action: Action,
        ample: bool,
        push: &mut dyn FnMut(Item<S>),
    ) -> bool {
        let model = eng.model;
        let mut next = match self.spare.take() {
            Some(mut w) => {
                w.clone_from(&item.world);
                w
            }
            None => item.world.clone(),
        };
        self.generated += 1;
        let info = match model.apply(&mut next, action, &mut self.effects) {
            Ok(info) => info,
            Err(e) => {
                eng.report_failed_step(item, self.trail_of(eng, item), e);
                self.spare = Some(next);
                return false;
            }
        };
        let mut moved = false;
        if let Some(sym) = &eng.sym {
            let scratch = self.scratch.get_or_insert_with(|| item.world.clone());
            moved = sym.canonicalize(model, &mut next, scratch);
        }
        let fp = next.fingerprint();
        let depth = item.depth + 1;
        match eng.visited.insert(fp, item.fp, depth) {
            Insert::Seen { depth: seen } => {
                self.spare = Some(next);
                ample && seen.is_none_or(|d| d <= item.depth)
            }
            Insert::New => {
                let _ = moved;
                self.accept(eng, item, action, info, next, (fp, Vec::new(), 0, 0), push);
                false
            }
        }
    }

    /// A new world: check the invariants its step may affect, then queue it.
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &mut self,
        eng: &Engine<'_, S>,
        item: &Item<S>,
        action: Action,
        info: StepInfo,
        next: World<S>,
        (fp, node_fps, node_sum, trace_fp): (u64, Vec<u64>, u64, u64),
        push: &mut dyn FnMut(Item<S>),
    ) {
        // Under symmetry the world was renamed: any node may have changed.
        let moved = eng.sym.is_some();
        let model = eng.model;
        let depth = item.depth + 1;
        self.max_depth = self.max_depth.max(depth as usize);
        let (mask, node) = match &eng.affected {
            Some(aff) => (aff.mask(action, info), if moved { None } else { info.node }),
            None => (ALL, None),
        };
        if let Err(v) = check_selected(
            &model.setup,
            &next,
            mask & eng.selected,
            node,
            &mut self.evals,
        ) {
            eng.report(Found {
                violation: v,
                at: fp,
                trail: item
                    .trail
                    .clone()
                    .map(|t| Arc::new(Trail { fp, prev: Some(t) })),
                failed_step: None,
            });
            return;
        }
        eng.stop_at_bounds();
        let trail = eng.keep_trails.then(|| {
            Arc::new(Trail {
                fp,
                prev: item.trail.clone(),
            })
        });
        self.hold(eng, &next);
        push(Item {
            world: next,
            fp,
            node_fps,
            node_sum,
            trace_fp,
            depth,
            trail,
        });
    }
}

/// A successor fingerprinted but not yet looked up.
pub(crate) struct Probe {
    action: Action,
    fp: u64,
    info: StepInfo,
    /// The fingerprint of the node the step changed, and the new sum.
    node_fp: u64,
    node_sum: u64,
    /// The successor's trace fingerprint.
    trace_fp: u64,
}

/// What an in-place step changed besides the network and the trace.
struct Undo<S: System> {
    slot: Option<(usize, NodeSlot<S>)>,
    used: FaultsUsed,
    partition: u64,
}

impl<S: System> Undo<S> {
    /// Puts the saved node, fault budgets and partition back.
    fn put_back(self, world: &mut World<S>) {
        if let Some((i, slot)) = self.slot {
            world.nodes[i] = slot;
        }
        world.used = self.used;
        world.partition = self.partition;
    }
}

/// What [`Worker::enter`] changed, to go back to the parent.
pub(crate) struct Entered<S: System> {
    undo: Undo<S>,
    /// The step taken (replayed when sharing).
    action: Action,
    /// The trace before, when the step could add to it.
    trace: Option<Vec<TraceEvent<S>>>,
    /// The changed node's fingerprint before.
    node_fp: Option<(usize, u64)>,
    fp: u64,
    node_sum: u64,
    trace_fp: u64,
}

/// One state on the in-place search's path.
pub(crate) struct Frame<S: System> {
    /// Its new successors not yet entered.
    todo: Vec<Probe>,
    /// How it was entered (`None` for the search's root).
    entered: Option<Entered<S>>,
}

/// The bytes an in-place search frame holds, for the meter.
fn frame_bytes<S: System>(todo: &Vec<Probe>) -> i64 {
    (std::mem::size_of::<Frame<S>>() + todo.capacity() * std::mem::size_of::<Probe>()) as i64
}

/// The root of an in-place search, kept to build shared worlds from.
struct Origin<S: System> {
    world: World<S>,
    trail: Option<Arc<Trail>>,
    depth: u32,
}

/// Decides whether the model's ignore rule may drop messages in this
/// check, with a note saying what it does: a copy of the model without it
/// when the check was asked not to use it, or `None` to use the model as
/// it is (which itself leaves out a rule that is blocked or audited).
fn ignore_rule_off<S: System>(
    model: &Model<S>,
    red: crate::check::Reductions,
    notes: &mut Vec<Note>,
) -> Option<Model<S>> {
    model.ignores?;
    let (status, detail) = match model.ignore_rule_blocked() {
        Some(why) => (Status::Off, why.to_string()),
        None if model.audit_ignores => (
            Status::Audited,
            "nothing dropped; every step checks its promise".to_string(),
        ),
        None if !red.ignore_rule => {
            return Some(Model {
                ignores: None,
                ..model.clone()
            })
        }
        None => (Status::On, "ignored messages are dropped".to_string()),
    };
    notes.push(Note::new(Topic::IgnoreRule, status, detail));
    None
}

/// A small direct-mapped cache of fingerprints a worker met in the
/// visited set, new or not. Depth-first search meets the same states again
/// within a few steps (two orders of independent steps lead to one world),
/// and the shared set is hundreds of megabytes behind a lock per shard: a
/// hit here saves a trip to memory and a lock. It only ever says "seen",
/// and only of fingerprints the set holds, so it cannot hide a new state.
#[derive(Default)]
struct RecentlySeen {
    slots: Vec<u64>,
}

impl RecentlySeen {
    /// 2^16 slots, 512 KiB: about what one core's private cache holds.
    const BITS: u32 = 16;

    fn slot(fp: u64) -> usize {
        // Bits the visited set's own slot and shard choice do not lean on.
        ((fp >> 24) as usize) & ((1 << Self::BITS) - 1)
    }

    fn contains(&self, fp: u64) -> bool {
        fp != 0 && self.slots.get(Self::slot(fp)) == Some(&fp)
    }

    fn remember(&mut self, fp: u64) {
        if self.slots.is_empty() {
            self.slots = vec![0; 1 << Self::BITS];
        }
        self.slots[Self::slot(fp)] = fp;
    }
}

/// Runs a whole check: with the reductions that pay, when asked to judge
/// them ([`crate::check::Reductions::payoff_sample`]), else with every
/// reduction asked for.
pub(crate) fn run<S: System>(model: &Model<S>, options: &CheckOptions) -> Report<S> {
    if crate::check::payoff::applies(options) {
        return crate::check::payoff::run(model, options);
    }
    search(model, options)
}

/// Runs one search with the reductions `options` ask for.
pub(crate) fn search<S: System>(model: &Model<S>, options: &CheckOptions) -> Report<S> {
    let started = Instant::now();
    let mut notes = Vec::new();
    let red = options.reductions;
    let without_rule = ignore_rule_off(model, red, &mut notes);
    let model = without_rule.as_ref().unwrap_or(model);
    let plan = Plan::choose(model, options, &mut notes);
    let budget = memory_budget(model, options);
    let meter = Arc::new(Meter::new(budget.bytes, plan.threads));
    let dynamic = plan.dynamic;
    let (strategy, threads) = (plan.strategy, plan.threads);
    let eng = Engine {
        model,
        options,
        sym: plan.sym,
        por: plan.por,
        affected: plan.affected,
        visited: Visited::metered(strategy == Strategy::Bfs, plan.depths, meter.clone()),
        stop: AtomicBool::new(false),
        found: Mutex::new(None),
        generated: AtomicU64::new(1),
        terminal: AtomicU64::new(0),
        max_depth: AtomicUsize::new(0),
        depth_bound_hit: AtomicBool::new(false),
        states_bound_hit: AtomicBool::new(false),
        evals: Mutex::new(vec![0; S::meta().invariants.len()]),
        keep_trails: strategy == Strategy::Dfs,
        recent_seen: strategy == Strategy::Dfs && !plan.depths,
        network_trials: !model.reads_network_mid_step(),
        selected: options.only_invariants.unwrap_or(ALL),
        meter,
        levels: Mutex::new(Vec::new()),
    };
    let stats = Stats {
        threads,
        strategy,
        shortest: strategy == Strategy::Bfs && eng.por.is_none(),
        notes,
        reductions: crate::check::Reductions {
            symmetry: eng.sym.is_some(),
            por: eng.por.is_some(),
            dynamic_por: dynamic.is_some(),
            incremental: eng.affected.is_some(),
            ignore_rule: red.ignore_rule && model.ignores.is_some(),
            payoff_sample: 0,
        },
        memory_budget: budget.bytes,
        memory_source: budget.source.clone(),
        ..Stats::default()
    };
    let item = match first_item(&eng) {
        Ok(item) => item,
        Err(cx) => return finish(&eng, Outcome::Violation(Box::new(cx)), stats, started),
    };

    let done = AtomicBool::new(false);
    let mut unsupported = None;
    std::thread::scope(|scope| {
        if options.progress != crate::progress::Shown::Off {
            let (eng, done) = (&eng, &done);
            scope.spawn(move || {
                crate::progress::show(|| progress_sample(eng), done, started, options.progress)
            });
        }
        let watcher = (!budget.is_unlimited()).then(|| scope.spawn(|| watch_resident(&eng, &done)));
        match (&dynamic, strategy) {
            (Some(tables), _) => unsupported = dpor::run(&eng, tables, item).err(),
            (None, Strategy::Bfs) => bfs::run(&eng, item, threads),
            (None, Strategy::Dfs) => dfs::run(&eng, item, threads),
        }
        done.store(true, Ordering::Relaxed);
        if let Some(w) = watcher {
            w.thread().unpark();
        }
    });
    if let Some(dpor::Unsupported(why)) = unsupported {
        // Search again with the static reduction, saying why.
        let mut again = options.clone();
        again.reductions.dynamic_por = false;
        again.memory = Some(budget);
        let mut report = search(model, &again);
        report.stats.notes.insert(
            0,
            Note::new(Topic::DynamicPartialOrder, Status::GivenUp, why),
        );
        report.stats.elapsed = started.elapsed();
        return report;
    }
    let outcome = outcome(&eng);
    finish(&eng, outcome, stats, started)
}

/// The reductions, order and thread count one search uses, chosen from
/// what the options ask for and what the model allows; each choice leaves
/// a note saying what it is and why.
struct Plan<S: System> {
    sym: Option<Symmetry<S>>,
    por: Option<Por>,
    /// The footprint tables, when the dynamic reduction runs instead of
    /// the static one.
    dynamic: Option<Por>,
    affected: Option<Affected>,
    strategy: Strategy,
    threads: usize,
    /// Whether the visited set records each state's discovery depth (the
    /// static reduction's cycle proviso needs it).
    depths: bool,
}

impl<S: System> Plan<S> {
    fn choose(model: &Model<S>, options: &CheckOptions, notes: &mut Vec<Note>) -> Self {
        let red = options.reductions;
        let sym = if red.symmetry {
            match Symmetry::new(model) {
                Ok(s) => {
                    notes.push(Note::new(Topic::Symmetry, Status::On, s.describe(model)));
                    for why in s.skipped() {
                        notes.push(Note::new(Topic::Symmetry, Status::NotFor, why.to_string()));
                    }
                    Some(s)
                }
                Err(why) => {
                    notes.push(Note::new(Topic::Symmetry, Status::Off, why));
                    None
                }
            }
        } else {
            None
        };
        // The footprint tables serve both partial-order reductions; the
        // dynamic one replaces the static one where it applies: no symmetry
        // (it renames the nodes its clocks are about).
        let (por, dynamic) = match (red.por || red.dynamic_por).then(|| Por::new(model)) {
            None => (None, None),
            Some(Err(why)) => {
                notes.push(Note::new(Topic::PartialOrder, Status::Off, why));
                (None, None)
            }
            Some(Ok(tables)) if red.dynamic_por && sym.is_none() => (None, Some(tables)),
            Some(Ok(tables)) if red.por => {
                notes.push(Note::new(Topic::PartialOrder, Status::On, ""));
                (Some(tables), None)
            }
            Some(Ok(_)) => (None, None),
        };
        let affected = red.incremental.then(Affected::new::<S>).flatten();
        if red.incremental {
            notes.push(if affected.is_some() {
                Note::new(Topic::IncrementalInvariants, Status::On, "")
            } else {
                Note::new(
                    Topic::IncrementalInvariants,
                    Status::Off,
                    "more than 64 invariants",
                )
            });
        }
        let (strategy, threads) = if dynamic.is_some() {
            notes.push(Note::new(
                Topic::DynamicPartialOrder,
                Status::On,
                "depth first, one thread",
            ));
            (Strategy::Dfs, 1)
        } else {
            let threads = match options.threads {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            };
            (options.strategy, threads)
        };
        Plan {
            depths: red.por && dynamic.is_none(),
            sym,
            por,
            dynamic,
            affected,
            strategy,
            threads,
        }
    }
}

/// The initial world as the search's first item, canonical under
/// symmetry and recorded as visited; `Err` when it cannot be built or
/// already breaks an invariant.
fn first_item<S: System>(eng: &Engine<'_, S>) -> Result<Item<S>, Counterexample<S>> {
    let model = eng.model;
    let mut init = model
        .init()
        .map_err(|e| Counterexample::new(Violation::Step(e), Vec::new()))?;
    if let Some(sym) = &eng.sym {
        let mut scratch = init.clone();
        sym.canonicalize(model, &mut init, &mut scratch);
    }
    {
        let mut evals = eng.evals.lock().unwrap_or_else(|e| e.into_inner());
        check_selected(&model.setup, &init, eng.selected, None, &mut evals)
            .map_err(|v| Counterexample::new(v, Vec::new()))?;
    }
    let fp = init.fingerprint();
    eng.visited.insert(fp, fp, 0);
    eng.meter.set_world_bytes(world_bytes(&init));
    eng.meter.worlds_changed(1);
    let node_fps = if eng.sym.is_some() {
        Vec::new()
    } else {
        (0..init.nodes.len())
            .map(|i| init.node_fingerprint(i))
            .collect()
    };
    let trace_fp = init.trace_fingerprint();
    let node_sum = node_fps.iter().fold(0u64, |a, &b| a.wrapping_add(b));
    Ok(Item {
        world: init,
        fp,
        node_fps,
        node_sum,
        trace_fp,
        depth: 0,
        trail: eng.keep_trails.then(|| Arc::new(Trail { fp, prev: None })),
    })
}

/// What the progress display shows of a running search.
fn progress_sample<S: System>(eng: &Engine<'_, S>) -> crate::progress::Sample {
    super::progress::CheckSample {
        unique: eng.visited.len(),
        bound: eng.options.max_states,
        depth: eng.max_depth.load(Ordering::Relaxed),
        held: eng.meter.held(),
        budget: eng.meter.budget(),
        levels: eng.levels.lock().unwrap_or_else(|e| e.into_inner()).clone(),
    }
    .sample()
}

/// How a finished search ended: the violation it found, else the bound
/// it stopped at, else exhausted.
fn outcome<S: System>(eng: &Engine<'_, S>) -> Outcome<S> {
    let found = eng.found.lock().unwrap_or_else(|e| e.into_inner()).take();
    match found {
        Some(found) => Outcome::Violation(Box::new(resolve(eng, found))),
        None if eng.meter.reached().is_some() => Outcome::MemoryBound {
            reached: eng.meter.reached().unwrap_or(Reached::Held),
        },
        None if eng.states_bound_hit.load(Ordering::Relaxed) => Outcome::Bounded {
            bound: Bound::States,
        },
        None if eng.depth_bound_hit.load(Ordering::Relaxed) => Outcome::Bounded {
            bound: Bound::Depth,
        },
        None => Outcome::Exhausted,
    }
}

/// The report: `outcome` with the search's counts filled into `stats`.
fn finish<S: System>(
    eng: &Engine<'_, S>,
    outcome: Outcome<S>,
    mut stats: Stats,
    started: Instant,
) -> Report<S> {
    stats.elapsed = started.elapsed();
    stats.states = eng.generated.load(Ordering::Relaxed);
    stats.unique = eng.visited.len().max(1);
    stats.terminal = eng.terminal.load(Ordering::Relaxed);
    stats.max_depth = eng.max_depth.load(Ordering::Relaxed);
    stats.invariant_evals = eng.evals.lock().unwrap_or_else(|e| e.into_inner()).clone();
    stats.visited_bytes = eng.visited.bytes() as u64;
    stats.peak_rss_bytes = peak_rss_bytes();
    stats.held_bytes = eng.meter.peak();
    stats.levels = eng.levels.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(what) = eng.sym.as_ref().and_then(|s| s.failure()) {
        stats.notes.push(Note::new(
            Topic::Symmetry,
            Status::Weakened,
            format!("{what} could not be relabelled"),
        ));
    }
    Report { outcome, stats }
}

/// The budget of this check: the options', else the model's, else the
/// default share of the memory available now.
fn memory_budget<S: System>(model: &Model<S>, options: &CheckOptions) -> MemoryBudget {
    if let Some(b) = &options.memory {
        return b.clone();
    }
    match model.memory_budget {
        Some(u64::MAX) => MemoryBudget::unlimited(),
        Some(bytes) => MemoryBudget::new(bytes, "Model::with_memory_budget"),
        None => MemoryBudget::default_share(),
    }
}

/// The net under the meter's estimate: samples the process's resident
/// memory ten times a second until `done`, and stops the search for
/// memory if it grew by the budget since the check started.
fn watch_resident<S: System>(eng: &Engine<'_, S>, done: &AtomicBool) {
    let Some(start) = resident_bytes() else {
        return;
    };
    let budget = eng.meter.budget();
    while !done.load(Ordering::Relaxed) && !eng.stopped() {
        // Woken early when the search ends, so a small check does not wait.
        std::thread::park_timeout(std::time::Duration::from_millis(100));
        if done.load(Ordering::Relaxed) {
            return;
        }
        if resident_bytes().is_some_and(|now| now.saturating_sub(start) >= budget) {
            eng.meter.reach(Reached::Resident);
            eng.stop.store(true, Ordering::Relaxed);
            return;
        }
    }
}

/// Turns a found violation into a counterexample of real (not canonical)
/// worlds, by replaying the handlers along the fingerprint path.
fn resolve<S: System>(eng: &Engine<'_, S>, found: Found) -> Counterexample<S> {
    let fps = match &found.trail {
        Some(trail) => {
            let mut fps = Vec::new();
            let mut t = Some(trail);
            while let Some(link) = t {
                fps.push(link.fp);
                t = link.prev.as_ref();
            }
            fps.reverse();
            fps
        }
        None => chain(&eng.visited, found.at),
    };
    let replayed = replay_fingerprints(eng.model, &fps, eng.sym.as_ref());
    debug_assert!(
        replayed.is_some(),
        "the search's path to a violation does not replay"
    );
    let Some((mut events, last)) = replayed else {
        return Counterexample::new(found.violation, Vec::new());
    };
    let mut violation = found.violation;
    match &found.failed_step {
        Some(error) => {
            let mut fx = Effects::default();
            for a in eng.model.enabled(&last) {
                let mut w = last.clone();
                if eng.model.apply(&mut w, a, &mut fx).as_ref().err() == Some(error) {
                    events.push(eng.model.event(&last, a));
                    break;
                }
            }
        }
        None => {
            let mut evals = vec![0; S::meta().invariants.len()];
            if let Err(v) = check_selected(&eng.model.setup, &last, eng.selected, None, &mut evals)
            {
                violation = v;
            } else if let Some(waiting) = eng.model.deadlocked(&last) {
                // Named in the real world, not the search's renamed form.
                violation = Violation::Deadlock { waiting };
            }
        }
    }
    Counterexample::new(violation, events)
}

/// The events that lead from the initial world through the worlds whose
/// fingerprints are `fps[1..]`, and the last world reached; `None` when no
/// step of some world reaches the next fingerprint (handlers that are not
/// deterministic).
///
/// Under symmetry the fingerprints are of the forms the search kept. The
/// canonical form breaks ties by position, so renaming a real world's
/// successor need not give the form the search reached from its own form
/// of that world; the replay therefore retraces the search's forms, and
/// takes in the real world the step that matches each, renamed back.
pub(crate) fn replay_fingerprints<S: System>(
    model: &Model<S>,
    fps: &[u64],
    sym: Option<&Symmetry<S>>,
) -> Option<(Vec<Event<S>>, World<S>)> {
    let mut real = model.init().ok()?;
    let mut effects = Effects::default();
    let mut events = Vec::with_capacity(fps.len());
    let Some(sym) = sym else {
        for &want in fps.iter().skip(1) {
            let (event, next) = step_to(model, &real, want, &mut effects)?;
            events.push(event);
            real = next;
        }
        return Some((events, real));
    };
    // `form` is the search's form of `real`: node index `j` of `form` is
    // node index `to_real[j]` of `real`.
    let mut to_real: Vec<usize> = (0..real.nodes.len()).collect();
    let mut form = real.clone();
    if let Some(new_index) = sym.canonical_renaming(model, &real) {
        form = sym.renamed(model, &real, &new_index)?;
        for (old, &new) in new_index.iter().enumerate() {
            to_real[new] = old;
        }
    }
    for &want in fps.iter().skip(1) {
        let (next, renaming, next_form) = model.enabled(&form).into_iter().find_map(|action| {
            let mut next = form.clone();
            model.apply(&mut next, action, &mut effects).ok()?;
            let renaming = sym.canonical_renaming(model, &next);
            let next_form = match &renaming {
                Some(r) => sym.renamed(model, &next, r)?,
                None => next.clone(),
            };
            (next_form.fingerprint() == want).then_some((next, renaming, next_form))
        })?;
        // The same step in the real world ends in `next` renamed back.
        let target = sym.renamed(model, &next, &to_real)?.fingerprint();
        let (event, real_next) = step_to(model, &real, target, &mut effects)?;
        events.push(event);
        real = real_next;
        if let Some(r) = renaming {
            let before = to_real.clone();
            for (old, &new) in r.iter().enumerate() {
                to_real[new] = before[old];
            }
        }
        form = next_form;
    }
    Some((events, real))
}

/// The step from `world` to a world whose fingerprint is `want`, with that
/// world.
fn step_to<S: System>(
    model: &Model<S>,
    world: &World<S>,
    want: u64,
    effects: &mut Effects<S>,
) -> Option<(Event<S>, World<S>)> {
    model.enabled(world).into_iter().find_map(|action| {
        let mut next = world.clone();
        model.apply(&mut next, action, effects).ok()?;
        (next.fingerprint() == want).then(|| (model.event(world, action), next))
    })
}
