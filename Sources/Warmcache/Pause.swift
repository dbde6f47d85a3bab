// Pause.swift — §17 pause points. Each operation calls `at(.point)` at the places named in §17
// so that a harness can stop, crash or schedule a process exactly there. Without a hook the
// call is one inlined nil check of a handle-local field (a predictable branch): nothing
// measurable.

/// The pause points of PROTOCOL.md §17, in the table's order, spelled exactly as there.
@_spi(Harness) public enum PausePoint: String, CaseIterable, Sendable {
    /// The shard insert lock is held (§9.3).
    case lockAfterAcquire = "lock.after_acquire"
    /// After the claim CAS of an insert (T1, T10, T11), before the key is written.
    case putAfterClaim = "put.after_claim"
    /// Key written, before the insert lock is released.
    case putAfterKey = "put.after_key"
    /// `record[A']` written, before the publish CAS (T2).
    case putAfterPayload = "put.after_payload"
    /// After T4, before `record[1−A]` is written.
    case refreshAfterClaim = "refresh.after_claim"
    /// `record[1−A]` written, before T5.
    case refreshAfterPayload = "refresh.after_payload"
    /// A reader matched the key of a readable slot (after its first state load), before copying.
    case getAfterKeyMatch = "get.after_key_match"
    /// A reader copied the record, before its fence and second state load.
    case getBetweenSeqReads = "get.between_seq_reads"
    /// After T8, before T9.
    case invalidateAfterClaim = "invalidate.after_claim"
    /// CLOCK chose a victim (§9.6), before the claim CAS.
    case evictAfterVictim = "evict.after_victim"
    /// A dead owner was detected, before the reclaim CAS (§9.8).
    case reclaimBeforeCAS = "reclaim.before_cas"
    /// A waiter registered in `waiters`, before FUTEX_WAIT (§11).
    case waitBeforePark = "wait.before_park"
    /// An insert's `find` found no slot for the key, before it takes the insert lock.
    case putBeforeLock = "put.before_lock"
    /// An insert chose an EMPTY, reclaimed or expired victim, before its claim CAS (T1, T11).
    case putBeforeClaim = "put.before_claim"
    /// A writer's `find` returned a READY/STALE slot, before the T4 CAS.
    case refreshBeforeClaim = "refresh.before_claim"
    /// `invalidate`'s or `evict`'s `find` returned a READY/STALE slot, before the T8 CAS.
    case invalidateBeforeClaim = "invalidate.before_claim"
    /// A reader's snapshot of an expired READY record (within its grace) passed, before T7.
    case getBeforeMarkStale = "get.before_mark_stale"
    // The durable store's points (PERSISTENCE.md §10, Durable/).
    /// A durable operation was published, before its record is written to the journal.
    case journalBeforeAppend = "journal.before_append"
    /// The record was written (`write` returned), before `fdatasync` (`always`) or the answer.
    case journalAfterAppend = "journal.after_append"
    /// `always`: `fdatasync` returned, before the answer.
    case journalAfterSync = "journal.after_sync"
    /// Restore built and filled the private segment, before `linkat`/`rename` (§7 step 7).
    case restoreBeforePublish = "restore.before_publish"
    /// The flip CAS (N3, §18.5) succeeded, before the stage is closed (N4) and the answer.
    case nsFlipAfterCas = "ns_flip.after_cas"
    /// A pin was stored (N6), before `ns_head` is loaded again.
    case nsPinAfterStore = "ns_pin.after_store"
    /// An unpinned `nsGet` loaded `ns_head`, before the get of the namespace key.
    case nsGetAfterHead = "ns_get.after_head"
    /// A reclaim has its keep set (§18.7 steps 1–4), before it removes the first entry.
    case nsReclaimAfterScan = "ns_reclaim.after_scan"
    /// An `nsPin` loaded `ns_head` (the version it will pin), before it stores the pin (N6).
    case nsPinBeforeStore = "ns_pin.before_store"
    // Compaction's points (PERSISTENCE.md §8, Durable/DurableCompact.swift).
    /// The temporary snapshot was written (`write` returned), before its `fsync`.
    case snapshotAfterWrite = "snapshot.after_write"
    /// The temporary snapshot was fsynced, before the `rename`.
    case snapshotBeforeRename = "snapshot.before_rename"
    /// The snapshot was renamed and `DIR` fsynced, before any covered file is removed.
    case snapshotBeforeRemove = "snapshot.before_remove"
    /// After each covered file's `unlink`, before the last `fsync(DIR)`.
    case snapshotAfterRemove = "snapshot.after_remove"
    // The creator's steps of §4.1 (a killed creator is crashsweep's `creator` role).
    /// Steps 1–2: TMP open, empty, under the creator's flock.
    case createAfterOpenTemp = "create.after_open_temp"
    /// Step 3: TMP allocated, no header.
    case createAfterSize = "create.after_size"
    /// Step 4: header written, before the release store of `ready`.
    case createAfterHeader = "create.after_header"
    /// Step 5: `ready` set, before `linkat`.
    case createBeforeLink = "create.before_link"
    /// Step 6: PATH linked, TMP removed, flock released, before the creator registers.
    case createAfterLink = "create.after_link"
    /// Repair (§9.9) judged a dead holder's insert lock or a corrupt readable slot, before its CAS.
    case repairBeforeCAS = "repair.before_cas"
    /// §4.1 step 1 done, before step 2's flock: the instant in which another creator's sweep can
    /// take TMP's lock and remove it (openTemp's st_nlink test answers that).
    case createBeforeFlock = "create.before_flock"

    /// Every point's name, in §17's order.
    public static var allNames: [String] { allCases.map(\.rawValue) }
}

/// A pause hook: called with the point each time an operation of the handle reaches it, on the
/// operation's thread.
@_spi(Harness) public typealias PauseHook = @Sendable (PausePoint) -> Void

/// Whether the pause points are compiled in: true in every normal build. Only the
/// benchmark-only condition `WARMCACHE_NO_PAUSE_POINTS` (`-Xswiftc -DWARMCACHE_NO_PAUSE_POINTS`)
/// compiles them out, so that scripts/bench-pause-cost.sh can measure what they cost without a
/// hook; never build the harness or a fixture that way (pause hooks would be ignored).
#if WARMCACHE_NO_PAUSE_POINTS
public let pausePointsCompiled = false
#else
public let pausePointsCompiled = true
#endif

extension WarmCache {
    /// Call the pause hook, if any, at `point`. Every pause point goes through here, so this is
    /// the single switch for `WARMCACHE_NO_PAUSE_POINTS`, under which the body is empty and the
    /// inlined call disappears.
    @inline(__always)
    func at(_ point: PausePoint) {
        #if !WARMCACHE_NO_PAUSE_POINTS
        if let h = pauseHook { h(point) }
        #endif
    }
}
