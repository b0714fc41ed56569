//! Upgrading a live lock server deployment one process at a time: version
//! 1 processes (`lockserv serve`) replaced by version 2 ones (`lockserv
//! serve --transform upgrade-v2`) on the same data directories, under a
//! client workload that keeps speaking version 1; the migration of a data
//! directory crashed at every disk operation; version 1 refusing a
//! directory version 2 wrote.

#![cfg(feature = "runtime")]

use crate::support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use support::{eventually, lock_round, Deployment, PATIENCE};
use verdict::runtime::codec::{self, FrameKind, Hello};
use verdict::runtime::disk::{CrashMode, Disk, OsDisk, SimDisk};
use verdict::runtime::live_upgrade::{LivePlan, LiveUpgrade, MIGRATED_SNAPSHOT};
use verdict::runtime::recovery::{self, Owner};
use verdict::runtime::wal::{Record, SyncMode, Wal};
use verdict::runtime::{datadir, snapshot, Client};
use verdict::transform::upgrade::{Upgrade, Versioned};
use verdict::{Setup, System};
use verdict_examples::lockserv::{self, input, msg, LockServ, Msg, Node};
use verdict_examples::lockserv_upgrade::{v2, ToV2};

const EXE: &str = env!("CARGO_BIN_EXE_lockserv");
const CLIENTS: [&str; 2] = ["Client(0)", "Client(1)"];
const V2: [&str; 2] = ["--transform", "upgrade-v2"];

/// `rounds` lock/unlock rounds by every client at once; `lock_round`
/// fails the test if a client is told `Locked` while another holds the
/// lock. Returns once every client has finished its rounds and the
/// server holds no lock and no waiter.
fn workload(d: &Deployment, rounds: usize) {
    let holder = Mutex::new(None);
    std::thread::scope(|scope| {
        for name in CLIENTS {
            let (d, holder) = (&d, &holder);
            scope.spawn(move || {
                for _ in 0..rounds {
                    lock_round::<LockServ>(d, name, holder, Duration::from_millis(2));
                }
            });
        }
    });
    eventually("the server to be idle", || server_idle(d).then_some(()));
}

/// Runs `during` while client `busy` keeps doing lock/unlock rounds, each
/// of which must complete; returns how many it did (the last one begun
/// after `during` returned). Which rounds overlap the restart is up to
/// the scheduler: the test asserts completion, not timing.
fn with_traffic(d: &mut Deployment, busy: &str, during: impl FnOnce(&mut Deployment)) -> usize {
    let (addr, access) = (d.addrs[busy], d.access.clone());
    let stop = AtomicBool::new(false);
    let rounds = std::thread::scope(|scope| {
        let stop = &stop;
        let traffic = scope.spawn(move || {
            let mut rounds = 0;
            loop {
                let last = stop.load(Ordering::Acquire);
                let mut c = Client::<LockServ>::connect_with(addr, busy, &access, false, PATIENCE)
                    .expect("connect");
                c.submit(lockserv::Input::Lock(input::Lock)).unwrap();
                let out = c.next_output(PATIENCE).unwrap().expect("Locked");
                assert!(matches!(out.output, lockserv::Output::Locked(_)));
                c.submit(lockserv::Input::Unlock(input::Unlock)).unwrap();
                rounds += 1;
                if last {
                    return rounds;
                }
            }
        });
        during(d);
        stop.store(true, Ordering::Release);
        traffic.join().expect("the traffic thread")
    });
    eventually("the server to be idle", || server_idle(d).then_some(()));
    rounds
}

/// Whether the server (of either version) holds no lock and no waiter.
fn server_idle(d: &Deployment) -> bool {
    let state = d.client::<LockServ>("Server").state().unwrap();
    state.iter().all(|(k, v)| match k.as_str() {
        "queue" | "new.waiting" => v == "[]" || v == "-",
        "new.holder" => v == "None" || v == "-",
        _ => true,
    })
}

fn field(d: &Deployment, node: &str, name: &str) -> String {
    let state = d.client::<LockServ>(node).state().unwrap();
    state
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{node} has no field {name}"))
        .1
}

/// Client `name` takes the lock and reports its state field `held_field`
/// while it holds it, then unlocks.
fn held_while_locked(d: &Deployment, name: &str, held_field: &str) -> String {
    let mut c = d.client::<LockServ>(name);
    c.submit(lockserv::Input::Lock(input::Lock)).unwrap();
    let out = c.next_output(PATIENCE).unwrap().expect("Locked");
    assert!(matches!(out.output, lockserv::Output::Locked(_)));
    let held = field(d, name, held_field);
    c.submit(lockserv::Input::Unlock(input::Unlock)).unwrap();
    eventually("the server to be idle", || server_idle(d).then_some(()));
    held
}

/// Stops `name` (SIGKILL, or SIGTERM and a wait) and starts it again as
/// version 2 on the same data directory; checks the migration kept every
/// record the old process logged.
fn upgrade(d: &mut Deployment, name: &str, kill: bool) {
    let logged = d.stat::<LockServ>(name, "log_next_seq");
    if kill {
        d.kill9(name);
    } else {
        d.signal(name, "TERM");
        eventually("the node to stop", || d.exit_status(name));
    }
    d.set_extra(&V2);
    d.start(name);
    let log = d.log(name);
    let said = format!(
        "{name} migrated its data directory to version LockServV2 at log position {logged} "
    );
    assert!(log.contains(&said), "expected `{said}` in:\n{log}");
    let dir = d.data_dir(name);
    let identity = std::fs::read_to_string(dir.join(datadir::IDENTITY_FILE)).unwrap();
    assert!(identity.contains("version = \"LockServV2\""), "{identity}");
    assert!(!dir.join(MIGRATED_SNAPSHOT).exists());
    // Every record of the old log is in the migrated snapshot, in the new
    // format; the upgraded process logged its restart after it.
    let snap = snapshot::read::<Upgrade<ToV2>>(&OsDisk, &dir)
        .unwrap()
        .expect("a migrated snapshot");
    assert_eq!(snap.next_seq, logged);
    assert!(matches!(snap.state, Versioned::New(_)));
    assert!(d.stat::<LockServ>(name, "log_next_seq") > logged);
}

#[test]
fn three_processes_upgrade_one_at_a_time_under_a_workload() {
    let names = ["Server", CLIENTS[0], CLIENTS[1]];
    let mut d = Deployment::new(EXE, &names, &[]);
    d.start_all();
    workload(&d, 3);
    assert_eq!(field(&d, CLIENTS[0], "held"), "false");

    // A client first (killed, while the other client keeps locking and
    // unlocking): version 2 among version 1 peers. Its grants come from
    // the old server, through the `up` adapter: token 0.
    let rounds = with_traffic(&mut d, CLIENTS[1], |d| upgrade(d, CLIENTS[0], true));
    assert!(rounds >= 1);
    workload(&d, 3);
    assert_eq!(held_while_locked(&d, CLIENTS[0], "new.held"), "Some(0)");
    assert_eq!(held_while_locked(&d, CLIENTS[1], "held"), "true");

    // The server (killed): version 2 talks down to the old client and in
    // its own encoding to the new one, whose grants now carry real tokens.
    upgrade(&mut d, "Server", true);
    workload(&d, 3);
    let token = held_while_locked(&d, CLIENTS[0], "new.held");
    assert!(
        token.starts_with("Some(") && token != "Some(0)",
        "a grant from the upgraded server to the upgraded client should carry a token: {token}"
    );
    assert_eq!(held_while_locked(&d, CLIENTS[1], "held"), "true");
    assert!(d
        .log(CLIENTS[0])
        .contains("peer reads the upgraded version's messages"));

    // The last client (stopped with SIGTERM, under the other's traffic):
    // every node runs version 2.
    let rounds = with_traffic(&mut d, CLIENTS[0], |d| upgrade(d, CLIENTS[1], false));
    assert!(rounds >= 1);
    workload(&d, 3);
    let token = held_while_locked(&d, CLIENTS[1], "new.held");
    assert!(token.starts_with("Some(") && token != "Some(0)", "{token}");

    // An upgraded node restarts as version 2 with nothing left to migrate.
    d.kill9("Server");
    d.start("Server");
    assert!(!d
        .log("Server")
        .contains("migrated its data directory to version LockServV2 at log position 0"));
    workload(&d, 2);

    // Version 1 refuses a directory version 2 wrote, and says why.
    d.kill9(CLIENTS[0]);
    d.set_extra(&[]);
    let (code, out) = d.start_refused(CLIENTS[0]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("downgrading a data directory is not supported"),
        "{out}"
    );
    d.set_extra(&V2);
    d.start(CLIENTS[0]);
    workload(&d, 2);
    for name in names {
        assert!(!d.log(name).contains("panicked"), "{}", d.log(name));
        // The correct plan's adapters refuse nothing.
        assert_eq!(d.stat::<LockServ>(name, "upgrade_adapter_refused"), 0);
    }
}

const OWNER: Owner<'static> = Owner {
    cluster_id: "test",
    node: "Server",
};

fn lock_from(client: u8) -> Record<LockServ> {
    Record::Message {
        from: Node::Client(client),
        msg: Msg::Lock(msg::Lock),
    }
}

/// A version 1 server directory: a snapshot after two records (Client(0)
/// holds the lock), and a log of three (Client(1) waits).
fn v1_server(disk: &dyn Disk, dir: &Path, setup: &Setup<LockServ>) {
    let r = recovery::recover::<LockServ>(disk, dir, OWNER, Node::Server, setup).unwrap();
    let inc = r.identity.incarnation();
    let mut wal = Wal::open(disk, dir, inc, 0, SyncMode::Group).unwrap();
    wal.append(&Record::<LockServ>::Start);
    wal.append(&lock_from(0));
    wal.append(&lock_from(1));
    wal.commit().unwrap();
    let mut queue = std::collections::VecDeque::new();
    queue.push_back(Node::Client(0));
    let state = lockserv::State::Server(lockserv::ServerState { queue });
    snapshot::write::<LockServ>(disk, dir, inc, 2, &state).unwrap();
}

fn old_queue(disk: &dyn Disk, dir: &Path, setup: &Setup<LockServ>) -> Result<String, String> {
    recovery::recover::<LockServ>(disk, dir, OWNER, Node::Server, setup)
        .map(|r| format!("{:?}", r.state))
        .map_err(|r| r.to_string())
}

#[test]
fn a_migration_crashed_at_any_disk_operation_leaves_the_old_or_the_new_directory() {
    let setup = lockserv::setup(2).unwrap();
    let up_setup = setup.with_system::<Upgrade<ToV2>>(());
    let dir = Path::new("/data/server");
    let plan = LivePlan::<ToV2>::new();
    let migrated =
        Versioned::<lockserv::State, v2::State>::New(v2::State::Server(v2::ServerState {
            holder: Some(v2::Node::Client(0)),
            waiting: [v2::Node::Client(1)].into_iter().collect(),
            tokens: 0,
        }));
    let v1_state = {
        let disk = SimDisk::new();
        v1_server(&disk, dir, &setup);
        old_queue(&disk, dir, &setup).unwrap()
    };
    assert!(v1_state.contains("Client(0), Client(1)"), "{v1_state}");
    let (mut old, mut new) = (0, 0);
    for mode in [
        CrashMode::LoseUnsynced,
        CrashMode::TearLastWrite,
        CrashMode::KeepAll,
    ] {
        for k in 0.. {
            let disk = SimDisk::new();
            v1_server(&disk, dir, &setup);
            disk.crash_at(disk.ops() + k);
            let done = plan
                .open(&disk, dir, OWNER, Node::Server, &up_setup)
                .is_ok();
            disk.reboot(mode);
            let id = datadir::load_identity(&disk, dir)
                .unwrap()
                .expect("identity");
            match id.version.as_deref() {
                None => {
                    assert!(!done, "a finished migration left an old identity");
                    // The old program still reads the old state, intact.
                    assert_eq!(old_queue(&disk, dir, &setup).unwrap(), v1_state);
                    old += 1;
                }
                Some(v) => {
                    assert_eq!(v, "LockServV2");
                    let refusal = old_queue(&disk, dir, &setup).unwrap_err();
                    assert!(refusal.contains("downgrading"), "{refusal}");
                    new += 1;
                }
            }
            // Either way the upgraded program (again) ends with the
            // migrated state at the old log's end.
            let opened = plan
                .open(&disk, dir, OWNER, Node::Server, &up_setup)
                .unwrap_or_else(|r| panic!("crash at op {k} ({mode:?}): {r}"));
            assert_eq!(opened.recovered.state, migrated, "crash at op {k}");
            assert_eq!(opened.recovered.next_seq, 3);
            assert!(!disk.exists(&dir.join(MIGRATED_SNAPSHOT)));
            if done {
                assert!(opened.migrated.is_none());
                break;
            }
        }
    }
    assert!(old > 0 && new > 0, "old {old}, new {new}");
}

#[test]
fn a_first_start_of_version_2_records_its_version() {
    let setup = lockserv::setup(2).unwrap().with_system::<Upgrade<ToV2>>(());
    let disk = SimDisk::new();
    let dir = Path::new("/data/fresh");
    let opened = LivePlan::<ToV2>::new()
        .open(&disk, dir, OWNER, Node::Server, &setup)
        .unwrap();
    assert!(opened.recovered.fresh && opened.migrated.is_none());
    assert!(matches!(opened.recovered.state, Versioned::New(_)));
    let id = datadir::load_identity(&disk, dir).unwrap().unwrap();
    assert_eq!(id.version.as_deref(), Some(v2::LockServV2::meta().name));
    let v1 = lockserv::setup(2).unwrap();
    assert!(old_queue(&disk, dir, &v1)
        .unwrap_err()
        .contains("downgrading"));
}

/// A raw peer connection to `node` claiming to be `Client(0)`, its hello
/// marked as the upgraded version's or not.
fn raw_peer(d: &Deployment, node: &str, marked: bool) -> std::net::TcpStream {
    use std::io::Write;
    let id = codec::cluster_id(&d.cluster_id);
    let hello = Hello::Peer {
        name: CLIENTS[0].into(),
        config: codec::config_hash(&()),
    };
    let mark = if marked { codec::UPGRADED } else { 0 };
    let frame = codec::encode_marked(FrameKind::Hello, id, 1, mark, &codec::to_payload(&hello));
    let mut tcp = std::net::TcpStream::connect(d.addrs[node]).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    tcp.write_all(&frame).unwrap();
    tcp
}

/// Whether nothing arrives on `tcp` within its read timeout.
fn silent(tcp: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 64];
    matches!(tcp.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Whether the node closed `tcp` (rather than letting the read time out).
fn closed(tcp: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 64];
    match tcp.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

#[test]
fn only_an_upgraded_node_answers_a_marked_hello_and_version_1_refuses_new_messages() {
    use std::io::Write;
    let names = ["Server", CLIENTS[0], CLIENTS[1]];
    let mut d = Deployment::new_insecure(EXE, &names, &[]);
    d.start("Server");
    let id = codec::cluster_id(&d.cluster_id);

    // Version 1 never writes on a peer's connection, marked hello or not.
    let mut tcp = raw_peer(&d, "Server", true);
    assert!(silent(&mut tcp));
    // A message in version 2's encoding closes the connection, said so.
    let acquire = v2::Msg::Acquire(v2::msg::Acquire);
    let frame = codec::encode_marked(
        FrameKind::Message,
        id,
        1,
        codec::UPGRADED,
        &codec::to_payload(&acquire),
    );
    tcp.write_all(&frame).unwrap();
    assert!(closed(&mut tcp));
    eventually("the refusal in the log", || {
        d.log("Server")
            .contains("which this node (the version before it) cannot read")
            .then_some(())
    });

    // Version 2 answers a marked hello with its own, and only that one.
    d.kill9("Server");
    d.set_extra(&V2);
    d.start("Server");
    let mut tcp = raw_peer(&d, "Server", true);
    let (header, payload) = codec::read_frame(&mut tcp, id, 1 << 10).unwrap();
    assert_eq!(
        (header.kind, header.mark),
        (FrameKind::Hello, codec::UPGRADED)
    );
    let answer: Hello = codec::from_payload(&payload).unwrap();
    assert!(matches!(answer, Hello::Peer { name, .. } if name == "Server"));
    let mut plain = raw_peer(&d, "Server", false);
    assert!(silent(&mut plain));
    // A mark no version uses closes the connection instead of being read
    // as one it knows.
    let frame = codec::encode_marked(FrameKind::Message, id, 1, 7, &codec::to_payload(&acquire));
    plain.write_all(&frame).unwrap();
    assert!(closed(&mut plain));
    eventually("the refusal in the log", || {
        d.log("Server")
            .contains("version mark 7, which this build does not know")
            .then_some(())
    });
}
