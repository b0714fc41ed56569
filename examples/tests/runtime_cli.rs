//! The generated binary end to end: `cluster` starts a deployment, the
//! `client` subcommand talks to it, and bad flags or config exit 2.

#![cfg(feature = "runtime")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

const EXE: &str = env!("CARGO_BIN_EXE_lockserv");

fn lockserv(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().expect("run lockserv")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn cluster_and_client_subcommands_lock_and_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let mut cluster = Command::new(EXE)
        .args([
            "cluster",
            "--clients",
            "2",
            "--duration",
            "120",
            "--dir",
            dir_arg,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(cluster.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let file = loop {
        let line = lines.next().expect("cluster output").unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(path) = line.strip_prefix("cluster file: ") {
            break path.to_string();
        }
    };
    assert!(printed.contains("3 nodes of cluster"), "{printed}");
    for node in ["Server", "Client(0)", "Client(1)"] {
        assert!(printed.contains(node), "{printed}");
    }

    let c = |node: &str, inputs: &[&str]| {
        let mut args = vec!["client", "--cluster", &file, "--node", node];
        args.extend(inputs);
        lockserv(&args)
    };
    let out = c("Client(0)", &["Lock", "--expect", "1"]);
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(
        stdout(&out),
        "Client(0): input Lock accepted (log #1)\nClient(0): output Locked\n"
    );
    let out = c("Client(1)", &["Lock", "--wait-ms", "200"]);
    assert_eq!(stdout(&out), "Client(1): input Lock accepted (log #1)\n");
    let out = c("Client(0)", &["Unlock"]);
    assert!(stdout(&out).contains("input Unlock accepted"));
    // Client(1) was granted the lock while no client was connected to it.
    let out = c("Client(1)", &["--recent", "--expect", "1"]);
    // "(earlier)" unless the grant is still on its way.
    assert!(
        stdout(&out).starts_with("Client(1): output Locked"),
        "{out:?}"
    );
    let out = lockserv(&["client", "--cluster", &file, "--stats"]);
    assert!(
        stdout(&out).contains("Server:\n  node Server"),
        "{}",
        stdout(&out)
    );

    // Bad input syntax and unknown nodes are usage errors.
    let out = c("Client(0)", &["Grab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inputs are: Lock, Unlock"));
    let out = c("Client(7)", &["Lock"]);
    assert_eq!(out.status.code(), Some(2));

    // SIGTERM: `cluster` stops its nodes and says where the state is.
    let pid = cluster.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(cluster.wait().unwrap().success());
    assert!(
        rest.iter().any(|l| l.starts_with("stopped; state kept in")),
        "{rest:?}"
    );
}

#[test]
fn bad_configuration_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = lockserv(&[
        "serve",
        "--cluster",
        missing.to_str().unwrap(),
        "--node",
        "Server",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read cluster file"));

    let bad = dir.path().join("bad.toml");
    let write = |text: &str| std::fs::write(&bad, text).unwrap();
    let serve = || {
        lockserv(&[
            "serve",
            "--cluster",
            bad.to_str().unwrap(),
            "--node",
            "Server",
        ])
    };
    let cases = [
        ("cluster_id = 3", "cluster file"),
        ("cluster_id = \"x\"\n[[node]]\nname = \"Client(0)\"\naddr = \"127.0.0.1:1\"\ndata_dir = \"a\"\n", "no `Server` node"),
        ("cluster_id = \"x\"\n[[node]]\nname = \"Server\"\naddr = \"127.0.0.1:1\"\ndata_dir = \"a\"\n[[node]]\nname = \"Client(1)\"\naddr = \"127.0.0.1:2\"\ndata_dir = \"b\"\n", "`Client(0)` is missing"),
        ("cluster_id = \"x\"\n[[node]]\nname = \"Server\"\naddr = \"nowhere\"\ndata_dir = \"a\"\n", "not a host:port"),
        ("cluster_id = \"x\"\n[[node]]\nname = \"Sever\"\naddr = \"127.0.0.1:1\"\ndata_dir = \"a\"\n", "names no role"),
        ("cluster_id = \"x\"\n[[node]]\nname = \"Server\"\naddr = \"127.0.0.1:1\"\ndata_dir = \"a\"\nport = 3\n", "unknown field"),
        ("cluster_id = \"x\"\n[[node]]\nname = \"Server\"\naddr = \"127.0.0.1:1\"\ndata_dir = \"a\"\n", "no [tls] section"),
        ("cluster_id = \"x\"\n[tls]\nca = \"ca.pem\"\n[[node]]\nname = \"Server\"\naddr = \"127.0.0.1:1\"\ndata_dir = \"a\"\n", "has no cert and key"),
    ];
    for (text, message) in cases {
        write(text);
        let out = serve();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(
            err.contains(message),
            "{text}: expected `{message}` in {err}"
        );
    }
    let out = lockserv(&[
        "serve",
        "--cluster",
        "x.toml",
        "--node",
        "Server",
        "--fsync",
        "sometimes",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = lockserv(&[
        "serve",
        "--cluster",
        "x.toml",
        "--node",
        "Server",
        "--faults",
        "drip",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = lockserv(&["cluster", "--clients", "300"]);
    assert_eq!(out.status.code(), Some(2));
}
