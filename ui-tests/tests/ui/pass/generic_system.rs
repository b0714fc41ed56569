//! A generic system: type and const parameters with bounds and a where
//! clause, used in state, messages, inputs, outputs, config and invariants,
//! checked at run time for two different arguments.

use std::collections::BTreeSet;
use std::fmt::Debug;
use verdict::prelude::*;
use verdict::NodeWorkload;

/// Something a replica can hold and merge.
pub trait Merge: verdict::Data + Default {
    /// Combines two values.
    fn merge(&mut self, other: &Self);
}

impl Merge for u8 {
    fn merge(&mut self, other: &Self) {
        *self = (*self).max(*other);
    }
}

impl Merge for BTreeSet<u8> {
    fn merge(&mut self, other: &Self) {
        self.extend(other.iter().copied());
    }
}

verdict::system! {
    /// Replicas that gossip a mergeable value `V`, tagged with `T`.
    pub system Gossip<V: Merge, T, const FANOUT: usize> where T: verdict::Data + Ord + Debug;

    config {
        /// A tag every update carries.
        tag: Option<T> = None,
    }

    input enum Input {
        /// Merge this into the local value.
        Update(V),
        /// Report the local value.
        Read,
    }
    output enum Output {
        /// The local value.
        Value(V),
    }
    message enum Msg {
        /// A replica's value.
        Push { value: V, tag: Option<T> },
        /// Carries no parameter: stays a plain struct.
        Hello,
    }

    role Replica(u8) {
        state {
            value: V = V::default(),
            seen: Vec<Option<T>> = Vec::new(),
            pushes: u8 = 0,
        }

        on input Update(v) writes(value, pushes) sends(Push) {
            self.value.merge(&v);
            let me = ctx.me();
            let tag = ctx.config().tag.clone();
            let peers: Vec<Node> = ctx.nodes().iter().copied().filter(|n| *n != me).take(FANOUT).collect();
            for p in peers {
                *self.pushes += 1;
                ctx.send(p, msg::Push { value: self.value.clone(), tag: tag.clone() });
            }
        }

        on input Read reads(value) emits(Value) {
            ctx.output(output::Value(self.value.clone()));
        }

        on message Push { value, tag } from _peer writes(value, seen) {
            self.value.merge(&value);
            self.seen.push(tag);
        }

        on message Hello from _peer {}

        invariant pushes_bounded reads(pushes) {
            self.pushes as usize <= FANOUT
        }
    }

    /// Every tag seen is the configured one (no message invents a tag).
    invariant tags_agree reads(Replica.seen) {
        let tags: BTreeSet<&Option<T>> = self.replica.iter().flat_map(|r| r.seen.iter()).collect();
        tags.len() <= 1
    }

    /// The network only carries values some replica already holds.
    invariant pushes_are_held reads(Replica.value, network) {
        self.network.iter().all(|p| match &p.msg {
            Msg::Push(push) => self.replica.iter().any(|r| {
                let mut merged = r.value.clone();
                merged.merge(&push.value);
                merged == *r.value
            }),
            Msg::Hello(_) => true,
        })
    }
}

fn run<V: Merge>(updates: Vec<V>) -> u64 {
    let setup = Setup::<Gossip<V, u8, 1>>::with_config(
        &Sizes::new().with(Role::Replica, 2),
        Config { tag: Some(7) },
    )
    .unwrap();
    let workload = Workload::none(&setup).with(
        &setup,
        Node::Replica(0),
        NodeWorkload::Script(
            updates
                .into_iter()
                .map(|v| Step::send(input::Update(v)))
                .chain([Step::send(input::Read)])
                .collect(),
        ),
    );
    let model = Model::new(setup, Faults::none(), workload);
    let report = check(&model, &CheckOptions::default());
    assert!(report.passed(), "{:?}", report.outcome);
    report.stats.unique
}

fn main() {
    // A plain payload keeps no parameters, so it is built as before.
    let _hello: msg::Hello = msg::Hello;
    let _push: msg::Push<u8, u8> = msg::Push { value: 1, tag: None };
    assert!(run(vec![3u8]) > 1);
    assert!(run(vec![BTreeSet::from([1u8])]) > 1);
    let meta = <Gossip<u8, u8, 1> as System>::meta();
    assert_eq!(meta.name, "Gossip<u8, u8, 1>");
    assert_eq!(<Gossip<u8, u8, 2> as System>::meta().name, "Gossip<u8, u8, 2>");
    assert_eq!(meta.handlers.len(), 4);
    assert_eq!(format!("{:?}", Gossip::<u8, u8, 1>::default()), "Gossip");
}
