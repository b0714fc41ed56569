//! Every construct of the language in one system, checked at run time too.

use std::collections::BTreeMap;
use verdict::prelude::*;
use verdict::NodeWorkload;

verdict::system! {
    /// A toy key-value store with a cache and a heartbeat.
    pub system Store;

    config {
        /// How long between heartbeats.
        heartbeat_ms: u64 = 100,
        replicas: usize = 2,
    }

    input enum Input {
        Put { key: u8, value: u64 },
        Get(u8),
        Ping,
    }
    output enum Output {
        Stored(u8),
        Value(Option<u64>),
    }
    message enum Msg {
        Write { key: u8, value: u64 },
        Ack(u8),
        Beat,
    }
    timers {
        /// Periodic liveness signal.
        Heartbeat,
        Retry,
    }

    role Leader {
        state {
            #[durable]
            data: BTreeMap<u8, u64> = BTreeMap::new(),
            /// Acks received for the last write.
            acks: usize = 0,
            beats: u32 = 0,
        }

        on start sets(Heartbeat) {
            ctx.set_timer(timer::Heartbeat, Duration::from_millis(ctx.config().heartbeat_ms));
        }

        on restart reads(data) sets(Heartbeat, Retry) {
            let _ = self.data.len();
            ctx.cancel_timer(timer::Retry);
            ctx.set_timer(timer::Heartbeat, Duration::from_millis(50));
        }

        on input Put { key, value } writes(data, acks) sends(Write) {
            self.data.insert(key, value);
            *self.acks = 0;
            let followers = ctx.nodes().iter().copied().filter(|n| matches!(n, Node::Follower(_)));
            ctx.broadcast(followers, msg::Write { key, value });
        }

        on input req: Get reads(data) emits(Value) {
            let input::Get(key) = req;
            ctx.output(output::Value(self.data.get(&key).copied()));
        }

        // A choice: the checker explores both answers.
        on input Ping chooses {
            if ctx.choose(2) == 1 {
                let _ = pick_follower(ctx);
            }
        }

        on message Ack(key) from _follower writes(acks) reads(data) emits(Stored) {
            *self.acks += 1;
            if *self.acks == ctx.config().replicas && self.data.contains_key(&key) {
                ctx.output(output::Stored(key));
            }
        }

        on timer Heartbeat writes(beats) sends(Beat) sets(Heartbeat) {
            *self.beats += 1;
            if *self.beats < 2 {
                let me = ctx.me();
                let followers: Vec<Node> = ctx.nodes().iter().copied().filter(|n| *n != me).collect();
                ctx.broadcast(followers, msg::Beat);
                ctx.set_timer(timer::Heartbeat, Duration::from_millis(100));
            }
        }

        /// The leader never counts more acks than there are followers.
        invariant acks_bounded reads(acks) {
            self.acks <= 2
        }
    }

    role Follower(u8) {
        state {
            #[durable]
            data: BTreeMap<u8, u64> = BTreeMap::new(),
            beats: u32 = 0,
        }

        on message Write { key, value } from leader writes(data) sends(Ack) {
            self.data.insert(key, value);
            ctx.send(leader, msg::Ack(key));
        }

        on message Beat from _ writes(beats) {
            *self.beats += 1;
        }

        invariant follower_beats_bounded reads(beats) {
            if self.beats <= 2 { Ok(()) } else { Err(format!("{} beats at {}", self.beats, self.node())) }
        }
    }

    /// Followers only hold keys the leader holds.
    invariant followers_are_prefixes reads(Leader.data, Follower.data) {
        self.follower.iter().all(|f| f.data.keys().all(|k| self.leader.data.contains_key(k)))
    }

    /// No more than two writes are ever in flight.
    invariant bounded_network reads(network) {
        self.network.iter().filter(|p| matches!(p.msg, Msg::Write(_))).count() <= 2
    }

    /// A reply never precedes every call.
    invariant calls_before_replies reads(history) {
        self.history.first().is_none_or(|e| e.is_input())
    }

    /// The leader keeps beating until it has beaten twice.
    eventually beats_twice reads(Leader.beats) {
        self.leader.beats >= 2
    }

    /// Every `Stored(k)` follows a `Put` of `k`.
    invariant stored_after_put reads(trace) {
        let mut put = Vec::new();
        for e in self.trace {
            match e {
                TraceEvent::Input { input: Input::Put(input::Put { key, .. }), .. } => put.push(*key),
                TraceEvent::Output { output: Output::Stored(output::Stored(k)), .. } if !put.contains(k) => return false,
                _ => {}
            }
        }
        true
    }
}

/// A helper that chooses, with the permission as a bound.
fn pick_follower<H: verdict::MayChoose>(ctx: &mut Ctx<'_, Store, H>) -> Option<Node> {
    let followers: Vec<Node> = ctx.nodes_of(Role::Follower).collect();
    ctx.choose_from(&followers).copied()
}

fn main() {
    let setup = Setup::<Store>::new(&Sizes::new().with(Role::Follower, 2)).unwrap();
    let workload = Workload::none(&setup).with(
        &setup,
        Node::Leader,
        NodeWorkload::Script(vec![
            Step::call(input::Put { key: 1, value: 7 }),
            Step::send(input::Get(1)),
            Step::send(input::Ping),
        ]),
    );
    let model = Model::new(setup, Faults::none().crash(1), workload);
    let report = check(&model, &CheckOptions::default());
    assert!(report.passed(), "{:?}", report.outcome);
    assert!(report.stats.unique > 10);
    assert_eq!(Store::meta().invariants.len(), 6);
    assert!(Store::meta().invariants.iter().any(|i| i.reads_history));
    assert_eq!(Store::meta().handlers.len(), 9);
}
