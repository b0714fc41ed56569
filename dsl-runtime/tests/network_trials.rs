//! A step tried on the network's fingerprint alone (`Network::start_trial`)
//! must lead to the fingerprint the same changes made for real lead to, and
//! ending the trial must leave the network as it was, whatever the step did:
//! take then send, send only, take after sending, take twice, clear.

use proptest::prelude::*;
use verdict::semantics::{Network, Packet};

mod mesh {

    verdict::system! {
        /// Peers that pass numbers around; only its node and message types
        /// matter here.
        pub system Mesh;

        message enum Msg { Num(u8) }

        role Hub {
            state {}
        }

        role Peer(u8) {
            state {}
        }
    }
}

use mesh::{Mesh, Node};

/// One change a step makes to the network.
#[derive(Debug, Clone)]
enum Op {
    /// Take the packet at this index (modulo the network's length).
    Take(usize),
    /// Send a number from one node to another (indices into `nodes()`).
    Send(usize, usize, u8),
    Clear,
}

fn nodes() -> [Node; 4] {
    [Node::Hub, Node::Peer(0), Node::Peer(1), Node::Peer(2)]
}

fn packet(src: usize, dst: usize, v: u8) -> Packet<Mesh> {
    let n = nodes();
    Packet {
        src: n[src % n.len()],
        dst: n[dst % n.len()],
        msg: mesh::Msg::Num(mesh::msg::Num(v)),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..16).prop_map(Op::Take),
        6 => (0usize..4, 0usize..4, 0u8..3).prop_map(|(s, d, v)| Op::Send(s, d, v)),
        1 => Just(Op::Clear),
    ]
}

/// Applies `op` to `net`; `None` when it is a take from an empty network.
fn apply(net: &mut Network<Mesh>, len: usize, op: &Op) -> Option<()> {
    match *op {
        Op::Take(i) => {
            if len == 0 {
                return None;
            }
            net.take(i % len);
        }
        Op::Send(s, d, v) => net.send(packet(s, d, v)),
        Op::Clear => net.clear(),
    }
    Some(())
}

proptest! {
    #[test]
    fn a_trial_reaches_the_fingerprint_of_the_real_changes_and_undoes_them(
        unordered in any::<bool>(),
        start in proptest::collection::vec((0usize..4, 0usize..4, 0u8..3), 0..10),
        step in proptest::collection::vec(op(), 1..6),
    ) {
        let mut tried: Network<Mesh> = Network::new(unordered);
        for &(s, d, v) in &start {
            tried.send(packet(s, d, v));
        }
        let before = (tried.packets().to_vec(), tried.fingerprint());
        let mut real = tried.clone();

        tried.start_trial();
        real.start_journal();
        for op in &step {
            // The index a take uses is into the network the real changes
            // left, as a model's step would read it.
            let len = real.len();
            if apply(&mut real, len, op).is_none() {
                continue;
            }
            apply(&mut tried, len, op);
            prop_assert_eq!(tried.fingerprint(), real.fingerprint(), "after {:?}", op);
            prop_assert_eq!(tried.fingerprint(), tried.recompute_fingerprint());
        }
        tried.end_trial();
        real.roll_back();
        prop_assert_eq!((tried.packets().to_vec(), tried.fingerprint()), before.clone());
        prop_assert_eq!((real.packets().to_vec(), real.fingerprint()), before);
        prop_assert_eq!(tried.fingerprint(), tried.recompute_fingerprint());
    }
}

/// Runs `step` as a trial and for real on copies of a FIFO network holding
/// `start`, and checks both reach one fingerprint and undo to the same.
fn trial_matches_real(start: &[(usize, usize, u8)], step: impl Fn(&mut Network<Mesh>)) {
    let mut tried: Network<Mesh> = Network::new(false);
    for &(s, d, v) in start {
        tried.send(packet(s, d, v));
    }
    let mut real = tried.clone();
    tried.start_trial();
    real.start_journal();
    step(&mut tried);
    step(&mut real);
    assert_eq!(tried.fingerprint(), real.fingerprint());
    tried.end_trial();
    real.roll_back();
    assert_eq!(tried.packets(), real.packets());
    assert_eq!(tried.fingerprint(), real.fingerprint());
}

#[test]
fn a_take_then_a_send_on_the_same_channel_counts_the_taken_packet_out() {
    // Delivering the head of a channel and answering on it is the common
    // step; the new packet's place must not count the one taken.
    trial_matches_real(&[(1, 0, 0), (1, 0, 1)], |net| {
        net.take(0);
        net.send(packet(1, 0, 2));
    });
}

#[test]
fn a_second_send_on_a_channel_goes_behind_the_first() {
    // A broadcast or a retransmission sends twice on one channel in a step.
    trial_matches_real(&[], |net| {
        net.send(packet(2, 3, 0));
        net.send(packet(2, 3, 0));
    });
}
