//! The key-value store: its state machine against an independent sequential
//! specification, on one server, and replicated by primary-backup, checked
//! for linearizability.

use verdict::lin::specs::{KvStore, KvStoreOp, KvStoreRet};
use verdict::lin::Spec;
use verdict::liveness::{check_liveness, LivenessOutcome};
use verdict::prelude::*;
use verdict::transform::state_machine::history_of;
use verdict::transform::{
    check_linearizable, plan_retransmitting, reliable_model, PbBug, PrimaryBackup, StateMachine,
};
use verdict::{Outcome, Violation};
use verdict_examples::kv::{self, KvInput, KvOutput, Store};

/// The same command in the terms of `verdict::lin`'s key-value spec.
fn as_lin(op: &KvInput) -> KvStoreOp<u8, u8> {
    match *op {
        KvInput::Get(k) => KvStoreOp::Get(k),
        KvInput::Put(k, v) => KvStoreOp::Put(k, v),
        KvInput::Del(k) => KvStoreOp::Del(k),
        KvInput::Cas { key, expected, new } => KvStoreOp::Cas { key, expected, new },
        KvInput::Cad { key, expected } => KvStoreOp::Cad { key, expected },
    }
}

fn as_lin_ret(out: &KvOutput) -> KvStoreRet<u8> {
    match *out {
        KvOutput::Value(v) => KvStoreRet::Value(v),
        KvOutput::Ok => KvStoreRet::Ok,
        KvOutput::Success(b) => KvStoreRet::Success(b),
    }
}

#[test]
fn the_store_agrees_with_an_independent_sequential_specification() {
    let ops = [
        KvInput::Get(0),
        KvInput::Get(1),
        KvInput::Put(0, 1),
        KvInput::Put(0, 2),
        KvInput::Put(1, 1),
        KvInput::Del(0),
        KvInput::Cas {
            key: 0,
            expected: 1,
            new: 2,
        },
        KvInput::Cas {
            key: 0,
            expected: 2,
            new: 1,
        },
        KvInput::Cad {
            key: 0,
            expected: 1,
        },
        KvInput::Cad {
            key: 0,
            expected: 2,
        },
    ];
    let spec = KvStore::<u8, u8>::new();
    let mut sequences: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..3 {
        sequences = sequences
            .iter()
            .flat_map(|s| (0..ops.len()).map(move |i| [s.clone(), vec![i]].concat()))
            .collect();
    }
    assert_eq!(sequences.len(), 1000);
    for seq in sequences {
        let mut store = Store::default();
        let mut state = spec.init();
        for &i in &seq {
            let out = store.apply(&ops[i]);
            let mut next = Vec::new();
            spec.step(&state, &as_lin(&ops[i]), Some(&as_lin_ret(&out)), &mut next);
            assert_eq!(next.len(), 1, "{seq:?}: {:?} -> {out:?} refused", ops[i]);
            state = next.pop().unwrap();
        }
    }
}

fn violated(report_cx: Option<&verdict::Counterexample<impl System>>) -> String {
    match report_cx.map(|cx| &cx.violation) {
        Some(Violation::Invariant { name, message, .. }) => format!("{name}: {message}"),
        other => panic!("expected an invariant violation, got {other:?}"),
    }
}

#[test]
fn one_server_is_linearizable_until_it_crashes() {
    let ok = check(
        &kv::single(2, 2, Faults::none()).unwrap(),
        &CheckOptions::default(),
    );
    assert!(matches!(ok.outcome, Outcome::Exhausted), "{:?}", ok.outcome);
    let crash = check(
        &kv::single(2, 2, Faults::none().crash(1)).unwrap(),
        &CheckOptions::default(),
    );
    let text = violated(crash.counterexample());
    assert!(
        text.starts_with("linearizable: the history is not linearizable"),
        "{text}"
    );
}

#[test]
fn primary_backup_is_linearizable_through_a_crash_of_either_replica() {
    let model = kv::primary_backup(2, 2, Faults::none().crash(1), None).unwrap();
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    assert!(report.stats.unique > 10_000, "{}", report.stats);
}

#[test]
fn every_request_is_answered_through_crashes_of_both_replicas() {
    // Two crashes may take both replicas down at once; each restarts from
    // its durable state, and they settle on the newer one.
    let model = kv::primary_backup(2, 1, Faults::none().crash(2), None).unwrap();
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    // And nobody waits forever: the replicas never both wait for the
    // other's snapshot, and no forward is lost for good with a crash.
    let model = kv::primary_backup(1, 2, Faults::none().crash(3), None).unwrap();
    let report = check_liveness(&model, 1_000_000);
    assert!(
        matches!(report.outcome, LivenessOutcome::Holds),
        "{:?}",
        report.outcome
    );
    assert!(report.states > 10_000, "{}", report.states);
}

#[test]
fn replying_before_the_backup_acknowledges_is_caught() {
    let model = kv::primary_backup(2, 2, Faults::none(), Some(PbBug::ReplyBeforeAck)).unwrap();
    let report = check(&model, &CheckOptions::default());
    let text = violated(report.counterexample());
    // A write returned, then a read at the backup missed it.
    assert!(text.contains("Put(k0, 1) -> Ok"), "{text}");
    assert!(text.contains("Get(k0) -> Absent"), "{text}");
}

#[test]
fn restarting_without_state_transfer_is_caught() {
    let model =
        kv::primary_backup(2, 2, Faults::none().crash(1), Some(PbBug::NoStateTransfer)).unwrap();
    let report = check(&model, &CheckOptions::default());
    let text = violated(report.counterexample());
    assert!(text.contains("not linearizable"), "{text}");
    let events = &report.counterexample().unwrap().events;
    assert!(
        events.iter().any(|e| e.to_string().contains("restarts")),
        "{events:?}"
    );
}

#[test]
fn reliable_primary_backup_survives_a_lossy_network_and_a_crash() {
    let faults: Faults = "drop,dup,reorder,crash=1".parse().unwrap();
    let pb = kv::primary_backup(1, 1, Faults::none(), None).unwrap();
    let mut model = reliable_model(&pb, faults);
    plan_retransmitting(&mut model, false);
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
}

#[test]
fn histories_come_from_traces() {
    use verdict::transform::PbNode;
    type Pb = PrimaryBackup<Store>;
    let c0 = PbNode::Client(0);
    let c1 = PbNode::Client(1);
    let trace: Vec<TraceEvent<Pb>> = vec![
        TraceEvent::Input {
            node: c0,
            input: KvInput::Put(0, 1),
        },
        TraceEvent::Input {
            node: c1,
            input: KvInput::Get(0),
        },
        TraceEvent::Output {
            node: c1,
            output: KvOutput::Value(Some(1)),
        },
        TraceEvent::Output {
            node: c0,
            output: KvOutput::Ok,
        },
    ];
    let history = history_of(&trace).unwrap();
    assert_eq!(history.len(), 2);
    // The read overlaps the write, so seeing it is fine.
    assert_eq!(check_linearizable::<Store, Pb>(&trace), Ok(()));
    // A read that starts after the write returned must see it.
    let stale: Vec<TraceEvent<Pb>> = vec![
        trace[0].clone(),
        trace[3].clone(),
        trace[1].clone(),
        TraceEvent::Output {
            node: c1,
            output: KvOutput::Value(None),
        },
    ];
    assert!(check_linearizable::<Store, Pb>(&stale).is_err());
    // An output with nothing pending is not a history at all.
    let err = history_of(&trace[2..3]).unwrap_err();
    assert!(err.contains("no operation pending"), "{err}");
}
