//! In-process checks of the runtime's pieces on the example systems: the
//! input syntax and cluster-file validation (storage has its own file,
//! `runtime_storage.rs`).

#![cfg(feature = "runtime")]

use verdict::runtime::{input_names, parse_input, parse_node, ClusterFile};
use verdict::transform::Raft;
use verdict_examples::kv::{KvInput, Store};
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
fn a_system_whose_input_is_the_users_own_type_takes_that_types_variants() {
    // Raft declares `input type Command = M::Input`: its inputs are the
    // store's, not one called Command.
    type RaftKv = Raft<Store>;
    assert_eq!(input_names::<RaftKv>(), ["Get", "Put", "Del", "Cas", "Cad"]);
    assert_eq!(
        parse_input::<RaftKv>("Put(1, 7)").unwrap(),
        KvInput::Put(1, 7)
    );
    let err = parse_input::<RaftKv>("Command(1)").unwrap_err();
    assert!(err.contains("inputs are: Get, Put, Del, Cas, Cad"), "{err}");
    assert_eq!(input_names::<LockServ>(), ["Lock", "Unlock"]);
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
        insecure = true
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
    let mut secure = file.clone();
    secure.insecure = false;
    let err = secure.resolve::<LockServ>(()).unwrap_err().0;
    assert!(
        err.contains("no [tls] section") && err.contains("insecure = true"),
        "{err}"
    );
    let mut twice = file.clone();
    twice.nodes[0].name = "Client(0)".into();
    assert!(twice
        .resolve::<LockServ>(())
        .unwrap_err()
        .0
        .contains("listed twice"));
}
