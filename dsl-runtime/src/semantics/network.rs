//! Messages in flight.
//!
//! Packets are kept grouped by channel (sender, receiver), oldest first
//! within a channel, so per-channel FIFO order is the vector's order. When
//! the fault model allows unlimited reordering the network is a multiset,
//! and its fingerprint ignores order.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::fingerprint::spread;
use crate::system::System;

/// A message from `src` to `dst`.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Packet<S: System> {
    /// Sender.
    pub src: S::Node,
    /// Receiver.
    pub dst: S::Node,
    /// The message.
    pub msg: S::Msg,
}

impl<S: System> Clone for Packet<S> {
    fn clone(&self) -> Self {
        Packet {
            src: self.src,
            dst: self.dst,
            msg: self.msg.clone(),
        }
    }
}

impl<S: System> PartialEq for Packet<S> {
    fn eq(&self, o: &Self) -> bool {
        self.src == o.src && self.dst == o.dst && self.msg == o.msg
    }
}
impl<S: System> Eq for Packet<S> {}

impl<S: System> Hash for Packet<S> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.src.hash(h);
        self.dst.hash(h);
        self.msg.hash(h);
    }
}

impl<S: System> std::fmt::Debug for Packet<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {}: {:?}", self.src, self.dst, self.msg)
    }
}

/// A node as a number ordered like the node: its role in the high half,
/// its instance in the low half (exact for instance numbers below 2^32,
/// far more nodes than any world holds). Comparing numbers is what makes
/// finding a packet's channel cheap.
#[inline]
fn node_key<S: System>(node: S::Node) -> u64 {
    ((S::role_of(node) as u64) << 32) | (S::instance_of(node) as u64 & 0xffff_ffff)
}

/// A channel as one number ordered like `(src, dst)`.
#[inline]
fn channel_key<S: System>(src: S::Node, dst: S::Node) -> u128 {
    ((node_key::<S>(src) as u128) << 64) | node_key::<S>(dst) as u128
}

impl<S: System> Packet<S> {
    /// The packet's channel (see [`channel_key`]).
    #[inline]
    fn channel(&self) -> u128 {
        channel_key::<S>(self.src, self.dst)
    }
}

/// The messages in flight.
///
/// The network keeps its own fingerprint up to date as packets come and go:
/// the sum of one term per packet, each mixing the packet's hash with
/// (unless the network is unordered) its position on its channel. Equal
/// networks have equal sums however they were reached. Each packet's hash
/// is kept beside it, so a step hashes only the packets it adds.
#[derive(Serialize, Deserialize)]
#[serde(bound = "", from = "NetworkData<S>")]
pub struct Network<S: System> {
    packets: Vec<Packet<S>>,
    unordered: bool,
    /// The hash of each packet, by index.
    #[serde(skip)]
    hashes: Vec<u64>,
    #[serde(skip)]
    fingerprint: u64,
    /// Whether a step is being tried without moving packets (see
    /// [`Network::start_trial`]); read by every send and take.
    #[serde(skip)]
    trial_mode: TrialMode,
    /// What a search needs to take steps back: made when it first tries a
    /// step on this network. The many worlds a breadth-first search holds
    /// never need it, and pay one pointer for it.
    #[serde(skip)]
    log: Option<Box<Log<S>>>,
}

/// The journal and the trial's notes of a network a search steps on.
struct Log<S: System> {
    /// While steps are being tried (see [`Network::start_journal`]): every
    /// change since the oldest open mark, to take back.
    journal: Journal<S>,
    trial: Trial<S>,
}

impl<S: System> Default for Log<S> {
    fn default() -> Self {
        Log {
            journal: Journal::default(),
            trial: Trial::default(),
        }
    }
}

/// A step tried on the fingerprint alone: a search tries every step of a
/// state only to learn the fingerprint it leads to, and most are already
/// known, so moving packets in and out of the vectors (and back) is work
/// thrown away. The trial notes what the step took and sent instead.
struct Trial<S: System> {
    /// The fingerprint when the trial started, to go back to.
    fingerprint: u64,
    /// The index of the packet taken, if one was.
    taken: Option<usize>,
    /// The packets sent, in order.
    sent: Vec<Packet<S>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum TrialMode {
    /// No trial.
    #[default]
    Off,
    /// Changes touch only the fingerprint and the trial's notes.
    Noted,
    /// The step did something the notes cannot follow; its changes were
    /// made for real under a journal mark.
    Journaled,
}

impl<S: System> Default for Trial<S> {
    fn default() -> Self {
        Trial {
            fingerprint: 0,
            taken: None,
            sent: Vec::new(),
        }
    }
}

/// The changes to a network since [`Network::start_journal`]. Marks nest:
/// a search keeps the steps along its path open and tries each next step
/// inside them.
struct Journal<S: System> {
    /// For each open mark: how many changes came before it, and the
    /// fingerprint then.
    marks: Vec<(usize, u64)>,
    changes: Vec<Change<S>>,
}

impl<S: System> Default for Journal<S> {
    fn default() -> Self {
        Journal {
            marks: Vec::new(),
            changes: Vec::new(),
        }
    }
}

/// One change to a network, as recorded in a journal.
enum Change<S: System> {
    /// A packet was put at this index.
    Inserted(usize),
    /// This packet, with its hash, was taken from this index.
    Removed(usize, Packet<S>, u64),
}

/// What a network is on disk: hashes and fingerprint are recomputed when read.
#[derive(Deserialize)]
#[serde(bound = "")]
struct NetworkData<S: System> {
    packets: Vec<Packet<S>>,
    unordered: bool,
}

impl<S: System> From<NetworkData<S>> for Network<S> {
    fn from(d: NetworkData<S>) -> Self {
        let mut n = Network::new(d.unordered);
        for p in d.packets {
            n.send(p);
        }
        n
    }
}

impl<S: System> Clone for Network<S> {
    fn clone(&self) -> Self {
        Network {
            packets: self.packets.clone(),
            unordered: self.unordered,
            hashes: self.hashes.clone(),
            fingerprint: self.packets_fingerprint(),
            trial_mode: TrialMode::Off,
            log: None,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.packets.clone_from(&source.packets);
        self.unordered = source.unordered;
        self.hashes.clone_from(&source.hashes);
        self.fingerprint = source.packets_fingerprint();
        self.trial_mode = TrialMode::Off;
        if let Some(log) = &mut self.log {
            log.journal.marks.clear();
            log.journal.changes.clear();
            log.trial.sent.clear();
        }
    }
}

impl<S: System> std::fmt::Debug for Network<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.packets).finish()
    }
}

/// Mixes a packet's hash with its position on its channel.
#[inline]
fn term(hash: u64, position: usize, unordered: bool) -> u64 {
    if unordered {
        spread(hash)
    } else {
        spread(hash ^ (position as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
}

impl<S: System> Network<S> {
    /// An empty network; `unordered` makes it a multiset (order ignored).
    pub fn new(unordered: bool) -> Self {
        Network {
            packets: Vec::new(),
            unordered,
            hashes: Vec::new(),
            fingerprint: 0,
            trial_mode: TrialMode::Off,
            log: None,
        }
    }

    /// Opens a mark: every change from now on is recorded, so
    /// [`Network::roll_back`] can undo them. A search tries a step in
    /// place without copying the network. Marks nest.
    pub fn start_journal(&mut self) {
        let fingerprint = self.fingerprint;
        let journal = &mut self.log().journal;
        journal.marks.push((journal.changes.len(), fingerprint));
    }

    /// The log, made on first use.
    fn log(&mut self) -> &mut Log<S> {
        self.log.get_or_insert_with(Box::default)
    }

    /// Records `change` if a journal mark is open.
    #[inline]
    fn record(&mut self, change: impl FnOnce(&Self) -> Change<S>) {
        if self
            .log
            .as_ref()
            .is_some_and(|l| !l.journal.marks.is_empty())
        {
            let change = change(self);
            self.log().journal.changes.push(change);
        }
    }

    /// Undoes every change since the newest open mark and closes it; with
    /// no mark left, recording stops. Without an open mark it does nothing.
    pub fn roll_back(&mut self) {
        let Some(log) = &mut self.log else {
            return;
        };
        let Some((len, fingerprint)) = log.journal.marks.pop() else {
            return;
        };
        while log.journal.changes.len() > len {
            let Some(change) = log.journal.changes.pop() else {
                break;
            };
            match change {
                Change::Inserted(at) => {
                    self.packets.remove(at);
                    self.hashes.remove(at);
                }
                Change::Removed(at, packet, hash) => {
                    self.packets.insert(at, packet);
                    self.hashes.insert(at, hash);
                }
            }
        }
        self.fingerprint = fingerprint;
    }

    /// Starts trying a step (closed by [`Network::end_trial`]): until then
    /// [`Network::take`] and [`Network::send`] change the fingerprint but
    /// leave the packets where they are, so ending the trial costs nothing.
    ///
    /// For steps that read the packets only before changing them: while a
    /// trial is open the packets read are those from before the step. A
    /// step that takes a packet after sending one, takes two, or clears the
    /// network turns the trial into real, journaled changes.
    pub fn start_trial(&mut self) {
        debug_assert!(self.trial_mode == TrialMode::Off, "trials do not nest");
        self.trial_mode = TrialMode::Noted;
        let fingerprint = self.fingerprint;
        let trial = &mut self.log().trial;
        trial.fingerprint = fingerprint;
        trial.taken = None;
        trial.sent.clear();
    }

    /// Ends the trial [`Network::start_trial`] opened: the network is as
    /// it was before.
    pub fn end_trial(&mut self) {
        match self.trial_mode {
            TrialMode::Off => {}
            TrialMode::Noted => {
                let trial = &mut self.log().trial;
                trial.sent.clear();
                self.fingerprint = trial.fingerprint;
            }
            TrialMode::Journaled => self.roll_back(),
        }
        self.trial_mode = TrialMode::Off;
    }

    /// Whether the open trial has noted changes the packets do not show.
    fn trial_pending(&self) -> bool {
        self.noted_trial()
            .is_some_and(|t| t.taken.is_some() || !t.sent.is_empty())
    }

    /// The open trial's notes, while changes are only noted.
    fn noted_trial(&self) -> Option<&Trial<S>> {
        match (self.trial_mode, &self.log) {
            (TrialMode::Noted, Some(log)) => Some(&log.trial),
            _ => None,
        }
    }

    /// The fingerprint of the packets as they are in the vectors.
    fn packets_fingerprint(&self) -> u64 {
        self.noted_trial()
            .map_or(self.fingerprint, |t| t.fingerprint)
    }

    /// Makes the open trial's noted changes for real, under a journal mark
    /// that [`Network::end_trial`] rolls back.
    fn journal_trial(&mut self) {
        self.trial_mode = TrialMode::Journaled;
        let trial = &mut self.log().trial;
        let (fingerprint, taken) = (trial.fingerprint, trial.taken.take());
        let mut sent = std::mem::take(&mut trial.sent);
        self.fingerprint = fingerprint;
        self.start_journal();
        if let Some(index) = taken {
            self.take(index);
        }
        for packet in sent.drain(..) {
            self.send(packet);
        }
        self.log().trial.sent = sent;
    }

    /// Whether order is ignored.
    pub fn is_unordered(&self) -> bool {
        self.unordered
    }

    /// All packets in flight, grouped by channel, oldest first per channel.
    pub fn packets(&self) -> &[Packet<S>] {
        debug_assert!(!self.trial_pending(), "a trial's step read the network");
        &self.packets
    }

    /// How many packets are in flight.
    pub fn len(&self) -> usize {
        debug_assert!(!self.trial_pending(), "a trial's step read the network");
        self.packets.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Whether an equal packet is in flight.
    pub fn contains(&self, packet: &Packet<S>) -> bool {
        debug_assert!(!self.trial_pending(), "a trial's step read the network");
        let key = packet.channel();
        let start = self.packets.partition_point(|p| p.channel() < key);
        self.packets[start..]
            .iter()
            .take_while(|p| p.channel() == key)
            .any(|p| p.msg == packet.msg)
    }

    /// Where the channel of the packet at `index` starts.
    fn channel_start(&self, index: usize) -> usize {
        let key = self.packets[index].channel();
        self.packets[..index].partition_point(|p| p.channel() < key)
    }

    /// Puts a packet in flight, behind the others on its channel.
    pub fn send(&mut self, packet: Packet<S>) {
        let hash = crate::fingerprint::fingerprint(&packet);
        let key = packet.channel();
        let at = self.packets.partition_point(|p| p.channel() <= key);
        let start = self.packets[..at].partition_point(|p| p.channel() < key);
        if self.trial_mode == TrialMode::Noted {
            let unordered = self.unordered;
            let trial = &mut self.log().trial;
            // Its place on the channel: behind the packets there now, less
            // one taken from the channel, and behind the ones this step sent.
            let taken = trial.taken.is_some_and(|t| (start..at).contains(&t));
            let sent = trial.sent.iter().filter(|p| p.channel() == key);
            let position = at - start - usize::from(taken) + sent.count();
            trial.sent.push(packet);
            self.fingerprint = self
                .fingerprint
                .wrapping_add(term(hash, position, unordered));
            return;
        }
        self.fingerprint = self
            .fingerprint
            .wrapping_add(term(hash, at - start, self.unordered));
        self.packets.insert(at, packet);
        self.hashes.insert(at, hash);
        self.record(|_| Change::Inserted(at));
    }

    /// Takes the packet at `index` out of flight.
    pub fn take(&mut self, index: usize) -> Packet<S> {
        if self.trial_pending() {
            self.journal_trial();
        }
        let noted = self.trial_mode == TrialMode::Noted;
        let start = self.channel_start(index);
        let unordered = self.unordered;
        let hash = self.hashes[index];
        self.fingerprint = self
            .fingerprint
            .wrapping_sub(term(hash, index - start, unordered));
        if !unordered {
            // The packets behind it on its channel move up one place.
            let key = self.packets[index].channel();
            let mut k = index + 1;
            while k < self.packets.len() && self.packets[k].channel() == key {
                let h = self.hashes[k];
                self.fingerprint = self
                    .fingerprint
                    .wrapping_sub(term(h, k - start, false))
                    .wrapping_add(term(h, k - start - 1, false));
                k += 1;
            }
        }
        if noted {
            self.log().trial.taken = Some(index);
            return self.packets[index].clone();
        }
        let packet = self.packets.remove(index);
        self.hashes.remove(index);
        self.record(|_| Change::Removed(index, packet.clone(), hash));
        packet
    }

    /// Whether the packet at `index` is the oldest on its channel.
    pub fn is_channel_head(&self, index: usize) -> bool {
        debug_assert!(!self.trial_pending(), "a trial's step read the network");
        index == 0 || self.packets[index - 1].channel() != self.packets[index].channel()
    }

    /// Whether an equal packet sits at a lower index such that acting on
    /// this one (delivering, dropping, duplicating) leads to the same world
    /// as acting on that one: anywhere on the channel when order does not
    /// matter, immediately before it when it does.
    pub fn has_earlier_twin(&self, index: usize) -> bool {
        debug_assert!(!self.trial_pending(), "a trial's step read the network");
        let p = &self.packets[index];
        let h = self.hashes[index];
        if self.unordered {
            let key = p.channel();
            self.packets[..index]
                .iter()
                .zip(&self.hashes[..index])
                .rev()
                .take_while(|(q, _)| q.channel() == key)
                .any(|(q, &qh)| qh == h && q.msg == p.msg)
        } else {
            index > 0 && self.hashes[index - 1] == h && self.packets[index - 1] == *p
        }
    }

    /// Keeps only the packets `keep` accepts. Each packet let go is taken
    /// with [`Network::take`], so the fingerprint and a running journal
    /// stay right.
    pub fn retain(&mut self, mut keep: impl FnMut(&Packet<S>) -> bool) {
        if self.trial_pending() {
            self.journal_trial();
        }
        for index in (0..self.packets.len()).rev() {
            if !keep(&self.packets[index]) {
                self.take(index);
            }
        }
    }

    /// Drops every packet.
    pub fn clear(&mut self) {
        if self.trial_mode == TrialMode::Noted {
            self.journal_trial();
        }
        for at in (0..self.packets.len()).rev() {
            self.record(|n| Change::Removed(at, n.packets[at].clone(), n.hashes[at]));
        }
        self.packets.clear();
        self.hashes.clear();
        self.fingerprint = 0;
    }

    /// The network's fingerprint: order-aware per channel (FIFO) or
    /// order-free (unordered). Kept up to date by every change.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The fingerprint computed from scratch (for checks of the cached one).
    /// During a trial, of the network the noted changes describe.
    pub fn recompute_fingerprint(&self) -> u64 {
        if let Some(trial) = self.noted_trial() {
            let mut after = Network::new(self.unordered);
            for (i, p) in self.packets.iter().enumerate() {
                if trial.taken != Some(i) {
                    after.send(p.clone());
                }
            }
            for p in &trial.sent {
                after.send(p.clone());
            }
            return after.recompute_fingerprint();
        }
        let mut sum = 0u64;
        let mut start = 0;
        for (i, p) in self.packets.iter().enumerate() {
            if i > 0 && self.packets[i - 1].channel() != p.channel() {
                start = i;
            }
            let hash = crate::fingerprint::fingerprint(p);
            sum = sum.wrapping_add(term(hash, i - start, self.unordered));
        }
        sum
    }
}
