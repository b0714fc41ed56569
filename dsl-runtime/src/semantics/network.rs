//! Messages in flight.
//!
//! Packets are kept grouped by channel (sender, receiver), oldest first
//! within a channel, so per-channel FIFO order is the vector's order. When
//! the fault model allows unlimited reordering the network is a multiset,
//! and its fingerprint ignores order.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::fingerprint::{spread, Fingerprinter};
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

impl<S: System> Packet<S> {
    fn channel(&self) -> (S::Node, S::Node) {
        (self.src, self.dst)
    }
}

/// The messages in flight.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Network<S: System> {
    packets: Vec<Packet<S>>,
    unordered: bool,
}

impl<S: System> Clone for Network<S> {
    fn clone(&self) -> Self {
        Network {
            packets: self.packets.clone(),
            unordered: self.unordered,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.packets.clone_from(&source.packets);
        self.unordered = source.unordered;
    }
}

impl<S: System> std::fmt::Debug for Network<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.packets).finish()
    }
}

impl<S: System> Network<S> {
    /// An empty network; `unordered` makes it a multiset (order ignored).
    pub fn new(unordered: bool) -> Self {
        Network {
            packets: Vec::new(),
            unordered,
        }
    }

    /// Whether order is ignored.
    pub fn is_unordered(&self) -> bool {
        self.unordered
    }

    /// All packets in flight, grouped by channel, oldest first per channel.
    pub fn packets(&self) -> &[Packet<S>] {
        &self.packets
    }

    /// How many packets are in flight.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Whether an equal packet is in flight.
    pub fn contains(&self, packet: &Packet<S>) -> bool {
        let key = packet.channel();
        let start = self.packets.partition_point(|p| p.channel() < key);
        self.packets[start..]
            .iter()
            .take_while(|p| p.channel() == key)
            .any(|p| p.msg == packet.msg)
    }

    /// Puts a packet in flight, behind the others on its channel.
    pub fn send(&mut self, packet: Packet<S>) {
        let key = packet.channel();
        let at = self.packets.partition_point(|p| p.channel() <= key);
        self.packets.insert(at, packet);
    }

    /// Takes the packet at `index` out of flight.
    pub fn take(&mut self, index: usize) -> Packet<S> {
        self.packets.remove(index)
    }

    /// Whether the packet at `index` is the oldest on its channel.
    pub fn is_channel_head(&self, index: usize) -> bool {
        index == 0 || self.packets[index - 1].channel() != self.packets[index].channel()
    }

    /// Whether an equal packet sits at a lower index such that acting on
    /// this one (delivering, dropping, duplicating) leads to the same world
    /// as acting on that one: anywhere on the channel when order does not
    /// matter, immediately before it when it does.
    pub fn has_earlier_twin(&self, index: usize) -> bool {
        let p = &self.packets[index];
        if self.unordered {
            self.packets[..index]
                .iter()
                .rev()
                .take_while(|q| q.channel() == p.channel())
                .any(|q| q.msg == p.msg)
        } else {
            index > 0 && self.packets[index - 1] == *p
        }
    }

    /// Keeps only the packets `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Packet<S>) -> bool) {
        self.packets.retain(keep);
    }

    /// Drops every packet (used when a node's whole network state resets).
    pub fn clear(&mut self) {
        self.packets.clear();
    }

    /// Order-aware (FIFO) or order-free (unordered) fingerprint.
    pub fn fingerprint(&self) -> u64 {
        if self.unordered {
            let mut sum: u64 = self.packets.len() as u64;
            for p in &self.packets {
                let mut h = Fingerprinter::default();
                p.hash(&mut h);
                sum = sum.wrapping_add(spread(h.finish()));
            }
            sum
        } else {
            let mut h = Fingerprinter::with_seed(1);
            for p in &self.packets {
                p.hash(&mut h);
            }
            h.write_usize(self.packets.len());
            h.finish()
        }
    }
}
