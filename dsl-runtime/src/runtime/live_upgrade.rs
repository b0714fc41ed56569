//! Upgrading a live deployment one process at a time: the program of an
//! upgrade ([`Upgrade<P>`]) started on a data directory of the old
//! version migrates it, and talks to old peers in the old encoding.
//!
//! # On disk
//!
//! A directory whose identity names no version holds the old version's
//! formats. The upgraded program recovers it as the old program would
//! (snapshot, then the log replayed through the old handlers), turns the
//! state into the new version's with [`UpgradePlan::migrate`], and makes
//! that durable before it talks to anyone:
//!
//! 1. the migrated state is written to `upgrade-snapshot.bin` (temporary
//!    file, sync, rename, directory sync); the old program never reads it;
//! 2. the identity is rewritten with `version = "<new version>"`
//!    (atomically): the commit point. Before it the directory is the old
//!    version's, intact; after it, the old program refuses it (downgrades
//!    are not supported) and the upgraded program finishes step 3;
//! 3. a new, empty log starts at the migrated snapshot's position, and the
//!    staged snapshot is renamed over `snapshot.bin`.
//!
//! Step 3 is redone whenever the staged file is still there, so a crash
//! at any point leaves either the old directory or one the upgraded
//! program completes. The incarnation is kept: peers still know the node.
//! The node then restarts as any node does after a crash (volatile fields
//! reset, the new version's restart handler).
//!
//! # On the wire
//!
//! An upgraded node marks its hello ([`codec::UPGRADED`]); an upgraded
//! node answers a marked hello with one, and an old node (which never
//! writes on a peer's connection) does not. So on each connection the
//! sender learns whether the receiver reads the new encoding. Until it
//! has, it sends a new message as [`UpgradePlan::down`] makes it, in the
//! old encoding (a refused one is not sent: logged and counted as lost), and
//! old messages (recovered, or adapted) as they are. Every message frame
//! says by its mark which encoding it holds; the receiver decodes it so
//! and [`Upgrade<P>`]'s handlers adapt it ([`UpgradePlan::up`]). Clients
//! are not affected: inputs and outputs are the old version's types.

use std::marker::PhantomData;
use std::path::Path;

use crate::runtime::codec::{self, FrameError};
use crate::runtime::datadir::{self, Identity};
use crate::runtime::disk::Disk;
use crate::runtime::recovery::{self, Owner, Recovered, Refusal};
use crate::runtime::snapshot::{self, SNAPSHOT_FILE};
use crate::runtime::wal::{self, WalHeader};
use crate::setup::Setup;
use crate::system::System;
use crate::transform::upgrade::{same_node, Upgrade, UpgradePlan, Versioned};

/// The staged snapshot of a migration in progress (see the module docs).
pub const MIGRATED_SNAPSHOT: &str = "upgrade-snapshot.bin";

/// What the runtime needs to serve system `S` as the upgraded side of a
/// live upgrade. [`LivePlan`] provides it for every [`Upgrade<P>`].
pub trait LiveUpgrade<S: System>: Send + Sync + 'static {
    /// The upgraded version's name, recorded in the identity of the data
    /// directories it writes.
    fn version(&self) -> &'static str;

    /// Recovers `node`'s state from `dir`, first migrating a directory of
    /// the old version (see the module docs).
    fn open(
        &self,
        disk: &dyn Disk,
        dir: &Path,
        owner: Owner<'_>,
        node: S::Node,
        setup: &Setup<S>,
    ) -> Result<Opened<S>, Refusal>;

    /// `msg`'s payloads: for a peer of the old version, and for an
    /// upgraded peer.
    fn encode(&self, msg: &S::Msg) -> Encoded;

    /// A message payload in the new encoding (`upgraded`) or the old one.
    fn decode(&self, upgraded: bool, payload: &[u8]) -> Result<S::Msg, FrameError>;
}

/// A message's payloads for each kind of peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// For a peer of the old version; `None`: the plan's `down` adapter
    /// refused the message, and such a peer does not get it.
    pub old: Option<Vec<u8>>,
    /// For an upgraded peer, in the new encoding; `None`: it gets `old`
    /// (an old message, which it adapts itself).
    pub new: Option<Vec<u8>>,
}

/// A recovered data directory, and the migration that preceded, if any.
pub struct Opened<S: System> {
    /// The state, as [`recovery::recover`] gives it.
    pub recovered: Recovered<S>,
    /// Set when this start migrated an old directory.
    pub migrated: Option<Migration>,
}

/// What a migration of an old directory did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The log position the migrated snapshot stands for: every record
    /// the old version logged is in it.
    pub next_seq: u64,
    /// Old log records replayed (through the old handlers) before migrating.
    pub replayed: usize,
    /// Whether the old directory had a snapshot.
    pub from_snapshot: bool,
}

/// The live upgrade of plan `P`'s [`Upgrade<P>`].
pub struct LivePlan<P>(PhantomData<fn() -> P>);

impl<P> LivePlan<P> {
    /// The live side of plan `P`.
    pub fn new() -> Self {
        LivePlan(PhantomData)
    }
}

impl<P> Default for LivePlan<P> {
    fn default() -> Self {
        Self::new()
    }
}

fn failed(dir: &Path, what: &str, e: impl std::fmt::Display) -> Refusal {
    Refusal {
        problem: format!("cannot {what} in {}: {e}", dir.display()),
        repairable: false,
    }
}

impl<P: UpgradePlan> LivePlan<P> {
    /// Migrates the old-version directory `dir` whose identity is `id`.
    fn migrate_dir(
        disk: &dyn Disk,
        dir: &Path,
        owner: Owner<'_>,
        node: <Upgrade<P> as System>::Node,
        setup: &Setup<Upgrade<P>>,
        id: Identity,
    ) -> Result<Migration, Refusal> {
        let old_setup = setup.with_system::<P::Old>(setup.config().clone());
        let old = recovery::recover::<P::Old>(disk, dir, owner, node, &old_setup)?;
        let incarnation = id.incarnation();
        if !old.fresh {
            // The state as recovery leaves it (before the restart's reset
            // of volatile fields, which the upgraded node's restart does).
            let state: <Upgrade<P> as System>::State = Versioned::New(P::migrate(node, &old.state));
            let bytes = snapshot::encode::<Upgrade<P>>(incarnation, old.next_seq, &state);
            datadir::write_atomically(disk, dir, MIGRATED_SNAPSHOT, &bytes)
                .map_err(|e| failed(dir, "write the migrated snapshot", e))?;
        }
        let version = P::New::meta().name;
        datadir::store_identity(disk, dir, &id.with_version(Some(version)))
            .map_err(|e| failed(dir, "record the upgrade in the identity file", e))?;
        Self::finish(disk, dir, incarnation)?;
        Ok(Migration {
            next_seq: old.next_seq,
            replayed: old.replayed,
            from_snapshot: old.from_snapshot,
        })
    }

    /// Step 3 of a committed migration, when its staged snapshot is there.
    fn finish(disk: &dyn Disk, dir: &Path, incarnation: u64) -> Result<(), Refusal> {
        let staged = dir.join(MIGRATED_SNAPSHOT);
        let Some(bytes) = disk
            .read(&staged, snapshot::MAX_SNAPSHOT_BYTES)
            .map_err(|e| failed(dir, "read the migrated snapshot", e))?
        else {
            return Ok(());
        };
        let snap = snapshot::decode::<Upgrade<P>>(&bytes).map_err(|why| Refusal {
            problem: format!(
                "the migrated snapshot {} is damaged ({why}); it was renamed into place \
                 whole, so the disk lied",
                staged.display()
            ),
            repairable: false,
        })?;
        let header = WalHeader {
            start_seq: snap.next_seq,
            incarnation,
        };
        wal::create(disk, dir, header).map_err(|e| failed(dir, "start the upgraded log", e))?;
        disk.rename(&staged, &dir.join(SNAPSHOT_FILE))
            .and_then(|()| disk.sync_dir(dir))
            .map_err(|e| failed(dir, "put the migrated snapshot in place", e))
    }
}

impl<P: UpgradePlan> LiveUpgrade<Upgrade<P>> for LivePlan<P> {
    fn version(&self) -> &'static str {
        P::New::meta().name
    }

    fn open(
        &self,
        disk: &dyn Disk,
        dir: &Path,
        owner: Owner<'_>,
        node: <Upgrade<P> as System>::Node,
        setup: &Setup<Upgrade<P>>,
    ) -> Result<Opened<Upgrade<P>>, Refusal> {
        let version = self.version();
        disk.create_dir_all(dir)
            .map_err(|e| failed(dir, "create the data directory", e))?;
        let identity = datadir::load_identity(disk, dir).map_err(|problem| Refusal {
            problem,
            repairable: true,
        })?;
        let mut migrated = None;
        match identity {
            Some(id) if id.version.is_none() => {
                migrated = Some(Self::migrate_dir(disk, dir, owner, node, setup, id)?);
            }
            Some(id) if id.version.as_deref() == Some(version) => {
                id.check(dir, owner.cluster_id, owner.node)
                    .map_err(|problem| Refusal {
                        problem,
                        repairable: false,
                    })?;
                Self::finish(disk, dir, id.incarnation())?;
            }
            // Another version (refused by recovery) or a first use.
            _ => {}
        }
        let new_node = same_node::<P::Old, P::New>(node);
        let initial = Versioned::New(P::New::initial_state(
            new_node,
            &P::new_config(setup.config()),
        ));
        let recovered =
            recovery::recover_version(disk, dir, owner, node, setup, initial, Some(version))?;
        Ok(Opened {
            recovered,
            migrated,
        })
    }

    fn encode(&self, msg: &<Upgrade<P> as System>::Msg) -> Encoded {
        match msg {
            Versioned::Old(m) => Encoded {
                old: Some(codec::to_payload(m)),
                new: None,
            },
            Versioned::New(m) => Encoded {
                old: P::down(m).map(|d| codec::to_payload(&d)),
                new: Some(codec::to_payload(m)),
            },
        }
    }

    fn decode(
        &self,
        upgraded: bool,
        payload: &[u8],
    ) -> Result<<Upgrade<P> as System>::Msg, FrameError> {
        if upgraded {
            codec::from_payload(payload).map(Versioned::New)
        } else {
            codec::from_payload(payload).map(Versioned::Old)
        }
    }
}
