//! Invariant inference: candidates mined from reachable worlds, pruned
//! Houdini-style until they are inductive together with the user's
//! invariants on the recombination domain, then cut down to a small set
//! that still makes the user's invariants inductive there.
//!
//! Templates (DistAI's forms, over the observations of
//! [`crate::observe`]), with `n`, `m` nodes of one parameterised
//! role and literals `a`, `b` (a predicate or its negation):
//! - `∀n: a(n)` and `∀n: a(n) → b(n)`, where a literal may also be closed
//!   (a field of a singleton node, "a message of kind K in flight");
//! - `∀n≠m: a(n) → b(m)` (at most one node with P, when `b` is `¬a`);
//! - "at most one message of kind K in flight".
//!
//! Predicates on `n`: a field part of `n` has a value; a singleton's field
//! part names `n` (equals it, holds it first, contains it); a message of
//! kind K is in flight to `n`, or from `n`. Closed predicates: a
//! singleton's field part has a value; a message of kind K is in flight.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::Arc;

use crate::ctx::Effects;
use crate::induct::domain::Domain;
use crate::induct::{holds, is_state_invariant, InductOptions, Watch};
use crate::meta::{KindId, RoleId};
use crate::observe::{Atom, Shape, Value};
use crate::semantics::{Model, World};
use crate::system::System;

/// Distinct values an atom may take and still be compared with each.
const MAX_VALUES: usize = 8;

/// A predicate: on the bound node `n` of a role, or closed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pred<N> {
    /// Part `part` of field `field` of `n` is `value`.
    Field {
        /// Field index in `n`'s role.
        field: usize,
        /// Which part of it.
        part: &'static str,
        /// The value.
        value: Value,
    },
    /// Part `part` of field `field` of singleton node `node` names `n`.
    Names {
        /// The singleton.
        node: N,
        /// Its field.
        field: usize,
        /// Which part.
        part: &'static str,
    },
    /// A message of this kind is in flight to `n`.
    To(KindId),
    /// A message of this kind is in flight from `n`.
    From(KindId),
    /// Closed: part `part` of field `field` of singleton `node` is `value`.
    Single {
        /// The singleton.
        node: N,
        /// Its field.
        field: usize,
        /// Which part.
        part: &'static str,
        /// The value.
        value: Value,
    },
    /// Closed: a message of this kind is in flight.
    InFlight(KindId),
}

/// A literal: predicate number `pred` (of the candidate's role, or of the
/// closed ones when `closed`), or its negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lit {
    /// Whether it is a closed predicate.
    pub closed: bool,
    /// Its index in [`Universe::var`] (for the role) or [`Universe::closed`].
    pub pred: usize,
    /// `false` for the negation.
    pub positive: bool,
}

/// A candidate invariant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Candidate {
    /// `∀n ∈ role: a(n)` (closed `a`: no quantifier).
    Always(Option<RoleId>, Lit),
    /// `∀n ∈ role: a(n) → b(n)`.
    Implies(Option<RoleId>, Lit, Lit),
    /// `∀n ∈ role: a(n) ∧ b(n) → c(n)`.
    Implies2(RoleId, Lit, Lit, Lit),
    /// `∀n ≠ m ∈ role: a(n) → b(m)`.
    Apart(RoleId, Lit, Lit),
    /// At most one message of this kind in flight.
    AtMostOne(KindId),
}

impl Lit {
    /// The negation.
    pub fn negated(self) -> Lit {
        Lit {
            positive: !self.positive,
            ..self
        }
    }
}

impl Candidate {
    /// Literals in it: a simpler candidate is preferred.
    fn weight(&self) -> usize {
        match self {
            Candidate::Always(..) | Candidate::AtMostOne(_) => 1,
            Candidate::Implies(..) => 2,
            Candidate::Implies2(..) | Candidate::Apart(..) => 3,
        }
    }
}

/// The predicates candidates are built of: per parameterised role, those
/// on its bound node; and the closed ones.
#[derive(Debug, Clone)]
pub struct Universe<N> {
    /// Predicates on a node `n` of the role.
    pub var: BTreeMap<RoleId, Vec<Pred<N>>>,
    /// Closed predicates.
    pub closed: Vec<Pred<N>>,
}

/// Where each predicate's bits live in a [`Truth`] for one model.
#[derive(Debug)]
struct Layout {
    /// Per role: first bit, predicates, instances.
    roles: BTreeMap<RoleId, (usize, usize, usize)>,
    /// First bit of the closed predicates.
    closed: usize,
}

/// Each predicate's truth in one world, as bits: what candidates are
/// evaluated on.
#[derive(Debug, Clone)]
pub struct Truth {
    bits: Vec<u64>,
    /// Messages in flight per kind (saturating).
    per_kind: Box<[u8]>,
    layout: Arc<Layout>,
}

fn atom_of<'a>(atoms: &'a [Atom], field: usize, part: &str) -> Option<&'a Atom> {
    atoms.iter().find(|a| a.field == field && a.part == part)
}

fn names_node(atom: &Atom, name: &str) -> bool {
    match &atom.value {
        Value::Text(t) => t == name,
        Value::Members(m) => m.iter().any(|x| x == name),
        _ => false,
    }
}

fn observe_all<S: System>(world: &World<S>) -> Vec<Vec<Atom>> {
    world
        .nodes
        .iter()
        .map(|slot| {
            let mut out = Vec::new();
            S::observe(&slot.state, &mut out);
            out
        })
        .collect()
}

/// Whether `pred` holds with `n` bound to node index `n`.
fn pred_holds<S: System>(
    model: &Model<S>,
    world: &World<S>,
    atoms: &[Vec<Atom>],
    pred: &Pred<S::Node>,
    n: Option<usize>,
) -> bool {
    let index = |node: S::Node| model.setup.index_of(node);
    let packets = world.network.packets();
    let name = |i: usize| format!("{:?}", model.setup.nodes()[i]);
    match pred {
        Pred::Field { field, part, value } => n
            .and_then(|i| atom_of(&atoms[i], *field, part))
            .is_some_and(|a| a.value == *value),
        Pred::Names { node, field, part } => match (index(*node), n) {
            (Some(s), Some(i)) => {
                atom_of(&atoms[s], *field, part).is_some_and(|a| names_node(a, &name(i)))
            }
            _ => false,
        },
        Pred::To(kind) => n.is_some_and(|i| {
            packets
                .iter()
                .any(|p| S::message_kind(&p.msg) == *kind && index(p.dst) == Some(i))
        }),
        Pred::From(kind) => n.is_some_and(|i| {
            packets
                .iter()
                .any(|p| S::message_kind(&p.msg) == *kind && index(p.src) == Some(i))
        }),
        Pred::Single {
            node,
            field,
            part,
            value,
        } => index(*node)
            .and_then(|s| atom_of(&atoms[s], *field, part))
            .is_some_and(|a| a.value == *value),
        Pred::InFlight(kind) => packets.iter().any(|p| S::message_kind(&p.msg) == *kind),
    }
}

impl<N> Universe<N> {
    fn layout<S: System<Node = N>>(&self, model: &Model<S>) -> Arc<Layout> {
        let mut next = 0;
        let mut roles = BTreeMap::new();
        for (&r, preds) in &self.var {
            let instances = model.setup.role_range(r).len();
            roles.insert(r, (next, preds.len(), instances));
            next += preds.len() * instances;
        }
        Arc::new(Layout {
            roles,
            closed: next,
        })
    }

    /// Every predicate's truth in `world`.
    pub fn truth<S: System<Node = N>>(&self, model: &Model<S>, world: &World<S>) -> Truth {
        self.truth_in(model, world, self.layout(model))
    }

    fn truth_in<S: System<Node = N>>(
        &self,
        model: &Model<S>,
        world: &World<S>,
        layout: Arc<Layout>,
    ) -> Truth {
        let atoms = observe_all(world);
        let total = layout.closed + self.closed.len();
        let mut bits = vec![0u64; total.div_ceil(64)];
        let mut set = |bit: usize| bits[bit / 64] |= 1 << (bit % 64);
        for (r, preds) in &self.var {
            let Some(&(start, _, instances)) = layout.roles.get(r) else {
                continue;
            };
            let first = model.setup.role_range(*r).start;
            for (k, p) in preds.iter().enumerate() {
                for n in 0..instances {
                    if pred_holds(model, world, &atoms, p, Some(first + n)) {
                        set(start + k * instances + n);
                    }
                }
            }
        }
        for (k, p) in self.closed.iter().enumerate() {
            if pred_holds(model, world, &atoms, p, None) {
                set(layout.closed + k);
            }
        }
        let mut per_kind = vec![0u8; S::meta().messages.len()].into_boxed_slice();
        for p in world.network.packets() {
            if let Some(c) = per_kind.get_mut(S::message_kind(&p.msg)) {
                *c = c.saturating_add(1);
            }
        }
        Truth {
            bits,
            per_kind,
            layout,
        }
    }
}

/// A literal resolved against a [`Layout`]: its bit for instance `n` is
/// `at + step * n` (`step` is 0 for a closed predicate); absent when the
/// role has no bits, where it reads as false.
#[derive(Debug, Clone, Copy, Default)]
struct Bit {
    at: usize,
    step: usize,
    present: bool,
    positive: bool,
}

/// A candidate resolved against a [`Layout`], so judging it on a truth
/// table is bit reads with no lookup: what Houdini's inner loop runs.
#[derive(Debug, Clone, Copy)]
struct Compiled {
    candidate: Candidate,
    lits: [Bit; 3],
    instances: usize,
}

impl Layout {
    fn bit(&self, lit: Lit, role: Option<RoleId>) -> Bit {
        let (at, step, present) = if lit.closed {
            (self.closed + lit.pred, 0, true)
        } else {
            match role.and_then(|r| self.roles.get(&r)) {
                Some(&(start, _, instances)) => (start + lit.pred * instances, 1, true),
                None => (0, 0, false),
            }
        };
        Bit {
            at,
            step,
            present,
            positive: lit.positive,
        }
    }

    fn compile(&self, candidate: Candidate) -> Compiled {
        let (role, lits) = match candidate {
            Candidate::Always(r, a) => (r, [Some(a), None, None]),
            Candidate::Implies(r, a, b) => (r, [Some(a), Some(b), None]),
            Candidate::Implies2(r, a, b, c) => (Some(r), [Some(a), Some(b), Some(c)]),
            Candidate::Apart(r, a, b) => (Some(r), [Some(a), Some(b), None]),
            Candidate::AtMostOne(_) => (None, [None; 3]),
        };
        let bits = lits.map(|lit| lit.map_or(Bit::default(), |lit| self.bit(lit, role)));
        Compiled {
            candidate,
            lits: bits,
            instances: role.and_then(|r| self.roles.get(&r)).map_or(0, |r| r.2),
        }
    }
}

impl Truth {
    /// Whether the candidate `c` was compiled from holds, `c` compiled
    /// against this table's layout.
    fn satisfies(&self, c: &Compiled) -> bool {
        let lit = |i: usize, n: usize| {
            let b = &c.lits[i];
            (b.present && self.bit(b.at + b.step * n)) == b.positive
        };
        let k = c.instances;
        match c.candidate {
            Candidate::Always(None, _) => lit(0, 0),
            Candidate::Implies(None, ..) => !lit(0, 0) || lit(1, 0),
            Candidate::Always(Some(_), _) => (0..k).all(|n| lit(0, n)),
            Candidate::Implies(Some(_), ..) => (0..k).all(|n| !lit(0, n) || lit(1, n)),
            Candidate::Implies2(..) => (0..k).all(|n| !lit(0, n) || !lit(1, n) || lit(2, n)),
            Candidate::Apart(..) => {
                (0..k).all(|n| !lit(0, n) || (0..k).all(|m| m == n || lit(1, m)))
            }
            Candidate::AtMostOne(kind) => self.per_kind.get(kind).copied().unwrap_or(0) <= 1,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }

    /// Whether candidate `c` holds.
    pub fn holds(&self, c: &Candidate) -> bool {
        self.satisfies(&self.layout.compile(*c))
    }
}

/// The predicates the templates combine, from what reachable worlds show.
fn predicates<S: System>(model: &Model<S>, worlds: &[World<S>]) -> Universe<S::Node> {
    let meta = S::meta();
    let nodes = model.setup.nodes();
    // Parameterised roles bind `n`; the others are singletons.
    let var_roles: Vec<RoleId> = (0..meta.roles.len())
        .filter(|&r| meta.roles[r].param.is_some() && !model.setup.role_range(r).is_empty())
        .collect();
    let is_single = |i: usize| meta.roles[S::role_of(nodes[i])].param.is_none();
    let names: Vec<String> = nodes.iter().map(|n| format!("{n:?}")).collect();
    type Values = BTreeMap<(usize, usize, &'static str), BTreeSet<Value>>;
    let mut role_values: Values = BTreeMap::new();
    let mut single_values: Values = BTreeMap::new();
    let mut names_seen: BTreeSet<(usize, usize, &'static str, RoleId)> = BTreeSet::new();
    let mut to: BTreeSet<(RoleId, KindId)> = BTreeSet::new();
    let mut from: BTreeSet<(RoleId, KindId)> = BTreeSet::new();
    let mut kinds: BTreeSet<KindId> = BTreeSet::new();
    for world in worlds {
        for (i, atoms) in observe_all(world).iter().enumerate() {
            let role = S::role_of(nodes[i]);
            for a in atoms {
                if !matches!(a.value, Value::Members(_)) {
                    let (map, key) = if is_single(i) {
                        (&mut single_values, i)
                    } else {
                        (&mut role_values, role)
                    };
                    map.entry((key, a.field, a.part))
                        .or_default()
                        .insert(a.value.clone());
                }
                if is_single(i) {
                    for (j, name) in names.iter().enumerate() {
                        if names_node(a, name) {
                            names_seen.insert((i, a.field, a.part, S::role_of(nodes[j])));
                        }
                    }
                }
            }
        }
        for p in world.network.packets() {
            let kind = S::message_kind(&p.msg);
            kinds.insert(kind);
            to.insert((S::role_of(p.dst), kind));
            from.insert((S::role_of(p.src), kind));
        }
    }
    let comparable = |values: &BTreeSet<Value>| (2..=MAX_VALUES).contains(&values.len());
    let mut var: BTreeMap<RoleId, Vec<Pred<S::Node>>> = BTreeMap::new();
    for &r in &var_roles {
        let preds = var.entry(r).or_default();
        for ((role, field, part), values) in &role_values {
            if *role != r || !comparable(values) {
                continue;
            }
            for v in values.iter().filter(|v| **v != Value::Bool(false)) {
                preds.push(Pred::Field {
                    field: *field,
                    part,
                    value: v.clone(),
                });
            }
        }
        for &(s, field, part, role) in &names_seen {
            if role == r {
                preds.push(Pred::Names {
                    node: nodes[s],
                    field,
                    part,
                });
            }
        }
        preds.extend(
            to.iter()
                .filter(|(role, _)| *role == r)
                .map(|&(_, k)| Pred::To(k)),
        );
        preds.extend(
            from.iter()
                .filter(|(role, _)| *role == r)
                .map(|&(_, k)| Pred::From(k)),
        );
    }
    let mut closed = Vec::new();
    for ((s, field, part), values) in &single_values {
        if !comparable(values) {
            continue;
        }
        for v in values.iter().filter(|v| **v != Value::Bool(false)) {
            closed.push(Pred::Single {
                node: nodes[*s],
                field: *field,
                part,
                value: v.clone(),
            });
        }
    }
    closed.extend(kinds.iter().map(|&k| Pred::InFlight(k)));
    Universe { var, closed }
}

fn lits(count: usize, closed: bool) -> Vec<Lit> {
    (0..count)
        .flat_map(|pred| {
            [true, false].map(|positive| Lit {
                closed,
                pred,
                positive,
            })
        })
        .collect()
}

/// Every candidate the templates give over `u`'s predicates.
fn candidates<N>(u: &Universe<N>) -> Vec<Candidate> {
    let mut out = Vec::new();
    let closed_lits = lits(u.closed.len(), true);
    for &a in &closed_lits {
        out.push(Candidate::Always(None, a));
        for &b in &closed_lits {
            if a.pred != b.pred {
                out.push(Candidate::Implies(None, a, b));
            }
        }
    }
    for pred in &u.closed {
        if let Pred::InFlight(k) = pred {
            out.push(Candidate::AtMostOne(*k));
        }
    }
    for (&r, preds) in &u.var {
        let var_lits = lits(preds.len(), false);
        for &a in &var_lits {
            out.push(Candidate::Always(Some(r), a));
            for &b in var_lits.iter().chain(&closed_lits) {
                if a.pred != b.pred || b.closed {
                    out.push(Candidate::Implies(Some(r), a, b));
                }
            }
            for &b in &closed_lits {
                out.push(Candidate::Implies(Some(r), b, a));
            }
            for &b in &var_lits {
                out.push(Candidate::Apart(r, a, b));
                if a.pred < b.pred {
                    for &c in var_lits.iter().chain(&closed_lits) {
                        if c.closed || (c.pred != a.pred && c.pred != b.pred) {
                            out.push(Candidate::Implies2(r, a, b, c));
                        }
                    }
                }
            }
        }
    }
    out
}

/// What inference found.
#[derive(Debug)]
pub struct Inferred<N> {
    /// The predicates the candidates are built of.
    pub universe: Universe<N>,
    /// Candidates the templates give.
    pub templates: usize,
    /// Of those, the ones true in every reachable world seen.
    pub mined: usize,
    /// The largest subset Houdini kept: inductive with the user's
    /// invariants on the domain.
    pub houdini: usize,
    /// Whether the user's invariants are inductive with that subset.
    pub strengthens: bool,
    /// The Houdini set itself.
    pub kept: Vec<Candidate>,
    /// The small subset kept in the end (the strengthening), in the order
    /// it was chosen.
    pub chosen: Vec<Candidate>,
    /// Domain sweeps taken.
    pub sweeps: usize,
}

/// The user's invariants a recombined world can be judged by.
fn user_invariants<S: System>() -> Vec<usize> {
    (0..S::meta().invariants.len())
        .filter(|&i| is_state_invariant::<S>(i))
        .collect()
}

/// A pre-state that satisfies the user's invariants, with its truth table
/// and, per step, the post-state's table and whether the user's
/// invariants still hold there. Computed once; every sweep of Houdini and
/// of the cover below reads only these tables.
struct Transition {
    pre: Truth,
    posts: Vec<(Truth, bool)>,
}

fn transitions<S: System>(
    model: &Model<S>,
    universe: &Universe<S::Node>,
    prestates: impl Iterator<Item = World<S>>,
    watch: &Watch,
    admit: impl Fn(&Truth) -> bool,
) -> Vec<Transition> {
    let user = user_invariants::<S>();
    let layout = universe.layout(model);
    let mut effects = Effects::default();
    let mut out = Vec::new();
    for pre in prestates {
        watch.step();
        watch.examined(1);
        let pre = &pre;
        if !user.iter().all(|&i| holds(model, pre, i).is_ok()) {
            continue;
        }
        let truth = universe.truth_in(model, pre, layout.clone());
        if !admit(&truth) {
            continue;
        }
        let mut posts = Vec::new();
        for action in model.enabled(pre) {
            let mut post = pre.clone();
            if model.apply(&mut post, action, &mut effects).is_err() {
                continue;
            }
            watch.examined(1);
            let user_ok = user.iter().all(|&i| holds(model, &post, i).is_ok());
            posts.push((universe.truth_in(model, &post, layout.clone()), user_ok));
        }
        out.push(Transition { pre: truth, posts });
    }
    out
}

/// Whether the user's invariants and `extra` are inductive over these
/// transitions: from every pre-state satisfying them all, every step keeps
/// them all.
fn inductive_over(ts: &[Transition], extra: &[Candidate]) -> bool {
    ts.iter()
        .filter(|t| extra.iter().all(|c| t.pre.holds(c)))
        .all(|t| {
            t.posts
                .iter()
                .all(|(post, user_ok)| *user_ok && extra.iter().all(|c| post.holds(c)))
        })
}

/// Mines candidates from `domain`'s reachable worlds, keeps the largest
/// inductive subset (Houdini), and picks from it, greedily, candidates
/// that rule out the counterexamples to induction of the user's
/// invariants until none is left.
pub fn infer<S: System>(
    model: &Model<S>,
    options: &InductOptions,
    domain: &Domain<S>,
) -> Inferred<S::Node> {
    let watch = options.watch();
    let universe = predicates(model, &domain.worlds);
    let all = candidates(&universe);
    let templates = all.len();
    let reachable: Vec<Truth> = domain
        .worlds
        .iter()
        .map(|w| universe.truth(model, w))
        .collect();
    watch.examined(reachable.len() as u64);
    watch.phase(
        "infer: mining candidates true in every reachable world",
        "candidates",
        Some(templates as u64),
        String::new(),
    );
    let mut kept: Vec<Candidate> = all
        .into_iter()
        .filter(|c| {
            watch.step();
            reachable.iter().all(|t| t.holds(c))
        })
        .collect();
    let mined = kept.len();
    watch.candidates(mined as u64, (templates - mined) as u64);
    // Only pre-states satisfying the user's invariants matter; keep their
    // transitions, so each sweep below is table lookups.
    watch.phase(
        "infer: stepping the pre-states",
        "pre-states",
        Some(options.prestates_of(domain)),
        String::new(),
    );
    let ts = transitions(model, &universe, domain.prestates(options), watch, |_| true);
    let mut sweeps = 0;
    let strengthens = houdini(&ts, &mut kept, &mut sweeps, watch);
    watch.phase(
        "infer: choosing a small strengthening",
        "sweeps",
        None,
        String::new(),
    );
    let houdini = kept.len();
    let mut chosen: Vec<Candidate> = Vec::new();
    if strengthens {
        // Prefer candidates that name no particular node and no number
        // (a length, a counter): those are the likeliest to hold at other
        // sizes. Fall back to every kept one.
        let generic: Vec<Candidate> = kept
            .iter()
            .filter(|c| is_generic(&universe, c))
            .copied()
            .collect();
        chosen = match cover(&ts, &generic, &mut sweeps, watch) {
            Some(c) => c,
            None => cover(&ts, &kept, &mut sweeps, watch).unwrap_or_default(),
        };
        // Leave out any chosen candidate the others make redundant.
        let mut i = chosen.len();
        while i > 0 {
            i -= 1;
            let mut fewer = chosen.clone();
            fewer.remove(i);
            sweeps += 1;
            watch.step();
            if inductive_over(&ts, &fewer) {
                chosen = fewer;
            }
        }
    }
    Inferred {
        universe,
        templates,
        mined,
        houdini,
        strengthens,
        kept,
        chosen,
        sweeps,
    }
}

/// Houdini: drops from `kept` every candidate some step breaks from a
/// pre-state satisfying all of them (and the user's invariants), until
/// none is; returns whether the user's invariants then hold after every
/// such step.
///
/// The kept set only shrinks, so the pre-states it admits only grow: each
/// transition's post-states are judged once, when it is admitted, and a
/// transition not admitted remembers a kept candidate its pre-state
/// breaks, judged again only once that one is dropped. A candidate is
/// dropped as soon as an admitted step breaks it, which is sound because
/// the kept set always contains the largest inductive subset: a pre-state
/// that satisfies the kept set satisfies that subset too.
fn houdini(
    ts: &[Transition],
    kept: &mut Vec<Candidate>,
    sweeps: &mut usize,
    watch: &Watch,
) -> bool {
    let Some(first) = ts.first() else {
        return true;
    };
    let compiled: Vec<Compiled> = kept.iter().map(|c| first.pre.layout.compile(*c)).collect();
    let readers = Readers::of(&compiled, first.pre.bits.len(), first.pre.per_kind.len());
    let mut alive = vec![true; kept.len()];
    let mut admitted = vec![false; ts.len()];
    let mut blocker: Vec<Option<usize>> = vec![None; ts.len()];
    let mut user_broken = false;
    // Which post-state last judged each candidate, so a candidate reading
    // several changed bits is judged once per post-state.
    let mut judged_at = vec![usize::MAX; kept.len()];
    let mut post_id = 0;
    loop {
        *sweeps += 1;
        watch.phase(
            "infer: Houdini",
            "transitions",
            Some(ts.len() as u64),
            format!("sweep {sweeps}"),
        );
        let mut dropped = false;
        for (t, trans) in ts.iter().enumerate() {
            watch.step();
            if admitted[t] || blocker[t].is_some_and(|c| alive[c]) {
                continue;
            }
            blocker[t] = (0..kept.len()).find(|&c| alive[c] && !trans.pre.satisfies(&compiled[c]));
            if blocker[t].is_some() {
                continue;
            }
            admitted[t] = true;
            // Every kept candidate holds in the pre-state, so a step can
            // break only those that read a bit (or a count) it changed.
            for (post, user_ok) in &trans.posts {
                user_broken |= !user_ok;
                post_id += 1;
                for c in readers.of_changes(&trans.pre, post) {
                    if alive[c] && judged_at[c] != post_id {
                        judged_at[c] = post_id;
                        if !post.satisfies(&compiled[c]) {
                            alive[c] = false;
                            dropped = true;
                            watch.dropped_one();
                        }
                    }
                }
            }
        }
        if !dropped {
            break;
        }
    }
    let mut c = 0;
    kept.retain(|_| {
        c += 1;
        alive[c - 1]
    });
    !user_broken
}

/// For each bit of a truth table and each message kind's count, the
/// candidates that read it.
struct Readers {
    bits: Vec<Vec<usize>>,
    kinds: Vec<Vec<usize>>,
}

impl Readers {
    fn of(compiled: &[Compiled], words: usize, kinds: usize) -> Readers {
        let mut r = Readers {
            bits: vec![Vec::new(); words * 64],
            kinds: vec![Vec::new(); kinds],
        };
        for (i, c) in compiled.iter().enumerate() {
            if let Candidate::AtMostOne(kind) = c.candidate {
                if let Some(list) = r.kinds.get_mut(kind) {
                    list.push(i);
                }
                continue;
            }
            // A closed literal reads one bit whatever the instance.
            let instances = c.instances.max(1);
            for b in c.lits.iter().filter(|b| b.present) {
                for n in 0..instances {
                    let list = &mut r.bits[b.at + b.step * n];
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }
        r
    }

    /// The candidates reading something that differs between `pre` and
    /// `post` (with repeats).
    fn of_changes<'a>(
        &'a self,
        pre: &'a Truth,
        post: &'a Truth,
    ) -> impl Iterator<Item = usize> + 'a {
        let bits = pre
            .bits
            .iter()
            .zip(&post.bits)
            .enumerate()
            .flat_map(move |(w, (a, b))| {
                let mut diff = a ^ b;
                std::iter::from_fn(move || {
                    (diff != 0).then(|| {
                        let bit = diff.trailing_zeros() as usize;
                        diff &= diff - 1;
                        w * 64 + bit
                    })
                })
            });
        let kinds =
            (0..self.kinds.len()).filter(move |&k| pre.per_kind.get(k) != post.per_kind.get(k));
        bits.flat_map(move |b| self.bits[b].iter().copied())
            .chain(kinds.flat_map(move |k| self.kinds[k].iter().copied()))
    }
}

/// A counterexample to induction of the declared invariants that every
/// candidate in `assumed` allows: a pre-state satisfying them all from
/// which a step breaks a declared invariant (what no template ruled out).
pub fn remaining_cti<S: System>(
    model: &Model<S>,
    options: &InductOptions,
    domain: &Domain<S>,
    universe: &Universe<S::Node>,
    assumed: &[Candidate],
) -> Option<crate::induct::Cti<S>> {
    let user = user_invariants::<S>();
    let mut effects = Effects::default();
    for pre in domain.prestates(options) {
        if !user.iter().all(|&i| holds(model, &pre, i).is_ok()) {
            continue;
        }
        let truth = universe.truth(model, &pre);
        if !assumed.iter().all(|c| truth.holds(c)) {
            continue;
        }
        for action in model.enabled(&pre) {
            let mut post = pre.clone();
            let Ok(info) = model.apply(&mut post, action, &mut effects) else {
                continue;
            };
            for &id in &user {
                if let Err(message) = holds(model, &post, id) {
                    return Some(crate::induct::Cti {
                        kind: crate::induct::kind_of(model, action, info.handler),
                        invariant: id,
                        event: model.event(&pre, action),
                        pre,
                        post,
                        message: message.to_string(),
                    });
                }
            }
        }
    }
    None
}

/// Greedy cover: while some pre-state satisfying the user's invariants
/// and the chosen candidates has a step breaking one of them, add the
/// candidate of `pool` false on most such pre-states. `None` when `pool`
/// cannot rule one out.
fn cover(
    ts: &[Transition],
    pool: &[Candidate],
    sweeps: &mut usize,
    watch: &Watch,
) -> Option<Vec<Candidate>> {
    let mut chosen: Vec<Candidate> = Vec::new();
    loop {
        *sweeps += 1;
        watch.step();
        let mut excluded = vec![0usize; pool.len()];
        let mut any = false;
        for t in ts.iter().filter(|t| chosen.iter().all(|c| t.pre.holds(c))) {
            let fails = t
                .posts
                .iter()
                .any(|(post, user_ok)| !user_ok || !chosen.iter().all(|c| post.holds(c)));
            if fails {
                any = true;
                for (i, c) in pool.iter().enumerate() {
                    if !t.pre.holds(c) {
                        excluded[i] += 1;
                    }
                }
            }
        }
        if !any {
            return Some(chosen);
        }
        let best = (0..pool.len())
            .filter(|&i| excluded[i] > 0)
            .max_by_key(|&i| (excluded[i], std::cmp::Reverse(pool[i].weight())))?;
        chosen.push(pool[best]);
    }
}

/// Whether a candidate names no particular node and compares no number.
fn is_generic<N>(universe: &Universe<N>, c: &Candidate) -> bool {
    let lit_ok = |role: Option<RoleId>, lit: &Lit| {
        let pred = if lit.closed {
            universe.closed.get(lit.pred)
        } else {
            role.and_then(|r| universe.var.get(&r))
                .and_then(|p| p.get(lit.pred))
        };
        let value_ok = |v: &Value| match v {
            Value::Int(_) | Value::Members(_) => false,
            // Node names are `Role(instance)`; enum variants have no parentheses.
            Value::Text(t) => !t.contains('('),
            Value::Bool(_) | Value::Absent => true,
        };
        match pred {
            Some(Pred::Field { value, .. } | Pred::Single { value, .. }) => value_ok(value),
            Some(_) => true,
            None => false,
        }
    };
    match c {
        Candidate::Always(r, a) => lit_ok(*r, a),
        Candidate::Implies(r, a, b) => lit_ok(*r, a) && lit_ok(*r, b),
        Candidate::Implies2(r, a, b, d) => [a, b, d].iter().all(|l| lit_ok(Some(*r), l)),
        Candidate::Apart(r, a, b) => lit_ok(Some(*r), a) && lit_ok(Some(*r), b),
        Candidate::AtMostOne(_) => true,
    }
}

/// How the inferred set fares on another model of the same system (one
/// size larger): whether it holds in every reachable world there, and
/// whether it and the user's invariants are inductive on that domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recheck {
    /// The first candidate (by index in the chosen set) false in a
    /// reachable world, if any.
    pub false_at_reachable: Option<usize>,
    /// Whether the set is inductive with the user's invariants there.
    pub inductive: bool,
    /// Pre-states there that satisfy the user's invariants.
    pub prestates: usize,
}

/// Re-checks `chosen` on `domain` of `model`.
pub fn recheck<S: System>(
    model: &Model<S>,
    options: &InductOptions,
    domain: &Domain<S>,
    universe: &Universe<S::Node>,
    chosen: &[Candidate],
) -> Recheck {
    let false_at_reachable = domain.worlds.iter().find_map(|w| {
        let t = universe.truth(model, w);
        chosen.iter().position(|c| !t.holds(c))
    });
    let watch = options.watch();
    watch.phase(
        "re-check: stepping the pre-states",
        "pre-states",
        Some(options.prestates_of(domain)),
        String::new(),
    );
    let ts = transitions(model, universe, domain.prestates(options), watch, |t| {
        chosen.iter().all(|c| t.holds(c))
    });
    Recheck {
        false_at_reachable,
        inductive: inductive_over(&ts, chosen),
        prestates: ts.len(),
    }
}

/// A candidate as mathematics and as a ready-to-paste `invariant` item.
pub struct Printed {
    /// `∀n ∈ Client: Client.held(n) → Server.queue.first = n`.
    pub formula: String,
    /// The `invariant name reads(..) { .. }` item.
    pub item: String,
}

struct Printer<'a, S: System> {
    model: &'a Model<S>,
    universe: &'a Universe<S::Node>,
    reads: BTreeSet<String>,
    network: bool,
}

impl<S: System> Printer<'_, S> {
    fn field(&self, role: RoleId, field: usize) -> &'static crate::meta::FieldMeta {
        &S::meta().roles[role].fields[field]
    }

    fn msg_pattern(&self, kind: KindId) -> String {
        let ty = crate::meta::short_type_name::<S::Msg>();
        format!("{ty}::{}(_)", S::meta().messages[kind])
    }

    /// The view of singleton `node`: `self.server`.
    fn single(&self, node: S::Node) -> String {
        format!("self.{}", S::meta().roles[S::role_of(node)].view)
    }

    /// Rust for `lit`, with `var` the view bound to `n` (of role `role`).
    fn lit(&mut self, lit: Lit, role: Option<RoleId>, var: &str) -> (String, String) {
        let meta = S::meta();
        let universe = self.universe;
        let pred = if lit.closed {
            &universe.closed[lit.pred]
        } else {
            &universe.var[&role.unwrap_or(0)][lit.pred]
        };
        let (code, text) = match pred {
            Pred::Field { field, part, value } => {
                let r = role.unwrap_or(0);
                let f = self.field(r, *field);
                self.reads
                    .insert(format!("{}.{}", meta.roles[r].name, f.name));
                let expr = expr_of(r, *field, part, &format!("{var}.{}", f.name), self.model);
                let shown = part_name(f.name, part);
                let text = match value {
                    Value::Bool(true) => format!("{shown}({var})"),
                    _ => format!("{shown}({var}) = {}", show(value)),
                };
                (compare(&expr.0, expr.1, value, f.ty), text)
            }
            Pred::Single {
                node,
                field,
                part,
                value,
            } => {
                let r = S::role_of(*node);
                let f = self.field(r, *field);
                self.reads
                    .insert(format!("{}.{}", meta.roles[r].name, f.name));
                let base = format!("{}.{}", self.single(*node), f.name);
                let expr = expr_of(r, *field, part, &base, self.model);
                let shown = format!("{node}.{}", part_name(f.name, part));
                let text = match value {
                    Value::Bool(true) => shown,
                    _ => format!("{shown} = {}", show(value)),
                };
                (compare(&expr.0, expr.1, value, f.ty), text)
            }
            Pred::Names { node, field, part } => {
                let r = S::role_of(*node);
                let f = self.field(r, *field);
                self.reads
                    .insert(format!("{}.{}", meta.roles[r].name, f.name));
                let base = format!("{}.{}", self.single(*node), f.name);
                let (expr, shape) = expr_of(r, *field, part, &base, self.model);
                let me = format!("{var}.node()");
                let code = match shape {
                    Shape::Opt => format!("{expr} == Some(&{me})"),
                    Shape::Members => format!("{expr}.contains(&{me})"),
                    Shape::Keys => format!("{expr}.contains_key(&{me})"),
                    _ => format!("*{expr} == {me}"),
                };
                let text = match (shape, *part) {
                    (Shape::Members, "members") | (Shape::Keys, "keys") => {
                        format!("{var} ∈ {node}.{}", f.name)
                    }
                    (Shape::Members | Shape::Keys, _) => {
                        format!("{var} ∈ {node}.{}", part_name(f.name, part))
                    }
                    _ => format!("{node}.{} = {var}", part_name(f.name, part)),
                };
                (code, text)
            }
            Pred::To(kind) | Pred::From(kind) => {
                self.network = true;
                let end = if matches!(pred, Pred::To(_)) {
                    "dst"
                } else {
                    "src"
                };
                let word = if end == "dst" { "to" } else { "from" };
                (
                    format!(
                        "self.network.iter().any(|p| p.{end} == {var}.node() && matches!(p.msg, {}))",
                        self.msg_pattern(*kind)
                    ),
                    format!("{} in flight {word} {var}", meta.messages[*kind]),
                )
            }
            Pred::InFlight(kind) => {
                self.network = true;
                (
                    format!(
                        "self.network.iter().any(|p| matches!(p.msg, {}))",
                        self.msg_pattern(*kind)
                    ),
                    format!("{} in flight", meta.messages[*kind]),
                )
            }
        };
        let simple = |c: &str| !c.contains(' ');
        match (lit.positive, simple(&code)) {
            (true, true) => (code, text),
            (true, false) => (format!("({code})"), text),
            (false, true) => (format!("!{code}"), format!("¬{text}")),
            (false, false) => (format!("!({code})"), format!("¬({text})")),
        }
    }
}

/// The Rust expression for a part of a field (`base` reads the field in
/// a view) and how it yields the value, from what `observe` says of it.
fn expr_of<S: System>(
    role: RoleId,
    field: usize,
    part: &str,
    base: &str,
    model: &Model<S>,
) -> (String, Shape) {
    // Any node of the role shows the expression template: observe one.
    let sample = model.setup.role_range(role).next().map(|i| {
        let mut out = Vec::new();
        S::observe(
            &S::initial_state(model.setup.nodes()[i], model.setup.config()),
            &mut out,
        );
        out
    });
    let atom = sample
        .iter()
        .flatten()
        .find(|a| a.field == field && a.part == part)
        .map(|a| (a.expr, a.shape));
    let (template, shape) = atom.unwrap_or(("{}", Shape::Plain));
    (template.replace("{}", base), shape)
}

fn part_name(field: &str, part: &str) -> String {
    if part.is_empty() {
        field.to_string()
    } else {
        format!("{field}.{part}")
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Text(t) => t.clone(),
        Value::Absent => "none".to_string(),
        Value::Members(m) => format!("{{{}}}", m.join(", ")),
    }
}

/// Rust comparing `expr` (of `shape`, field type `ty`) with `value`.
fn compare(expr: &str, shape: Shape, value: &Value, ty: &str) -> String {
    let simple_path = |t: &str| {
        t.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
    };
    match (shape, value) {
        (Shape::Bool, Value::Bool(true)) => format!("*{expr}"),
        (Shape::Bool, Value::Bool(false)) => format!("!*{expr}"),
        (Shape::Int, Value::Int(k)) => format!("*{expr} == {k}"),
        (Shape::Len, Value::Int(k)) => format!("{expr} == {k}"),
        (Shape::Opt, Value::Absent) => format!("{expr}.is_none()"),
        (Shape::Opt, Value::Text(t)) => {
            format!("format!(\"{{:?}}\", {expr}) == {:?}", format!("Some({t})"))
        }
        (Shape::Plain, Value::Text(t))
            if simple_path(ty) && simple_path(t) && t.starts_with(char::is_uppercase) =>
        {
            format!("*{expr} == {ty}::{t}")
        }
        (_, v) => format!("format!(\"{{:?}}\", {expr}) == {:?}", show(v)),
    }
}

/// Prints candidate `c` as the `number`-th inferred invariant.
pub fn print<S: System>(
    model: &Model<S>,
    universe: &Universe<S::Node>,
    c: &Candidate,
    number: usize,
) -> Printed {
    let meta = S::meta();
    let mut p = Printer {
        model,
        universe,
        reads: BTreeSet::new(),
        network: false,
    };
    let role_view = |r: RoleId| format!("self.{}", meta.roles[r].view);
    let (body, formula) = match c {
        Candidate::Always(role, a) => {
            let (code, text) = p.lit(*a, *role, "n");
            match role {
                Some(r) => (
                    format!("{}.iter().all(|n| {code})", role_view(*r)),
                    format!("∀n ∈ {}: {text}", meta.roles[*r].name),
                ),
                None => (code, text),
            }
        }
        Candidate::Implies(role, a, b) if !a.positive && !b.positive => {
            // `¬a → ¬b` reads better as `b → a`.
            return print(
                model,
                universe,
                &Candidate::Implies(*role, b.negated(), a.negated()),
                number,
            );
        }
        Candidate::Implies(role, a, b) => {
            let (ca, _) = p.lit(a.negated(), *role, "n");
            let ta = p.lit(*a, *role, "n").1;
            let (cb, tb) = p.lit(*b, *role, "n");
            match role {
                Some(r) => (
                    format!("{}.iter().all(|n| {ca} || {cb})", role_view(*r)),
                    format!("∀n ∈ {}: {ta} → {tb}", meta.roles[*r].name),
                ),
                None => (format!("{ca} || {cb}"), format!("{ta} → {tb}")),
            }
        }
        Candidate::Implies2(r, a, b, c) => {
            let (ca, _) = p.lit(a.negated(), Some(*r), "n");
            let (cb, _) = p.lit(b.negated(), Some(*r), "n");
            let ta = p.lit(*a, Some(*r), "n").1;
            let tb = p.lit(*b, Some(*r), "n").1;
            let (cc, tc) = p.lit(*c, Some(*r), "n");
            (
                format!("{}.iter().all(|n| {ca} || {cb} || {cc})", role_view(*r)),
                format!("∀n ∈ {}: {ta} ∧ {tb} → {tc}", meta.roles[*r].name),
            )
        }
        Candidate::Apart(r, a, b) => {
            let (ca, _) = p.lit(a.negated(), Some(*r), "n");
            let ta = p.lit(*a, Some(*r), "n").1;
            let (cb, tb) = p.lit(*b, Some(*r), "m");
            let view = role_view(*r);
            (
                format!(
                    "{view}.iter().all(|n| {ca} || {view}.iter().all(|m| m.node() == n.node() || {cb}))"
                ),
                format!("∀n ≠ m ∈ {}: {ta} → {tb}", meta.roles[*r].name),
            )
        }
        Candidate::AtMostOne(kind) => {
            p.network = true;
            (
                format!(
                    "self.network.iter().filter(|p| matches!(p.msg, {})).count() <= 1",
                    p.msg_pattern(*kind)
                ),
                format!("at most one {} in flight", meta.messages[*kind]),
            )
        }
    };
    // The quantifier ranges over the role's views, which exist only for a
    // role the invariant reads a field of: read its first one if no other.
    let bound = match c {
        Candidate::Always(r, _) | Candidate::Implies(r, _, _) => *r,
        Candidate::Implies2(r, ..) | Candidate::Apart(r, ..) => Some(*r),
        Candidate::AtMostOne(_) => None,
    };
    if let Some(r) = bound {
        let role = &meta.roles[r];
        let prefix = format!("{}.", role.name);
        if !p.reads.iter().any(|x| x.starts_with(&prefix)) {
            if let Some(f) = role.fields.first() {
                p.reads.insert(format!("{}.{}", role.name, f.name));
            }
        }
    }
    let mut reads: Vec<String> = p.reads.into_iter().collect();
    if p.network {
        reads.push("network".to_string());
    }
    let mut item = String::new();
    let _ = writeln!(item, "/// Inferred: {formula}");
    let _ = writeln!(
        item,
        "invariant inferred_{number} reads({}) {{",
        reads.join(", ")
    );
    let _ = writeln!(item, "    {body}");
    let _ = writeln!(item, "}}");
    Printed { formula, item }
}
