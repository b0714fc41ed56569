//! Single-decree Paxos behind a register interface: three servers agree on
//! one value; clients each `Put` a value and then `Get` it back, waiting for
//! each reply (closed loop). The history of inputs and outputs must be
//! linearizable for a register, checked with `verdict::lin`.
//!
//! Client `i` talks to server `i % 3`. A server receiving a `Put` proposes
//! it with a higher ballot (prepare, then accept on a majority); the value
//! chosen may be another client's. The proposer that reaches a majority of
//! accepts tells the requester `PutOk` and the other servers `Decided`; a
//! decided server answers `Get`.
//!
//! The `accept_lower_ballots` setting is a deliberate bug: a server accepts
//! an `Accept` whatever ballot it promised.

use std::collections::{BTreeMap, BTreeSet};

use verdict::lin::specs::{Register, RegisterOp, RegisterRet};
use verdict::prelude::*;
use verdict::transform::check_linearizable_with;
use verdict::{NodeWorkload, RoleEnum, SetupError};

/// A ballot: a round number and the proposing server (ties broken by node).
pub type Ballot = (u32, NodeId);
/// A proposal: the requesting client and its value.
pub type Proposal = (NodeId, i64);
/// The node type of this system, named so types above can use it.
pub type NodeId = Node;

verdict::system! {
    /// Single-decree Paxos with register clients.
    pub system Paxos;

    config {
        /// Accept `Accept` messages of any ballot: a deliberate bug.
        accept_lower_ballots: bool = false,
    }

    input enum Input {
        /// Write this value.
        Put(i64),
        /// Read the value.
        Get,
    }
    output enum Output {
        /// The write took effect.
        PutOk,
        /// The value read.
        GetOk(i64),
    }
    message enum Msg {
        Put(i64),
        Get,
        PutOk,
        GetOk(i64),
        Prepare { ballot: Ballot },
        Prepared { ballot: Ballot, last: Option<(Ballot, Proposal)> },
        Accept { ballot: Ballot, proposal: Proposal },
        Accepted { ballot: Ballot },
        Decided { ballot: Ballot, proposal: Proposal },
    }

    role Server(u8) {
        state {
            /// The highest ballot seen (promised or own).
            ballot: Ballot = (0, Node::Server(0)),
            /// This server's own proposal, while it leads.
            proposal: Option<Proposal> = None,
            /// Promises collected for the own ballot.
            prepares: BTreeMap<Node, Option<(Ballot, Proposal)>> = BTreeMap::new(),
            /// Accepts collected for the own ballot.
            accepts: BTreeSet<Node> = BTreeSet::new(),
            /// The last accepted proposal.
            accepted: Option<(Ballot, Proposal)> = None,
            /// Whether a value is chosen (as far as this server knows).
            decided: bool = false,
        }

        on message Put(value) from client reads(decided) writes(ballot, proposal, prepares, accepts, accepted) sends(Prepare) {
            if self.decided || self.proposal.is_some() {
                return;
            }
            let me = ctx.me();
            *self.proposal = Some((client, value));
            self.prepares.clear();
            self.accepts.clear();
            *self.ballot = (self.ballot.0 + 1, me);
            self.prepares.insert(me, *self.accepted);
            let ballot = *self.ballot;
            ctx.broadcast(ctx.peers(), msg::Prepare { ballot });
        }

        on message Prepare { ballot } from src reads(decided, accepted) writes(ballot) sends(Prepared) {
            if !self.decided && *self.ballot < ballot {
                *self.ballot = ballot;
                ctx.send(src, msg::Prepared { ballot, last: *self.accepted });
            }
        }

        on message Prepared { ballot, last } from src reads(decided) writes(ballot, proposal, prepares, accepts, accepted) sends(Accept) {
            if self.decided || ballot != *self.ballot {
                return;
            }
            self.prepares.insert(src, last);
            if self.prepares.len() == ctx.majority() {
                let me = ctx.me();
                let chosen = self.prepares.values().max().copied().flatten().map(|(_, p)| p);
                let Some(proposal) = chosen.or(*self.proposal) else { return };
                *self.proposal = Some(proposal);
                *self.accepted = Some((ballot, proposal));
                self.accepts.insert(me);
                ctx.broadcast(ctx.peers(), msg::Accept { ballot, proposal });
            }
        }

        on message Accept { ballot, proposal } from src reads(decided) writes(ballot, accepted) sends(Accepted) {
            if self.decided {
                return;
            }
            if *self.ballot <= ballot || ctx.config().accept_lower_ballots {
                *self.ballot = ballot;
                *self.accepted = Some((ballot, proposal));
                ctx.send(src, msg::Accepted { ballot });
            }
        }

        on message Accepted { ballot } from src reads(ballot, proposal) writes(accepts, decided) sends(Decided, PutOk) {
            if *self.decided || ballot != *self.ballot {
                return;
            }
            self.accepts.insert(src);
            if self.accepts.len() == ctx.majority() {
                *self.decided = true;
                let Some(proposal) = *self.proposal else { return };
                ctx.broadcast(ctx.peers(), msg::Decided { ballot, proposal });
                ctx.send(proposal.0, msg::PutOk);
            }
        }

        on message Decided { ballot, proposal } from _src writes(ballot, accepted, decided) {
            *self.ballot = ballot;
            *self.accepted = Some((ballot, proposal));
            *self.decided = true;
        }

        on message Get from client reads(decided, accepted) sends(GetOk) {
            if let (true, Some((_, (_, value)))) = (self.decided, *self.accepted) {
                ctx.send(client, msg::GetOk(value));
            }
        }
    }

    role Client(u8) {
        state {
            /// The reply awaited: 0 none, 1 `PutOk`, 2 `GetOk` (a second
            /// `PutOk`, from another server that learned the decision, is ignored).
            awaiting: u8 = 0,
        }

        on input Put(value) writes(awaiting) sends(Put) {
            *self.awaiting = 1;
            let server = server_of(ctx.me(), ctx.nodes_of(Role::Server).count(), 0);
            ctx.send(server, msg::Put(value));
        }

        on input Get writes(awaiting) sends(Get) {
            *self.awaiting = 2;
            let server = server_of(ctx.me(), ctx.nodes_of(Role::Server).count(), 1);
            ctx.send(server, msg::Get);
        }

        on message PutOk from _server writes(awaiting) emits(PutOk) {
            if *self.awaiting == 1 {
                *self.awaiting = 0;
                ctx.output(output::PutOk);
            }
        }

        on message GetOk(value) from _server writes(awaiting) emits(GetOk) {
            if *self.awaiting == 2 {
                *self.awaiting = 0;
                ctx.output(output::GetOk(value));
            }
        }
    }

    /// The clients' history of puts and gets is linearizable for a register.
    invariant linearizable reads(history) {
        linearizable_history(self.history)
    }
}

/// The server a client's `k`-th call goes to, of `servers`: client `i`
/// puts at server `i % servers` and gets from the next one, so a get may
/// reach a server that has not heard of the decision yet.
fn server_of(client: Node, servers: usize, k: usize) -> Node {
    let i = Paxos::instance_of(client);
    Paxos::node(Role::Server.id(), (i + k) % servers)
}

/// Whether a trace, read as a register history (`Put(v)` writes `v`,
/// `GetOk(v)` reads it), is linearizable.
pub fn linearizable_history(trace: &[TraceEvent<Paxos>]) -> Result<(), String> {
    check_linearizable_with(
        &Register,
        trace,
        |input: &Input| match input {
            Input::Put(input::Put(v)) => RegisterOp::Write(*v),
            Input::Get(_) => RegisterOp::Read,
        },
        |output: &Output| match output {
            Output::PutOk(_) => RegisterRet::Ok,
            Output::GetOk(output::GetOk(v)) => RegisterRet::Value(Some(*v)),
        },
    )
}

/// The cluster: three servers and `clients` clients.
pub fn setup(clients: usize, accept_lower_ballots: bool) -> Result<Setup<Paxos>, SetupError> {
    Setup::with_config(
        &Sizes::new()
            .with(Role::Server, 3)
            .with(Role::Client, clients),
        Config {
            accept_lower_ballots,
        },
    )
}

/// Client `i` puts `i + 1`, waits for `PutOk`, then gets and waits.
pub fn workload(setup: &Setup<Paxos>) -> Workload<Paxos> {
    Workload::none(setup).each(setup, Role::Client, |node| {
        let value = Paxos::instance_of(node) as i64 + 1;
        NodeWorkload::Chain(vec![input::Put(value).into(), input::Get.into()])
    })
}

/// The model the `check` subcommand explores.
pub fn model(
    clients: usize,
    faults: Faults,
    accept_lower_ballots: bool,
) -> Result<Model<Paxos>, SetupError> {
    let setup = setup(clients, accept_lower_ballots)?;
    let workload = workload(&setup);
    Ok(Model::new(setup, faults, workload)
        .ignoring(ignored)
        .allowing_deadlock(STALLS))
}

/// Why a client of this Paxos may wait for ever without a deadlock: the
/// single-decree servers drop a put that comes after the decision and a
/// get that reaches a server not yet told of it.
pub const STALLS: &str =
    "single-decree servers drop a late put and a get before they learn the decision";

/// The messages a server ignores for good, which the checker may drop as
/// soon as they are (see `Model::ignoring`). Once decided, a server
/// answers only `Get` and `Decided`; a server with a proposal takes no new
/// `Put`; and, since its ballot only grows until a decision, it ignores
/// prepares, promises, accepts and acceptances of lower ballots for good.
/// A server configured to accept lower ballots can lower its ballot, so
/// then only the first two hold.
pub fn ignored(config: &Config, state: &State, _src: Node, msg: &Msg) -> bool {
    let State::Server(s) = state else {
        return false;
    };
    if s.decided {
        return !matches!(msg, Msg::Get(_) | Msg::Decided(_));
    }
    let below = |ballot: Ballot| !config.accept_lower_ballots && ballot < s.ballot;
    match msg {
        Msg::Put(_) => s.proposal.is_some(),
        Msg::Prepare(m) => !config.accept_lower_ballots && m.ballot <= s.ballot,
        Msg::Prepared(m) => below(m.ballot),
        Msg::Accept(m) => below(m.ballot),
        Msg::Accepted(m) => below(m.ballot),
        Msg::Decided(_) | Msg::Get(_) | Msg::PutOk(_) | Msg::GetOk(_) => false,
    }
}
