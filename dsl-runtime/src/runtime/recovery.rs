//! Recovery: rebuild a node's state from its snapshot and log, exactly as
//! the handlers built it, before the node rejoins the cluster — or refuse
//! to start when the data on disk cannot be trusted to hold everything the
//! node acknowledged.
//!
//! The state is the snapshot's (or the initial state), then every log
//! record after it replayed through the same handlers, with their effects
//! discarded (they already left before the crash, or never did because
//! their batch was not durable). The node then crashes *in the model's
//! sense* — volatile fields reset, timers gone — and runs its restart
//! handler, which is what the checker's crash/restart events do.
//!
//! What recovery refuses (the node exits 2 and nothing is changed on disk):
//! a directory of another node or cluster; a log or snapshot without an
//! identity, or of another incarnation; a missing log; a log that starts
//! after the snapshot (a missing snapshot, or a gap); a gap in sequence
//! numbers; damage followed by a good record of a later commit (damage in
//! the middle, not a torn write); a damaged snapshot. The one thing it
//! repairs by itself is a torn tail: damage that only the last commit
//! could have, which no acknowledgement depended on unless the disk
//! lied about `fdatasync`. [`repair`] is the operator's explicit way out.

use std::path::Path;

use crate::choice::{self, Source};
use crate::ctx::Effects;
use crate::runtime::datadir::{self, Identity};
use crate::runtime::disk::Disk;
use crate::runtime::snapshot::{self, SNAPSHOT_FILE};
use crate::runtime::wal::{self, LogError, Record, WalHeader, WAL_FILE};
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
    /// Whether the node starts for the first time.
    pub fresh: bool,
    /// Bytes cut from the log's torn tail, and why.
    pub cut: Option<(u64, String)>,
    /// The data directory's identity.
    pub identity: Identity,
}

/// Who the data directory must belong to.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// The cluster's name.
    pub cluster_id: &'a str,
    /// The node's name.
    pub node: &'a str,
}

/// Why recovery refused: what is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong, with the files involved.
    pub problem: String,
    /// Whether `repair --accept-data-loss` can make the directory usable.
    pub repairable: bool,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refusing to start: {}", self.problem)?;
        if self.repairable {
            write!(
                f,
                ". Nothing was changed on disk. Restore the data directory from a backup; \
                 or, accepting that what is unreadable is lost, run this node's `repair \
                 --accept-data-loss` (the book's \"Security and failure model\" says what it \
                 keeps)"
            )?;
        }
        Ok(())
    }
}

fn refuse(problem: impl Into<String>) -> Refusal {
    Refusal {
        problem: problem.into(),
        repairable: true,
    }
}

/// Rebuilds `node`'s state from `dir`, first use included (then it writes
/// the identity and an empty log). The only change it makes to existing
/// data is cutting a torn tail off the log.
pub fn recover<S: System>(
    disk: &dyn Disk,
    dir: &Path,
    owner: Owner<'_>,
    node: S::Node,
    setup: &Setup<S>,
) -> Result<Recovered<S>, Refusal> {
    let initial = S::initial_state(node, setup.config());
    recover_version(disk, dir, owner, node, setup, initial, None)
}

/// [`recover`] for a directory holding the formats of system version
/// `version` (`None`: the first), where a node's history starts from
/// `initial`. A directory of another version is refused, and a first use
/// records `version` in the identity. A live upgrade
/// ([`crate::runtime::live_upgrade`]) recovers its directories so.
pub fn recover_version<S: System>(
    disk: &dyn Disk,
    dir: &Path,
    owner: Owner<'_>,
    node: S::Node,
    setup: &Setup<S>,
    initial: S::State,
    version: Option<&str>,
) -> Result<Recovered<S>, Refusal> {
    let io = |what: &str, e: std::io::Error| Refusal {
        problem: format!("cannot {what} in {}: {e}", dir.display()),
        repairable: false,
    };
    disk.create_dir_all(dir)
        .map_err(|e| io("create the data directory", e))?;
    let has_log = disk.exists(&dir.join(WAL_FILE));
    let has_snapshot = disk.exists(&dir.join(SNAPSHOT_FILE));
    let identity = datadir::load_identity(disk, dir).map_err(refuse)?;
    let Some(identity) = identity else {
        if has_snapshot || (has_log && !unstarted_log::<S>(disk, dir)) {
            return Err(refuse(format!(
                "{} holds a log or snapshot but no {}: Verdict cannot tell whose data it is \
                 (it was written by an older version, or the identity file was deleted)",
                dir.display(),
                datadir::IDENTITY_FILE
            )));
        }
        // First use (or a first use a crash interrupted before anything was
        // logged): the empty log first, then the identity, each durable.
        // The identity is the commit point: a directory with one always has
        // a log, so a missing log is a deletion, never a crash.
        let identity = Identity::new(owner.cluster_id, owner.node).with_version(version);
        let header = WalHeader {
            start_seq: 0,
            incarnation: identity.incarnation(),
        };
        wal::create(disk, dir, header).map_err(|e| io("create the log", e))?;
        datadir::store_identity(disk, dir, &identity)
            .map_err(|e| io("write the identity file", e))?;
        return Ok(Recovered {
            state: initial,
            next_seq: 0,
            replayed: 0,
            from_snapshot: false,
            fresh: true,
            cut: None,
            identity,
        });
    };
    identity
        .check(dir, owner.cluster_id, owner.node)
        .and_then(|()| identity.check_version(dir, version))
        .map_err(|problem| Refusal {
            problem,
            repairable: false,
        })?;
    let incarnation = identity.incarnation();
    let plan = plan::<S>(disk, dir, incarnation, initial, node, setup, Strict::Yes)?;
    if let Some(cut) = &plan.cut_at {
        disk.truncate(&dir.join(WAL_FILE), cut.offset)
            .map_err(|e| io("cut the log's torn tail", e))?;
    }
    if plan.replace_log {
        let header = WalHeader {
            start_seq: plan.next_seq,
            incarnation,
        };
        wal::create(disk, dir, header).map_err(|e| io("replace the stale log", e))?;
    }
    Ok(Recovered {
        fresh: !plan.from_snapshot && plan.next_seq == 0,
        state: plan.state,
        next_seq: plan.next_seq,
        replayed: plan.replayed,
        from_snapshot: plan.from_snapshot,
        cut: plan.cut_at.map(|d| (d.bytes, d.why)),
        identity,
    })
}

/// Whether the log in `dir` is one a first start created and a crash left
/// before anything was logged: a whole header at 0 and no records.
fn unstarted_log<S: System>(disk: &dyn Disk, dir: &Path) -> bool {
    matches!(
        wal::read_log::<S>(disk, dir),
        Ok(Some(log)) if log.header.start_seq == 0 && log.records.is_empty()
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strict {
    /// Refuse at the first doubt.
    Yes,
    /// Keep the longest trustworthy prefix (for `repair`).
    No,
}

/// What the files on disk amount to.
struct Plan<S: System> {
    state: S::State,
    next_seq: u64,
    replayed: usize,
    from_snapshot: bool,
    /// A torn tail to cut.
    cut_at: Option<wal::Damage>,
    /// The log is stale (every record is in the snapshot): replace it.
    replace_log: bool,
    /// What a lenient reading left out, for `repair`'s report.
    lost: Vec<String>,
}

fn plan<S: System>(
    disk: &dyn Disk,
    dir: &Path,
    incarnation: u64,
    initial: S::State,
    node: S::Node,
    setup: &Setup<S>,
    strict: Strict,
) -> Result<Plan<S>, Refusal> {
    let mut lost = Vec::new();
    let mut doubt = |problem: String| -> Result<(), Refusal> {
        match strict {
            Strict::Yes => Err(refuse(problem)),
            Strict::No => {
                lost.push(problem);
                Ok(())
            }
        }
    };
    let mut snap = match snapshot::read::<S>(disk, dir) {
        Ok(s) => s,
        Err(e) => {
            doubt(e)?;
            None
        }
    };
    if let Some(s) = &snap {
        if s.incarnation != incarnation {
            doubt(format!(
                "{} was written by incarnation {:016x}, this directory is {incarnation:016x}: \
                 it was copied from elsewhere",
                dir.join(SNAPSHOT_FILE).display(),
                s.incarnation
            ))?;
            snap = None;
        }
    }
    let from_snapshot = snap.is_some();
    let (mut state, base) = match snap {
        Some(s) => (s.state, s.next_seq),
        None => (initial, 0),
    };
    let log_path = dir.join(WAL_FILE);
    let log = match wal::read_log::<S>(disk, dir) {
        Ok(Some(log)) => Some(log),
        Ok(None) => {
            doubt(format!(
                "{} is missing, but the directory has an identity: the log was deleted, and \
                 with it every record after the {}",
                log_path.display(),
                if from_snapshot {
                    format!("snapshot (record {base})")
                } else {
                    "node's first start".into()
                }
            ))?;
            None
        }
        Err(LogError::Io(e)) => {
            return Err(Refusal {
                problem: format!("cannot read {}: {e}", log_path.display()),
                repairable: false,
            })
        }
        Err(LogError::BadHeader(why)) => {
            doubt(format!("{} is damaged: {why}", log_path.display()))?;
            None
        }
    };
    let mut next_seq = base;
    let mut replayed = 0;
    let mut cut_at = None;
    let mut replace_log = log.is_none();
    if let Some(log) = log {
        let start = log.header.start_seq;
        let mut usable = true;
        if log.header.incarnation != incarnation {
            doubt(format!(
                "{} belongs to incarnation {:016x}, this directory is {incarnation:016x}: it \
                 was copied from elsewhere",
                log_path.display(),
                log.header.incarnation
            ))?;
            usable = false;
        } else if start > base {
            doubt(if from_snapshot {
                format!(
                    "{} starts at record {start} but the snapshot ends at record {base}: \
                     records {base}..{start} are missing",
                    log_path.display()
                )
            } else {
                format!(
                    "{} is missing: the log starts at record {start}, so records 0..{start} \
                     existed only in the snapshot",
                    dir.join(SNAPSHOT_FILE).display()
                )
            })?;
            usable = false;
        }
        let mut expect = start;
        let mut effects = Effects::default();
        for r in log.records.into_iter().take_while(|_| usable) {
            let problem = if r.seq != expect {
                Some(format!(
                    "{} has record {} at byte {} where record {expect} should be: the log \
                     is not one contiguous history",
                    log_path.display(),
                    r.seq,
                    r.offset
                ))
            } else if r.seq < base {
                expect += 1;
                continue; // already in the snapshot
            } else {
                expect += 1;
                let (seq, offset) = (r.seq, r.offset);
                replay::<S>(setup, node, &mut state, &mut effects, r.record).map(|e| {
                    format!(
                        "{} record {seq} (byte {offset}) cannot be replayed: {e}",
                        log_path.display()
                    )
                })
            };
            if let Some(problem) = problem {
                doubt(problem)?;
                usable = false;
                break;
            }
            next_seq = r.seq + 1;
            replayed += 1;
        }
        if usable {
            if let Some(d) = log.damage {
                match d.later {
                    Some((at, seq)) => doubt(format!(
                        "{} is damaged at byte {} ({}), and a good record of a later commit \
                         follows at byte {at} (record {seq}): this is not a torn write, and \
                         cutting the log there would lose records {expect}..={seq} or more, \
                         which may have been acknowledged",
                        log_path.display(),
                        d.offset,
                        d.why
                    ))?,
                    None => cut_at = Some(d),
                }
            }
        }
        if !usable || expect <= base {
            // Nothing of the log is needed (or usable): start a new one at
            // the snapshot's position.
            replace_log = true;
            cut_at = None;
        }
    }
    Ok(Plan {
        state,
        next_seq,
        replayed,
        from_snapshot,
        cut_at,
        replace_log,
        lost,
    })
}

/// What [`repair`] did or would do.
#[derive(Debug, Clone)]
pub struct RepairReport {
    /// What was found wrong (empty: nothing to repair).
    pub problems: Vec<String>,
    /// The state kept: up to this log position.
    pub kept_through: u64,
    /// Where the old files were moved.
    pub moved_to: Option<std::path::PathBuf>,
    /// The new incarnation, when the directory was repaired.
    pub new_incarnation: Option<String>,
}

/// Replays one logged record on `state`: its restart if it is one, then
/// its handler, answering the handler's choices from the log. Says why when
/// the handler no longer asks what the log answers.
fn replay<S: System>(
    setup: &Setup<S>,
    node: S::Node,
    state: &mut S::State,
    effects: &mut Effects<S>,
    record: Record<S>,
) -> Option<String> {
    let (record, choices) = record.into_parts();
    if matches!(record, Record::Restart) {
        S::crash(node, state, setup.config());
    }
    effects.clear();
    let logged = choices.len();
    let ((), chosen) = choice::run(Source::Replay(choices), || {
        S::dispatch(setup.cluster(), node, state, record.into_trigger(), effects);
    });
    chosen.error.map(|e| e.to_string()).or_else(|| {
        (chosen.answers.len() != logged).then(|| {
            format!(
                "the log records {logged} choices, but replaying it the handler makes {}: \
                 the program is not the one that wrote the log",
                chosen.answers.len()
            )
        })
    })
}

/// The operator's "I accept losing data" repair: keeps the longest history
/// the directory can be trusted with (the snapshot if it reads, then the
/// log's records that continue it without a gap, up to the first damage),
/// writes it as a new snapshot with an empty log, moves every old file to
/// `damaged-<unix time>/` in the directory (nothing is deleted), and gives
/// the directory a new incarnation, so peers that knew the node refuse it
/// until told to accept it (`repair --forget-peer` on each). With
/// `apply == false` it only reports.
pub fn repair<S: System>(
    disk: &dyn Disk,
    dir: &Path,
    owner: Owner<'_>,
    node: S::Node,
    setup: &Setup<S>,
    apply: bool,
) -> Result<RepairReport, String> {
    let identity = match datadir::load_identity(disk, dir) {
        Ok(Some(id)) => {
            id.check(dir, owner.cluster_id, owner.node)?;
            id.check_version(dir, None)?;
            Some(id)
        }
        Ok(None) => None,
        Err(e) => {
            // A damaged identity file is one more thing to set aside.
            if !apply {
                return Ok(RepairReport {
                    problems: vec![e],
                    kept_through: 0,
                    moved_to: None,
                    new_incarnation: None,
                });
            }
            None
        }
    };
    let incarnation = identity.as_ref().map_or(0, Identity::incarnation);
    let initial = || S::initial_state(node, setup.config());
    let strict = plan::<S>(disk, dir, incarnation, initial(), node, setup, Strict::Yes);
    let mut problems = match (&strict, &identity) {
        (Ok(_), Some(_)) => Vec::new(),
        (Err(r), _) => vec![r.problem.clone()],
        (Ok(_), None) => vec![format!(
            "{} has no usable {}",
            dir.display(),
            datadir::IDENTITY_FILE
        )],
    };
    if problems.is_empty() {
        return Ok(RepairReport {
            problems,
            kept_through: strict.map_or(0, |p| p.next_seq),
            moved_to: None,
            new_incarnation: None,
        });
    }
    let lenient = plan::<S>(disk, dir, incarnation, initial(), node, setup, Strict::No)
        .map_err(|r| r.problem.clone())?;
    for p in lenient.lost {
        if !problems.contains(&p) {
            problems.push(p);
        }
    }
    let kept_through = lenient.next_seq;
    if !apply {
        return Ok(RepairReport {
            problems,
            kept_through,
            moved_to: None,
            new_incarnation: None,
        });
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aside = dir.join(format!("damaged-{stamp}"));
    let fail = |what: &str, e: std::io::Error| format!("cannot {what}: {e}");
    disk.create_dir_all(&aside)
        .map_err(|e| fail("create the folder for the old files", e))?;
    for name in [
        WAL_FILE,
        SNAPSHOT_FILE,
        datadir::IDENTITY_FILE,
        datadir::PEERS_FILE,
    ] {
        if disk.exists(&dir.join(name)) {
            disk.rename(&dir.join(name), &aside.join(name))
                .map_err(|e| fail(&format!("move {name} aside"), e))?;
        }
    }
    disk.sync_dir(&aside).map_err(|e| fail("sync", e))?;
    disk.sync_dir(dir).map_err(|e| fail("sync", e))?;
    let new = Identity::new(owner.cluster_id, owner.node);
    let inc = new.incarnation();
    if kept_through > 0 {
        snapshot::write::<S>(disk, dir, inc, kept_through, &lenient.state)
            .map_err(|e| fail("write the repaired snapshot", e))?;
    }
    let header = WalHeader {
        start_seq: kept_through,
        incarnation: inc,
    };
    wal::create(disk, dir, header).map_err(|e| fail("write the new log", e))?;
    // The identity last: a crash before this leaves a directory recovery
    // refuses (a log without identity), never one that looks whole.
    datadir::store_identity(disk, dir, &new).map_err(|e| fail("write the identity", e))?;
    Ok(RepairReport {
        problems,
        kept_through,
        moved_to: Some(aside),
        new_incarnation: Some(new.incarnation),
    })
}
