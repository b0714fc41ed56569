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

/// What the network keeps beside each packet: its channel (see
/// [`channel_key`]) and its hash.
#[derive(Clone, Copy)]
struct Slot {
    channel: u128,
    hash: u64,
}

impl Slot {
    fn of<S: System>(packet: &Packet<S>) -> Slot {
        Slot {
            channel: channel_key::<S>(packet.src, packet.dst),
            hash: crate::fingerprint::fingerprint(packet),
        }
    }

    #[inline]
    fn channel(&self) -> u128 {
        self.channel
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
    /// The channel and hash of each packet, by index.
    #[serde(skip)]
    slots: Vec<Slot>,
    #[serde(skip)]
    fingerprint: u64,
    /// While steps are being tried (see [`Network::start_journal`]): every
    /// change since the oldest open mark, to take back.
    #[serde(skip)]
    journal: Journal<S>,
    /// A step being tried without moving packets (see
    /// [`Network::start_trial`]).
    #[serde(skip)]
    trial: Trial<S>,
}

/// A step tried on the fingerprint alone: a search tries every step of a
/// state only to learn the fingerprint it leads to, and most are already
/// known, so moving packets in and out of the vectors (and back) is work
/// thrown away. The trial notes what the step took and sent instead.
struct Trial<S: System> {
    mode: TrialMode,
    /// The fingerprint when the trial started, to go back to.
    fingerprint: u64,
    /// The index of the packet taken, if one was.
    taken: Option<usize>,
    /// The packets sent, in order, with their slots.
    sent: Vec<(Packet<S>, Slot)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TrialMode {
    /// No trial.
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
            mode: TrialMode::Off,
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

impl<S: System> Journal<S> {
    /// Records `change` if a mark is open.
    #[inline]
    fn record(&mut self, change: impl FnOnce() -> Change<S>) {
        if !self.marks.is_empty() {
            self.changes.push(change());
        }
    }
}

/// One change to a network, as recorded in a journal.
enum Change<S: System> {
    /// A packet was put at this index.
    Inserted(usize),
    /// This packet, with its slot, was taken from this index.
    Removed(usize, Packet<S>, Slot),
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
            slots: self.slots.clone(),
            fingerprint: self.packets_fingerprint(),
            journal: Journal::default(),
            trial: Trial::default(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.packets.clone_from(&source.packets);
        self.unordered = source.unordered;
        self.slots.clone_from(&source.slots);
        self.fingerprint = source.packets_fingerprint();
        self.journal.marks.clear();
        self.journal.changes.clear();
        self.trial.mode = TrialMode::Off;
        self.trial.sent.clear();
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
            slots: Vec::new(),
            fingerprint: 0,
            journal: Journal::default(),
            trial: Trial::default(),
        }
    }

    /// Opens a mark: every change from now on is recorded, so
    /// [`Network::roll_back`] can undo them. A search tries a step in
    /// place without copying the network. Marks nest.
    pub fn start_journal(&mut self) {
        self.journal
            .marks
            .push((self.journal.changes.len(), self.fingerprint));
    }

    /// Undoes every change since the newest open mark and closes it; with
    /// no mark left, recording stops. Without an open mark it does nothing.
    pub fn roll_back(&mut self) {
        let Some((len, fingerprint)) = self.journal.marks.pop() else {
            return;
        };
        while self.journal.changes.len() > len {
            let Some(change) = self.journal.changes.pop() else {
                break;
            };
            match change {
                Change::Inserted(at) => {
                    self.packets.remove(at);
                    self.slots.remove(at);
                }
                Change::Removed(at, packet, slot) => {
                    self.packets.insert(at, packet);
                    self.slots.insert(at, slot);
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
        debug_assert!(self.trial.mode == TrialMode::Off, "trials do not nest");
        self.trial.mode = TrialMode::Noted;
        self.trial.fingerprint = self.fingerprint;
        self.trial.taken = None;
        self.trial.sent.clear();
    }

    /// Ends the trial [`Network::start_trial`] opened: the network is as
    /// it was before.
    pub fn end_trial(&mut self) {
        match self.trial.mode {
            TrialMode::Off => {}
            TrialMode::Noted => {
                self.fingerprint = self.trial.fingerprint;
                self.trial.sent.clear();
            }
            TrialMode::Journaled => self.roll_back(),
        }
        self.trial.mode = TrialMode::Off;
    }

    /// Whether the open trial has noted changes the packets do not show.
    fn trial_pending(&self) -> bool {
        self.trial.mode == TrialMode::Noted
            && (self.trial.taken.is_some() || !self.trial.sent.is_empty())
    }

    /// The fingerprint of the packets as they are in the vectors.
    fn packets_fingerprint(&self) -> u64 {
        if self.trial.mode == TrialMode::Noted {
            self.trial.fingerprint
        } else {
            self.fingerprint
        }
    }

    /// Makes the open trial's noted changes for real, under a journal mark
    /// that [`Network::end_trial`] rolls back.
    fn journal_trial(&mut self) {
        self.trial.mode = TrialMode::Journaled;
        self.fingerprint = self.trial.fingerprint;
        self.start_journal();
        if let Some(index) = self.trial.taken.take() {
            self.take(index);
        }
        let mut sent = std::mem::take(&mut self.trial.sent);
        for (packet, _) in sent.drain(..) {
            self.send(packet);
        }
        self.trial.sent = sent;
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
        let key = channel_key::<S>(packet.src, packet.dst);
        let start = self.slots.partition_point(|s| s.channel() < key);
        self.slots[start..]
            .iter()
            .take_while(|s| s.channel() == key)
            .zip(&self.packets[start..])
            .any(|(_, p)| p.msg == packet.msg)
    }

    /// Where the channel of the packet at `index` starts.
    fn channel_start(&self, index: usize) -> usize {
        let key = self.slots[index].channel();
        self.slots[..index].partition_point(|s| s.channel() < key)
    }

    /// Puts a packet in flight, behind the others on its channel.
    pub fn send(&mut self, packet: Packet<S>) {
        let slot = Slot::of(&packet);
        let key = slot.channel();
        let at = self.slots.partition_point(|s| s.channel() <= key);
        let start = self.slots[..at].partition_point(|s| s.channel() < key);
        if self.trial.mode == TrialMode::Noted {
            // Its place on the channel: behind the packets there now, less
            // one taken from the channel, and behind the ones this step sent.
            let taken = self.trial.taken.is_some_and(|t| (start..at).contains(&t));
            let sent = self.trial.sent.iter().filter(|(_, s)| s.channel() == key);
            let position = at - start - usize::from(taken) + sent.count();
            self.fingerprint =
                self.fingerprint
                    .wrapping_add(term(slot.hash, position, self.unordered));
            self.trial.sent.push((packet, slot));
            return;
        }
        self.fingerprint =
            self.fingerprint
                .wrapping_add(term(slot.hash, at - start, self.unordered));
        self.packets.insert(at, packet);
        self.slots.insert(at, slot);
        self.journal.record(|| Change::Inserted(at));
    }

    /// Takes the packet at `index` out of flight.
    pub fn take(&mut self, index: usize) -> Packet<S> {
        let noted = self.trial.mode == TrialMode::Noted;
        if noted && self.trial_pending() {
            self.journal_trial();
        }
        let start = self.channel_start(index);
        let unordered = self.unordered;
        let slot = self.slots[index];
        self.fingerprint = self
            .fingerprint
            .wrapping_sub(term(slot.hash, index - start, unordered));
        if !unordered {
            // The packets behind it on its channel move up one place.
            let key = slot.channel();
            for (k, behind) in self.slots.iter().enumerate().skip(index + 1) {
                if behind.channel() != key {
                    break;
                }
                self.fingerprint = self
                    .fingerprint
                    .wrapping_sub(term(behind.hash, k - start, false))
                    .wrapping_add(term(behind.hash, k - start - 1, false));
            }
        }
        if noted && self.trial.mode == TrialMode::Noted {
            self.trial.taken = Some(index);
            return self.packets[index].clone();
        }
        let packet = self.packets.remove(index);
        self.slots.remove(index);
        self.journal
            .record(|| Change::Removed(index, packet.clone(), slot));
        packet
    }

    /// Whether the packet at `index` is the oldest on its channel.
    pub fn is_channel_head(&self, index: usize) -> bool {
        debug_assert!(!self.trial_pending(), "a trial's step read the network");
        index == 0 || self.slots[index - 1].channel() != self.slots[index].channel()
    }

    /// Whether an equal packet sits at a lower index such that acting on
    /// this one (delivering, dropping, duplicating) leads to the same world
    /// as acting on that one: anywhere on the channel when order does not
    /// matter, immediately before it when it does.
    pub fn has_earlier_twin(&self, index: usize) -> bool {
        debug_assert!(!self.trial_pending(), "a trial's step read the network");
        let p = &self.packets[index];
        let slot = self.slots[index];
        if self.unordered {
            self.packets[..index]
                .iter()
                .zip(&self.slots[..index])
                .rev()
                .take_while(|(_, q)| q.channel() == slot.channel())
                .any(|(q, qs)| qs.hash == slot.hash && q.msg == p.msg)
        } else {
            index > 0 && self.slots[index - 1].hash == slot.hash && self.packets[index - 1] == *p
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
        if self.trial.mode == TrialMode::Noted {
            self.journal_trial();
        }
        for at in (0..self.packets.len()).rev() {
            let (packets, slots) = (&self.packets, &self.slots);
            self.journal
                .record(|| Change::Removed(at, packets[at].clone(), slots[at]));
        }
        self.packets.clear();
        self.slots.clear();
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
        if self.trial_pending() {
            let mut after = Network::new(self.unordered);
            for (i, p) in self.packets.iter().enumerate() {
                if self.trial.taken != Some(i) {
                    after.send(p.clone());
                }
            }
            for (p, _) in &self.trial.sent {
                after.send(p.clone());
            }
            return after.recompute_fingerprint();
        }
        let mut sum = 0u64;
        let mut start = 0;
        for (i, p) in self.packets.iter().enumerate() {
            if i > 0 && (self.packets[i - 1].src, self.packets[i - 1].dst) != (p.src, p.dst) {
                start = i;
            }
            let hash = crate::fingerprint::fingerprint(p);
            sum = sum.wrapping_add(term(hash, i - start, self.unordered));
        }
        sum
    }
}
