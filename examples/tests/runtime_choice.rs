//! The runtime answers handlers' choices at random and logs the answers
//! with their events: the real event loop of the balancer's dispatcher,
//! on a real data directory, spreads jobs over its workers, and recovery
//! from that directory rebuilds the very assignment the loop reported.

#![cfg(feature = "runtime")]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use verdict::runtime::codec;
use verdict::runtime::disk::OsDisk;
use verdict::runtime::node::{LoopEvent, LoopParts, LoopSettings, NodeLoop};
use verdict::runtime::recovery::{self, Owner, Recovered};
use verdict::runtime::wal::{parse_log, Record, SyncMode, Wal};
use verdict::runtime::{Reply, Request};
use verdict::{Setup, Sizes};
use verdict_examples::balancer::{self, Balancer, Node, Output, Role};

const OWNER: Owner<'static> = Owner {
    cluster_id: "test",
    node: "Dispatcher",
};
const WORKERS: usize = 3;
const JOBS: u8 = 30;

fn setup() -> Setup<Balancer> {
    let config = balancer::Config {
        capacity: JOBS as usize,
        ignore_load: false,
    };
    Setup::with_config(&Sizes::new().with(Role::Worker, WORKERS), config).unwrap()
}

fn try_recover(dir: &Path) -> Result<Recovered<Balancer>, recovery::Refusal> {
    recovery::recover::<Balancer>(&OsDisk, dir, OWNER, Node::Dispatcher, &setup())
}

fn recover(dir: &Path) -> Recovered<Balancer> {
    try_recover(dir).unwrap()
}

/// Runs the dispatcher's loop over `JOBS` jobs (workers are not running,
/// so none finishes); returns the worker each job was reported sent to.
fn run(dir: &Path) -> BTreeMap<u8, Node> {
    let recovered = recover(dir);
    let fresh = recovered.fresh;
    let (tx, rx) = std::sync::mpsc::channel();
    let (reply_tx, mut reply_rx) = verdict::runtime::bounded::byte_queue::<Vec<u8>>(usize::MAX);
    tx.send(LoopEvent::ClientConnected {
        id: 1,
        tx: reply_tx,
        recent: false,
    })
    .unwrap();
    for job in 0..JOBS {
        let req = Request::Input(balancer::input::Job(job).into());
        tx.send(LoopEvent::Request {
            client: 1,
            req,
            credit: Default::default(),
        })
        .unwrap();
    }
    tx.send(LoopEvent::Shutdown).unwrap();
    let node_loop = NodeLoop::new(LoopParts {
        me: 0,
        setup: setup(),
        recovered,
        dir: dir.to_path_buf(),
        disk: Arc::new(OsDisk),
        cluster: 1,
        settings: LoopSettings::default(),
        metrics: Default::default(),
        events: rx,
        to_self: tx,
        peers: (0..=WORKERS).map(|_| None).collect(),
    })
    .unwrap();
    node_loop.run(fresh).unwrap();
    let mut assigned = BTreeMap::new();
    while let Some(frame) = reply_rx.try_recv() {
        let (_, payload) = codec::read_frame(&mut &frame[..], 1, u32::MAX).unwrap();
        if let Reply::<Balancer>::Output {
            output: Output::Assigned(a),
            ..
        } = codec::from_payload(&payload).unwrap()
        {
            assigned.insert(a.job, a.worker);
        }
    }
    assigned
}

/// The dispatcher's `load` field as recovery rebuilt it.
fn recovered_load(dir: &Path) -> String {
    use verdict::System;
    let r = recover(dir);
    let fields = Balancer::fields(&r.state);
    fields
        .into_iter()
        .find(|(name, _)| *name == "load")
        .unwrap()
        .1
}

#[test]
fn recovery_rebuilds_the_assignment_the_random_choices_made() {
    let dir = tempfile::tempdir().unwrap();
    let assigned = run(dir.path());
    assert_eq!(assigned.len(), JOBS as usize, "every job was placed");
    let mut load: BTreeMap<Node, usize> = BTreeMap::new();
    for worker in assigned.values() {
        *load.entry(*worker).or_default() += 1;
    }
    // Random, not always the first alternative: 30 jobs over 3 workers.
    assert_eq!(load.len(), WORKERS, "{load:?}");
    // Recovery replays the logged answers, so it rebuilds the same load.
    assert_eq!(recovered_load(dir.path()), format!("{load:?}"));
    // The log says what was chosen, event by event.
    let bytes = std::fs::read(dir.path().join("wal.log")).unwrap();
    let log = parse_log::<Balancer>(&bytes).ok().unwrap();
    let chose = log
        .records
        .iter()
        .filter(|r| matches!(r.record, Record::Chose { .. }))
        .count();
    assert_eq!(chose, JOBS as usize);
}

/// A data directory whose log holds the start and one job with these
/// recorded answers.
fn log_with_answers(dir: &Path, choices: Vec<u32>) {
    let r = recover(dir);
    let mut wal = Wal::open(
        &OsDisk,
        dir,
        r.identity.incarnation(),
        r.next_seq,
        SyncMode::Group,
    )
    .unwrap();
    wal.append(&Record::<Balancer>::Start);
    wal.append(&Record::<Balancer>::Chose {
        choices,
        record: Box::new(Record::Input(balancer::input::Job(0).into())),
    });
    wal.commit().unwrap();
}

#[test]
fn a_log_whose_answers_the_handler_no_longer_asks_for_is_refused() {
    // Placing one job with room everywhere is one choice among 3 workers.
    let good = tempfile::tempdir().unwrap();
    log_with_answers(good.path(), vec![2]);
    assert!(recovered_load(good.path()).contains("Worker(2): 1"));
    for (choices, why) in [
        (
            vec![2, 0],
            "the log records 2 choices, but replaying it the handler makes 1",
        ),
        (vec![7], "offers 3 alternatives at choice 0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        log_with_answers(dir.path(), choices);
        let refusal = try_recover(dir.path()).err().expect("recovery refuses");
        let text = refusal.to_string();
        assert!(
            text.contains("cannot be replayed") && text.contains(why),
            "{text}"
        );
    }
}
