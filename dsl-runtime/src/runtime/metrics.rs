//! Counters a running node keeps, printable on demand (`client --stats`)
//! and logged when the node stops.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A node's counters. Shared between the event loop and the connection
/// tasks, so every field is atomic.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Handler runs (events handled, including replays after restart: no).
    pub events: AtomicU64,
    /// External inputs accepted.
    pub inputs: AtomicU64,
    /// Outputs emitted.
    pub outputs: AtomicU64,
    /// Messages received from peers.
    pub messages_in: AtomicU64,
    /// Messages sent to peers (after fault injection).
    pub messages_out: AtomicU64,
    /// Frame bytes received (peers and clients).
    pub bytes_in: AtomicU64,
    /// Frame bytes sent (peers and clients).
    pub bytes_out: AtomicU64,
    /// Log commits (one write of a batch of records).
    pub commits: AtomicU64,
    /// Of those, the ones forced to disk (`fdatasync` calls).
    pub fsyncs: AtomicU64,
    /// Records committed; divided by `commits`, the mean group-commit batch.
    pub committed: AtomicU64,
    /// The largest batch committed by one force.
    pub max_batch: AtomicU64,
    /// Nanoseconds spent in commits.
    pub commit_nanos: AtomicU64,
    /// Snapshots written.
    pub snapshots: AtomicU64,
    /// Connections closed because of a bad frame or handshake.
    pub rejected: AtomicU64,
    /// Of those, connections refused for claiming to be a node their
    /// certificate (or handshake) does not name.
    pub spoofed: AtomicU64,
    /// Connections closed at once because the node had `max_connections`.
    pub over_cap: AtomicU64,
    /// Client connections closed for sending nothing for the idle timeout.
    pub idle_closed: AtomicU64,
    /// Times a reader waited for the event loop (the inbound budget was
    /// spent): backpressure applied.
    pub inbound_waits: AtomicU64,
    /// Peer connections reset because the peer did not read its queue.
    pub peer_resets: AtomicU64,
    /// Messages to peers lost to a reset or to a full queue while the peer
    /// was unreachable.
    pub peer_lost: AtomicU64,
    /// In a live upgrade, messages lost because an adapter of the plan
    /// refused them (`down` for an old peer, or an old or new message no
    /// handler of this node's version took).
    pub adapter_refused: AtomicU64,
    /// Messages dropped by fault injection.
    pub injected_drops: AtomicU64,
    /// Messages duplicated by fault injection.
    pub injected_dups: AtomicU64,
    /// Messages delayed by fault injection.
    pub injected_delays: AtomicU64,
    /// Messages held by a partition.
    pub held: AtomicU64,
    /// Messages a partition dropped because it already held its bound.
    pub held_lost: AtomicU64,
    /// Clients disconnected because their output buffer was full.
    pub slow_clients: AtomicU64,
    /// Local invariant violations seen by the monitor.
    pub violations: AtomicU64,
    /// Batch sizes by power of two: bucket `i` counts batches of
    /// `2^i ..< 2^(i+1)` records.
    pub batch_hist: [AtomicU64; 16],
}

impl Metrics {
    /// Adds one to a counter.
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    /// Adds `n` to a counter.
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }

    /// Records one commit of `records` records that took `nanos`.
    pub fn commit(&self, records: u64, nanos: u64, synced: bool) {
        Self::bump(&self.commits);
        if synced {
            Self::bump(&self.fsyncs);
        }
        Self::add(&self.committed, records);
        Self::add(&self.commit_nanos, nanos);
        self.max_batch.fetch_max(records, Relaxed);
        let bucket = (63 - records.max(1).leading_zeros() as usize).min(15);
        Self::bump(&self.batch_hist[bucket]);
    }

    /// The counters as `name value` lines.
    pub fn render(&self) -> String {
        let g = |c: &AtomicU64| c.load(Relaxed);
        let mut s = String::new();
        let commits = g(&self.commits);
        let rows: [(&str, u64); 28] = [
            ("events_handled", g(&self.events)),
            ("inputs", g(&self.inputs)),
            ("outputs", g(&self.outputs)),
            ("messages_in", g(&self.messages_in)),
            ("messages_out", g(&self.messages_out)),
            ("bytes_in", g(&self.bytes_in)),
            ("bytes_out", g(&self.bytes_out)),
            ("log_commits", commits),
            ("fsyncs", g(&self.fsyncs)),
            ("records_committed", g(&self.committed)),
            ("max_commit_batch", g(&self.max_batch)),
            ("commit_micros_total", g(&self.commit_nanos) / 1000),
            ("snapshots", g(&self.snapshots)),
            ("connections_rejected", g(&self.rejected)),
            ("impersonations_refused", g(&self.spoofed)),
            ("connections_over_cap", g(&self.over_cap)),
            ("clients_closed_idle", g(&self.idle_closed)),
            ("inbound_backpressure_waits", g(&self.inbound_waits)),
            ("peer_connections_reset", g(&self.peer_resets)),
            ("peer_messages_lost", g(&self.peer_lost)),
            ("upgrade_adapter_refused", g(&self.adapter_refused)),
            ("injected_drops", g(&self.injected_drops)),
            ("injected_dups", g(&self.injected_dups)),
            ("injected_delays", g(&self.injected_delays)),
            ("held_by_partition", g(&self.held)),
            ("lost_past_partition_bound", g(&self.held_lost)),
            ("clients_disconnected_slow", g(&self.slow_clients)),
            ("monitor_violations", g(&self.violations)),
        ];
        for (name, v) in rows {
            let _ = writeln!(s, "{name} {v}");
        }
        if commits > 0 {
            let _ = writeln!(
                s,
                "mean_commit_batch {:.2}",
                g(&self.committed) as f64 / commits as f64
            );
        }
        let hist: Vec<String> = self
            .batch_hist
            .iter()
            .enumerate()
            .filter(|(_, c)| g(c) > 0)
            .map(|(i, c)| format!("{}:{}", 1u64 << i, g(c)))
            .collect();
        if !hist.is_empty() {
            let _ = writeln!(s, "commit_batch_histogram {}", hist.join(" "));
        }
        s
    }
}
