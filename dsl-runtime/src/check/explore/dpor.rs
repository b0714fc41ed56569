//! Dynamic partial-order reduction: a depth-first search that explores the
//! steps of one node at a state and adds another node's steps only when the
//! search actually meets a *race* — a later step at the same node (or, for
//! steps an invariant can see, any later visible step) that could have
//! happened first because nothing it depends on happened after the earlier
//! one. The static reduction ([`crate::check::reduction::por`]) must assume
//! any node may message any other; protocols where every server talks to
//! every server (Paxos) leave it nothing, while the races that really occur
//! are few.
//!
//! The algorithm is Flanagan and Godefroid's (POPL 2005) for a network of
//! FIFO channels:
//!
//! - steps of different nodes commute and never disable each other; steps
//!   of one node are dependent, and so are any two visible steps (an
//!   invariant reads what they write, judged from footprints as the static
//!   reduction does), which keeps every invariant verdict;
//! - happens-before is tracked with clocks: a bit per step of the current
//!   path. A step's clock joins its node's clock, the delivered packet's
//!   clock (its send and the earlier deliveries on its channel) and, when
//!   visible, the last visible step's;
//! - whenever a node's steps are explored at a state, *all* of that node's
//!   enabled steps there are, so steps that disable each other (a handler
//!   cancelling a timer) are never lost.
//!
//! A model with an ignore rule ([`crate::semantics::Model::ignoring`])
//! drops a message its receiver ignores for good, even as it is sent.
//! Dropping keeps steps of different nodes commuting (whether a message is
//! ignored only grows with its receiver's steps), but the delivery that
//! would have followed the send, a no-op, disappears, and with it the race
//! that tells the search to try the send *before* the receiver's step
//! that made it ignored: there the message is not ignored yet and acts.
//! So each such send still counts as that delivery for races.
//!
//! A state seen before is not searched again. To keep the races its
//! subtree would reveal, every finished state stores a *summary*: for each
//! step met below it that nothing below it orders after an earlier
//! dependent step, its node, whether it is visible, and which objects of
//! the state (node states, packets in flight) it causally depends on. When
//! the search meets the state again on another path, each summary entry is
//! checked for races against the new path with that path's clocks.
//!
//! The search runs on one thread. It needs an acyclic state graph, at most
//! 64 nodes and packets in flight together, and paths of at most 128 steps;
//! it reports otherwise and the caller falls back to the static reduction.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Engine, Found, Item, Trail};
use crate::check::reduction::incremental::ALL;
use crate::check::reduction::por::Por;
use crate::ctx::Effects;
use crate::semantics::{Action, World};
use crate::system::System;
use crate::violation::check_selected;

/// A set of steps of the current path, bit `i` for the step from depth `i`.
type Clock = u128;
/// Longest path the clocks can describe.
const MAX_DEPTH: usize = 128;

/// Summary entry flag: the step is visible.
const VISIBLE: u8 = 1;
/// Summary entry flag: races with earlier steps of its node are still open.
const SAME_OPEN: u8 = 2;
/// Summary entry flag: races with earlier visible steps are still open.
const VISIBLE_OPEN: u8 = 4;

/// A step met below a state, described relative to that state.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Entry {
    /// The state's frontier objects the step depends on: bit `i < n` for
    /// node `i`, bit `n + k` for packet `k` in flight.
    deps: u64,
    node: u8,
    /// The node of the first step after the state that the entry's step
    /// depends on (or the step's own node): the step to try first instead.
    first: u8,
    flags: u8,
}

impl Entry {
    /// Whether any race with an earlier step is still possible.
    fn open(&self) -> bool {
        self.flags & SAME_OPEN != 0
            || self.flags & (VISIBLE | VISIBLE_OPEN) == VISIBLE | VISIBLE_OPEN
    }
}

/// One state of the current path.
struct Frame<S: System> {
    world: World<S>,
    fp: u64,
    trail: Arc<Trail>,
    /// Clock of each node's last step.
    node_clock: Vec<Clock>,
    /// Clock of each packet in flight (in the network's order): its send and
    /// the deliveries before it on its channel.
    packet_clock: Vec<Clock>,
    /// Clock of the last visible step.
    visible_clock: Clock,
    /// Enabled steps, with each one's node and visibility.
    actions: Vec<(Action, usize, bool)>,
    /// Nodes whose steps must be explored here, and those already started.
    backtrack: u64,
    done: u64,
    /// Steps of the started node still to take, with node and visibility.
    pending: Vec<(Action, usize, bool)>,
    /// The step being explored from here: node and visibility.
    step: (usize, bool),
    /// For each frontier object of this state, the parent's objects it
    /// depends on; and the objects that depend on the step that led here.
    up_map: Vec<u64>,
    from_step: u64,
    summary: HashSet<Entry>,
}

impl<S: System> Frame<S> {
    fn enabled_nodes(&self) -> u64 {
        self.actions.iter().fold(0, |m, &(_, n, _)| m | 1 << n)
    }
}

/// Why the dynamic reduction cannot finish this search.
pub(crate) struct Unsupported(pub(crate) String);

/// A finished state's summary, or `None` while it is on the path.
type Summaries = HashMap<u64, Option<Box<[Entry]>>>;

/// Runs the search from `init`. `Err` when the state space is outside what
/// the reduction handles; the engine's counters are then meaningless.
pub(crate) fn run<S: System>(
    eng: &Engine<'_, S>,
    por: &Por,
    init: Item<S>,
) -> Result<(), Unsupported> {
    let model = eng.model;
    let n = init.world.nodes.len();
    let in_flight = init.world.network.len();
    frontier_fits(n, in_flight)?;
    let mut effects = Effects::default();
    let mut evals = vec![0u64; S::meta().invariants.len()];
    let mut summaries: Summaries = HashMap::new();
    let mut generated = 0u64;
    let mut terminal = 0u64;
    let mut max_depth = 0usize;
    let root = new_frame(
        eng,
        por,
        init.world,
        init.fp,
        Arc::new(Trail {
            fp: init.fp,
            prev: None,
        }),
        (vec![0; n], vec![0; in_flight], 0),
        (Vec::new(), 0),
    )?;
    summaries.insert(root.fp, None);
    terminal += u64::from(root.actions.is_empty());
    if root.actions.is_empty()
        && eng.report_deadlock(&root.world, root.fp, Some(root.trail.clone()))
    {
        return Ok(());
    }
    let mut path: Vec<Frame<S>> = vec![root];
    open_races(&mut path);
    // What the summaries' table and boxes hold, as told to the meter.
    let mut table_bytes = 0i64;
    let result = loop {
        if eng.stopped() {
            break Ok(());
        }
        let depth = path.len();
        let Some(top) = path.last_mut() else {
            break Ok(());
        };
        if top.pending.is_empty() {
            let todo = top.backtrack & !top.done;
            let bounded = eng.options.max_depth.is_some_and(|d| depth > d);
            if todo != 0 && !bounded {
                let x = todo.trailing_zeros() as usize;
                top.done |= 1 << x;
                top.pending = top
                    .actions
                    .iter()
                    .filter(|&&(_, m, _)| m == x)
                    .rev()
                    .copied()
                    .collect();
                continue;
            }
            if todo != 0 {
                eng.depth_bound_hit
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let Some(frame) = path.pop() else {
                break Ok(());
            };
            eng.meter.worlds_changed(-1);
            eng.meter
                .other_changed(finish(&mut summaries, &mut path, frame));
            continue;
        }
        let Some((action, x, visible)) = top.pending.pop() else {
            continue;
        };
        top.step = (x, visible);
        let mut next = top.world.clone();
        generated += 1;
        let info = match model.apply(&mut next, action, &mut effects) {
            Ok(info) => info,
            Err(e) => {
                eng.report(Found {
                    violation: crate::check::Violation::Step(e.clone()),
                    at: top.fp,
                    trail: Some(top.trail.clone()),
                    failed_step: Some(e),
                });
                break Ok(());
            }
        };
        let fp = next.fingerprint();
        if depth >= MAX_DEPTH {
            break Err(Unsupported(format!("a path longer than {MAX_DEPTH} steps")));
        }
        let clocks = match child_clocks(top, &next, action, x, visible, depth) {
            Ok(c) => c,
            Err(e) => break Err(e),
        };
        // Sends the model dropped at once as ignored: their deliveries,
        // no-ops that would have come after this step, still race with the
        // receiver's earlier steps (a step that made the receiver ignore the
        // message may be reordered after the delivery).
        let phantoms = ignored_sends(model, &next, &effects, x);
        let (seen, below) = match summaries.get(&fp) {
            Some(None) => break Err(Unsupported("the state graph has a cycle".into())),
            Some(Some(summary)) => (true, &summary[..]),
            None => (false, &[][..]),
        };
        // A finished state's subtree, and the ignored sends, against this
        // path.
        let steps = path.len();
        let (node_clock, packet_clock, _) = &clocks.0;
        for e in below.iter().chain(&phantoms) {
            let before = clock_of(node_clock, packet_clock, e.deps);
            race(&mut path, steps, e, before);
        }
        let Some(top) = path.last_mut() else {
            break Ok(());
        };
        let (up_map, from_step) = &clocks.1;
        for e in below.iter().chain(&phantoms) {
            if let Some(up) = lift(e, x, visible, up_map, *from_step) {
                top.summary.insert(up);
            }
        }
        if seen {
            continue;
        }
        let trail = Arc::new(Trail {
            fp,
            prev: Some(top.trail.clone()),
        });
        eng.visited.insert(fp, top.fp, depth as u32);
        // Only the invariants the step may have affected (when incremental
        // evaluation is on), as in the other searches.
        let (mask, node) = match &eng.affected {
            Some(aff) => (aff.mask(action, info), info.node),
            None => (ALL, None),
        };
        if let Err(v) = check_selected(&model.setup, &next, mask & eng.selected, node, &mut evals) {
            eng.report(Found {
                violation: v,
                at: fp,
                trail: Some(trail),
                failed_step: None,
            });
            break Ok(());
        }
        eng.stop_at_bounds();
        max_depth = max_depth.max(depth);
        let frame = match new_frame(eng, por, next, fp, trail, clocks.0, clocks.1) {
            Ok(f) => f,
            Err(e) => break Err(e),
        };
        summaries.insert(fp, None);
        let table = summaries_table_bytes(&summaries);
        eng.meter.other_changed(table - table_bytes);
        table_bytes = table;
        terminal += u64::from(frame.actions.is_empty());
        if frame.actions.is_empty()
            && eng.report_deadlock(&frame.world, frame.fp, Some(frame.trail.clone()))
        {
            break Ok(());
        }
        if generated.is_multiple_of(1024) {
            // Published as it goes, so progress shows the real depth.
            eng.max_depth
                .fetch_max(max_depth, std::sync::atomic::Ordering::Relaxed);
        }
        eng.meter.worlds_changed(1);
        path.push(frame);
        open_races(&mut path);
    };
    eng.generated
        .fetch_add(generated, std::sync::atomic::Ordering::Relaxed);
    eng.terminal
        .fetch_add(terminal, std::sync::atomic::Ordering::Relaxed);
    eng.max_depth
        .fetch_max(max_depth, std::sync::atomic::Ordering::Relaxed);
    let mut total = eng.evals.lock().unwrap_or_else(|e| e.into_inner());
    for (a, b) in total.iter_mut().zip(&evals) {
        *a += b;
    }
    result
}

/// The clock of the frontier objects in `deps` (bit `i < n` for node `i`,
/// bit `n + k` for packet `k`), given a state's clocks along the path.
fn clock_of(node_clock: &[Clock], packet_clock: &[Clock], deps: u64) -> Clock {
    let n = node_clock.len();
    let mut c = 0;
    let mut d = deps;
    while d != 0 {
        let b = d.trailing_zeros() as usize;
        d &= d - 1;
        c |= if b < n {
            node_clock[b]
        } else {
            packet_clock.get(b - n).copied().unwrap_or(0)
        };
    }
    c
}

/// Summary entries for the deliveries of packets the step at node `x` sent
/// and the model dropped at once as ignored (see
/// [`crate::semantics::Model::ignoring`]), in `child`'s terms: each
/// depends on the step, which is node `x`'s last.
fn ignored_sends<S: System>(
    model: &crate::semantics::Model<S>,
    child: &World<S>,
    effects: &Effects<S>,
    x: usize,
) -> Vec<Entry> {
    let src = model.setup.nodes()[x];
    effects
        .sends
        .iter()
        .filter(|(to, msg)| model.drops(child, src, *to, msg))
        .filter_map(|(to, _)| {
            let d = model.setup.index_of(*to)? as u8;
            Some(Entry {
                deps: 1u64 << x,
                node: d,
                first: d,
                flags: SAME_OPEN | VISIBLE_OPEN,
            })
        })
        .collect()
}

/// Summary entries name a state's nodes and packets in one 64-bit set.
fn frontier_fits(nodes: usize, packets: usize) -> Result<(), Unsupported> {
    if nodes + packets > 64 {
        return Err(Unsupported(
            "more than 64 nodes and packets in flight together".into(),
        ));
    }
    Ok(())
}

type FrameClocks = (Vec<Clock>, Vec<Clock>, Clock);
type UpMap = (Vec<u64>, u64);

/// A new state on the path: its enabled steps and, as the search starts
/// there, one node's steps to explore.
fn new_frame<S: System>(
    eng: &Engine<'_, S>,
    por: &Por,
    world: World<S>,
    fp: u64,
    trail: Arc<Trail>,
    (node_clock, packet_clock, visible_clock): FrameClocks,
    (up_map, from_step): UpMap,
) -> Result<Frame<S>, Unsupported> {
    let n = world.nodes.len();
    let mut acts = Vec::new();
    eng.model.actions(&world, &mut acts);
    let mut actions = Vec::with_capacity(acts.len());
    for a in acts {
        let (node, visible) = por.classify(eng.model, &world, a);
        if node >= n {
            return Err(Unsupported("a step that is not one node's".into()));
        }
        actions.push((a, node, visible));
    }
    let backtrack = actions.first().map_or(0, |&(_, x, _)| 1u64 << x);
    Ok(Frame {
        world,
        fp,
        trail,
        node_clock,
        packet_clock,
        visible_clock,
        actions,
        backtrack,
        done: 0,
        pending: Vec::new(),
        step: (0, false),
        up_map,
        from_step,
        summary: HashSet::new(),
    })
}

/// The summary entry of a step enabled at `frame`.
fn entry_of<S: System>(frame: &Frame<S>, action: Action, node: usize, visible: bool) -> Entry {
    let n = frame.node_clock.len();
    let deps = match action {
        Action::Deliver(j, _) => 1u64 << (n + j),
        _ => 1u64 << node,
    };
    Entry {
        deps,
        node: node as u8,
        first: node as u8,
        flags: SAME_OPEN | VISIBLE_OPEN | if visible { VISIBLE } else { 0 },
    }
}

/// At a state just added to the path: every step enabled there is checked
/// for races against the path, and recorded in its summary.
fn open_races<S: System>(path: &mut [Frame<S>]) {
    let Some(top) = path.last() else { return };
    let entries: Vec<(Entry, Clock)> = top
        .actions
        .iter()
        .map(|&(a, x, v)| {
            let e = entry_of(top, a, x, v);
            (e, clock_of(&top.node_clock, &top.packet_clock, e.deps))
        })
        .collect();
    let depth = path.len() - 1;
    for &(e, before) in &entries {
        race(path, depth, &e, before);
    }
    if let Some(top) = path.last_mut() {
        top.summary.extend(entries.into_iter().map(|(e, _)| e));
    }
}

/// Checks one step (an entry of a state reached by the first `steps` steps
/// of `path`, with `before` the clock of what it depends on) for a race
/// with those steps, and adds what the race asks for to the racing step's
/// state: the race is with the last step of the path dependent with it and
/// not ordered before it.
fn race<S: System>(path: &mut [Frame<S>], steps: usize, e: &Entry, before: Clock) {
    if !e.open() {
        return;
    }
    let visible = e.flags & VISIBLE != 0;
    for i in (0..steps).rev() {
        let (node, vis) = path[i].step;
        let dependent = (e.flags & SAME_OPEN != 0 && node == e.node as usize)
            || (visible && e.flags & VISIBLE_OPEN != 0 && vis);
        if !dependent || before >> i & 1 == 1 {
            continue;
        }
        // The first step after `i` the entry's step depends on is enabled
        // at `i`'s state; trying it there reverses the race.
        let later = before & !((2u128 << i) - 1);
        let try_node = if later != 0 {
            path[later.trailing_zeros() as usize].step.0
        } else {
            e.first as usize
        };
        let frame = &mut path[i];
        let enabled = frame.enabled_nodes();
        frame.backtrack |= if enabled >> try_node & 1 == 1 {
            1 << try_node
        } else {
            enabled
        };
        return;
    }
}

/// The clocks of the state reached by `action` (taken at node `x`) from
/// `parent`, and how its frontier maps back to the parent's.
fn child_clocks<S: System>(
    parent: &Frame<S>,
    child: &World<S>,
    action: Action,
    x: usize,
    visible: bool,
    depth: usize,
) -> Result<(FrameClocks, UpMap), Unsupported> {
    let n = parent.node_clock.len();
    frontier_fits(n, child.network.len())?;
    let bit: Clock = 1 << (depth - 1);
    let delivered = match action {
        Action::Deliver(j, _) => Some(j),
        _ => None,
    };
    let mut step_clock = parent.node_clock[x] | bit;
    if let Some(j) = delivered {
        step_clock |= parent.packet_clock[j];
    }
    if visible {
        step_clock |= parent.visible_clock;
    }
    // Frontier objects of the parent the step itself depends on.
    let step_deps = (1u64 << x) | delivered.map_or(0, |j| 1u64 << (n + j));
    let mut node_clock = parent.node_clock.clone();
    node_clock[x] = step_clock;
    let mut up_map: Vec<u64> = (0..n).map(|i| 1u64 << i).collect();
    up_map[x] = step_deps;
    let mut from_step = 1u64 << x;
    // Packets: per channel, the parent's in order (less the delivered
    // head and any the model dropped as ignored), then the ones this step
    // sent. A packet that moved up to the head of its channel because the
    // step took or dropped what was in front of it waited for the step.
    let pp = parent.world.network.packets();
    let mut packet_clock = Vec::with_capacity(child.network.len());
    let mut pi = 0;
    let kids = child.network.packets();
    for (k, q) in kids.iter().enumerate() {
        let key = (q.src, q.dst);
        let head = k == 0 || (kids[k - 1].src, kids[k - 1].dst) != key;
        while pi < pp.len() && (pp[pi].src, pp[pi].dst) < key {
            pi += 1;
        }
        // Parent packets of this channel that are gone: taken or dropped.
        let mut waited = false;
        while pi < pp.len()
            && (pp[pi].src, pp[pi].dst) == key
            && (Some(pi) == delivered || pp[pi].msg != q.msg)
        {
            waited = head;
            pi += 1;
        }
        let bit_k = 1u64 << (n + k);
        if pi < pp.len() && (pp[pi].src, pp[pi].dst) == key {
            let mut c = parent.packet_clock[pi];
            let mut m = 1u64 << (n + pi);
            if waited {
                c |= step_clock;
                m |= step_deps;
                from_step |= bit_k;
            }
            packet_clock.push(c);
            up_map.push(m);
            pi += 1;
        } else {
            packet_clock.push(step_clock);
            up_map.push(step_deps);
            from_step |= bit_k;
        }
    }
    let visible_clock = if visible {
        step_clock
    } else {
        parent.visible_clock
    };
    Ok((
        (node_clock, packet_clock, visible_clock),
        (up_map, from_step),
    ))
}

/// A child's summary entry seen from the parent, across the step at node
/// `x`: `None` when that step already closes every race it could have.
fn lift(e: &Entry, x: usize, visible: bool, up_map: &[u64], from_step: u64) -> Option<Entry> {
    let mut flags = e.flags;
    if e.node as usize == x {
        flags &= !SAME_OPEN;
    }
    if visible && flags & VISIBLE != 0 {
        flags &= !VISIBLE_OPEN;
    }
    let mut up = Entry { flags, ..*e };
    if !up.open() {
        return None;
    }
    let mut deps = 0;
    let mut d = e.deps;
    while d != 0 {
        let b = d.trailing_zeros() as usize;
        d &= d - 1;
        deps |= up_map.get(b).copied().unwrap_or(0);
    }
    up.deps = deps;
    if e.deps & from_step != 0 {
        up.first = x as u8;
    }
    Some(up)
}

/// The bytes of the summaries' hash table itself (slots and control
/// bytes), without the boxed entries.
fn summaries_table_bytes(summaries: &Summaries) -> i64 {
    let slot = std::mem::size_of::<(u64, Option<Box<[Entry]>>)>() + 1;
    (summaries.capacity() * slot) as i64
}

/// A state's search is over: its summary is stored and passed up.
/// Returns the bytes the stored summary holds.
fn finish<S: System>(summaries: &mut Summaries, path: &mut [Frame<S>], frame: Frame<S>) -> i64 {
    if let Some(parent) = path.last_mut() {
        let (x, visible) = parent.step;
        for e in &frame.summary {
            if let Some(up) = lift(e, x, visible, &frame.up_map, frame.from_step) {
                parent.summary.insert(up);
            }
        }
    }
    let entries: Box<[Entry]> = frame.summary.into_iter().collect();
    let bytes = (entries.len() * std::mem::size_of::<Entry>()) as i64 + 16;
    summaries.insert(frame.fp, Some(entries));
    bytes
}
