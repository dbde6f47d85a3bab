//! Pause points (PROTOCOL.md §17): named places inside the operations where a harness can
//! stop, crash or schedule a process. Without a hook each point costs one predictable branch
//! on a handle-local field.

use std::sync::Arc;

/// The pause points of §17, in the table's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PausePoint {
    /// The shard insert lock is held (§9.3).
    LockAfterAcquire,
    /// After the claim CAS of an insert (T1, T10, T11), before the key is written.
    PutAfterClaim,
    /// Key written, before the insert lock is released.
    PutAfterKey,
    /// `record[A']` written, before the publish CAS (T2).
    PutAfterPayload,
    /// After T4, before `record[1−A]` is written.
    RefreshAfterClaim,
    /// `record[1−A]` written, before T5.
    RefreshAfterPayload,
    /// A reader matched the key of a readable slot (after its first state load), before
    /// copying the record.
    GetAfterKeyMatch,
    /// A reader copied the record, before its fence and second state load.
    GetBetweenSeqReads,
    /// After T8, before T9.
    InvalidateAfterClaim,
    /// CLOCK chose a victim (§9.6), before the claim CAS.
    EvictAfterVictim,
    /// A dead owner was detected, before the reclaim CAS (§9.8).
    ReclaimBeforeCas,
    /// A waiter registered in `waiters`, before `FUTEX_WAIT` (§11).
    WaitBeforePark,
    /// An insert's `find` found no slot for the key, before it takes the insert lock.
    PutBeforeLock,
    /// An insert chose an EMPTY, reclaimed or expired victim, before its claim CAS (T1, T11).
    PutBeforeClaim,
    /// A writer's `find` returned a READY/STALE slot, before the T4 CAS.
    RefreshBeforeClaim,
    /// `invalidate`'s or `evict`'s `find` returned a READY/STALE slot, before the T8 CAS.
    InvalidateBeforeClaim,
    /// A reader's snapshot of an expired READY record (within its grace) passed, before T7.
    GetBeforeMarkStale,
    /// A durable operation was published, before its journal record is written.
    JournalBeforeAppend,
    /// The journal record was written, before `fdatasync` (policy `always`) or the answer.
    JournalAfterAppend,
    /// Policy `always`: `fdatasync` returned, before the answer.
    JournalAfterSync,
    /// A restore built and filled its private segment, before `linkat`/`rename`.
    RestoreBeforePublish,
    /// The flip CAS (N3, §18.5) succeeded, before the stage is closed (N4) and the answer.
    NsFlipAfterCas,
    /// A pin was stored (N6), before `ns_head` is loaded again.
    NsPinAfterStore,
    /// An unpinned `ns_get` loaded `ns_head`, before the `get` of the namespace key.
    NsGetAfterHead,
    /// A reclaim has its keep set (§18.7 steps 1–4), before it removes the first entry.
    NsReclaimAfterScan,
    /// An `ns_pin` loaded `ns_head` (the version it will pin), before it stores the pin (N6).
    NsPinBeforeStore,
    /// A compactor wrote its temporary snapshot (`write` returned), before its `fsync`.
    SnapshotAfterWrite,
    /// The temporary snapshot was fsynced, before its `rename`.
    SnapshotBeforeRename,
    /// The snapshot was renamed and the directory fsynced, before any covered file is removed.
    SnapshotBeforeRemove,
    /// After each covered file's `unlink`, before the last `fsync(DIR)`.
    SnapshotAfterRemove,
    /// §4.1 steps 1–2: TMP open, empty, under the creator's flock.
    CreateAfterOpenTemp,
    /// Step 3: TMP allocated, no header.
    CreateAfterSize,
    /// Step 4: header written, before the release store of `ready`.
    CreateAfterHeader,
    /// Step 5: `ready` set, before `linkat`/`rename`.
    CreateBeforeLink,
    /// Step 6: PATH linked, TMP removed, flock released, before the creator registers.
    CreateAfterLink,
    /// Repair (§9.9) judged a dead holder's insert lock or a corrupt readable slot, before its CAS.
    RepairBeforeCas,
    /// §4.1 step 1 done, before step 2's flock: the instant in which another creator's sweep can
    /// take TMP's lock and remove it (`open_temp`'s `st_nlink` test answers that).
    CreateBeforeFlock,
}

impl PausePoint {
    /// Every pause point, in the order of PROTOCOL.md §17.
    pub const ALL: [PausePoint; 37] = [
        PausePoint::LockAfterAcquire,
        PausePoint::PutAfterClaim,
        PausePoint::PutAfterKey,
        PausePoint::PutAfterPayload,
        PausePoint::RefreshAfterClaim,
        PausePoint::RefreshAfterPayload,
        PausePoint::GetAfterKeyMatch,
        PausePoint::GetBetweenSeqReads,
        PausePoint::InvalidateAfterClaim,
        PausePoint::EvictAfterVictim,
        PausePoint::ReclaimBeforeCas,
        PausePoint::WaitBeforePark,
        PausePoint::PutBeforeLock,
        PausePoint::PutBeforeClaim,
        PausePoint::RefreshBeforeClaim,
        PausePoint::InvalidateBeforeClaim,
        PausePoint::GetBeforeMarkStale,
        PausePoint::JournalBeforeAppend,
        PausePoint::JournalAfterAppend,
        PausePoint::JournalAfterSync,
        PausePoint::RestoreBeforePublish,
        PausePoint::NsFlipAfterCas,
        PausePoint::NsPinAfterStore,
        PausePoint::NsGetAfterHead,
        PausePoint::NsReclaimAfterScan,
        PausePoint::NsPinBeforeStore,
        PausePoint::SnapshotAfterWrite,
        PausePoint::SnapshotBeforeRename,
        PausePoint::SnapshotBeforeRemove,
        PausePoint::SnapshotAfterRemove,
        PausePoint::CreateAfterOpenTemp,
        PausePoint::CreateAfterSize,
        PausePoint::CreateAfterHeader,
        PausePoint::CreateBeforeLink,
        PausePoint::CreateAfterLink,
        PausePoint::RepairBeforeCas,
        PausePoint::CreateBeforeFlock,
    ];

    /// The §17 name.
    pub fn name(self) -> &'static str {
        match self {
            PausePoint::LockAfterAcquire => "lock.after_acquire",
            PausePoint::PutAfterClaim => "put.after_claim",
            PausePoint::PutAfterKey => "put.after_key",
            PausePoint::PutAfterPayload => "put.after_payload",
            PausePoint::RefreshAfterClaim => "refresh.after_claim",
            PausePoint::RefreshAfterPayload => "refresh.after_payload",
            PausePoint::GetAfterKeyMatch => "get.after_key_match",
            PausePoint::GetBetweenSeqReads => "get.between_seq_reads",
            PausePoint::InvalidateAfterClaim => "invalidate.after_claim",
            PausePoint::EvictAfterVictim => "evict.after_victim",
            PausePoint::ReclaimBeforeCas => "reclaim.before_cas",
            PausePoint::WaitBeforePark => "wait.before_park",
            PausePoint::PutBeforeLock => "put.before_lock",
            PausePoint::PutBeforeClaim => "put.before_claim",
            PausePoint::RefreshBeforeClaim => "refresh.before_claim",
            PausePoint::InvalidateBeforeClaim => "invalidate.before_claim",
            PausePoint::GetBeforeMarkStale => "get.before_mark_stale",
            PausePoint::JournalBeforeAppend => "journal.before_append",
            PausePoint::JournalAfterAppend => "journal.after_append",
            PausePoint::JournalAfterSync => "journal.after_sync",
            PausePoint::RestoreBeforePublish => "restore.before_publish",
            PausePoint::NsFlipAfterCas => "ns_flip.after_cas",
            PausePoint::NsPinAfterStore => "ns_pin.after_store",
            PausePoint::NsGetAfterHead => "ns_get.after_head",
            PausePoint::NsReclaimAfterScan => "ns_reclaim.after_scan",
            PausePoint::NsPinBeforeStore => "ns_pin.before_store",
            PausePoint::SnapshotAfterWrite => "snapshot.after_write",
            PausePoint::SnapshotBeforeRename => "snapshot.before_rename",
            PausePoint::SnapshotBeforeRemove => "snapshot.before_remove",
            PausePoint::SnapshotAfterRemove => "snapshot.after_remove",
            PausePoint::CreateAfterOpenTemp => "create.after_open_temp",
            PausePoint::CreateAfterSize => "create.after_size",
            PausePoint::CreateAfterHeader => "create.after_header",
            PausePoint::CreateBeforeLink => "create.before_link",
            PausePoint::CreateAfterLink => "create.after_link",
            PausePoint::RepairBeforeCas => "repair.before_cas",
            PausePoint::CreateBeforeFlock => "create.before_flock",
        }
    }

    /// The point with this §17 name.
    pub fn from_name(name: &str) -> Option<PausePoint> {
        PausePoint::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A pause hook: called on the operation's thread each time it reaches a point.
pub type PauseHook = Arc<dyn Fn(PausePoint) + Send + Sync>;

/// Whether the pause points are compiled in: true in every normal build. Only the benchmark-only
/// cargo feature `no-pause-points` (never default, never for the harness, which relies on the
/// points) makes `Cache::pause_at` an empty function, so that scripts/bench-pause-cost.sh can
/// measure what the points cost without a hook; the bench prints this to prove which build ran.
pub const PAUSE_POINTS_COMPILED: bool = !cfg!(feature = "no-pause-points");
