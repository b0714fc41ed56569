//! Storage that refuses rather than forgets, as real processes: each
//! attack the hardening issue reproduced against a `serve` process — a
//! deleted snapshot, a byte flipped mid-log, a deleted log, two nodes on
//! one data directory, a node started twice — now stops the node with
//! exit 2 and a sentence saying what is wrong, and changes nothing on
//! disk; put back what was removed, and the node recovers everything it
//! acknowledged.

#![cfg(feature = "runtime")]

use crate::support;

use support::{wal, Deployment, PATIENCE};
use verdict_examples::counter::{input, output, Counter, Output};

const EXE: &str = env!("CARGO_BIN_EXE_counter");

fn increments(d: &Deployment, n: u64) -> u64 {
    let mut c = d.client::<Counter>("Primary");
    let mut last = 0;
    for _ in 0..n {
        c.submit(input::Increment).unwrap();
        let Output::Value(output::Value(v)) = c.next_output(PATIENCE).unwrap().unwrap().output;
        last = v;
    }
    last
}

fn value(d: &Deployment, node: &str) -> u64 {
    d.client::<Counter>(node).state().unwrap()[0]
        .1
        .parse()
        .unwrap()
}

#[test]
fn a_deleted_snapshot_refuses_to_start_instead_of_starting_fresh() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &["--snapshot-every", "8"]);
    d.start_all();
    assert_eq!(increments(&d, 20), 20);
    d.kill9("Primary");
    let snap = d.data_dir("Primary").join("snapshot.bin");
    let kept = std::fs::read(&snap).expect("a snapshot was written");
    std::fs::remove_file(&snap).unwrap();
    let log_before = std::fs::read(wal(&d.data_dir("Primary"))).unwrap();

    let (code, out) = d.start_refused("Primary");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("snapshot.bin is missing"), "{out}");
    assert!(out.contains("repair --accept-data-loss"), "{out}");
    assert_eq!(
        std::fs::read(wal(&d.data_dir("Primary"))).unwrap(),
        log_before
    );

    std::fs::write(&snap, kept).unwrap();
    d.start("Primary");
    assert_eq!(value(&d, "Primary"), 20, "nothing acknowledged was lost");
}

#[test]
fn a_byte_flipped_mid_log_refuses_and_truncates_nothing() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &[]);
    d.start_all();
    assert_eq!(increments(&d, 50), 50);
    d.kill9("Primary");
    let path = wal(&d.data_dir("Primary"));
    let mut bytes = std::fs::read(&path).unwrap();
    // Start + 50 x (Input, Ack): flip a byte in the middle of the file,
    // inside some record's body.
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();

    let (code, out) = d.start_refused("Primary");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not a torn write"), "{out}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "not one byte cut");

    bytes[mid] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    d.start("Primary");
    assert_eq!(value(&d, "Primary"), 50);
}

#[test]
fn a_deleted_log_refuses_to_start() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &[]);
    d.start_all();
    assert_eq!(increments(&d, 21), 21);
    d.kill9("Primary");
    let path = wal(&d.data_dir("Primary"));
    let kept = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let (code, out) = d.start_refused("Primary");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("wal.log is missing"), "{out}");
    std::fs::write(&path, kept).unwrap();
    d.start("Primary");
    assert_eq!(value(&d, "Primary"), 21);
}

#[test]
fn two_nodes_never_share_a_data_directory_and_a_node_never_runs_twice() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &[]);
    let shared = d.data_dir("Primary");
    // A symlink for the backup: the cluster file check refuses textually
    // equal directories, so this alias is left to the directory lock.
    let alias = shared.with_file_name("alias-of-primary");
    std::os::unix::fs::symlink(&shared, &alias).unwrap();
    d.edit_cluster_file(|f| {
        f.nodes[0].data_dir = shared.clone();
        f.nodes[1].data_dir = alias.clone();
    });
    d.start("Primary");
    assert_eq!(value(&d, "Primary"), 0);
    let (code, out) = d.start_refused("Backup");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("in use by another process"), "{out}");

    // The same node started again: refused before recovery reads the log.
    let log_before = std::fs::read(wal(&shared)).unwrap();
    let (code, out) = d.start_refused("Primary");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("in use by another process"), "{out}");
    assert_eq!(std::fs::read(wal(&shared)).unwrap(), log_before);

    // With the primary gone, the directory is still the primary's.
    d.kill9("Primary");
    let (code, out) = d.start_refused("Backup");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("belongs to node Primary"), "{out}");
}

#[test]
fn start_up_failures_exit_2() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &[]);
    // The port is taken.
    let _squatter = std::net::TcpListener::bind(d.addrs["Primary"]).unwrap();
    let (code, out) = d.start_refused("Primary");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("cannot listen"), "{out}");
    // The data directory cannot be created.
    d.edit_cluster_file(|f| f.nodes[1].data_dir = "/proc/verdict-cannot-create".into());
    let (code, out) = d.start_refused("Backup");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("cannot create data directory"), "{out}");
}

/// A change to a cluster file.
type Edit = dyn Fn(&mut verdict::runtime::ClusterFile);

#[test]
fn bad_cluster_files_are_refused_at_start_up_with_exit_2() {
    let mut d = Deployment::new(EXE, &["Primary", "Backup"], &[]);
    let good = std::fs::read_to_string(&d.cluster_file).unwrap();
    let other = d.addrs["Backup"].to_string();
    let cases: [(&str, Box<Edit>); 4] = [
        (
            "has port 0",
            Box::new(|f| f.nodes[0].addr = "127.0.0.1:0".into()),
        ),
        (
            "is used by another node",
            Box::new(move |f| f.nodes[0].addr = other.clone()),
        ),
        (
            "not an address peers can connect to",
            Box::new(|f| f.nodes[0].addr = "0.0.0.0:7411".into()),
        ),
        (
            "needs its own",
            Box::new(|f| f.nodes[1].data_dir = f.nodes[0].data_dir.clone()),
        ),
    ];
    for (needle, edit) in cases {
        std::fs::write(&d.cluster_file, &good).unwrap();
        d.edit_cluster_file(|f| edit(f));
        let (code, out) = d.start_refused("Primary");
        assert_eq!(code, Some(2), "`{needle}`: {out}");
        assert!(out.contains(needle), "missing `{needle}` in: {out}");
        assert!(
            !d.data_dir("Primary").join("wal.log").exists(),
            "`{needle}`: the node touched its data directory"
        );
    }
}
