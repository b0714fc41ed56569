//! The explorer on a model small enough to count by hand: each of `n`
//! clients sends `k` increments to a server, which adds them up.
//!
//! A world is each client's number sent (0..=k), the server's count, and
//! the messages in flight, so the unique states are known in closed form
//! for the plain search, and every reduction can be held against it.

use crate::check::{check, Bound, CheckOptions, Outcome, Reductions, Strategy};
use crate::faults::Faults;
use crate::semantics::Model;
use crate::setup::Setup;
use crate::violation::Violation;
use crate::workload::{NodeWorkload, Step, Workload};

crate::system! {
    /// Clients send increments; the server counts them.
    pub system Tally;

    config {
        /// The count the invariant allows.
        limit: u32 = 1000,
    }

    input enum Input { Bump }
    message enum Msg { Inc }

    role Server {
        state { count: u32 = 0 }

        on message Inc from _client writes(count) {
            *self.count += 1;
        }
    }

    role Client(u8) {
        state { sent: u32 = 0 }

        on input Bump writes(sent) sends(Inc) {
            *self.sent += 1;
            ctx.send(Node::Server, msg::Inc);
        }
    }

    /// The server never counts past the configured limit.
    invariant below_limit reads(Server.count, config) {
        self.server.count <= self.config.limit
    }
}

/// `clients` clients sending `each` increments; the invariant allows `limit`.
fn model(clients: usize, each: usize, limit: u32) -> Model<Tally> {
    let sizes = crate::setup::Sizes::new().with(Role::Client, clients);
    let setup = Setup::with_config(&sizes, Config { limit }).expect("a valid setup");
    let workload = Workload::none(&setup).each(&setup, Role::Client, |_| {
        NodeWorkload::Script(vec![Step::send(input::Bump); each])
    });
    Model::new(setup, Faults::none(), workload)
}

/// Unique states of the plain search. Packets carry their sender, so a
/// world is, for each client, how many it sent (0..=k) and how many of
/// those arrived (0..=sent); the server's count is their sum. That is
/// (k+1)(k+2)/2 pairs per client, independently.
fn states_by_hand(clients: u32, each: u64) -> u64 {
    ((each + 1) * (each + 2) / 2).pow(clients)
}

fn options(reductions: Reductions, strategy: Strategy, threads: usize) -> CheckOptions {
    CheckOptions {
        reductions,
        strategy,
        threads,
        ..CheckOptions::default()
    }
}

fn plain() -> Reductions {
    Reductions::default()
}

#[test]
fn the_plain_search_finds_exactly_the_states_counted_by_hand() {
    for (clients, each) in [(1, 3), (2, 2), (3, 2)] {
        let m = model(clients, each, 1000);
        let want = states_by_hand(clients as u32, each as u64);
        for strategy in [Strategy::Bfs, Strategy::Dfs] {
            for threads in [1, 2] {
                let r = check(&m, &options(plain(), strategy, threads));
                assert!(r.exhausted(), "{:?}", r.outcome);
                assert_eq!(
                    r.stats.unique, want,
                    "{clients} clients x {each}, {strategy:?}, {threads} threads"
                );
            }
        }
    }
}

#[test]
fn breadth_first_gives_the_shortest_counterexample() {
    // The count passes 2 after three increments are sent and delivered:
    // six steps at least, whatever the interleaving.
    let r = check(&model(3, 2, 2), &options(plain(), Strategy::Bfs, 2));
    let cx = r.counterexample().expect("a violation");
    assert!(
        matches!(
            cx.violation,
            Violation::Invariant {
                name: "below_limit",
                ..
            }
        ),
        "{:?}",
        cx.violation
    );
    assert_eq!(cx.len(), 6);
}

#[test]
fn every_reduction_keeps_the_verdict_and_explores_no_more() {
    let all = Reductions::all();
    let variants = [
        (
            "symmetry",
            Reductions {
                symmetry: true,
                ..plain()
            },
        ),
        (
            "por",
            Reductions {
                por: true,
                ..plain()
            },
        ),
        (
            "dynamic por",
            Reductions {
                dynamic_por: true,
                ..plain()
            },
        ),
        (
            "incremental",
            Reductions {
                incremental: true,
                ..plain()
            },
        ),
        (
            "all",
            Reductions {
                payoff_sample: 0,
                ..all
            },
        ),
    ];
    for limit in [1000, 3] {
        let m = model(3, 2, limit);
        let base = check(&m, &options(plain(), Strategy::Bfs, 1));
        for (name, red) in variants {
            let r = check(&m, &options(red, Strategy::Bfs, 1));
            assert_eq!(r.passed(), base.passed(), "{name}, limit {limit}");
            if base.passed() {
                assert!(r.exhausted(), "{name}: {:?}", r.outcome);
                assert!(
                    r.stats.unique <= base.stats.unique,
                    "{name}: {} > {}",
                    r.stats.unique,
                    base.stats.unique
                );
            } else {
                let cx = r.counterexample().expect("a violation");
                assert!(
                    matches!(cx.violation, Violation::Invariant { .. }),
                    "{name}"
                );
            }
        }
    }
    // The three clients are interchangeable: symmetry keeps one world per
    // multiset of the six (sent, arrived) pairs, C(6 + 3 - 1, 3) = 56.
    let m = model(3, 2, 1000);
    let sym = check(
        &m,
        &options(
            Reductions {
                symmetry: true,
                ..plain()
            },
            Strategy::Bfs,
            1,
        ),
    );
    assert_eq!(sym.stats.unique, 56);
    // The clients' sends are independent: both partial-order reductions
    // must leave interleavings out.
    for red in [
        Reductions {
            por: true,
            ..plain()
        },
        Reductions {
            dynamic_por: true,
            ..plain()
        },
    ] {
        let r = check(&m, &options(red, Strategy::Bfs, 1));
        assert!(r.stats.unique < 216, "{red:?}: {}", r.stats.unique);
    }
}

#[test]
fn bounds_are_reported_by_name() {
    let m = model(3, 2, 1000);
    let deep = check(
        &m,
        &CheckOptions {
            max_depth: Some(3),
            ..options(plain(), Strategy::Bfs, 1)
        },
    );
    assert!(
        matches!(
            deep.outcome,
            Outcome::Bounded {
                bound: Bound::Depth
            }
        ),
        "{:?}",
        deep.outcome
    );
    let wide = check(
        &m,
        &CheckOptions {
            max_states: Some(20),
            ..options(plain(), Strategy::Bfs, 1)
        },
    );
    assert!(
        matches!(
            wide.outcome,
            Outcome::Bounded {
                bound: Bound::States
            }
        ),
        "{:?}",
        wide.outcome
    );
}
