//! In-process checks of the runtime's pieces on the example systems: the
//! input syntax, cluster-file validation, and log recovery.

#![cfg(feature = "runtime")]

use verdict::runtime::wal::{Record, SyncMode, Wal};
use verdict::runtime::{parse_input, parse_node, recovery, ClusterFile};
use verdict::{Setup, Sizes};
use verdict_examples::counter::{self, Counter};
use verdict_examples::lockserv::{self, LockServ};
use verdict_examples::pingpong::{self, PingPong};

#[test]
fn inputs_are_written_as_variant_names_with_json_arguments() {
    assert_eq!(
        parse_input::<LockServ>("Lock").unwrap(),
        lockserv::Input::Lock(lockserv::input::Lock)
    );
    assert_eq!(
        parse_input::<PingPong>("Remind(250)").unwrap(),
        pingpong::Input::Remind(pingpong::input::Remind(250))
    );
    let start = pingpong::Input::Start(pingpong::input::Start {
        count: 5,
        window: 2,
        report_every: 1,
    });
    assert_eq!(
        parse_input::<PingPong>(r#"Start{"count": 5, "window": 2, "report_every": 1}"#).unwrap(),
        start
    );
    assert_eq!(
        parse_input::<PingPong>(r#"{"Start": {"count": 5, "window": 2, "report_every": 1}}"#)
            .unwrap(),
        start
    );
    let err = parse_input::<LockServ>("Grab").unwrap_err();
    assert!(err.contains("inputs are: Lock, Unlock"), "{err}");
    assert!(parse_input::<PingPong>("Remind(\"soon\")").is_err());
    assert!(parse_input::<PingPong>("Remind(1").is_err());
}

#[test]
fn node_names_parse_as_they_print() {
    assert_eq!(
        parse_node::<LockServ>("Client(2)").unwrap(),
        lockserv::Node::Client(2)
    );
    assert_eq!(
        parse_node::<LockServ>(" Server ").unwrap(),
        lockserv::Node::Server
    );
    for bad in [
        "Server(0)",
        "Client",
        "Client(x)",
        "Client(256)",
        "Clerk(1)",
        "Client(1",
    ] {
        assert!(parse_node::<LockServ>(bad).is_err(), "{bad}");
    }
}

#[test]
fn cluster_files_must_name_exactly_one_run() {
    let file: ClusterFile = toml::from_str(
        r#"
        cluster_id = "c"
        [[node]]
        name = "Client(1)"
        addr = "127.0.0.1:7002"
        data_dir = "c1"
        [[node]]
        name = "Server"
        addr = "127.0.0.1:7000"
        data_dir = "s"
        [[node]]
        name = "Client(0)"
        addr = "127.0.0.1:7001"
        data_dir = "c0"
        "#,
    )
    .unwrap();
    let d = file.resolve::<LockServ>(()).unwrap();
    assert_eq!(d.names(), ["Server", "Client(0)", "Client(1)"]);
    assert_eq!(d.addrs[2].port(), 7002);
    let mut dup = file.clone();
    dup.nodes[0].addr = "127.0.0.1:7000".into();
    assert!(dup
        .resolve::<LockServ>(())
        .unwrap_err()
        .0
        .contains("used by another node"));
    let mut twice = file.clone();
    twice.nodes[0].name = "Client(0)".into();
    assert!(twice
        .resolve::<LockServ>(())
        .unwrap_err()
        .0
        .contains("listed twice"));
}

#[test]
fn recovery_replays_the_good_prefix_then_the_caller_crashes_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let setup: Setup<Counter> = Setup::new(&Sizes::new()).unwrap();
    let mut wal = Wal::open(dir.path(), 0, SyncMode::Group).unwrap();
    let inc = || Record::<Counter>::Input(counter::Input::Increment(counter::input::Increment));
    wal.append(&Record::<Counter>::Start);
    for _ in 0..3 {
        wal.append(&inc());
    }
    assert_eq!(wal.commit().unwrap(), 4);
    drop(wal);
    let r = recovery::recover::<Counter>(dir.path(), counter::Node::Primary, &setup).unwrap();
    assert_eq!((r.replayed, r.next_seq, r.fresh), (4, 4, false));
    assert!(r.cut.is_none());
    assert_eq!(
        format!("{:?}", r.state),
        "Primary(PrimaryState { value: 3 })"
    );

    // A torn record at the end is cut off on disk, once.
    let path = dir.path().join("wal.log");
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    let r = recovery::recover::<Counter>(dir.path(), counter::Node::Primary, &setup).unwrap();
    assert_eq!(r.replayed, 3);
    assert!(r.cut.as_ref().unwrap().1.contains("torn record"));
    let r = recovery::recover::<Counter>(dir.path(), counter::Node::Primary, &setup).unwrap();
    assert!(
        r.cut.is_none(),
        "the bad tail is gone after the first recovery"
    );

    // An empty directory is a first start.
    let fresh = tempfile::tempdir().unwrap();
    let r = recovery::recover::<Counter>(fresh.path(), counter::Node::Backup, &setup).unwrap();
    assert!(r.fresh);
}
