//! `#[derive(Relabel)]` renames the node ids inside a user's types, so a
//! system whose messages carry them keeps symmetry reduction on, and finds
//! the same verdict with fewer states.

use verdict::check::{Status, Topic};
use verdict::prelude::*;
use verdict::Relabel;

mod relay {
    use verdict::prelude::*;

    /// Who asked, and how often: holds a node id.
    #[derive(
        Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, verdict::Relabel,
    )]
    pub struct Ticket {
        pub holder: Node,
        pub round: u8,
    }

    /// A struct-less enum with a node in one variant.
    #[derive(
        Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, verdict::Relabel,
    )]
    pub enum Holder {
        Nobody,
        Some(Node),
    }

    verdict::system! {
        pub system Relay;

        input enum Input { Ask }
        output enum Output { Granted }
        message enum Msg { Ask, Grant(Ticket) }

        role Server {
            state { holder: Holder = Holder::Nobody, issued: u8 = 0 }

            on message Ask from client writes(holder, issued) sends(Grant) {
                *self.issued += 1;
                *self.holder = Holder::Some(client);
                ctx.send(client, msg::Grant(Ticket { holder: client, round: *self.issued }));
            }
        }

        role Client(u8) {
            state { ticket: Option<Ticket> = None }

            on input Ask sends(Ask) {
                ctx.send(Node::Server, msg::Ask);
            }

            on message Grant(t) from _s writes(ticket) emits(Granted) {
                *self.ticket = Some(t);
                ctx.output(output::Granted);
            }
        }

        /// Every ticket names the client holding it.
        invariant tickets_name_their_holder reads(Client.ticket) {
            self.client.iter().all(|c| c.ticket.as_ref().is_none_or(|t| t.holder == c.node()))
        }
    }

    pub fn model(clients: usize) -> Model<Relay> {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients)).unwrap();
        let workload = Workload::none(&setup).each(&setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Ask)])
        });
        Model::new(setup, Faults::none(), workload)
    }
}

use relay::{Holder, Node, Ticket};

#[test]
fn derived_relabelling_renames_the_nodes_inside() {
    let swap = |n: Node| match n {
        Node::Client(0) => Node::Client(1),
        Node::Client(1) => Node::Client(0),
        other => other,
    };
    let mut t = Ticket {
        holder: Node::Client(0),
        round: 3,
    };
    t.relabel(&swap);
    assert_eq!(
        t,
        Ticket {
            holder: Node::Client(1),
            round: 3
        }
    );
    let mut h = Holder::Some(Node::Client(1));
    h.relabel(&swap);
    assert_eq!(h, Holder::Some(Node::Client(0)));
    let mut nobody = Holder::Nobody;
    nobody.relabel(&swap);
    assert_eq!(nobody, Holder::Nobody);
}

#[test]
fn symmetry_stays_on_for_a_system_using_derived_types() {
    let model = relay::model(3);
    let mut plain = CheckOptions::default();
    plain.reductions.symmetry = false;
    let mut reduced = CheckOptions::default();
    reduced.reductions.symmetry = true;
    let a = check(&model, &plain);
    let b = check(&model, &reduced);
    assert!(a.passed() && b.passed(), "{:?} {:?}", a.outcome, b.outcome);
    assert!(
        b.stats
            .notes
            .iter()
            .any(|n| n.is(Topic::Symmetry, Status::On)),
        "{:?}",
        b.stats.notes
    );
    assert!(
        b.stats.unique < a.stats.unique,
        "{} vs {}",
        b.stats.unique,
        a.stats.unique
    );
}
