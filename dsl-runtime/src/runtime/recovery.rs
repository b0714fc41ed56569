//! Recovery: rebuild a node's state from its snapshot and log, exactly as
//! the handlers built it, before the node rejoins the cluster.
//!
//! The state is the snapshot's (or the initial state), then every good log
//! record after it replayed through the same handlers, with their effects
//! discarded (they already left before the crash, or never did because
//! their batch was not durable). A torn or corrupt tail is cut off. The
//! node then crashes *in the model's sense* — volatile fields reset,
//! timers gone — and runs its restart handler, which is what the checker's
//! crash/restart events do.

use std::path::Path;

use crate::ctx::Effects;
use crate::runtime::snapshot;
use crate::runtime::wal::{self, Record};
use crate::setup::Setup;
use crate::system::System;

/// What recovery found.
pub struct Recovered<S: System> {
    /// The state after replay, before the crash reset.
    pub state: S::State,
    /// The sequence number the next record gets.
    pub next_seq: u64,
    /// Log records replayed.
    pub replayed: usize,
    /// Whether a snapshot was loaded.
    pub from_snapshot: bool,
    /// Whether nothing was on disk: the node starts for the first time.
    pub fresh: bool,
    /// Bytes cut from the log's tail, and why.
    pub cut: Option<(u64, String)>,
}

/// Rebuilds `node`'s state from `dir`. Cuts a bad log tail off on disk.
pub fn recover<S: System>(
    dir: &Path,
    node: S::Node,
    setup: &Setup<S>,
) -> Result<Recovered<S>, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    let snap = snapshot::read::<S>(dir)?;
    let from_snapshot = snap.is_some();
    let (mut state, mut next_seq) = match snap {
        Some(s) => (s.state, s.next_seq),
        None => (S::initial_state(node, setup.config()), 0),
    };
    let log = wal::read_log::<S>(dir)
        .map_err(|e| format!("cannot read the log in {}: {e}", dir.display()))?;
    let mut good_len = log.good_len;
    let mut cut = log.tail_reason.map(|why| (log.bad_tail, why));
    let mut effects = Effects::default();
    let mut replayed = 0;
    let mut offset_ok = true;
    for (seq, record) in log.records {
        if seq < next_seq {
            continue; // already in the snapshot
        }
        if seq != next_seq || !offset_ok {
            // A gap: something is wrong with the rest. Keep what precedes.
            offset_ok = false;
            continue;
        }
        if matches!(record, Record::Restart) {
            S::crash(node, &mut state, setup.config());
        }
        effects.clear();
        S::dispatch(
            setup.cluster(),
            node,
            &mut state,
            record.into_trigger(),
            &mut effects,
        );
        next_seq += 1;
        replayed += 1;
    }
    if !offset_ok {
        // Re-read to find where the gap starts, then cut there.
        let again = wal::read_log::<S>(dir).map_err(|e| e.to_string())?;
        let mut len = 0u64;
        let mut expect = None;
        for (seq, r) in again.records {
            let size = codec_len(seq, &r);
            if let Some(e) = expect {
                if seq != e {
                    break;
                }
            }
            expect = Some(seq + 1);
            len += size;
        }
        cut = Some((good_len - len, "gap in sequence numbers".into()));
        good_len = len;
    }
    if let Some((bytes, _)) = &cut {
        if *bytes > 0 {
            wal::cut_log(dir, good_len)
                .map_err(|e| format!("cannot cut the log's bad tail: {e}"))?;
        }
    }
    Ok(Recovered {
        state,
        next_seq,
        replayed,
        from_snapshot,
        fresh: !from_snapshot && next_seq == 0,
        cut,
    })
}

/// The on-disk size of a record.
fn codec_len<S: System>(seq: u64, r: &Record<S>) -> u64 {
    8 + crate::runtime::codec::to_payload(&(seq, r)).len() as u64
}
