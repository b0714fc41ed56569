//! Storage that refuses rather than forgets, in process: recovery on damaged
//! and mismatched data directories, the operator's repair, and the
//! crash-point test — the real event loop on a disk that crashes at every
//! write and fsync of a 1,000-input workload, each crash recovered and
//! checked against the acknowledgements the loop sent.

#![cfg(feature = "runtime")]

use std::path::Path;
use std::sync::Arc;

use verdict::runtime::codec;
use verdict::runtime::disk::{CrashMode, Disk, OsDisk, SimDisk};
use verdict::runtime::node::{LoopEvent, LoopParts, LoopSettings, NodeLoop};
use verdict::runtime::recovery::{self, Owner, Recovered, Refusal};
use verdict::runtime::wal::{Record, SyncMode, Wal};
use verdict::runtime::{datadir, snapshot, Reply, Request};
use verdict::{Setup, Sizes};
use verdict_examples::counter::{self, Counter};

const OWNER: Owner<'static> = Owner {
    cluster_id: "test",
    node: "Primary",
};

fn setup() -> Setup<Counter> {
    Setup::new(&Sizes::new()).unwrap()
}

fn recover(disk: &dyn Disk, dir: &Path) -> Result<Recovered<Counter>, Refusal> {
    recovery::recover::<Counter>(disk, dir, OWNER, counter::Node::Primary, &setup())
}

fn value(r: &Recovered<Counter>) -> String {
    format!("{:?}", r.state)
}

fn inc() -> Record<Counter> {
    Record::Input(counter::Input::Increment(counter::input::Increment))
}

/// A data directory with a started node and `n` increments, committed
/// `per_commit` at a time.
fn node_with(dir: &Path, n: usize, per_commit: usize) -> Recovered<Counter> {
    let r = recover(&OsDisk, dir).unwrap();
    assert!(r.fresh);
    let mut wal = Wal::open(
        &OsDisk,
        dir,
        r.identity.incarnation(),
        r.next_seq,
        SyncMode::Group,
    )
    .unwrap();
    wal.append(&Record::<Counter>::Start);
    for i in 0..n {
        wal.append(&inc());
        if (i + 1) % per_commit == 0 {
            wal.commit().unwrap();
        }
    }
    wal.commit().unwrap();
    let r = recover(&OsDisk, dir).unwrap();
    assert_eq!(r.replayed, n + 1);
    r
}

fn wal_path(dir: &Path) -> std::path::PathBuf {
    dir.join("wal.log")
}

/// Byte offsets of the log's records.
fn record_offsets(dir: &Path) -> Vec<u64> {
    let bytes = std::fs::read(wal_path(dir)).unwrap();
    let log = verdict::runtime::wal::parse_log::<Counter>(&bytes)
        .ok()
        .unwrap();
    log.records.iter().map(|r| r.offset).collect()
}

#[test]
fn a_torn_tail_is_cut_once_and_nothing_else_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    node_with(dir.path(), 10, 1);
    let path = wal_path(dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    let r = recover(&OsDisk, dir.path()).unwrap();
    assert_eq!(r.replayed, 10, "the torn last record is gone");
    assert!(r.cut.as_ref().unwrap().1.contains("torn record"));
    let r = recover(&OsDisk, dir.path()).unwrap();
    assert!(r.cut.is_none(), "cut once");
    assert_eq!(value(&r), "Primary(PrimaryState { value: 9 })");
}

#[test]
fn damage_in_the_middle_of_the_log_refuses_and_truncates_nothing() {
    // The case: a byte flipped in record 51 of 101.
    let dir = tempfile::tempdir().unwrap();
    node_with(dir.path(), 100, 1);
    let offsets = record_offsets(dir.path());
    let path = wal_path(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offsets[50] as usize + 12] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let err = recover(&OsDisk, dir.path()).err().expect("refused");
    assert!(err.problem.contains("not a torn write"), "{err}");
    assert!(err.repairable);
    assert!(
        err.to_string().contains("Nothing was changed on disk"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "not one byte cut");

    // Within the last commit the same damage is a torn write: cut.
    let dir = tempfile::tempdir().unwrap();
    node_with(dir.path(), 100, 200);
    let offsets = record_offsets(dir.path());
    let path = wal_path(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offsets[50] as usize + 12] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let r = recover(&OsDisk, dir.path()).unwrap();
    assert_eq!(r.replayed, 50);
}

#[test]
fn a_missing_snapshot_or_log_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let r = node_with(dir.path(), 20, 1);
    // A snapshot at the end, then the log replaced, as the loop does.
    snapshot::write::<Counter>(
        &OsDisk,
        dir.path(),
        r.identity.incarnation(),
        r.next_seq,
        &r.state,
    )
    .unwrap();
    let mut wal = Wal::open(
        &OsDisk,
        dir.path(),
        r.identity.incarnation(),
        r.next_seq,
        SyncMode::Group,
    )
    .unwrap();
    wal.truncate_all(&OsDisk).unwrap();
    for _ in 0..5 {
        wal.append(&inc());
    }
    wal.commit().unwrap();
    let r = recover(&OsDisk, dir.path()).unwrap();
    assert!(r.from_snapshot);
    assert_eq!(value(&r), "Primary(PrimaryState { value: 25 })");

    let snap = dir.path().join("snapshot.bin");
    let kept = std::fs::read(&snap).unwrap();
    std::fs::remove_file(&snap).unwrap();
    let err = recover(&OsDisk, dir.path()).err().expect("refused");
    assert!(
        err.problem.contains("snapshot.bin is missing"),
        "{}",
        err.problem
    );
    std::fs::write(&snap, &kept).unwrap();
    assert!(recover(&OsDisk, dir.path()).is_ok());

    let log = wal_path(dir.path());
    let kept = std::fs::read(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    let err = recover(&OsDisk, dir.path()).err().expect("refused");
    assert!(
        err.problem.contains("wal.log is missing"),
        "{}",
        err.problem
    );
    std::fs::write(&log, &kept).unwrap();
    let r = recover(&OsDisk, dir.path()).unwrap();
    assert_eq!(value(&r), "Primary(PrimaryState { value: 25 })");
}

#[test]
fn a_directory_of_another_node_or_a_locked_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    node_with(dir.path(), 3, 1);
    let other = Owner {
        cluster_id: "test",
        node: "Backup",
    };
    let err =
        recovery::recover::<Counter>(&OsDisk, dir.path(), other, counter::Node::Backup, &setup())
            .err()
            .expect("refused");
    assert!(err.problem.contains("belongs to node Primary"), "{err}");
    assert!(!err.repairable);

    let held = datadir::lock(dir.path()).unwrap();
    let err = datadir::lock(dir.path()).unwrap_err();
    assert!(err.contains("in use by another process"), "{err}");
    drop(held);
    assert!(datadir::lock(dir.path()).is_ok());
}

#[test]
fn repair_keeps_the_good_prefix_moves_the_rest_aside_and_changes_the_incarnation() {
    let dir = tempfile::tempdir().unwrap();
    let before = node_with(dir.path(), 100, 1);
    let offsets = record_offsets(dir.path());
    let path = wal_path(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offsets[50] as usize + 12] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    let dry = recovery::repair::<Counter>(
        &OsDisk,
        dir.path(),
        OWNER,
        counter::Node::Primary,
        &setup(),
        false,
    )
    .unwrap();
    assert_eq!(dry.kept_through, 50);
    assert!(dry.moved_to.is_none());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "a dry run changes nothing"
    );

    let done = recovery::repair::<Counter>(
        &OsDisk,
        dir.path(),
        OWNER,
        counter::Node::Primary,
        &setup(),
        true,
    )
    .unwrap();
    let aside = done.moved_to.unwrap();
    assert_eq!(std::fs::read(aside.join("wal.log")).unwrap(), bytes);
    let r = recover(&OsDisk, dir.path()).unwrap();
    assert!(r.from_snapshot && !r.fresh);
    assert_eq!(value(&r), "Primary(PrimaryState { value: 49 })");
    assert_ne!(r.identity.incarnation, before.identity.incarnation);
}

/// The outcome of one workload run on a disk that crashes at `crash_at`.
struct Run {
    /// Inputs the loop acknowledged (`Accepted`) before the crash.
    acked: u64,
    /// Disk operations the run made (the crash points it offers).
    ops: u64,
}

const INPUTS: u64 = 1000;

/// The real event loop of the counter's primary on `disk`: 1,000
/// increments from one client, committed 7 at a time, a snapshot every
/// 100 records.
fn run_workload(disk: &SimDisk, dir: &Path) -> Run {
    let setup = setup();
    let recovered = recover(disk, dir);
    let Ok(recovered) = recovered else {
        return Run {
            acked: 0,
            ops: disk.ops(),
        };
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let (reply_tx, mut reply_rx) = verdict::runtime::bounded::byte_queue::<Vec<u8>>(usize::MAX);
    tx.send(LoopEvent::ClientConnected {
        id: 1,
        tx: reply_tx,
        recent: false,
    })
    .unwrap();
    for _ in 0..INPUTS {
        tx.send(LoopEvent::Request {
            client: 1,
            req: Request::Input(counter::Input::Increment(counter::input::Increment)),
            credit: Default::default(),
        })
        .unwrap();
    }
    tx.send(LoopEvent::Shutdown).unwrap();
    let fresh = recovered.fresh;
    let settings = LoopSettings {
        sync: SyncMode::Group,
        snapshot_every: 100,
        batch_max: 7,
        ..LoopSettings::default()
    };
    let made = NodeLoop::new(LoopParts {
        me: 0,
        setup,
        recovered,
        dir: dir.to_path_buf(),
        disk: Arc::new(disk.clone()),
        cluster: 1,
        settings,
        metrics: Default::default(),
        events: rx,
        to_self: tx,
        peers: vec![None, None],
    });
    if let Ok(node_loop) = made {
        let _ = node_loop.run(fresh); // fails at the crash point
    }
    let mut acked = 0;
    while let Some(frame) = reply_rx.try_recv() {
        let (_, payload) = codec::read_frame(&mut &frame[..], 1, u32::MAX).unwrap();
        if let Reply::<Counter>::Accepted { .. } = codec::from_payload(&payload).unwrap() {
            acked += 1;
        }
    }
    Run {
        acked,
        ops: disk.ops(),
    }
}

#[test]
fn every_crash_point_of_a_1000_input_workload_recovers_every_acknowledged_input() {
    let dir = Path::new("/data/primary");
    let whole = {
        let disk = SimDisk::new();
        let run = run_workload(&disk, dir);
        assert_eq!(
            run.acked, INPUTS,
            "without a crash every input is acknowledged"
        );
        run.ops
    };
    assert!(whole > 300, "the workload makes {whole} disk operations");
    let mut checked = 0;
    for point in 0..whole {
        for mode in [
            CrashMode::LoseUnsynced,
            CrashMode::TearLastWrite,
            CrashMode::KeepAll,
        ] {
            let disk = SimDisk::new();
            disk.crash_at(point);
            let run = run_workload(&disk, dir);
            disk.reboot(mode);
            let r = recover(&disk, dir).unwrap_or_else(|e| {
                panic!("crash at operation {point} ({mode:?}): recovery refused: {e}")
            });
            // The counter's value is the number of increments replayed, and
            // the log holds the start record before them: a prefix of the
            // workload, containing every acknowledged input.
            let n: u64 = value(&r)
                .trim_start_matches("Primary(PrimaryState { value: ")
                .trim_end_matches(" })")
                .parse()
                .unwrap();
            assert!(
                n >= run.acked,
                "crash at operation {point} ({mode:?}): {} acknowledged, {n} recovered",
                run.acked
            );
            assert!(n <= INPUTS);
            if !r.fresh {
                assert_eq!(r.next_seq, n + 1, "crash at {point} ({mode:?}): no gap");
            }
            // And the recovered node goes on: the same workload again
            // completes on the recovered directory.
            if point % 97 == 0 {
                let again = run_workload(&disk, dir);
                assert_eq!(again.acked, INPUTS, "after the crash at {point} ({mode:?})");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, whole * 3);
    eprintln!("{whole} crash points x 3 crash modes recovered");
}
