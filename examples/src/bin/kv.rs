//! `kv`: the key-value store on one server or replicated by primary-backup,
//! checked for linearizability and deployed with the same handlers.
//!
//! ```text
//! kv check                                                  # exits 0: one server, reliable network
//! kv check --faults crash=1                                 # exits 1: a crash loses the store
//! kv check --faults crash=1 --transform primary-backup      # exits 0
//! kv check --transform primary-backup --broken reply-before-ack                     # exits 1
//! kv check --faults crash=1 --transform primary-backup --broken no-state-transfer   # exits 1
//! kv check --faults drop,dup,reorder,crash=1 --transform reliable-primary-backup --clients 1 --ops 1
//! kv check --transform raft --servers 3 --clients 1 --ops 1 --max-term 2 --max-log 2   # exits 0
//! kv check --transform raft --broken vote-without-log-check --clients 1 --ops 1 --max-term 2 --max-log 2  # exits 1
//! kv check --transform raft-redis --servers 3 --ops 1 --max-term 1 --max-log 3    # exits 0
//! kv check --transform raft --servers 3 --clients 1 --ops 1 --max-term 1 --max-log 1 --max-retries 0 --pre-vote   # exits 0
//! kv check --transform raft --servers 3 --clients 1 --ops 1 --max-term 1 --max-log 1 --max-retries 0 --faults cut=1   # exits 0
//! kv check --transform raft --servers 3 --voters 2 --clients 0 --max-term 2 --max-log 2 --max-changes 1 --max-retries 0   # exits 0
//! kv cluster --transform raft-redis --retransmit --pre-vote --check-quorum    # then: redis-cli -p PORT SET k v
//! kv cluster --clients 2 --transform primary-backup
//! kv client --cluster FILE --node 'Client(0)' '{"Put": [0, 1]}'
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag, Flags, Use};
use verdict::meta::RoleEnum;
use verdict::transform::{
    PbBug, PbConfig, PbRole, PrimaryBackup, Raft, RaftBug, RaftConfig, RaftRole, Reliable,
    ReliableConfig, RAFT_BOUNDED_STALLS,
};
use verdict::System;
use verdict_examples::kv::{self, Kv, KvInput, Store};
use verdict_examples::redis_store::{self, RaftRedis};

const OPS: Flag<usize> = Flag::usize("ops", 3, "Commands each client runs from its script");
const BROKEN: Flag<Option<String>> = Flag::choice(
    "broken",
    &["reply-before-ack", "no-state-transfer"],
    "A deliberate primary-backup bug",
);

const MAX_TERM: Flag<usize> = Flag::usize(
    "max-term",
    0,
    "Raft: servers start no election beyond this term (0: unbounded; bounds a check)",
);
const MAX_LOG: Flag<usize> = Flag::usize(
    "max-log",
    0,
    "Raft: leaders append no entry beyond this many (0: unbounded; bounds a check)",
);
const MAX_RETRIES: Flag<Option<usize>> = Flag::optional_usize(
    "max-retries",
    "Raft: a client resends a request at most this many times (absent: unbounded)",
);
const RETRANSMIT: Flag<bool> = Flag::bool(
    "retransmit",
    "Raft: resend AppendEntries on every heartbeat (deployments; infinite for a check)",
);
const COMPACT_AFTER: Flag<usize> = Flag::usize(
    "compact-after",
    1000,
    "Raft: snapshot the log once this many entries are applied since the last snapshot \
     (0: never; 1 or 2 makes a check cover snapshots)",
);
const PRE_VOTE: Flag<bool> = Flag::bool(
    "pre-vote",
    "Raft: ask for pre-votes before standing, so a server cut off from the leader cannot depose it",
);
const CHECK_QUORUM: Flag<bool> = Flag::bool(
    "check-quorum",
    "Raft: a leader that hears from no majority within an election timeout steps down",
);
const VOTERS: Flag<usize> = Flag::usize(
    "voters",
    0,
    "Raft: servers in the initial configuration, the first this many (0: all); the others \
     are learners until a membership change adds them",
);
const MAX_CHANGES: Flag<usize> = Flag::usize(
    "max-changes",
    0,
    "Raft: membership changes leaders may make, one server at a time (0: none; bounds a check)",
);
const RAFT_BROKEN: Flag<Option<String>> = Flag::choice(
    "broken",
    &[
        "commit-old-term",
        "voted-for-not-durable",
        "vote-without-log-check",
        "snapshot-over-matching-log",
        "pre-vote-ignores-leader",
        "membership-without-own-term-commit",
    ],
    "A deliberate Raft bug",
);

fn main() -> ExitCode {
    app::<Kv>(kv::Role::Client)
        .transform(
            "primary-backup",
            "the store replicated on a primary and a backup (survives a crash of either)",
            || replicated::<PrimaryBackup<Store>>().config(pb_config),
        )
        .transform(
            "reliable-primary-backup",
            "primary-backup over reliable delivery (also survives drop, dup, reorder)",
            || {
                replicated::<Reliable<PrimaryBackup<Store>>>()
                    .config(|flags| ReliableConfig::new(pb_config(flags)))
                    .retransmitting()
            },
        )
        .transform(
            "raft",
            "the store replicated by Raft on --servers servers (survives crashes of a minority)",
            || raft_flags(app::<Raft<Store>>(RaftRole::Client)),
        )
        .transform(
            "raft-redis",
            "a byte-string store replicated by Raft, with a Redis-protocol (RESP2) front end on \
             every server; checks give the servers themselves the commands",
            || {
                let app = App::<RaftRedis>::new("kv")
                    .about(
                        "A byte-string store replicated by Raft, spoken to with the Redis protocol",
                    )
                    .size_flag(RaftRole::Client, "clients", 0, "Number of native clients")
                    .flag(OPS)
                    .workload(|setup, flags| redis_store::gateway_workload(setup, flags.get(OPS)));
                raft_flags(app).resp(RaftRole::Server, redis_store::RedisService)
            },
        )
        .run()
}

/// The flags every Raft program of `kv` takes: the servers, the bounds of
/// a check, retransmission and the deliberate bugs.
fn raft_flags<S: System<Config = RaftConfig, Role = RaftRole>>(app: App<S>) -> App<S> {
    app.size_flag(RaftRole::Server, "servers", 3, "Number of Raft servers")
        .config_flag(MAX_TERM)
        .config_flag(MAX_LOG)
        .config_flag(MAX_RETRIES)
        .config_flag(RETRANSMIT)
        .config_flag(COMPACT_AFTER)
        .config_flag(PRE_VOTE)
        .config_flag(CHECK_QUORUM)
        .config_flag(VOTERS)
        .config_flag(MAX_CHANGES)
        .config_flag(RAFT_BROKEN)
        .config(raft_config)
        .refusing(raft_refusals)
        .allowing_deadlock(RAFT_BOUNDED_STALLS)
}

/// The Raft settings the flags ask for.
/// Membership flags the Raft setup cannot honour as given.
fn raft_refusals<S: System<Config = RaftConfig, Role = RaftRole>>(
    setup: &verdict::Setup<S>,
    use_: Use,
) -> Result<(), String> {
    let config = setup.config();
    let servers = setup
        .nodes()
        .iter()
        .filter(|&&n| S::role_of(n) == RaftRole::Server.id())
        .count();
    if usize::from(config.voters) > servers {
        return Err(format!(
            "--voters {} is more than the {servers} servers: give at most --voters {servers}, or 0 for all",
            config.voters
        ));
    }
    if config.max_changes > 0 && use_ == Use::Deploy {
        return Err(
            "--max-changes is a bound for checks: deployed, a leader would pick membership changes at random; deploy with --max-changes 0"
                .into(),
        );
    }
    Ok(())
}

fn raft_config(flags: &Flags) -> RaftConfig {
    let bug = match flags.get(RAFT_BROKEN).as_deref() {
        Some("commit-old-term") => Some(RaftBug::CommitByCountingOldTerms),
        Some("voted-for-not-durable") => Some(RaftBug::VotedForNotDurable),
        Some("vote-without-log-check") => Some(RaftBug::VoteWithoutLogCheck),
        Some("snapshot-over-matching-log") => Some(RaftBug::SnapshotOverMatchingLog),
        Some("pre-vote-ignores-leader") => Some(RaftBug::PreVoteIgnoresLeader),
        Some("membership-without-own-term-commit") => Some(RaftBug::MembershipWithoutOwnTermCommit),
        _ => None,
    };
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    RaftConfig {
        max_term: clamp(flags.get(MAX_TERM)),
        max_log: flags.get(MAX_LOG) as u64,
        max_retries: flags.get(MAX_RETRIES).map(clamp),
        retransmit: flags.get(RETRANSMIT),
        compact_after: flags.get(COMPACT_AFTER) as u64,
        pre_vote: flags.get(PRE_VOTE),
        check_quorum: flags.get(CHECK_QUORUM),
        voters: u8::try_from(flags.get(VOTERS)).unwrap_or(u8::MAX),
        max_changes: clamp(flags.get(MAX_CHANGES)),
        bug,
    }
}

/// The program for the store served as `S`, whose clients are `clients`.
fn app<S: System<Input = KvInput>>(clients: S::Role) -> App<S> {
    App::<S>::new("kv")
        .about("The key-value store, single-server or replicated, checked for linearizability")
        .size_flag(clients, "clients", 2, "Number of clients")
        .flag(OPS)
        .workload(move |setup, flags| kv::workload(setup, clients, flags.get(OPS)))
}

/// The program for the store replicated by primary-backup, as `S`.
fn replicated<S: System<Input = KvInput, Role = PbRole>>() -> App<S> {
    app::<S>(PbRole::Client).config_flag(BROKEN)
}

/// The primary-backup settings `--broken` asks for.
fn pb_config(flags: &Flags) -> PbConfig {
    let bug = match flags.get(BROKEN).as_deref() {
        Some("reply-before-ack") => Some(PbBug::ReplyBeforeAck),
        Some("no-state-transfer") => Some(PbBug::NoStateTransfer),
        _ => None,
    };
    PbConfig {
        bug,
        ..PbConfig::default()
    }
}
