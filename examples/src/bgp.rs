//! BGP as a path-vector protocol: routers pick routes to one origin by
//! local policy, and policies can make the network oscillate for ever.
//!
//! Router 0 originates the destination. Every router keeps the last path
//! each neighbour announced (after its import filter), selects the one its
//! policy ranks highest, and announces the selection (after its export
//! filter) to its neighbours; an announcement of nothing is a withdrawal.
//! A policy is an instance of the stable paths problem of Griffin,
//! Shepherd and Wilfong: for each router, the paths it permits, most
//! preferred first. Instances are text files ([`Policy::parse`]); the
//! Gao–Rexford ones give business relations instead (customer, peer) and
//! the preferences and export filters follow from them.
//!
//! Each link carries one update at a time: a router sends its neighbour a
//! new announcement only after the previous one was acknowledged, and
//! then sends the latest selection, not the ones in between. Only the
//! latest route on a link matters to BGP, and this keeps every channel to
//! one message each way, so the state space is finite and `check
//! --liveness` can decide whether every fair run settles.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use verdict::prelude::*;
use verdict::{NodeWorkload, SetupError};

/// A route to the origin: the routers a packet crosses, the router that
/// holds the route first and the origin (router 0) last.
pub type Path = Vec<u8>;

/// What a neighbour is to a router, in the Gao–Rexford model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Relation {
    /// It pays this router for transit.
    Customer,
    /// It exchanges its customers' routes with this router for free.
    Peer,
    /// This router pays it for transit.
    Provider,
}

/// A routing policy for every router: an instance of the stable paths
/// problem, plus export filters when relations are given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Policy {
    /// The instance's name.
    pub name: String,
    /// Each router's neighbours.
    pub neighbours: Vec<BTreeSet<u8>>,
    /// Each router's permitted paths, most preferred first (router 0:
    /// just `[0]`). A path not listed is refused on import.
    pub ranking: Vec<Vec<Path>>,
    /// Each router's relation to each neighbour; empty for instances
    /// without relations, which export every selection to every neighbour.
    pub relations: Vec<BTreeMap<u8, Relation>>,
}

verdict::system! {
    /// Path-vector routing to one origin under per-router policy.
    pub system Bgp;

    config {
        /// The instance: neighbours, preferences, relations.
        policy: Policy = Policy::default(),
    }

    /// What the origin's operator does.
    input enum Input {
        /// Stop originating the destination (withdraw it).
        Withdraw,
        /// Originate it again.
        Announce,
    }

    message enum Msg {
        /// The sender's selected path as exported to the receiver;
        /// `None` withdraws the sender's route.
        Update(Option<Path>),
        /// The receiver has taken the sender's last update.
        Ack,
    }

    role Router(u8) {
        state {
            /// The path each neighbour last announced, where the import
            /// filter let it in.
            rib_in: BTreeMap<u8, Path> = BTreeMap::new(),
            /// The selected path, this router first.
            best: Option<Path> = None,
            /// What each neighbour was last sent (absent: nothing, or a
            /// withdrawal).
            sent: BTreeMap<u8, Path> = BTreeMap::new(),
            /// Neighbours whose acknowledgement is outstanding.
            pending: BTreeSet<u8> = BTreeSet::new(),
        }

        on start writes(best, sent, pending) sends(Update) {
            let me = id(ctx.me());
            if me == 0 {
                *self.best = Some(vec![0]);
            }
            let policy = &ctx.config().policy;
            for (to, path) in announcements(policy, me, self.best, self.sent, self.pending, None) {
                ctx.send(Node::Router(to), msg::Update(path));
            }
        }

        on input Withdraw writes(best, sent, pending) sends(Update) {
            let me = id(ctx.me());
            *self.best = None;
            let policy = &ctx.config().policy;
            for (to, path) in announcements(policy, me, self.best, self.sent, self.pending, None) {
                ctx.send(Node::Router(to), msg::Update(path));
            }
        }

        on input Announce writes(best, sent, pending) sends(Update) {
            let me = id(ctx.me());
            *self.best = Some(vec![me]);
            let policy = &ctx.config().policy;
            for (to, path) in announcements(policy, me, self.best, self.sent, self.pending, None) {
                ctx.send(Node::Router(to), msg::Update(path));
            }
        }

        on message Update(path) from peer writes(rib_in, best, sent, pending) sends(Update, Ack) {
            let me = id(ctx.me());
            let from = id(peer);
            let policy = &ctx.config().policy;
            match path.filter(|p| permitted(policy, me, from, p)) {
                Some(p) => self.rib_in.insert(from, p),
                None => self.rib_in.remove(&from),
            };
            if me != 0 {
                *self.best = select(policy, me, self.rib_in);
            }
            ctx.send(peer, msg::Ack);
            for (to, path) in announcements(policy, me, self.best, self.sent, self.pending, None) {
                ctx.send(Node::Router(to), msg::Update(path));
            }
        }

        on message Ack from peer reads(best) writes(sent, pending) sends(Update) {
            let me = id(ctx.me());
            let from = id(peer);
            self.pending.remove(&from);
            let policy = &ctx.config().policy;
            for (to, path) in announcements(policy, me, self.best, self.sent, self.pending, Some(from)) {
                ctx.send(Node::Router(to), msg::Update(path));
            }
        }
    }

    /// Every selected path is one its router's policy permits: it starts
    /// at the router, ends at the origin, and visits no router twice.
    invariant selected_paths_are_permitted reads(Router.best, config) {
        for (i, r) in self.router.iter().enumerate() {
            let Some(p) = r.best.as_ref() else { continue };
            let ranking = self.config.policy.ranking.get(i).map(Vec::as_slice).unwrap_or(&[]);
            if !ranking.contains(p) || !loop_free(p) || p.first() != Some(&(i as u8)) {
                return Err(format!("Router({i}) selected {}, which its policy does not permit", show(p)));
            }
        }
        Ok(())
    }

    /// Once no update is in flight, following next hops from any router
    /// with a route reaches the origin along exactly the selected path:
    /// no forwarding loop, no black hole.
    invariant no_forwarding_loop_when_settled reads(Router.best, network) {
        if !self.network.is_empty() {
            return Ok(());
        }
        let best = |i: u8| self.router.get(i as usize).and_then(|r| r.best.clone());
        for (i, r) in self.router.iter().enumerate() {
            let Some(p) = r.best.as_ref() else { continue };
            if let [_, hop, ..] = p.as_slice() {
                if best(*hop).as_deref() != Some(&p[1..]) {
                    let theirs = best(*hop).map_or("no route".to_string(), |q| show(&q));
                    return Err(format!(
                        "settled, Router({i}) forwards along {} but Router({hop}) forwards along {theirs}",
                        show(p)
                    ));
                }
            }
        }
        Ok(())
    }

    /// Routing settles: a state with no update or acknowledgement in
    /// flight, where every router's selection is final.
    eventually converged reads(network) {
        self.network.is_empty()
    }
}

/// A router's number.
fn id(node: Node) -> u8 {
    match node {
        Node::Router(i) => i,
    }
}

/// A path as text: `1 3 0`.
pub fn show(path: &[u8]) -> String {
    path.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
}

/// Whether no router appears twice on `path`.
fn loop_free(path: &[u8]) -> bool {
    let mut seen = BTreeSet::new();
    path.iter().all(|r| seen.insert(*r))
}

/// The import filter: router `me` takes `path` from neighbour `from` when
/// it starts at `from` and `me` followed by it is a permitted path.
fn permitted(policy: &Policy, me: u8, from: u8, path: &Path) -> bool {
    if path.first() != Some(&from) {
        return false;
    }
    let mut mine = Vec::with_capacity(path.len() + 1);
    mine.push(me);
    mine.extend_from_slice(path);
    policy
        .ranking
        .get(me as usize)
        .is_some_and(|r| r.contains(&mine))
}

/// Best-path selection: the highest-ranked permitted path through some
/// neighbour's announcement.
fn select(policy: &Policy, me: u8, rib_in: &BTreeMap<u8, Path>) -> Option<Path> {
    let ranking = policy.ranking.get(me as usize)?;
    ranking
        .iter()
        .find(|p| p.len() >= 2 && rib_in.get(&p[1]).is_some_and(|q| q[..] == p[1..]))
        .cloned()
}

/// The export filter: what router `me` tells neighbour `to` about its
/// selection. Nothing if the path already crosses `to` (a sender-side loop
/// check). Without relations, the selection itself; with them
/// (Gao–Rexford), its own or a customer's route goes to everyone, any
/// other route only to customers.
fn export(policy: &Policy, me: u8, best: &Option<Path>, to: u8) -> Option<Path> {
    // A path through `to` would only be refused there (it would loop).
    let p = best.as_ref().filter(|p| !p.contains(&to))?;
    let Some(relations) = policy.relations.get(me as usize).filter(|r| !r.is_empty()) else {
        return Some(p.clone());
    };
    let via_customer = p.len() < 2 || relations.get(&p[1]) == Some(&Relation::Customer);
    let to_customer = relations.get(&to) == Some(&Relation::Customer);
    (via_customer || to_customer).then(|| p.clone())
}

/// The updates router `me` sends now: to each neighbour (or just `only`)
/// without an update outstanding, whose last announcement differs from
/// what the export filter says now. Records them as sent and pending.
fn announcements(
    policy: &Policy,
    me: u8,
    best: &Option<Path>,
    sent: &mut BTreeMap<u8, Path>,
    pending: &mut BTreeSet<u8>,
    only: Option<u8>,
) -> Vec<(u8, Option<Path>)> {
    let mut out = Vec::new();
    let Some(neighbours) = policy.neighbours.get(me as usize) else {
        return out;
    };
    for &to in neighbours {
        if only.is_some_and(|o| o != to) || pending.contains(&to) {
            continue;
        }
        let now = export(policy, me, best, to);
        if sent.get(&to) == now.as_ref() {
            continue;
        }
        match &now {
            Some(p) => sent.insert(to, p.clone()),
            None => sent.remove(&to),
        };
        pending.insert(to);
        out.push((to, now));
    }
    out
}

impl Policy {
    /// Routers in the instance, the origin included.
    pub fn routers(&self) -> usize {
        self.ranking.len()
    }

    /// Reads an instance. Lines (`#` starts a comment):
    ///
    /// - `routers N`: routers 0..N, 0 the origin;
    /// - `link A B`: a session between A and B;
    /// - `paths A: 1 3 0 | 1 0`: A's permitted paths, most preferred first;
    /// - `customer A B` (A is B's customer), `peer A B`: Gao–Rexford
    ///   relations, which are links too. With relations, a router without
    ///   a `paths` line permits the valley-free paths and ranks them
    ///   customer routes first, then peer, then provider routes, shorter
    ///   first, then by next hop; and exports by the Gao–Rexford rules.
    pub fn parse(name: &str, text: &str) -> Result<Policy, String> {
        let mut routers = None;
        let mut links: BTreeSet<(u8, u8)> = BTreeSet::new();
        let mut relations: BTreeMap<(u8, u8), Relation> = BTreeMap::new();
        let mut paths: BTreeMap<u8, Vec<Path>> = BTreeMap::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = |what: String| format!("{name}, line {}: {what}", n + 1);
            let number = |w: &str| -> Result<u8, String> {
                w.parse::<u8>()
                    .map_err(|_| at(format!("`{w}` is not a router number (0 to 255)")))
            };
            let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            match keyword {
                "routers" => {
                    let count: usize = rest
                        .trim()
                        .parse()
                        .map_err(|_| at("`routers N` needs a count".into()))?;
                    if !(2..=64).contains(&count) {
                        return Err(at(format!("{count} routers: give 2 to 64")));
                    }
                    routers = Some(count);
                }
                "link" | "customer" | "peer" => {
                    let ends: Vec<u8> = rest
                        .split_whitespace()
                        .map(number)
                        .collect::<Result<_, _>>()?;
                    let [a, b] = ends[..] else {
                        return Err(at(format!("`{keyword} A B` takes two routers")));
                    };
                    if a == b {
                        return Err(at(format!("router {a} cannot link to itself")));
                    }
                    links.insert((a.min(b), a.max(b)));
                    match keyword {
                        "customer" => {
                            relations.insert((a, b), Relation::Provider);
                            relations.insert((b, a), Relation::Customer);
                        }
                        "peer" => {
                            relations.insert((a, b), Relation::Peer);
                            relations.insert((b, a), Relation::Peer);
                        }
                        _ => {}
                    }
                }
                "paths" => {
                    let (who, list) = rest
                        .split_once(':')
                        .ok_or_else(|| at("write `paths A: 1 3 0 | 1 0`".into()))?;
                    let who = number(who.trim())?;
                    let mut ranked = Vec::new();
                    for p in list.split('|') {
                        let path: Path =
                            p.split_whitespace().map(number).collect::<Result<_, _>>()?;
                        ranked.push(path);
                    }
                    paths.insert(who, ranked);
                }
                other => {
                    return Err(at(format!(
                        "unknown keyword `{other}`; use routers, link, paths, customer, peer"
                    )))
                }
            }
        }
        let count = routers.ok_or_else(|| format!("{name}: no `routers N` line"))?;
        let mut neighbours = vec![BTreeSet::new(); count];
        for &(a, b) in &links {
            if b as usize >= count {
                return Err(format!(
                    "{name}: link {a} {b} names a router beyond 0..{count}"
                ));
            }
            neighbours[a as usize].insert(b);
            neighbours[b as usize].insert(a);
        }
        let mut rel = vec![BTreeMap::new(); count];
        for (&(a, b), &r) in &relations {
            rel[a as usize].insert(b, r);
        }
        let mut ranking = vec![Vec::new(); count];
        ranking[0] = vec![vec![0]];
        for v in 1..count as u8 {
            ranking[v as usize] = match paths.remove(&v) {
                Some(list) => list,
                None if !relations.is_empty() => valley_free_ranking(&neighbours, &rel, v),
                None => Vec::new(),
            };
        }
        if let Some((&v, _)) = paths.iter().next() {
            return Err(format!(
                "{name}: `paths {v}:` names the origin or a router beyond 0..{count}"
            ));
        }
        for (v, list) in ranking.iter().enumerate().skip(1) {
            for p in list {
                let ok = p.first() == Some(&(v as u8))
                    && p.last() == Some(&0)
                    && loop_free(p)
                    && p.windows(2)
                        .all(|w| neighbours[w[0] as usize].contains(&w[1]));
                if !ok {
                    return Err(format!(
                        "{name}: router {v} permits `{}`, which is not a simple path of links from {v} to 0",
                        show(p)
                    ));
                }
            }
        }
        Ok(Policy {
            name: name.to_string(),
            neighbours,
            ranking,
            relations: rel,
        })
    }

    /// Where a ranking breaks the Gao–Rexford preference rule (a customer
    /// route above every peer or provider route, a peer route above every
    /// provider route), one sentence per break. Empty for an instance
    /// without relations.
    pub fn gao_rexford_violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (v, list) in self.ranking.iter().enumerate().skip(1) {
            let class = |p: &Path| self.relations[v].get(&p[1]).copied();
            for (i, better) in list.iter().enumerate() {
                for worse in &list[i + 1..] {
                    if let (Some(b), Some(w)) = (class(better), class(worse)) {
                        if b > w {
                            out.push(format!(
                                "router {v} prefers `{}` (a {b:?} route) to `{}` (a {w:?} route)",
                                show(better),
                                show(worse)
                            ));
                        }
                    }
                }
            }
        }
        out
    }
}

/// The Gao–Rexford ranking of router `v`: its valley-free simple paths to
/// the origin (up to providers, across at most one peer, down to
/// customers), customer routes first, then peer, then provider routes;
/// shorter first within a class, then by the routers on the path.
fn valley_free_ranking(
    neighbours: &[BTreeSet<u8>],
    rel: &[BTreeMap<u8, Relation>],
    v: u8,
) -> Vec<Path> {
    let mut found = Vec::new();
    let mut path = vec![v];
    walk(neighbours, rel, &mut path, 0, &mut found);
    found.sort_by_key(|p: &Path| (rel[v as usize].get(&p[1]).copied(), p.len(), p.clone()));
    found
}

/// Extends `path` by valley-free hops; `phase` 0 while still going up to
/// providers, 1 after a peer hop or once going down to customers.
fn walk(
    neighbours: &[BTreeSet<u8>],
    rel: &[BTreeMap<u8, Relation>],
    path: &mut Path,
    phase: u8,
    found: &mut Vec<Path>,
) {
    let here = *path.last().unwrap_or(&0);
    if here == 0 {
        found.push(path.clone());
        return;
    }
    for &next in &neighbours[here as usize] {
        if path.contains(&next) {
            continue;
        }
        let step = match rel[here as usize].get(&next) {
            Some(Relation::Provider) if phase == 0 => 0,
            Some(Relation::Peer) if phase == 0 => 1,
            Some(Relation::Customer) => 1,
            _ => continue,
        };
        path.push(next);
        walk(neighbours, rel, path, step, found);
        path.pop();
    }
}

/// The instances that come with the example, by name: the gadgets of
/// Griffin, Shepherd and Wilfong and a Gao–Rexford violator as data files,
/// and `gao-rexford-N` (N from 2 to 9 routers besides the origin), a
/// generated family of Gao–Rexford topologies.
pub fn instance(name: &str) -> Option<Result<Policy, String>> {
    let text = match name {
        "good-gadget" => include_str!("../data/bgp/good-gadget.txt").to_string(),
        "bad-gadget" => include_str!("../data/bgp/bad-gadget.txt").to_string(),
        "disagree" => include_str!("../data/bgp/disagree.txt").to_string(),
        "gao-rexford-violator" => include_str!("../data/bgp/gao-rexford-violator.txt").to_string(),
        other => {
            let n: usize = other.strip_prefix("gao-rexford-")?.parse().ok()?;
            if !(2..=9).contains(&n) {
                return None;
            }
            gao_rexford(n)
        }
    };
    Some(Policy::parse(name, &text))
}

/// The names [`instance`] knows.
pub const INSTANCES: &str =
    "good-gadget, bad-gadget, disagree, gao-rexford-violator, gao-rexford-2 .. gao-rexford-9";

/// A Gao–Rexford topology of `n` routers besides the origin, as an
/// instance file: routers 1 and 2 are peers at the top; router k (k >= 3)
/// buys transit from router k - 2, and odd ones from k - 1 too; the
/// origin buys transit from the last two routers. The provider graph has
/// no cycle (every provider has a smaller number), so the Gao–Rexford
/// conditions hold and every fair run converges.
pub fn gao_rexford(n: usize) -> String {
    let mut text = format!("# generated: gao-rexford-{n}\nrouters {}\n", n + 1);
    if n >= 2 {
        text.push_str("peer 1 2\n");
    }
    for k in 3..=n {
        text.push_str(&format!("customer {k} {}\n", k - 2));
        if k % 2 == 1 {
            text.push_str(&format!("customer {k} {}\n", k - 1));
        }
    }
    text.push_str(&format!("customer 0 {n}\n"));
    if n >= 2 {
        text.push_str(&format!("customer 0 {}\n", n - 1));
    }
    text
}

/// The routers of `policy`, started together.
pub fn setup(policy: Policy) -> Result<Setup<Bgp>, SetupError> {
    let routers = policy.routers();
    Setup::with_config(&Sizes::new().with(Role::Router, routers), Config { policy })
}

/// No operator action, or (`flap`) the origin withdrawing the
/// destination and announcing it again.
pub fn workload(setup: &Setup<Bgp>, flap: bool) -> Workload<Bgp> {
    let none = Workload::none(setup);
    if !flap {
        return none;
    }
    let steps = vec![Step::send(input::Withdraw), Step::send(input::Announce)];
    none.with(setup, Node::Router(0), NodeWorkload::Script(steps))
}

/// The model of `policy` under `faults`.
pub fn model(policy: Policy, faults: Faults, flap: bool) -> Result<Model<Bgp>, SetupError> {
    let setup = setup(policy)?;
    let workload = workload(&setup, flap);
    Ok(Model::new(setup, faults, workload))
}
