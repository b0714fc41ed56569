//! A short run of the fuzzing campaign (`cargo bench --bench fuzz` runs
//! the long one): frames, logs, snapshots and typed inputs of the lock
//! server, mutated from real seeds, are refused or read — never a panic,
//! never an allocation past what the input's size allows.

#![cfg(feature = "runtime")]

#[path = "../benches/fuzzing/mod.rs"]
mod fuzzing;

use fuzzing::{campaign, run, seeds, Rng, Target, Verdict};
use verdict::runtime::codec::{self, FrameKind};
use verdict::Faults;
use verdict_examples::lockserv::{self, input, Input, LockServ};

fn lock_seeds() -> fuzzing::Seeds {
    let model = lockserv::model(3, 2, Faults::none()).unwrap();
    let inputs = [
        (Input::Lock(input::Lock), "Lock"),
        (Input::Unlock(input::Unlock), "Unlock"),
    ];
    seeds(&model, &inputs, 20, &mut Rng::new(7))
}

#[test]
fn mutated_frames_logs_snapshots_and_inputs_never_panic_or_overallocate() {
    let seeds = lock_seeds();
    for target in Target::ALL {
        let t = campaign::<LockServ>(target, &seeds, 20_000, 11, true);
        assert!(t.failure.is_none(), "{}: {:?}", target.name(), t.failure);
        assert_eq!(t.execs, 20_000);
        // The mutations reach past the checksums: some inputs still read.
        assert!(t.accepted > 0, "{}: nothing was ever valid", target.name());
        assert!(
            t.accepted < t.execs,
            "{}: nothing was refused",
            target.name()
        );
    }
    // In the same test: the allocator's record is process-wide, and tests
    // run in parallel.
    a_frame_claiming_a_huge_payload_is_refused_without_reserving_it();
}

fn a_frame_claiming_a_huge_payload_is_refused_without_reserving_it() {
    let cluster = codec::cluster_id("fuzz");
    let mut frame = codec::encode(FrameKind::Message, cluster, 0, &[1, 2, 3]);
    // Claim just under the reader's limit, then send three bytes.
    frame[20..24].copy_from_slice(&(fuzzing::MAX_PAYLOAD - 1).to_le_bytes());
    assert_eq!(run::<LockServ>(Target::Frame, &frame), Verdict::Refused);
    verdict_examples::allocator::track_largest(true);
    let _ = run::<LockServ>(Target::Frame, &frame);
    let largest = verdict_examples::allocator::take_largest();
    verdict_examples::allocator::track_largest(false);
    assert!(
        largest <= codec::READ_CHUNK,
        "reserved {largest} bytes for a 3-byte payload"
    );
}
