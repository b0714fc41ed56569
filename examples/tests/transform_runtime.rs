//! Transformed systems as real processes under the runtime's fault
//! injection: the reliable lock server on a network that drops, duplicates
//! and reorders, and the primary-backup store through `kill -9` of a
//! replica and the Raft store through `kill -9` of its leader, their
//! histories checked for linearizability; and each store through a full
//! restart, every server killed at once.
//!
//! Waits are for events (with generous patience), never for a duration,
//! except where a test shows that something does *not* happen.

#![cfg(feature = "runtime")]

use crate::support;

use std::sync::Mutex;
use std::time::Duration;

use support::{eventually, lock_round, Deployment, PATIENCE};
use verdict::lin::{self, History};
use verdict::runtime::Client;
use verdict::transform::state_machine::Sequential;
use verdict::transform::{PrimaryBackup, Raft, Reliable};
use verdict_examples::kv::{KvInput, KvOutput, Store};
use verdict_examples::lockserv::{input, Input, LockServ, Output};

const LOCKSERV: &str = env!("CARGO_BIN_EXE_lockserv");
const KV: &str = env!("CARGO_BIN_EXE_kv");

type ReliableLock = Reliable<LockServ>;

fn lock() -> Input {
    Input::Lock(input::Lock)
}

#[test]
fn a_lost_message_stalls_the_bare_lock_server_and_is_retransmitted_by_reliable() {
    // Each node loses the first message it sends.
    let faults = ["--faults", "drop=1", "--fault-rate", "1"];
    let names = ["Server", "Client(0)"];

    let mut bare = Deployment::new(LOCKSERV, &names, &faults);
    bare.start_all();
    let mut c = bare.client::<LockServ>("Client(0)");
    c.submit(lock()).unwrap();
    assert!(c.next_output(Duration::from_millis(500)).unwrap().is_none());

    let args = [&faults[..], &["--transform", "reliable"]].concat();
    let mut d = Deployment::new(LOCKSERV, &names, &args);
    d.start_all();
    let mut c = d.client::<ReliableLock>("Client(0)");
    c.submit(lock()).unwrap();
    let out = c
        .next_output(PATIENCE)
        .unwrap()
        .expect("Locked, after retransmission");
    assert!(matches!(out.output, Output::Locked(_)));
    assert_eq!(d.stat::<ReliableLock>("Client(0)", "injected_drops"), 1);
    assert_eq!(d.stat::<ReliableLock>("Server", "injected_drops"), 1);
}

#[test]
fn a_duplicated_grant_is_told_twice_by_the_bare_lock_server_and_once_by_reliable() {
    // Every message is sent twice, up to three per node.
    let faults = ["--faults", "dup=3", "--fault-rate", "1"];
    let names = ["Server", "Client(0)"];

    let mut bare = Deployment::new(LOCKSERV, &names, &faults);
    bare.start_all();
    let mut c = bare.client::<LockServ>("Client(0)");
    c.submit(lock()).unwrap();
    assert!(c.next_output(PATIENCE).unwrap().is_some());
    let again = c.next_output(PATIENCE).unwrap();
    assert!(again.is_some(), "the duplicated Grant is told again");

    let args = [&faults[..], &["--transform", "reliable"]].concat();
    let mut d = Deployment::new(LOCKSERV, &names, &args);
    d.start_all();
    let mut c = d.client::<ReliableLock>("Client(0)");
    c.submit(lock()).unwrap();
    assert!(c.next_output(PATIENCE).unwrap().is_some());
    // The duplicate arrives and is acknowledged, not delivered again.
    eventually("the client to receive the duplicated grant", || {
        (d.stat::<ReliableLock>("Client(0)", "messages_in") >= 2).then_some(())
    });
    assert!(c.next_output(Duration::from_millis(300)).unwrap().is_none());
}

#[test]
fn reliable_lock_server_keeps_mutual_exclusion_on_a_harsh_network() {
    let names = ["Server", "Client(0)", "Client(1)", "Client(2)"];
    let args = [
        "--transform",
        "reliable",
        "--faults",
        "drop,dup,reorder",
        "--fault-rate",
        "0.2",
        "--max-delay-ms",
        "20",
        "--monitor",
    ];
    let mut d = Deployment::new(LOCKSERV, &names, &args);
    d.start_all();
    let holder = Mutex::new(None);
    std::thread::scope(|scope| {
        for name in &names[1..] {
            let (d, holder) = (&d, &holder);
            scope.spawn(move || {
                for _ in 0..4 {
                    lock_round::<ReliableLock>(d, name, holder, Duration::from_millis(2));
                }
            });
        }
    });
    let injected: u64 = names
        .iter()
        .map(|n| {
            d.stat::<ReliableLock>(n, "injected_drops")
                + d.stat::<ReliableLock>(n, "injected_dups")
                + d.stat::<ReliableLock>(n, "injected_delays")
        })
        .sum();
    assert!(injected > 0, "the network did misbehave");
    for n in names {
        assert!(!d.log(n).contains("invariant violated"), "{}", d.log(n));
    }
}

type Pb = PrimaryBackup<Store>;
type ReliablePb = Reliable<Pb>;

/// Runs `ops` through `client` (connected to client node number `id`),
/// recording invocations and returns in `history` in real-time order.
fn run_ops<S>(
    mut client: Client<S>,
    id: u64,
    ops: &[KvInput],
    history: &Mutex<History<KvInput, KvOutput>>,
) where
    S: verdict::System<Input = KvInput, Output = KvOutput>,
{
    for op in ops {
        let at = history.lock().unwrap().invoke(id, op.clone());
        client.submit(op.clone()).unwrap();
        let out = client
            .next_output(PATIENCE)
            .unwrap()
            .unwrap_or_else(|| panic!("Client({id}): no reply to {op:?}"));
        history.lock().unwrap().complete(at, out.output).unwrap();
    }
}

/// Waits until `n` operations of `history` have returned.
fn wait_for_returns(history: &Mutex<History<KvInput, KvOutput>>, n: usize) {
    eventually("operations to complete before the kill", || {
        let h = history.lock().unwrap();
        let done = h
            .operations()
            .iter()
            .filter(|o| o.finished_at.is_some())
            .count();
        (done >= n).then_some(())
    });
}

fn ops_of(client: usize) -> Vec<KvInput> {
    let script = &verdict_examples::kv::SCRIPTS[client % 3];
    script.iter().cycle().take(6).cloned().collect()
}

fn assert_linearizable(history: &History<KvInput, KvOutput>) {
    let verdict = lin::check_history(&Sequential::<Store>::new(), history);
    assert!(
        verdict.is_linearizable(),
        "{}",
        verdict
            .explanation()
            .map(|e| e.to_text(history))
            .unwrap_or_default()
    );
}

#[test]
fn primary_backup_store_is_linearizable_as_real_processes() {
    let names = ["Primary", "Backup", "Client(0)", "Client(1)"];
    let mut d = Deployment::new(KV, &names, &["--transform", "primary-backup"]);
    d.start_all();
    let history = Mutex::new(History::new());
    std::thread::scope(|scope| {
        for (i, name) in names[2..].iter().enumerate() {
            let (client, history) = (d.client::<Pb>(name), &history);
            scope.spawn(move || run_ops(client, i as u64, &ops_of(i), history));
        }
    });
    let history = history.into_inner().unwrap();
    assert_eq!(history.len(), 12);
    assert_linearizable(&history);
}

/// A field of a node's state, as its `Debug` text.
fn field<S: verdict::System>(d: &Deployment, node: &str, name: &str) -> String {
    let state = d.client::<S>(node).state().unwrap();
    state
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{node} has no field {name}"))
}

#[test]
fn reliable_primary_backup_survives_a_harsh_network_and_kill_9_of_each_replica() {
    let names = ["Primary", "Backup", "Client(0)", "Client(1)"];
    let args = [
        "--transform",
        "reliable-primary-backup",
        "--faults",
        "drop,dup,reorder",
        "--fault-rate",
        "0.1",
        "--max-delay-ms",
        "20",
    ];
    let mut d = Deployment::new(KV, &names, &args);
    d.start_all();
    let history = Mutex::new(History::new());
    for (round, replica) in ["Backup", "Primary"].into_iter().enumerate() {
        let clients: Vec<Client<ReliablePb>> = names[2..]
            .iter()
            .map(|n| d.client::<ReliablePb>(n))
            .collect();
        std::thread::scope(|scope| {
            for (i, client) in clients.into_iter().enumerate() {
                let history = &history;
                scope.spawn(move || run_ops(client, i as u64, &ops_of(i), history));
            }
            // Once some operations of this round have returned, the replica
            // dies mid-run and comes back with an empty memory.
            wait_for_returns(&history, 12 * round + 3);
            d.kill9(replica);
            d.start(replica);
        });
        // It asked its peer for the state and serves again.
        eventually("the restarted replica to recover", || {
            (field::<ReliablePb>(&d, replica, "recovering") == "false").then_some(())
        });
    }
    let history = history.into_inner().unwrap();
    assert_eq!(history.len(), 24);
    assert_linearizable(&history);
    let applied = field::<ReliablePb>(&d, "Backup", "applied");
    let committed = field::<ReliablePb>(&d, "Primary", "committed");
    assert_eq!(applied, committed, "the replicas agree at the end");
    let injected: u64 = names
        .iter()
        .map(|n| {
            d.stat::<ReliablePb>(n, "injected_drops") + d.stat::<ReliablePb>(n, "injected_dups")
        })
        .sum();
    assert!(injected > 0, "the network did misbehave");
}

#[test]
fn primary_backup_survives_kill_9_of_both_replicas_at_once() {
    let names = ["Primary", "Backup", "Client(0)", "Client(1)"];
    let mut d = Deployment::new(KV, &names, &["--transform", "primary-backup"]);
    d.start_all();
    let history = Mutex::new(History::new());
    let clients: Vec<Client<Pb>> = names[2..].iter().map(|n| d.client::<Pb>(n)).collect();
    std::thread::scope(|scope| {
        for (i, client) in clients.into_iter().enumerate() {
            let history = &history;
            scope.spawn(move || run_ops(client, i as u64, &ops_of(i), history));
        }
        // Mid-run, the whole service dies: both replicas, with requests in
        // flight. Each comes back from its own log, the two exchange
        // snapshots, and the clients are asked to resend.
        wait_for_returns(&history, 4);
        d.kill9("Primary");
        d.kill9("Backup");
        d.start("Backup");
        d.start("Primary");
    });
    for replica in ["Primary", "Backup"] {
        assert_eq!(
            field::<Pb>(&d, replica, "recovering"),
            "false",
            "{replica} recovered"
        );
    }
    let history = history.into_inner().unwrap();
    assert_eq!(history.len(), 12);
    // A store that forgot acknowledged writes would answer the later reads
    // and compare-and-sets of these scripts as if the key were unset.
    assert_linearizable(&history);
    let applied = field::<Pb>(&d, "Backup", "applied");
    let committed = field::<Pb>(&d, "Primary", "committed");
    assert_eq!(applied, committed, "the replicas agree at the end");
    // Reads are answered by the backup; every other command is logged once.
    let writes = (0..2)
        .flat_map(ops_of)
        .filter(|op| !matches!(op, KvInput::Get(_)))
        .count();
    assert_eq!(committed, writes.to_string(), "each write took effect once");
}

type RaftKv = Raft<Store>;

/// The server that leads now, by its own account (there may be none
/// between elections, or a deposed one that has not heard yet: the
/// highest term wins).
fn leader(d: &Deployment, servers: &[&str]) -> Option<String> {
    servers
        .iter()
        .filter(|s| field::<RaftKv>(d, s, "standing") == "Leader")
        .max_by_key(|s| {
            field::<RaftKv>(d, s, "current_term")
                .parse::<u32>()
                .unwrap_or(0)
        })
        .map(|s| s.to_string())
}

#[test]
fn raft_store_survives_kill_9_of_its_leader_twice_and_stays_linearizable() {
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    let names = [
        "Server(0)",
        "Server(1)",
        "Server(2)",
        "Client(0)",
        "Client(1)",
    ];
    let mut d = Deployment::new(KV, &names, &["--transform", "raft", "--retransmit"]);
    d.start_all();
    let history = Mutex::new(History::new());
    let mut killed = Vec::new();
    for round in 0..2 {
        let clients: Vec<Client<RaftKv>> =
            names[3..].iter().map(|n| d.client::<RaftKv>(n)).collect();
        std::thread::scope(|scope| {
            for (i, client) in clients.into_iter().enumerate() {
                let history = &history;
                scope.spawn(move || run_ops(client, i as u64, &ops_of(i), history));
            }
            wait_for_returns(&history, 12 * round + 3);
            // The leader dies mid-run; the others elect a new one, the
            // clients' resent requests reach it, and the dead one comes
            // back from its log as a follower.
            let victim = eventually("a leader", || leader(&d, &servers));
            d.kill9(&victim);
            d.start(&victim);
            killed.push(victim);
        });
    }
    let history = history.into_inner().unwrap();
    assert_eq!(history.len(), 24, "every operation returned");
    assert_linearizable(&history);
    // Every server, the restarted ones too, ends with the same committed
    // store.
    eventually("the servers to agree", || {
        let views: Vec<(String, String)> = servers
            .iter()
            .map(|s| {
                (
                    field::<RaftKv>(&d, s, "commit"),
                    field::<RaftKv>(&d, s, "machine"),
                )
            })
            .collect();
        views.windows(2).all(|w| w[0] == w[1]).then_some(())
    });
    assert_eq!(killed.len(), 2);
    // The command-line client speaks the store's own inputs, and with
    // --each waits for each output before the next input, so none of the
    // replies is lost to the client's one-request-at-a-time rule.
    let out = std::process::Command::new(KV)
        .args(["client", "--cluster"])
        .arg(&d.cluster_file)
        .args(["--transform", "raft", "--retransmit", "--node", "Client(0)"])
        .args(["Put(3, 9)", "Get(3)", "Del(3)", "Get(3)", "--each"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs: Vec<&str> = text.lines().filter(|l| l.contains(": output ")).collect();
    assert_eq!(outputs.len(), 4, "{text}");
    assert!(outputs[1].ends_with("output Value(9)"), "{text}");
}

/// Runs two rounds of the clients' scripts on a deployment of `S`, and in
/// the middle of the first kills every server at once with `kill -9` and
/// starts them again from their data directories: no acknowledged
/// operation is lost, every one returns, and the history is linearizable.
fn survives_a_full_restart<S>(args: &[&str], servers: &[&str])
where
    S: verdict::System<Input = KvInput, Output = KvOutput>,
{
    let clients = ["Client(0)", "Client(1)"];
    let names: Vec<&str> = servers.iter().chain(&clients).copied().collect();
    let mut d = Deployment::new(KV, &names, args);
    d.start_all();
    let history = Mutex::new(History::new());
    for round in 0..2 {
        let connected: Vec<Client<S>> = clients.iter().map(|n| d.client::<S>(n)).collect();
        std::thread::scope(|scope| {
            for (i, client) in connected.into_iter().enumerate() {
                let history = &history;
                scope.spawn(move || run_ops(client, i as u64, &ops_of(i), history));
            }
            if round == 0 {
                wait_for_returns(&history, 3);
                for s in servers {
                    d.kill9(s);
                }
                for s in servers {
                    d.start(s);
                }
            }
        });
    }
    let history = history.into_inner().unwrap();
    assert_eq!(history.len(), 24, "every operation returned");
    assert_linearizable(&history);
}

#[test]
fn raft_store_survives_a_full_restart() {
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    survives_a_full_restart::<RaftKv>(&["--transform", "raft", "--retransmit"], &servers);
}

/// With a snapshot every two applied entries, the servers come back from
/// their snapshots after a full restart.
#[test]
fn raft_store_with_log_compaction_survives_a_full_restart() {
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    let args = [
        "--transform",
        "raft",
        "--retransmit",
        "--compact-after",
        "2",
    ];
    survives_a_full_restart::<RaftKv>(&args, &servers);
}

/// A follower that was down while the leader compacted past everything it
/// holds catches up by `InstallSnapshot`: it ends with the others' store,
/// and its own log starts from a snapshot.
#[test]
fn a_restarted_follower_catches_up_by_snapshot() {
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    let names = ["Server(0)", "Server(1)", "Server(2)", "Client(0)"];
    let args = [
        "--transform",
        "raft",
        "--retransmit",
        "--compact-after",
        "2",
    ];
    let mut d = Deployment::new(KV, &names, &args);
    d.start_all();
    let history = Mutex::new(History::new());
    let leader_now = eventually("a leader", || leader(&d, &servers));
    let follower = servers
        .iter()
        .find(|s| **s != leader_now)
        .unwrap()
        .to_string();
    d.kill9(&follower);
    let client = d.client::<RaftKv>("Client(0)");
    run_ops(client, 0, &ops_of(0), &history);
    d.start(&follower);
    let others: Vec<&str> = servers.iter().copied().filter(|s| *s != follower).collect();
    eventually("the follower to catch up", || {
        let store = field::<RaftKv>(&d, others[0], "machine");
        let commit = field::<RaftKv>(&d, others[0], "commit");
        (field::<RaftKv>(&d, &follower, "machine") == store
            && field::<RaftKv>(&d, &follower, "commit") == commit)
            .then_some(())
    });
    let log = field::<RaftKv>(&d, &follower, "log");
    assert!(
        log.contains("base_index: ") && !log.contains("base_index: 0,"),
        "{log}"
    );
    assert_linearizable(&history.into_inner().unwrap());
}

#[test]
fn reliable_primary_backup_survives_a_full_restart() {
    let args = ["--transform", "reliable-primary-backup"];
    survives_a_full_restart::<ReliablePb>(&args, &["Primary", "Backup"]);
}
