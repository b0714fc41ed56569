//! The lock server as real processes on loopback: a client workload, a
//! server crash, a partition, and hostile bytes on a node's port.

#![cfg(feature = "runtime")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use support::{eventually, lock_round, Deployment, PATIENCE};
use verdict::runtime::codec::{self, FrameKind, Hello};
use verdict_examples::lockserv::{input, Input, LockServ, Output};

const EXE: &str = env!("CARGO_BIN_EXE_lockserv");

fn lock() -> Input {
    Input::Lock(input::Lock)
}
fn unlock() -> Input {
    Input::Unlock(input::Unlock)
}

#[test]
fn four_processes_serve_a_workload_and_survive_a_server_kill() {
    let names = ["Server", "Client(0)", "Client(1)", "Client(2)"];
    let mut d = Deployment::new(EXE, &names, &["--monitor"]);
    d.start_all();
    let holder = Mutex::new(None);
    std::thread::scope(|scope| {
        for name in &names[1..] {
            let (d, holder) = (&d, &holder);
            scope.spawn(move || {
                for _ in 0..5 {
                    lock_round::<LockServ>(d, name, holder, Duration::from_millis(5));
                }
            });
        }
    });

    // Every lock was granted and released: 15 locks and 15 unlocks arrived.
    // (An accepted Unlock has left its client; the server may still be
    // reading it.)
    let mut s = d.client::<LockServ>("Server");
    eventually("the server to handle all 30 messages", || {
        s.stats().unwrap().contains("messages_in 30").then_some(())
    });

    // kill -9 the server; its queue is volatile, so it comes back empty
    // (as the checker's crash does), and the deployment goes on.
    d.kill9("Server");
    d.start("Server");
    assert!(
        d.log("Server").contains("replayed=31"), /* start + 30 messages */
        "{}",
        d.log("Server")
    );
    let state = d.client::<LockServ>("Server").state().unwrap();
    assert_eq!(state, vec![("queue".to_string(), "[]".to_string())]);
    let holder = Mutex::new(None);
    for name in &names[1..] {
        lock_round::<LockServ>(&d, name, &holder, Duration::from_millis(5));
    }
    assert!(!d.log("Server").contains("invariant violated"));
}

#[test]
fn a_partitioned_client_resumes_after_heal() {
    let names = ["Server", "Client(0)", "Client(1)"];
    let mut d = Deployment::new(EXE, &names, &["--faults", "partition"]);
    d.start_all();
    let mut c0 = d.client::<LockServ>("Client(0)");
    let mut c1 = d.client::<LockServ>("Client(1)");
    c0.submit(lock()).unwrap();
    assert!(c0.next_output(PATIENCE).unwrap().is_some());

    for n in names {
        d.client::<LockServ>(n)
            .partition(vec!["Client(1)".into()])
            .unwrap();
    }
    c1.submit(lock()).unwrap(); // held: Client(1) is cut off
    c0.submit(unlock()).unwrap();
    // Nothing can reach Client(1) across the cut, however long we wait.
    assert!(c1
        .next_output(Duration::from_millis(300))
        .unwrap()
        .is_none());
    let held = d.client::<LockServ>("Client(1)").stats().unwrap();
    assert!(held.contains("held_by_partition 1"), "{held}");

    for n in names {
        d.client::<LockServ>(n).heal().unwrap();
    }
    let out = c1
        .next_output(PATIENCE)
        .unwrap()
        .expect("Locked after heal");
    assert!(matches!(out.output, Output::Locked(_)));
}

#[test]
fn partitions_are_refused_when_the_fault_model_has_none() {
    let mut d = Deployment::new(EXE, &["Server", "Client(0)"], &[]);
    d.start_all();
    let err = d
        .client::<LockServ>("Server")
        .partition(vec!["Client(0)".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("do not include partition"), "{err}");
}

/// Sends `bytes` and expects the node to close the connection.
fn closed_after(addr: std::net::SocketAddr, bytes: &[u8]) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(bytes).unwrap();
    let mut buf = [0u8; 256];
    // The node answers nothing and closes: EOF (or a reset).
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the node should close the connection");
}

#[test]
fn hostile_bytes_close_only_their_connection() {
    let names = ["Server", "Client(0)", "Client(1)"];
    let mut d = Deployment::new(EXE, &names, &[]);
    d.start_all();
    let addr = d.addrs["Server"];
    let id = codec::cluster_id(&d.cluster_id);
    // A client connected before the attack keeps working after it.
    let mut c0 = d.client::<LockServ>("Client(0)");

    let random: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    closed_after(addr, &random);

    let hello = codec::encode_value(
        FrameKind::Hello,
        id,
        1,
        &Hello::Peer {
            name: "Client(0)".into(),
            config: codec::config_hash(&()),
        },
    );
    let mut oversized = hello.clone();
    oversized.extend(codec::encode(FrameKind::Message, id, 1, &[0; 8]));
    let at = hello.len() + 20;
    oversized[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    closed_after(addr, &oversized);

    let mut truncated = hello.clone();
    let frame = codec::encode(FrameKind::Message, id, 1, &[1, 2, 3, 4, 5, 6, 7, 8]);
    truncated.extend(&frame[..frame.len() - 3]);
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&truncated).unwrap();
    } // closed mid-frame

    let unknown = codec::encode_value(
        FrameKind::Hello,
        id,
        9,
        &Hello::Peer {
            name: "Client(9)".into(),
            config: codec::config_hash(&()),
        },
    );
    closed_after(addr, &unknown);
    let impostor = codec::encode_value(
        FrameKind::Hello,
        id,
        2,
        &Hello::Peer {
            name: "Client(0)".into(),
            config: codec::config_hash(&()),
        },
    );
    closed_after(addr, &impostor);
    let other_cluster = codec::encode_value(
        FrameKind::Hello,
        id ^ 1,
        1,
        &Hello::Peer {
            name: "Client(0)".into(),
            config: codec::config_hash(&()),
        },
    );
    closed_after(addr, &other_cluster);
    let mut spoof = hello.clone();
    spoof.extend(codec::encode_value(FrameKind::Message, id, 2, &0u32));
    closed_after(addr, &spoof);

    let log = eventually("seven rejections logged", || {
        let log = d.log("Server");
        (log.matches("closing connection").count() >= 7).then_some(log)
    });
    for needle in [
        "not a Verdict frame",
        "the limit is",
        "truncated frame",
        "unknown node `Client(9)`",
        "from cluster",
        "claiming sender 2",
    ] {
        assert!(log.contains(needle), "missing `{needle}` in:\n{log}");
    }
    // Everyone else is still served.
    let mut c1 = d.client::<LockServ>("Client(1)");
    c0.submit(lock()).unwrap();
    assert!(c0.next_output(PATIENCE).unwrap().is_some());
    c1.submit(lock()).unwrap();
    c0.submit(unlock()).unwrap();
    assert!(c1.next_output(PATIENCE).unwrap().is_some());
}
