//! Raft leader election on its own (the Raft paper, section 5.2): a server
//! whose election timer fires becomes a candidate for the next term, votes
//! for itself and asks every other server for a vote; a server grants at
//! most one vote per term, and a candidate that hears from a majority
//! leads. A higher term seen in any message turns a server back into a
//! follower of that term. Terms are bounded by `max_term` so the state
//! space is finite.
//!
//! Every server runs the same handlers and no handler compares node ids,
//! so the servers are interchangeable: symmetry reduction applies. The
//! `vote_twice` setting is a deliberate bug: a server grants every request
//! of its current term, so two candidates of one term can both win.

use std::collections::BTreeSet;

use verdict::prelude::*;
use verdict::SetupError;

verdict::system! {
    /// Raft leader election among any number of servers.
    pub system RaftElection;

    config {
        /// No server starts an election for a term past this one.
        max_term: u32 = 2,
        /// Grant every vote request of the current term: a deliberate bug.
        vote_twice: bool = false,
    }

    message enum Msg {
        /// A candidate asks for a vote in its term.
        RequestVote { term: u32 },
        /// The answer, in the voter's term.
        Vote { term: u32, granted: bool },
    }

    timers {
        /// The election timeout: no leader heard from, so stand.
        Election,
    }

    role Server(u8) {
        state {
            /// The latest term this server has seen.
            term: u32 = 0,
            /// Whom it voted for in `term`.
            voted_for: Option<Node> = None,
            /// Whether it is a candidate of `term` (and not yet leader).
            candidate: bool = false,
            /// Whether it leads `term`.
            leader: bool = false,
            /// The servers that voted for it in `term`.
            votes: BTreeSet<Node> = BTreeSet::new(),
        }

        on start sets(Election) {
            ctx.set_timer(timer::Election, Duration::from_millis(150));
        }

        on timer Election writes(term, voted_for, candidate, leader, votes) sends(RequestVote) sets(Election) {
            if *self.leader || *self.term >= ctx.config().max_term {
                return;
            }
            *self.term += 1;
            *self.voted_for = Some(ctx.me());
            *self.candidate = true;
            self.votes.clear();
            self.votes.insert(ctx.me());
            let others: Vec<Node> = ctx.peers().collect();
            ctx.broadcast(others, msg::RequestVote { term: *self.term });
            if *self.term < ctx.config().max_term {
                ctx.set_timer(timer::Election, Duration::from_millis(150));
            }
        }

        on message RequestVote { term } from candidate writes(term, voted_for, candidate, leader, votes) sends(Vote) sets(Election) {
            if term > *self.term {
                // A later term: follow it, with no vote cast yet.
                *self.term = term;
                *self.voted_for = None;
                *self.candidate = false;
                *self.leader = false;
                self.votes.clear();
                if term < ctx.config().max_term {
                    ctx.set_timer(timer::Election, Duration::from_millis(150));
                }
            }
            let free = match *self.voted_for {
                None => true,
                Some(v) => v == candidate || ctx.config().vote_twice,
            };
            let granted = term == *self.term && free && !*self.leader;
            if granted {
                *self.voted_for = Some(candidate);
            }
            ctx.send(candidate, msg::Vote { term: *self.term, granted });
        }

        on message Vote { term, granted } from voter writes(term, voted_for, candidate, leader, votes) sets(Election) {
            if term > *self.term {
                // A later term: follow it, with no vote cast yet.
                *self.term = term;
                *self.voted_for = None;
                *self.candidate = false;
                *self.leader = false;
                self.votes.clear();
                if term < ctx.config().max_term {
                    ctx.set_timer(timer::Election, Duration::from_millis(150));
                }
                return;
            }
            if !granted || term != *self.term || !*self.candidate {
                return;
            }
            self.votes.insert(voter);
            if 2 * self.votes.len() > ctx.nodes().len() {
                *self.candidate = false;
                *self.leader = true;
            }
        }
    }

    /// Election safety: at most one leader per term.
    invariant one_leader_per_term reads(Server.term, Server.leader) {
        let leaders: Vec<u32> = self.server.iter().filter(|s| s.leader).map(|s| s.term).collect();
        for (i, t) in leaders.iter().enumerate() {
            if leaders[i + 1..].contains(t) {
                return Err(format!("two leaders in term {t}"));
            }
        }
        Ok(())
    }
}

/// `servers` servers, terms up to `max_term`.
pub fn setup(
    servers: usize,
    max_term: u32,
    vote_twice: bool,
) -> Result<Setup<RaftElection>, SetupError> {
    Setup::with_config(
        &Sizes::new().with(Role::Server, servers),
        Config {
            max_term,
            vote_twice,
        },
    )
}

/// The model `check` explores: no inputs, elections start on timeouts.
pub fn model(
    servers: usize,
    max_term: u32,
    vote_twice: bool,
) -> Result<Model<RaftElection>, SetupError> {
    let setup = setup(servers, max_term, vote_twice)?;
    let workload = Workload::none(&setup);
    Ok(Model::new(setup, Faults::none(), workload))
}
