//! Raft: any [`StateMachine`] replicated on a cluster of servers that
//! survives the crash of a minority.
//!
//! [`Raft<M>`] turns a single-node state machine into servers that agree
//! on a log of client commands and apply it, in order, to their copy of
//! `M`, plus clients that send commands and wait for the output. It is the
//! protocol of Ongaro and Ousterhout's paper:
//!
//! - **Elections.** A follower whose election timer fires becomes a
//!   candidate of the next term, votes for itself and asks its peers; a
//!   server grants one vote per term, and only to a candidate whose log is
//!   at least as up to date as its own (last term, then length). A
//!   candidate with a majority of votes leads the term. The checker fires
//!   election timers in any order at any point; the runtime arms them with
//!   a duration spread over 150-300 ms by the server and the term, so two
//!   servers rarely time out together.
//! - **Pre-vote and check-quorum** ([`Config::pre_vote`],
//!   [`Config::check_quorum`], both off by default). With pre-vote a
//!   server first asks whether it would win the next term, and a peer that
//!   has heard from a leader since its election timer last fired says no:
//!   a server cut off from the leader alone cannot depose it. With
//!   check-quorum a leader that heard from no majority in an election
//!   timeout steps down. Liveness under a partial partition is checked
//!   with [`timely_elections`], the timing assumption that makes an untimed
//!   election protocol live at all.
//! - **Replication.** The leader appends a client's command to its log and
//!   sends each follower the entries from that follower's next index, with
//!   the index and term of the entry before them. A follower accepts only
//!   when its log holds that entry (the consistency check), removes a
//!   conflicting suffix, never a matching one, and appends. On a refusal it
//!   names the first index of its conflicting term (or its log's end), so
//!   the leader skips back a term at a time, not an entry.
//! - **Commit.** The leader commits an entry when a majority holds it *and*
//!   it is of the leader's own term (earlier entries are committed with
//!   it): counting replicas of an earlier term's entry is the Figure 8 bug.
//!   Every server applies committed entries in order; the leader answers
//!   the client with the output.
//! - **Durability.** `current_term`, `voted_for` and the log are
//!   `#[durable]`: the runtime writes them to disk before a handler's
//!   messages leave, the checker keeps them through a crash. Everything
//!   else is rebuilt: a restarted server is a follower with nothing
//!   committed, and re-applies the log as the leader tells it what is
//!   committed.
//! - **Exactly once.** Clients number their requests (durably) and resend
//!   to another server when no answer comes; the replicated per-client
//!   session table makes a command that reached the log twice take effect
//!   once, and lets a leader answer a resent request that already took
//!   effect.
//!
//! - **Commands given to a server.** A server also takes inputs itself,
//!   for a gateway in its process (the runtime's RESP front end): it
//!   numbers them (durably), appends them if it leads, else forwards them
//!   to the leader it last heard from as its own `Request`s, and emits the
//!   output when it applies the entry. Not resent: a command lost with a
//!   leader change has an unknown outcome, which the gateway reports. The
//!   session table keys them by the server, so a forwarded command that
//!   reaches the log twice also takes effect once.
//!
//! - **Log compaction.** Once [`Config::compact_after`] entries have been
//!   applied since the last snapshot, a server replaces the applied prefix
//!   of its log by a snapshot: the machine and the session table after it,
//!   with the last entry's index and term (see [`Log`]). A leader whose
//!   follower needs a compacted entry sends it the snapshot
//!   (`InstallSnapshot`). A follower installs a snapshot beyond what it
//!   has applied; entries after it are kept when its log holds the
//!   snapshot's last entry (it may have acknowledged them), and dropped
//!   otherwise. A restarted server starts from its snapshot.
//!
//! - **Membership change**, one server at a time ([`Config::voters`],
//!   [`Config::max_changes`], off by default; see [`Membership`]). A
//!   configuration is a log entry that a server uses from the moment it
//!   appends it; only its voters are counted. A leader changes it only
//!   once an entry of its own term is committed and no change is
//!   pending, and steps down once its own removal commits. Changes are
//!   picked by the leader's `Reconfigure` timer (every choice, in the
//!   checker), not submitted from outside.
//!
//! Reads go through the log like writes: simple, and linearizable without
//! leases or clocks, at the cost of a log entry per read.
//!
//! # Assumes and guarantees
//!
//! - Assumes: crash-restart servers whose durable fields survive (the
//!   runtime's storage); any network the fault model allows (loss,
//!   duplication and reordering are handled by the protocol itself).
//! - Guarantees, checked as invariants: election safety, leader
//!   append-only, log matching, leader completeness, state machine safety,
//!   and linearizability of the clients' history with respect to `M`.
//!
//! # Bounds
//!
//! [`Config::max_term`], [`Config::max_log`] and [`Config::max_retries`]
//! bound what the checker explores (a server does not start an election
//! beyond `max_term`, a leader does not append beyond `max_log` entries, a
//! client resends at most `max_retries` times); a `0` term or log bound,
//! and no retry bound, mean unbounded, as a deployment runs. A leader
//! sends a follower new entries only when its previous `AppendEntries` was
//! answered, unless [`Config::retransmit`]
//! is on (deployments, where a message to a crashed server is lost): then
//! every heartbeat resends, which makes the checked state space infinite.
//!
//! [`RaftBug`] selects a deliberately broken variant.

mod log;
mod membership;

pub use log::{Log, Termed};
pub use membership::{Membership, Payload};

use crate::transform::sessions::{self, record, session};
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ctx::{Ctx, MaySend, MaySet};
use crate::transform::state_machine::{check_linearizable, StateMachine};

/// A log entry: the term it was created in, who asked, their request
/// number, and what: a command, or (asked by the leader, numbered 0) a
/// no-op or a configuration.
pub type LogEntry<I> = (u32, Node, u32, Payload<I, Node>);

/// Per client, its last applied request and that request's output (see
/// [`crate::transform::sessions`]).
pub type Sessions<O> = sessions::Sessions<Node, O>;

/// What a snapshot holds: the machine, the session table and the
/// configuration after the entries it replaces.
pub type Snapshot<M> = (M, Sessions<<M as StateMachine>::Output>, Membership<Node>);

/// A server's log of `M`'s commands, its applied prefix compacted into a
/// [`Snapshot`].
pub type RaftLog<M> = Log<LogEntry<<M as StateMachine>::Input>, Snapshot<M>>;

/// What a server is in its current term.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Standing {
    /// Follows the leader of its term, if any.
    #[default]
    Follower,
    /// Asks whether it would get votes in the next term, without moving
    /// to it (pre-vote, [`Config::pre_vote`]).
    PreCandidate,
    /// Asks for votes.
    Candidate,
    /// Leads its term.
    Leader,
}
crate::relabel_nothing!(Standing);

/// What a leader knows of one follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Progress {
    /// The index of the next entry to send it.
    pub next: u64,
    /// The highest index known to be in its log.
    pub matched: u64,
    /// An `AppendEntries` to it is unanswered.
    pub in_flight: bool,
    /// Its commit index, as of its last answer.
    pub commit: u64,
    /// It answered since the leader's last check-quorum round
    /// ([`Config::check_quorum`]; always `false` without it).
    pub active: bool,
}
crate::relabel_nothing!(Progress);

/// Deliberate bugs, for showing what the checker catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RaftBug {
    /// The leader commits any entry a majority holds, of whatever term
    /// (Figure 8 of the Raft paper): an entry of an earlier term that a
    /// majority holds can still be overwritten by a later leader.
    CommitByCountingOldTerms,
    /// `voted_for` is lost in a crash: a restarted server can vote twice in
    /// one term, and the term gets two leaders.
    VotedForNotDurable,
    /// A vote is granted without comparing logs: a server missing a
    /// committed entry can be elected and overwrite it.
    VoteWithoutLogCheck,
    /// A follower installing a snapshot drops its whole log, even entries
    /// after the snapshot that match the leader's and that it has
    /// acknowledged: the leader counts it for entries it no longer holds.
    SnapshotOverMatchingLog,
    /// A server grants a pre-vote even while it hears from a leader (the
    /// lease check of pre-vote is missing): a server cut off from the
    /// leader alone can win pre-votes, move the cluster to a new term and
    /// depose a leader the others still hear from.
    PreVoteIgnoresLeader,
    /// A leader changes the configuration before an entry of its own term
    /// is committed (single-server change without the 2015 correction):
    /// two leaders of successive terms can each change the same old
    /// configuration, and the two new ones need not share a majority.
    MembershipWithoutOwnTermCommit,
}

crate::system! {
    /// State machine `M` replicated by Raft. See the
    /// [module documentation](self).
    pub system Raft<M: StateMachine + crate::Relabel<Node>>
    where
        M::Input: crate::Relabel<Node>,
        M::Output: crate::Relabel<Node>;

    config {
        /// Servers start no election beyond this term (0: unbounded).
        max_term: u32 = 0,
        /// Leaders append no entry beyond this many (0: unbounded).
        max_log: u64 = 0,
        /// Clients resend a request at most this many times (`None`:
        /// unbounded).
        max_retries: Option<u32> = None,
        /// Resend `AppendEntries` on every heartbeat even when the last one
        /// is unanswered: needed where messages can be lost for good (a
        /// deployment); makes the checked state space infinite.
        retransmit: bool = false,
        /// Compact the log once this many entries are applied since the
        /// last snapshot (0: never). Bounded checks rarely get there; ask
        /// for 1 or 2 to check compaction and `InstallSnapshot`.
        compact_after: u64 = 1000,
        /// Pre-vote (Ongaro's thesis, 9.6): a server whose election timer
        /// fires first asks its peers whether they would vote for it in
        /// the next term, without moving to it, and stands only with a
        /// majority of yeses. A peer says yes only if the asker's log is
        /// up to date and it has not heard from a leader since its own
        /// election timer last fired. Keeps a server that cannot reach the
        /// leader from deposing it.
        pre_vote: bool = false,
        /// Check-quorum: a leader that has not heard from a majority
        /// within an election-timeout round steps down (its election
        /// timer stays armed to end rounds), and it pings idle followers
        /// on every heartbeat so they can answer.
        check_quorum: bool = false,
        /// How many servers vote in the initial configuration: the first
        /// this many slots (0, or the number of servers: all of them).
        /// The others are learners until a change adds them.
        voters: u8 = 0,
        /// Membership changes leaders may make in a run (0: the
        /// configuration never changes). With changes on, a leader's
        /// `Reconfigure` timer commits a no-op of its term and then adds
        /// or removes one server, whichever the checker picks.
        max_changes: u32 = 0,
        /// A deliberate bug, or `None` for the correct protocol.
        bug: Option<RaftBug> = None,
    }

    /// A client's command.
    input type Command = M::Input;
    /// Its output.
    output type Output = M::Output;

    timers {
        /// A follower or candidate hears no leader: start an election.
        Election,
        /// A leader keeps its followers from electing another.
        Heartbeat,
        /// A client has waited too long for an answer.
        Retry,
        /// A leader may change the configuration (with
        /// `max_changes` above 0).
        Reconfigure,
    }

    message enum Msg {
        /// A client's command, numbered by the client.
        Request { id: u32, input: M::Input },
        /// The output of a client's command.
        Reply { id: u32, output: M::Output },
        /// A candidate asks for a vote, showing how up to date its log is.
        RequestVote { term: u32, last_index: u64, last_term: u32 },
        /// A pre-candidate asks whether it would get a vote in `term` (its
        /// current term plus one), without moving to that term.
        PreVote { term: u32, last_index: u64, last_term: u32 },
        /// The answer: on a yes `term` is the term asked about, on a no
        /// the voter's current term.
        PreVoteReply { term: u32, granted: bool },
        /// The answer, in the voter's current term.
        Vote { term: u32, granted: bool },
        /// The leader's entries after `prev_index` (whose term is
        /// `prev_term`), and what it has committed.
        AppendEntries {
            term: u32,
            prev_index: u64,
            prev_term: u32,
            entries: Vec<LogEntry<M::Input>>,
            commit: u64,
        },
        /// The answer: on success `index` is the last index now known to
        /// match; on refusal, where the leader should try next. `commit`
        /// is the follower's commit index.
        AppendReply { term: u32, success: bool, index: u64, commit: u64 },
        /// The leader's snapshot of its entries up to `index` (of term
        /// `last_term`), for a follower that needs entries it compacted;
        /// answered by an `AppendReply`.
        InstallSnapshot { term: u32, index: u64, last_term: u32, base: Snapshot<M> },
    }

    /// Keeps a copy of the log and of the machine.
    role Server(u8) {
        state {
            /// The latest term this server has seen.
            #[durable]
            current_term: u32 = 0,
            /// Whom it voted for in `current_term`.
            #[durable]
            voted_for: Option<Node> = None,
            /// The log, its applied prefix possibly compacted into a
            /// snapshot.
            #[durable]
            log: RaftLog<M> = Log::new((M::default(), Vec::new(), Membership::default())),
            /// Follower, candidate or leader of `current_term`.
            standing: Standing = Standing::Follower,
            /// Votes received as a candidate, or pre-votes as a
            /// pre-candidate.
            votes: BTreeSet<Node> = BTreeSet::new(),
            /// Heard from the leader of its term since its election timer
            /// last fired: then it refuses pre-votes (the checker has no
            /// clocks, so "heard from a leader within an election timeout"
            /// is this flag). Kept only with [`Config::pre_vote`].
            leader_seen: bool = false,
            /// Peers asked for a pre-vote that have not answered: a
            /// pre-candidate asks a peer again only once it answered
            /// (unless [`Config::retransmit`]), so a peer it cannot reach
            /// does not pile up its requests.
            asked: BTreeSet<Node> = BTreeSet::new(),
            /// Per follower, as a leader.
            progress: BTreeMap<Node, Progress> = BTreeMap::new(),
            /// How many entries are known committed, and applied.
            commit: u64 = 0,
            /// The machine after the first `commit` entries.
            machine: M = M::default(),
            /// Each client's last applied request and its output.
            sessions: Sessions<M::Output> = Vec::new(),
            /// The number of the next command this server takes from
            /// outside (its own input); durable, so a number is never
            /// reused and the session table never mistakes a new command
            /// for an applied one.
            #[durable]
            next_local: u32 = 0,
            /// Numbers of this server's own commands taken since it
            /// (re)started and not yet applied: their outputs are emitted
            /// here when applied. Volatile: after a crash nobody waits.
            awaiting: BTreeSet<u32> = BTreeSet::new(),
            /// The leader of the latest term it heard from, where it
            /// forwards its own commands.
            leader: Option<Node> = None,
        }

        // The initial configuration is written into the log's base, so
        // that a renaming of servers (symmetry reduction) renames it too.
        on start reads(current_term) writes(log) sets(Election, Reconfigure) {
            let voters = ctx.config().voters as usize;
            let servers: Vec<Node> = ctx.nodes_of(Role::Server).collect();
            if voters != 0 && voters < servers.len() {
                self.log.base_mut().2.voters = Some(servers[..voters].iter().copied().collect());
            }
            arm_election(ctx, self.current_term);
            arm_reconfigure(ctx);
        }

        // A restarted server starts from its snapshot: the entries in it
        // are applied already.
        on restart
            reads(current_term, log) writes(voted_for, machine, sessions, commit) sets(Election, Reconfigure)
        {
            if ctx.config().bug == Some(RaftBug::VotedForNotDurable) {
                *self.voted_for = None;
            }
            let (machine, sessions, _) = self.log.base();
            machine.clone_into(self.machine);
            sessions.clone_into(self.sessions);
            *self.commit = self.log.base_index();
            arm_election(ctx, self.current_term);
            arm_reconfigure(ctx);
        }

        // A follower or candidate stands for the next term, or with
        // pre-vote first asks whether it would win; a leader with
        // check-quorum ends a round, stepping down unless a majority
        // answered in it.
        on timer Election
            reads(log, commit)
            writes(current_term, voted_for, standing, votes, progress, leader_seen, asked)
            sends(RequestVote, PreVote, AppendEntries)
            sets(Election, Heartbeat)
        {
            let config = ctx.config();
            let (max, pre_vote, check_quorum) = (config.max_term, config.pre_vote, config.check_quorum);
            if *self.standing == Standing::Leader {
                if check_quorum {
                    let term = *self.current_term;
                    let me = ctx.me();
                    let heard = self.progress.iter().filter(|(_, p)| p.active).map(|(&n, _)| n);
                    if quorum(ctx, self.log, std::iter::once(me).chain(heard)) {
                        self.progress.values_mut().for_each(|p| p.active = false);
                        arm_election(ctx, term);
                    } else {
                        step_down(ctx, term, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
                    }
                }
                return;
            }
            if max != 0 && *self.current_term >= max {
                return;
            }
            let me = ctx.me();
            // A server outside its configuration does not stand.
            if !membership(self.log).votes(me) {
                return;
            }
            let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
            if pre_vote {
                *self.leader_seen = false;
                *self.standing = Standing::PreCandidate;
                self.votes.clear();
                self.votes.insert(me);
                let term = *self.current_term + 1;
                let resend = config.retransmit;
                let peers: Vec<Node> = ctx.peers().collect();
                for peer in peers {
                    if resend || self.asked.insert(peer) {
                        ctx.send(peer, msg::PreVote { term, last_index, last_term });
                    }
                }
                arm_election(ctx, *self.current_term);
                if !quorum(ctx, self.log, self.votes.iter().copied()) {
                    return;
                }
            }
            stand_for_election(ctx, self.log, self.commit, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
        }

        // A pre-vote changes nothing at the voter: a yes is no promise.
        on message PreVote { term, last_index, last_term } from candidate
            reads(current_term, standing, log, leader_seen)
            sends(PreVoteReply)
        {
            let lease = self.leader_seen || *self.standing == Standing::Leader;
            let heeds_lease = ctx.config().bug != Some(RaftBug::PreVoteIgnoresLeader);
            let up_to_date = (last_term, last_index) >= (self.log.last_term(), self.log.last_index());
            let granted = term > self.current_term && up_to_date && !(lease && heeds_lease);
            let term = if granted { term } else { self.current_term };
            ctx.send(candidate, msg::PreVoteReply { term, granted });
        }

        on message PreVoteReply { term, granted } from voter
            reads(log, commit)
            writes(current_term, voted_for, standing, votes, progress, asked)
            sends(RequestVote, AppendEntries)
            sets(Election, Heartbeat)
        {
            self.asked.remove(&voter);
            if !granted {
                if term > *self.current_term {
                    step_down(ctx, term, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
                }
                return;
            }
            if *self.standing != Standing::PreCandidate || term != *self.current_term + 1 {
                return;
            }
            self.votes.insert(voter);
            if quorum(ctx, self.log, self.votes.iter().copied()) {
                stand_for_election(ctx, self.log, self.commit, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
            }
        }

        on message RequestVote { term, last_index, last_term } from candidate
            reads(log)
            writes(current_term, voted_for, standing, votes, progress)
            sends(Vote)
            sets(Election, Heartbeat)
        {
            if term > *self.current_term {
                step_down(ctx, term, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
            }
            let up_to_date = (last_term, last_index) >= (self.log.last_term(), self.log.last_index())
                || ctx.config().bug == Some(RaftBug::VoteWithoutLogCheck);
            let free = self.voted_for.is_none_or(|v| v == candidate);
            let granted = term == *self.current_term && free && up_to_date;
            if granted {
                *self.voted_for = Some(candidate);
                arm_election(ctx, term);
            }
            let term = *self.current_term;
            ctx.send(candidate, msg::Vote { term, granted });
        }

        on message Vote { term, granted } from voter
            reads(log, commit)
            writes(current_term, voted_for, standing, votes, progress)
            sends(AppendEntries)
            sets(Election, Heartbeat)
        {
            if term > *self.current_term {
                step_down(ctx, term, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
                return;
            }
            if !granted || term != *self.current_term || *self.standing != Standing::Candidate {
                return;
            }
            self.votes.insert(voter);
            if quorum(ctx, self.log, self.votes.iter().copied()) {
                become_leader(ctx, term, self.log, self.commit, self.standing, self.progress);
            }
        }

        on message AppendEntries { term, prev_index, prev_term, entries, commit: leader_commit } from from_leader
            writes(current_term, voted_for, standing, votes, progress, log, commit, machine, sessions, awaiting, leader, leader_seen)
            sends(AppendReply, Reply)
            emits(Output)
            sets(Election, Heartbeat)
        {
            if !heed_leader(ctx, term, from_leader, self.current_term, self.voted_for, self.standing, self.votes, self.progress, *self.commit, self.leader, self.leader_seen) {
                return;
            }
            let index = prev_index + entries.len() as u64;
            // Entries up to this server's snapshot are committed, so they
            // match: only the ones after it are looked at.
            let base = self.log.base_index();
            let skip = base.saturating_sub(prev_index).min(entries.len() as u64);
            let prev_term = if skip == 0 { prev_term } else { entries[skip as usize - 1].0 };
            let prev_index = prev_index + skip;
            let len = self.log.last_index();
            let matches = prev_index < base
                || (prev_index <= len && self.log.term_at(prev_index) == Some(prev_term));
            if !matches {
                // Fast backtracking: skip the whole conflicting term.
                let index = if prev_index > len {
                    len + 1
                } else {
                    let t = self.log.term_at(prev_index);
                    self.log.held().find(|(_, e)| Some(e.0) == t).map_or(base + 1, |(i, _)| i)
                };
                let commit = *self.commit;
                ctx.send(from_leader, msg::AppendReply { term, success: false, index, commit });
                return;
            }
            for (k, entry) in entries.into_iter().skip(skip as usize).enumerate() {
                let at = prev_index + 1 + k as u64;
                match self.log.get(at) {
                    Some(have) if have.0 == entry.0 => {}
                    Some(_) => {
                        self.log.truncate_from(at);
                        self.log.push(entry);
                    }
                    None => self.log.push(entry),
                }
            }
            let upto = leader_commit.min(index);
            if upto > *self.commit {
                let mine = apply_upto(ctx, upto, self.log, self.commit, self.machine, self.sessions, self.awaiting, false);
                for output in mine {
                    ctx.output(output);
                }
                compact_if_due(ctx, self.log, *self.commit, self.machine, self.sessions);
            }
            let commit = *self.commit;
            ctx.send(from_leader, msg::AppendReply { term, success: true, index, commit });
        }

        on message InstallSnapshot { term, index, last_term, base } from from_leader
            writes(current_term, voted_for, standing, votes, progress, log, commit, machine, sessions, awaiting, leader, leader_seen)
            sends(AppendReply)
            emits(Output)
            sets(Election, Heartbeat)
        {
            if !heed_leader(ctx, term, from_leader, self.current_term, self.voted_for, self.standing, self.votes, self.progress, *self.commit, self.leader, self.leader_seen) {
                return;
            }
            // A snapshot of entries this server has applied already tells
            // it nothing new.
            if index > *self.commit {
                let keep = ctx.config().bug != Some(RaftBug::SnapshotOverMatchingLog);
                let (machine, sessions, _) = base.clone();
                self.log.install(index, last_term, base, keep);
                *self.machine = machine;
                *self.sessions = sessions;
                *self.commit = index;
                // This server's own commands the snapshot applied: the last
                // one's output is in the session table, earlier ones are
                // settled (outcome unknown to whoever waits).
                if let Some((last, output)) = session(self.sessions, ctx.me()) {
                    if self.awaiting.remove(&last) {
                        ctx.output(output.clone());
                    }
                    while self.awaiting.first().is_some_and(|&first| first < last) {
                        self.awaiting.pop_first();
                    }
                }
            }
            let commit = *self.commit;
            ctx.send(from_leader, msg::AppendReply { term, success: true, index, commit });
        }

        on message AppendReply { term, success, index, commit: follower_commit } from follower
            writes(current_term, voted_for, standing, votes, progress, log, commit, machine, sessions, awaiting)
            sends(AppendEntries, InstallSnapshot, Reply)
            emits(Output)
            sets(Election, Heartbeat)
        {
            if term > *self.current_term {
                step_down(ctx, term, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
                return;
            }
            if term != *self.current_term || *self.standing != Standing::Leader {
                return;
            }
            let Some(p) = self.progress.get_mut(&follower) else { return };
            p.in_flight = false;
            p.commit = follower_commit;
            p.active = ctx.config().check_quorum;
            if success {
                p.matched = p.matched.max(index);
                p.next = p.matched + 1;
            } else {
                p.next = index.min(p.next.saturating_sub(1)).max(1);
            }
            let term = *self.current_term;
            let before = *self.commit;
            let committable = committable(ctx, term, self.log, self.progress, before);
            if committable > before {
                let mine = apply_upto(ctx, committable, self.log, self.commit, self.machine, self.sessions, self.awaiting, true);
                for output in mine {
                    ctx.output(output);
                }
                compact_if_due(ctx, self.log, *self.commit, self.machine, self.sessions);
            }
            // A leader whose removal is committed steps down (in its term).
            if !membership(self.log).votes(ctx.me()) && !config_pending(self.log, *self.commit) {
                step_down(ctx, term, self.current_term, self.voted_for, self.standing, self.votes, self.progress);
                return;
            }
            let commit = *self.commit;
            let peers: Vec<Node> = ctx.peers().collect();
            for peer in peers {
                let behind = self.progress.get(&peer).is_some_and(|p| behind(p, self.log, commit));
                if behind && !self.progress[&peer].in_flight {
                    send_append(ctx, peer, term, self.log, commit, self.progress);
                }
            }
        }

        on timer Heartbeat
            reads(current_term, standing, log, commit)
            writes(progress)
            sends(AppendEntries, InstallSnapshot)
            sets(Heartbeat)
        {
            if *self.standing != Standing::Leader {
                return;
            }
            // Without retransmission a heartbeat only repeats what a
            // follower is known to miss: every answer already triggers the
            // next send, so a caught-up follower is left alone.
            // With check-quorum an idle follower is pinged too, so that it
            // can answer within the round.
            let resend = ctx.config().retransmit;
            let ping = ctx.config().check_quorum;
            let peers: Vec<Node> = ctx.peers().collect();
            for peer in peers {
                let Some(p) = self.progress.get(&peer) else { continue };
                if resend || (!p.in_flight && (ping || behind(p, self.log, self.commit))) {
                    send_append(ctx, peer, self.current_term, self.log, self.commit, self.progress);
                }
            }
            ctx.set_timer(timer::Heartbeat, HEARTBEAT);
        }

        // Membership change, one server at a time (see [`Membership`]).
        // A leader first appends a no-op if its log has no entry of its
        // term; once an entry of its term is committed and no change is
        // uncommitted, it adds a learner or removes a voter (one of them,
        // each explored by the checker). The timer keeps firing until
        // [`Config::max_changes`] changes are in the log.
        on timer Reconfigure
            reads(current_term, standing, commit)
            writes(log, progress)
            sends(AppendEntries)
            sets(Reconfigure)
            chooses
        {
            let config = ctx.config();
            let current = membership(self.log).clone();
            if current.changes >= config.max_changes {
                return;
            }
            ctx.set_timer(timer::Reconfigure, RECONFIGURE);
            let full = config.max_log != 0 && self.log.last_index() >= config.max_log;
            if *self.standing != Standing::Leader || full {
                return;
            }
            let term = self.current_term;
            let entry = if self.log.last_term() != term {
                Payload::Noop
            } else {
                let guarded = config.bug != Some(RaftBug::MembershipWithoutOwnTermCommit);
                let own_term_committed = self.log.term_at(self.commit) == Some(term);
                if config_pending(self.log, self.commit) || (guarded && !own_term_committed) {
                    return;
                }
                let servers: Vec<Node> = ctx.nodes_of(Role::Server).collect();
                // The last voter stays.
                let last = current.size(servers.len()) <= 1;
                let options: Vec<Node> = servers.iter().copied()
                    .filter(|&n| !(last && current.votes(n)))
                    .collect();
                let Some(&node) = ctx.choose_from(&options) else { return };
                Payload::Config(current.toggled(node, &servers))
            };
            self.log.push((term, ctx.me(), 0, entry));
            let peers: Vec<Node> = ctx.peers().collect();
            for peer in peers {
                if self.progress.get(&peer).is_some_and(|p| !p.in_flight) {
                    send_entries(ctx, peer, term, self.log, self.commit, self.progress);
                }
            }
        }

        on message Request { id, input } from client
            reads(current_term, standing, commit, sessions)
            writes(log, progress)
            sends(Reply, AppendEntries)
        {
            // Clients ask every server; only the leader answers.
            if *self.standing != Standing::Leader {
                return;
            }
            match session(self.sessions, client) {
                Some((last, output)) if last == id => {
                    let output = output.clone();
                    ctx.send(client, msg::Reply { id, output });
                    return;
                }
                Some((last, _)) if last > id => return,
                _ => {}
            }
            let term = self.current_term;
            let max = ctx.config().max_log;
            // Only uncommitted entries need a look: a committed request of
            // this client is in the session table, handled above.
            let queued = self.log.after(self.commit)
                .iter()
                .any(|e| e.0 == term && e.1 == client && e.2 == id && matches!(e.3, Payload::Command(_)));
            if queued || (max != 0 && self.log.last_index() >= max) {
                return;
            }
            self.log.push((term, client, id, Payload::Command(input)));
            let peers: Vec<Node> = ctx.peers().collect();
            for peer in peers {
                if self.progress.get(&peer).is_some_and(|p| !p.in_flight) {
                    send_entries(ctx, peer, term, self.log, self.commit, self.progress);
                }
            }
        }

        // A command given to a server itself (a gateway in the server's
        // process, such as the RESP front end): the leader appends it; a
        // follower forwards it to the leader it last heard from, as a
        // `Request` under its own name; with no leader known it is
        // dropped, and whoever waits for it times out (outcome unknown).
        // The output is emitted by this server when it applies the entry,
        // or when the leader's `Reply` comes first.
        on input command: Command
            reads(current_term, standing, commit, leader)
            writes(log, progress, next_local, awaiting)
            sends(Request, AppendEntries)
        {
            let me = ctx.me();
            let id = *self.next_local;
            *self.next_local += 1;
            if *self.standing == Standing::Leader {
                let max = ctx.config().max_log;
                if max != 0 && self.log.last_index() >= max {
                    return;
                }
                self.awaiting.insert(id);
                let term = self.current_term;
                self.log.push((term, me, id, Payload::Command(command)));
                let peers: Vec<Node> = ctx.peers().collect();
                for peer in peers {
                    if self.progress.get(&peer).is_some_and(|p| !p.in_flight) {
                        send_entries(ctx, peer, term, self.log, self.commit, self.progress);
                    }
                }
            } else if let Some(leader) = self.leader {
                self.awaiting.insert(id);
                ctx.send(leader, msg::Request { id, input: command });
            }
        }

        // The leader's answer to a forwarded command. It matters when a
        // snapshot covers the entry: a snapshot carries only the last
        // output per sender, so applying it settles earlier commands
        // without theirs. Only this number is settled here, since answers
        // may arrive out of order.
        on message Reply { id, output } from _leader writes(awaiting) emits(Output) {
            if self.awaiting.remove(&id) {
                ctx.output(output);
            }
        }
    }

    /// Sends commands to the servers and waits for each output.
    role Client(u8) {
        state {
            /// The number of its next request; durable, so a reply to a
            /// request made before a crash is never taken for a newer one.
            #[durable]
            next_request: u32 = 0,
            /// The request it waits for, kept to resend it.
            pending: Option<(u32, M::Input)> = None,
            /// How often the pending request was resent.
            retries: u32 = 0,
        }

        // A client does not track the leader: it asks every server, and
        // only the leader acts (so no server is special, and symmetry
        // reduction applies to servers).
        on input command: Command writes(next_request, pending, retries) sends(Request) sets(Retry) {
            let id = *self.next_request;
            *self.next_request += 1;
            *self.pending = Some((id, command.clone()));
            *self.retries = 0;
            ctx.broadcast(ctx.nodes_of(Role::Server), msg::Request { id, input: command });
            ctx.set_timer(timer::Retry, RETRY);
        }

        on message Reply { id, output } from _server writes(pending) emits(Output) sets(Retry) {
            if self.pending.as_ref().is_some_and(|(p, _)| *p == id) {
                *self.pending = None;
                ctx.cancel_timer(timer::Retry);
                ctx.output(output);
            }
        }

        on timer Retry reads(pending) writes(retries) sends(Request) sets(Retry) {
            let Some((id, input)) = self.pending else { return };
            if ctx.config().max_retries.is_some_and(|max| *self.retries >= max) {
                return;
            }
            *self.retries += 1;
            ctx.broadcast(ctx.nodes_of(Role::Server), msg::Request { id: *id, input: input.clone() });
            ctx.set_timer(timer::Retry, RETRY);
        }
    }

    /// Election safety: at most one leader per term.
    invariant election_safety reads(Server.current_term, Server.standing) {
        let leaders: Vec<(u32, Node)> = self.server.iter()
            .filter(|s| *s.standing == Standing::Leader)
            .map(|s| (s.current_term, s.node()))
            .collect();
        for (i, a) in leaders.iter().enumerate() {
            for b in &leaders[i + 1..] {
                if a.0 == b.0 {
                    return Err(format!("{} and {} both lead term {}", a.1, b.1, a.0));
                }
            }
        }
        Ok(())
    }

    /// Leader append-only, as a state property: a leader's log holds every
    /// entry of its term that any server holds, where that server holds
    /// it (entries of a term come only from its leader, which never
    /// removes or moves them).
    invariant leader_append_only reads(Server.current_term, Server.standing, Server.log) {
        for l in self.server.iter().filter(|s| *s.standing == Standing::Leader) {
            let term = l.current_term;
            for s in self.server.iter() {
                // Entries the leader compacted are applied, so kept.
                for (i, e) in s.log.held().filter(|(i, _)| *i > l.log.base_index()) {
                    if e.0 == term && l.log.get(i) != Some(e) {
                        return Err(format!(
                            "{} holds entry {i} of term {term}, which its leader {} does not hold there",
                            s.node(), l.node()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Log matching: two logs with an entry of the same term at the same
    /// index are equal up to it (as far as both still hold entries; the
    /// last compacted entry of one must have its term in the other).
    invariant log_matching reads(Server.log) {
        let servers: Vec<_> = self.server.iter().collect();
        for (i, a) in servers.iter().enumerate() {
            for b in &servers[i + 1..] {
                let low = a.log.base_index().max(b.log.base_index());
                let common = a.log.last_index().min(b.log.last_index());
                let same = |k: u64| a.log.term_at(k).is_some() && a.log.term_at(k) == b.log.term_at(k);
                let Some(k) = (low..=common).rev().find(|&k| same(k)) else { continue };
                if let Some(j) = (low + 1..=k).find(|&j| a.log.get(j) != b.log.get(j)) {
                    return Err(format!(
                        "{} and {} agree on the term of entry {k} but not on entry {j}",
                        a.node(), b.node()
                    ));
                }
                if low > 0 && !same(low) {
                    return Err(format!(
                        "{} and {} agree on the term of entry {k} but not on that of entry {low}",
                        a.node(), b.node()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Leader completeness: a leader holds every entry committed at any
    /// server whose term is not above the leader's (those were committed
    /// in the leader's term or before).
    invariant leader_completeness reads(Server.current_term, Server.standing, Server.log, Server.commit) {
        for l in self.server.iter().filter(|s| *s.standing == Standing::Leader) {
            for s in self.server.iter() {
                if s.current_term > l.current_term {
                    continue;
                }
                let c = s.commit;
                let low = l.log.base_index().max(s.log.base_index());
                let held = (low + 1..=c).all(|j| l.log.get(j) == s.log.get(j));
                let base = s.log.base_index();
                let base_held = base <= l.log.base_index() || l.log.term_at(base) == Some(s.log.base_term());
                if l.log.last_index() < c || !held || !base_held {
                    return Err(format!(
                        "{} leads term {} without the {c} entries {} has committed",
                        l.node(), l.current_term, s.node()
                    ));
                }
            }
        }
        Ok(())
    }

    /// State machine safety: no two servers have applied different entries
    /// at the same index, and two snapshots of the same entries are equal.
    invariant state_machine_safety reads(Server.log, Server.commit) {
        let servers: Vec<_> = self.server.iter().collect();
        for (i, a) in servers.iter().enumerate() {
            for b in &servers[i + 1..] {
                let c = a.commit.min(b.commit);
                let low = a.log.base_index().max(b.log.base_index());
                if let Some(k) = (low + 1..=c).find(|&k| a.log.get(k) != b.log.get(k)) {
                    return Err(format!(
                        "{} and {} applied different entries at index {k}: {:?} and {:?}",
                        a.node(), b.node(), a.log.get(k), b.log.get(k)
                    ));
                }
                let (x, y) = (&a.log, &b.log);
                if x.base_index() == y.base_index() && x.base() != y.base() {
                    return Err(format!(
                        "{} and {} hold different snapshots of entries 1..={}",
                        a.node(), b.node(), x.base_index()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every history is linearizable with respect to `M`.
    invariant linearizable reads(history) {
        check_linearizable::<M, Raft<M>>(self.history)
    }

    /// Liveness: no client waits forever for the answer to a request.
    /// Checked under weak fairness, and under the timing assumption of
    /// [`timely_elections`]; see the book's Raft chapter.
    eventually every_request_answered reads(Client.pending) {
        self.client.iter().all(|c| c.pending.is_none())
    }
}

/// Raft's timing assumption, for
/// [`check_liveness_assuming`](crate::liveness::check_liveness_assuming):
/// election timeouts are much longer than message delays and the
/// heartbeat interval, so a server hears from a live leader it is
/// connected to before its election timer fires. In the untimed checker
/// any timer may fire at any time, so without this a follower that hears
/// every heartbeat could still time out, and no election protocol would
/// be live. The step ruled out: the election timer of a server that is
/// connected (both up, no cut between them) to an up leader of its term
/// or a later one, and a leader's check-quorum round while it is
/// connected to a majority. Every other step, faults included, is
/// allowed.
pub fn timely_elections<M>(
    model: &crate::semantics::Model<Raft<M>>,
    world: &crate::semantics::World<Raft<M>>,
    action: crate::semantics::Action,
) -> bool
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
{
    use crate::system::System;
    let crate::semantics::Action::Timeout { node, timer, .. } = action else {
        return true;
    };
    if <Raft<M> as System>::timer(timer) != Timer::Election {
        return true;
    }
    let nodes = model.setup.nodes();
    let is_server = |j: usize| matches!(nodes[j], Node::Server(_));
    let up_server = |j: usize| match &world.nodes[j].state {
        State::Server(s) if world.nodes[j].up => Some(s),
        _ => None,
    };
    let Some(me) = up_server(node) else {
        return true;
    };
    let connected = |j: usize| j == node || !world.across_partition(node, j);
    let servers = (0..nodes.len()).filter(|&j| is_server(j)).count();
    if me.standing == Standing::Leader {
        let reached = (0..nodes.len())
            .filter(|&j| connected(j) && up_server(j).is_some())
            .count();
        return reached < servers / 2 + 1;
    }
    !(0..nodes.len()).any(|j| {
        j != node
            && connected(j)
            && up_server(j).is_some_and(|l| {
                l.standing == Standing::Leader && l.current_term >= me.current_term
            })
    })
}

/// The settings of [`Raft`] (its `config`), named for use outside this module.
pub type RaftConfig = Config;
/// A node of [`Raft`], named for use outside this module.
pub type RaftNode = Node;
/// A role of [`Raft`], named for use outside this module.
pub type RaftRole = Role;

/// Why a checked run of [`Raft`] may end with a client still waiting, for
/// [`Model::allowing_deadlock`](crate::Model::allowing_deadlock): the
/// bounds that make the state space finite stop elections at
/// [`Config::max_term`], appends at [`Config::max_log`] and resends at
/// [`Config::max_retries`], so a split vote in the last term, or a request
/// that reached the servers before a leader was elected and is never
/// resent, leaves the client waiting. Whether every request is answered
/// is a liveness question, not one for the safety check.
pub const BOUNDED_STALLS: &str =
    "the bounds (--max-term, --max-log, --max-retries) stop elections, \
appends and resends, so a bounded run can end with a client waiting";

/// How often a leader sends heartbeats in the runtime.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_millis(50);
/// How long a client waits before resending in the runtime.
const RETRY: std::time::Duration = std::time::Duration::from_millis(500);
/// How often a leader tries a membership change in the runtime.
const RECONFIGURE: std::time::Duration = std::time::Duration::from_millis(1000);

/// A handler's context in [`Raft<M>`], with permissions `H`.
type RaftCtx<'a, 'b, M, H> = &'a mut Ctx<'b, Raft<M>, H>;

/// Arms the election timer for a randomised-looking 150-300 ms, spread by
/// server and term (handlers are deterministic; the spread makes split
/// votes rare in the runtime, and the checker ignores it anyway).
fn arm_election<M, H>(ctx: RaftCtx<'_, '_, M, H>, term: u32)
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySet<timer::Election>,
{
    let me = match ctx.me() {
        Node::Server(i) | Node::Client(i) => i as u64,
    };
    let mix = (me + 1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add((term as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9));
    let ms = 150 + (mix >> 33) % 150;
    ctx.set_timer(timer::Election, std::time::Duration::from_millis(ms));
}

/// Arms the timer for membership changes, when a run may make any.
fn arm_reconfigure<M, H>(ctx: RaftCtx<'_, '_, M, H>)
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySet<timer::Reconfigure>,
{
    if ctx.config().max_changes > 0 {
        ctx.set_timer(timer::Reconfigure, RECONFIGURE);
    }
}

/// The configuration a server uses: the latest in its log, committed or
/// not.
fn membership<M: StateMachine>(log: &RaftLog<M>) -> &Membership<Node> {
    membership_at(log, log.last_index())
}

/// The configuration after entry `index`: the latest configuration entry
/// up to it, else the snapshot's.
fn membership_at<M: StateMachine>(log: &RaftLog<M>, index: u64) -> &Membership<Node> {
    log.held()
        .take_while(|(i, _)| *i <= index)
        .filter_map(|(_, e)| match &e.3 {
            Payload::Config(m) => Some(m),
            _ => None,
        })
        .last()
        .unwrap_or(&log.base().2)
}

/// Whether a configuration entry after `commit` is still uncommitted.
fn config_pending<M: StateMachine>(log: &RaftLog<M>, commit: u64) -> bool {
    log.after(commit)
        .iter()
        .any(|e| matches!(e.3, Payload::Config(_)))
}

/// Whether `nodes` hold a majority of the voters of the configuration in
/// `log`; nodes outside it are not counted.
fn quorum<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    log: &RaftLog<M>,
    nodes: impl IntoIterator<Item = Node>,
) -> bool
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
{
    let servers = ctx.nodes_of(Role::Server).count();
    membership(log).is_quorum(nodes, servers)
}

/// Moves to `term` as a follower: no vote yet, no known leader.
#[allow(clippy::too_many_arguments)]
fn step_down<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    term: u32,
    current_term: &mut u32,
    voted_for: &mut Option<Node>,
    standing: &mut Standing,
    votes: &mut BTreeSet<Node>,
    progress: &mut BTreeMap<Node, Progress>,
) where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySet<timer::Election> + MaySet<timer::Heartbeat>,
{
    if term > *current_term {
        *current_term = term;
        *voted_for = None;
    }
    if *standing == Standing::Leader {
        ctx.cancel_timer(timer::Heartbeat);
    }
    *standing = Standing::Follower;
    votes.clear();
    progress.clear();
    arm_election(ctx, term);
}

/// What a server does first with a message from the leader of `term`
/// (and, with pre-vote, notes that it heard from a leader):
/// refuses one from an older term (answering with its own), and otherwise
/// follows that leader, stepping down if it was not a follower of `term`
/// and re-arming its election timer. Returns whether to go on.
#[allow(clippy::too_many_arguments)]
fn heed_leader<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    term: u32,
    from_leader: Node,
    current_term: &mut u32,
    voted_for: &mut Option<Node>,
    standing: &mut Standing,
    votes: &mut BTreeSet<Node>,
    progress: &mut BTreeMap<Node, Progress>,
    commit: u64,
    leader: &mut Option<Node>,
    leader_seen: &mut bool,
) -> bool
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySend<msg::AppendReply> + MaySet<timer::Election> + MaySet<timer::Heartbeat>,
{
    if term < *current_term {
        let term = *current_term;
        ctx.send(
            from_leader,
            msg::AppendReply {
                term,
                success: false,
                index: 0,
                commit,
            },
        );
        return false;
    }
    if term > *current_term || *standing != Standing::Follower {
        step_down(
            ctx,
            term,
            current_term,
            voted_for,
            standing,
            votes,
            progress,
        );
    }
    arm_election(ctx, term);
    *leader = Some(from_leader);
    if ctx.config().pre_vote {
        *leader_seen = true;
    }
    true
}

/// Takes the lead of `term`: every follower's next index is after the
/// leader's log, and each is sent an `AppendEntries` at once.
fn become_leader<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    term: u32,
    log: &RaftLog<M>,
    commit: u64,
    standing: &mut Standing,
    progress: &mut BTreeMap<Node, Progress>,
) where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySend<msg::AppendEntries<M>> + MaySet<timer::Election> + MaySet<timer::Heartbeat>,
{
    *standing = Standing::Leader;
    progress.clear();
    let next = log.last_index() + 1;
    let peers: Vec<Node> = ctx.peers().collect();
    for &peer in &peers {
        progress.insert(
            peer,
            Progress {
                next,
                matched: 0,
                in_flight: false,
                commit: 0,
                active: false,
            },
        );
    }
    for peer in peers {
        send_entries(ctx, peer, term, log, commit, progress);
    }
    // With check-quorum the election timer ends the leader's rounds.
    if ctx.config().check_quorum {
        arm_election(ctx, term);
    } else {
        ctx.cancel_timer(timer::Election);
    }
    ctx.set_timer(timer::Heartbeat, HEARTBEAT);
}

/// Moves to the next term as a candidate, votes for itself and asks its
/// peers; leads at once if its own vote is a majority.
#[allow(clippy::too_many_arguments)]
fn stand_for_election<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    log: &RaftLog<M>,
    commit: u64,
    current_term: &mut u32,
    voted_for: &mut Option<Node>,
    standing: &mut Standing,
    votes: &mut BTreeSet<Node>,
    progress: &mut BTreeMap<Node, Progress>,
) where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySend<msg::RequestVote>
        + MaySend<msg::AppendEntries<M>>
        + MaySet<timer::Election>
        + MaySet<timer::Heartbeat>,
{
    let me = ctx.me();
    *current_term += 1;
    *voted_for = Some(me);
    *standing = Standing::Candidate;
    votes.clear();
    votes.insert(me);
    let term = *current_term;
    let (last_index, last_term) = (log.last_index(), log.last_term());
    let peers: Vec<Node> = ctx.peers().collect();
    ctx.broadcast(
        peers,
        msg::RequestVote {
            term,
            last_index,
            last_term,
        },
    );
    arm_election(ctx, term);
    if quorum(ctx, log, votes.iter().copied()) {
        become_leader(ctx, term, log, commit, standing, progress);
    }
}

/// Whether a follower misses entries or the commit index, as far as the
/// leader knows.
fn behind<M: StateMachine>(p: &Progress, log: &RaftLog<M>, commit: u64) -> bool {
    p.next <= log.last_index() || p.commit < commit
}

/// Sends `peer` the entries from its next index, or the snapshot when the
/// leader has compacted them, and marks it in flight.
fn send_append<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    peer: Node,
    term: u32,
    log: &RaftLog<M>,
    commit: u64,
    progress: &mut BTreeMap<Node, Progress>,
) where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySend<msg::AppendEntries<M>> + MaySend<msg::InstallSnapshot<M>>,
{
    if send_entries(ctx, peer, term, log, commit, progress) {
        return;
    }
    let Some(p) = progress.get_mut(&peer) else {
        return;
    };
    p.in_flight = true;
    let (index, last_term, base) = (log.base_index(), log.base_term(), log.base().clone());
    ctx.send(
        peer,
        msg::InstallSnapshot {
            term,
            index,
            last_term,
            base,
        },
    );
}

/// Sends `peer` the entries from its next index and marks it in flight;
/// sends nothing and returns `false` when the leader has compacted them
/// (then the next heartbeat sends the snapshot). Handlers that cannot meet
/// a compacted next index use this one, so their footprints need not
/// declare `InstallSnapshot`, which would cost the reductions.
fn send_entries<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    peer: Node,
    term: u32,
    log: &RaftLog<M>,
    commit: u64,
    progress: &mut BTreeMap<Node, Progress>,
) -> bool
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySend<msg::AppendEntries<M>>,
{
    let Some(p) = progress.get_mut(&peer) else {
        return true;
    };
    let prev_index = (p.next - 1).min(log.last_index());
    let Some(prev_term) = log.term_at(prev_index) else {
        return false;
    };
    p.in_flight = true;
    ctx.send(
        peer,
        msg::AppendEntries {
            term,
            prev_index,
            prev_term,
            entries: log.after(prev_index).to_vec(),
            commit,
        },
    );
    true
}

/// Compacts the log up to `commit` once [`Config::compact_after`] entries
/// have been applied since its last snapshot.
fn compact_if_due<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    log: &mut RaftLog<M>,
    commit: u64,
    machine: &M,
    sessions: &Sessions<M::Output>,
) where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
{
    let every = ctx.config().compact_after;
    if every != 0 && commit >= log.base_index() + every {
        let members = membership_at(log, commit).clone();
        log.compact(commit, (machine.clone(), sessions.clone(), members));
    }
}

/// The highest index the leader may now commit: held by a majority of its
/// configuration's voters (the leader included, if it is one) and — unless the Figure 8 bug is on — of the leader's
/// own term. At least `commit`.
fn committable<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    term: u32,
    log: &RaftLog<M>,
    progress: &BTreeMap<Node, Progress>,
    commit: u64,
) -> u64
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
{
    let any_term = ctx.config().bug == Some(RaftBug::CommitByCountingOldTerms);
    let me = ctx.me();
    let mut best = commit;
    for n in (commit + 1)..=log.last_index() {
        let holders = progress
            .iter()
            .filter(|(_, p)| p.matched >= n)
            .map(|(&peer, _)| peer);
        let held = quorum(ctx, log, std::iter::once(me).chain(holders));
        if held && (any_term || log.term_at(n) == Some(term)) {
            best = n;
        }
    }
    best
}

/// Applies entries up to `upto` to the machine, each client's request at
/// most once; a leader answers the client. Returns the outputs of this
/// server's own awaited commands, for the caller to emit.
#[allow(clippy::too_many_arguments)]
fn apply_upto<M, H>(
    ctx: RaftCtx<'_, '_, M, H>,
    upto: u64,
    log: &RaftLog<M>,
    commit: &mut u64,
    machine: &mut M,
    sessions: &mut Sessions<M::Output>,
    awaiting: &mut BTreeSet<u32>,
    reply: bool,
) -> Vec<M::Output>
where
    M: StateMachine + crate::Relabel<Node>,
    M::Input: crate::Relabel<Node>,
    M::Output: crate::Relabel<Node>,
    H: MaySend<msg::Reply<M>>,
{
    let me = ctx.me();
    let mut mine = Vec::new();
    let upto = upto.min(log.last_index());
    while *commit < upto {
        let Some((_, client, id, payload)) = log.get(*commit + 1) else {
            break; // compacted: applied already
        };
        *commit += 1;
        // No-ops and configurations do nothing to the machine.
        let Payload::Command(input) = payload else {
            continue;
        };
        let output = match session(sessions, *client) {
            Some((last, output)) if last == *id => output.clone(),
            Some((last, _)) if last > *id => continue,
            _ => {
                let output = machine.apply(input);
                record(sessions, *client, *id, output.clone());
                output
            }
        };
        if *client == me {
            // Own commands apply in number order (a lower number after a
            // higher one is skipped by the session table), so every lower
            // awaited number is settled too.
            if awaiting.remove(id) {
                mine.push(output);
            }
            while awaiting.first().is_some_and(|first| first < id) {
                awaiting.pop_first();
            }
        } else if reply {
            ctx.send(*client, msg::Reply { id: *id, output });
        }
    }
    mine
}
