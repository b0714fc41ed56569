//! Generic systems behave like plain ones: the checker, symmetry reduction
//! and the metadata work for every instance.

use verdict::check::{Status, Topic};
use verdict::prelude::*;
use verdict::{Relabel, Violation};

/// A lock server whose grants carry a token of type `T`; the token type
/// can be relabelled, so clients are symmetric.
mod tokens {
    use std::collections::VecDeque;
    use verdict::prelude::*;

    verdict::system! {
        pub system Tokens<T> where T: verdict::Data + Default + verdict::Relabel<Node>;

        input enum Input { Lock, Unlock }
        output enum Output { Locked(T) }
        message enum Msg { Lock, Unlock, Grant(T) }

        role Server {
            state { queue: VecDeque<Node> = VecDeque::new(), token: T = T::default() }

            on message Lock from client reads(token) writes(queue) sends(Grant) {
                if self.queue.is_empty() {
                    ctx.send(client, msg::Grant(self.token.clone()));
                }
                self.queue.push_back(client);
            }

            on message Unlock from _c reads(token) writes(queue) sends(Grant) {
                self.queue.pop_front();
                if let Some(&next) = self.queue.front() {
                    ctx.send(next, msg::Grant(self.token.clone()));
                }
            }
        }

        role Client(u8) {
            state { held: Option<T> = None }

            on input Lock sends(Lock) {
                ctx.send(Node::Server, msg::Lock);
            }

            on input Unlock writes(held) sends(Unlock) {
                if self.held.take().is_some() {
                    ctx.send(Node::Server, msg::Unlock);
                }
            }

            on message Grant(t) from _s writes(held) emits(Locked) {
                *self.held = Some(t.clone());
                ctx.output(output::Locked(t));
            }
        }

        invariant mutual_exclusion reads(Client.held) {
            self.client.iter().filter(|c| c.held.is_some()).count() <= 1
        }
    }

    /// Each client locks then unlocks, once.
    pub fn model<T>(clients: usize, faults: Faults) -> Model<Tokens<T>>
    where
        T: verdict::Data + Default + verdict::Relabel<Node>,
    {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients)).unwrap();
        let workload = Workload::none(&setup).each(&setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Lock), Step::send(input::Unlock)])
        });
        Model::new(setup, faults, workload)
    }
}

/// A token type that holds no node ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
struct Epoch(u32);

impl<N> Relabel<N> for Epoch {
    fn relabel(&mut self, _: &dyn Fn(N) -> N) {}
}

fn with_symmetry(on: bool) -> CheckOptions {
    let mut options = CheckOptions::default();
    options.reductions.symmetry = on;
    options
}

#[test]
fn every_instance_is_checked_and_named_after_its_arguments() {
    let a = check(
        &tokens::model::<u8>(3, Faults::none()),
        &with_symmetry(false),
    );
    let b = check(
        &tokens::model::<Epoch>(3, Faults::none()),
        &with_symmetry(false),
    );
    assert!(a.passed() && b.passed(), "{:?} {:?}", a.outcome, b.outcome);
    // The token's type does not change the protocol's state space.
    assert_eq!(a.stats.unique, b.stats.unique);
    assert_eq!(<tokens::Tokens<u8> as System>::meta().name, "Tokens<u8>");
    assert_eq!(
        <tokens::Tokens<Epoch> as System>::meta().name,
        "Tokens<Epoch>"
    );
}

#[test]
fn symmetry_applies_to_a_generic_role_whose_parameter_can_be_relabelled() {
    let model = tokens::model::<Epoch>(3, Faults::none());
    let plain = check(&model, &with_symmetry(false));
    let reduced = check(&model, &with_symmetry(true));
    assert!(reduced.passed(), "{:?}", reduced.outcome);
    assert!(
        reduced
            .stats
            .notes
            .iter()
            .any(|n| n.is(Topic::Symmetry, Status::On)),
        "{:?}",
        reduced.stats.notes
    );
    assert!(
        reduced.stats.unique < plain.stats.unique,
        "{} vs {}",
        reduced.stats.unique,
        plain.stats.unique
    );
}

#[test]
fn a_generic_system_still_finds_its_bug() {
    let report = check(
        &tokens::model::<u8>(2, "dup=1".parse().unwrap()),
        &CheckOptions::default(),
    );
    match report.counterexample().map(|cx| &cx.violation) {
        Some(Violation::Invariant { name, .. }) => assert_eq!(*name, "mutual_exclusion"),
        other => panic!("expected mutual_exclusion to fail, got {other:?}"),
    }
}
