package warmcache

// §17 Pause points. Each operation calls c.hooks.at(Point...) at the places named in §17 so that
// a harness can stop, crash or schedule a process exactly there. Without a hook the call is one
// inlined nil check of a handle-local field (a predictable branch): nothing measurable.

// Pause point names (PROTOCOL.md §17), spelled exactly as there.
const (
	PointLockAfterAcquire      = "lock.after_acquire"      // the shard insert lock is held (§9.3)
	PointPutAfterClaim         = "put.after_claim"         // after T1/T10/T11, before the key is written
	PointPutAfterKey           = "put.after_key"           // key written, before the insert lock is released
	PointPutAfterPayload       = "put.after_payload"       // record[A'] written, before T2
	PointRefreshAfterClaim     = "refresh.after_claim"     // after T4, before record[1−A] is written
	PointRefreshAfterPayload   = "refresh.after_payload"   // record[1−A] written, before T5
	PointGetAfterKeyMatch      = "get.after_key_match"     // key of a readable slot matched (after the first state load), before the copy
	PointGetBetweenSeqReads    = "get.between_seq_reads"   // record copied, before the fence and second state load
	PointInvalidateAfterClaim  = "invalidate.after_claim"  // after T8, before T9
	PointEvictAfterVictim      = "evict.after_victim"      // CLOCK chose a victim (§9.6), before the claim CAS
	PointReclaimBeforeCAS      = "reclaim.before_cas"      // a dead owner was detected, before the reclaim CAS (§9.8)
	PointWaitBeforePark        = "wait.before_park"        // registered in waiters, before FUTEX_WAIT (§11)
	PointPutBeforeLock         = "put.before_lock"         // an insert's find found nothing, before the insert lock
	PointPutBeforeClaim        = "put.before_claim"        // EMPTY, reclaimed or expired victim chosen, before T1/T11
	PointRefreshBeforeClaim    = "refresh.before_claim"    // find returned READY/STALE, before T4
	PointInvalidateBeforeClaim = "invalidate.before_claim" // find returned READY/STALE, before T8
	PointGetBeforeMarkStale    = "get.before_mark_stale"   // snapshot of an expired READY record passed, before T7
	PointNsFlipAfterCAS        = "ns_flip.after_cas"       // N3 made, before N4 (§18.5)
	PointNsPinAfterStore       = "ns_pin.after_store"      // N6 stored, before ns_head is loaded again
	PointNsGetAfterHead        = "ns_get.after_head"       // an unpinned ns_get loaded ns_head, before its get
	PointNsReclaimAfterScan    = "ns_reclaim.after_scan"   // keep set computed (§18.7 steps 1–4), before the first removal
	PointNsPinBeforeStore      = "ns_pin.before_store"     // ns_head loaded, before N6 (the window the second load closes)
	// The creator's steps of §4.1 (a killed creator is crashsweep's `creator` role).
	PointCreateAfterOpenTemp = "create.after_open_temp" // steps 1–2: TMP open, empty, flocked
	PointCreateAfterSize     = "create.after_size"      // step 3: TMP allocated, no header
	PointCreateAfterHeader   = "create.after_header"    // step 4: header written, before ready
	PointCreateBeforeLink    = "create.before_link"     // step 5: ready, before linkat/rename
	PointCreateAfterLink     = "create.after_link"      // step 6: PATH linked, TMP removed, before registering
	// Repair (§9.9): a dead holder's insert lock or a corrupt readable slot judged, before its CAS.
	PointRepairBeforeCAS = "repair.before_cas"
	// §4.1 step 1 done, before step 2's flock: the instant in which another creator's sweep can
	// take TMP's lock and remove it (openTemp's st_nlink test answers that).
	PointCreateBeforeFlock = "create.before_flock"
)

// PausePoints lists every pause point of §17, in the table's order.
var PausePoints = []string{
	PointLockAfterAcquire,
	PointPutAfterClaim,
	PointPutAfterKey,
	PointPutAfterPayload,
	PointRefreshAfterClaim,
	PointRefreshAfterPayload,
	PointGetAfterKeyMatch,
	PointGetBetweenSeqReads,
	PointInvalidateAfterClaim,
	PointEvictAfterVictim,
	PointReclaimBeforeCAS,
	PointWaitBeforePark,
	PointPutBeforeLock,
	PointPutBeforeClaim,
	PointRefreshBeforeClaim,
	PointInvalidateBeforeClaim,
	PointGetBeforeMarkStale,
	PointJournalBeforeAppend,
	PointJournalAfterAppend,
	PointJournalAfterSync,
	PointRestoreBeforePublish,
	PointNsFlipAfterCAS,
	PointNsPinAfterStore,
	PointNsGetAfterHead,
	PointNsReclaimAfterScan,
	PointNsPinBeforeStore,
	PointSnapshotAfterWrite,
	PointSnapshotBeforeRename,
	PointSnapshotBeforeRemove,
	PointSnapshotAfterRemove,
	PointCreateAfterOpenTemp,
	PointCreateAfterSize,
	PointCreateAfterHeader,
	PointCreateBeforeLink,
	PointCreateAfterLink,
	PointRepairBeforeCAS,
	PointCreateBeforeFlock,
}

// IsPausePoint reports whether name is one of PausePoints.
func IsPausePoint(name string) bool {
	for _, p := range PausePoints {
		if p == name {
			return true
		}
	}
	return false
}

// hooks holds a handle's pause hook; pause is nil outside a harness.
type hooks struct {
	pause func(point string)
}

// at calls the pause hook, if any, at point. Small enough to be inlined: the cost without a
// hook is one load and one not-taken branch. Every pause point goes through here, so this is the
// single switch for pausePointsCompiled: when it is false (build tag warmcache_nopause, see
// pause_compiled.go) the condition is constant false and the compiler drops the load, the branch
// and the call, which is what scripts/bench-pause-cost.sh compares a normal build against.
func (h *hooks) at(point string) {
	if pausePointsCompiled && h.pause != nil {
		h.pause(point)
	}
}

// setPauseHook installs f as this handle's pause hook (nil removes it). f is called with the
// point's name (one of PausePoints) each time an operation of this handle reaches the point, on
// the operation's goroutine. Like enableTrace, call it while no other goroutine uses the handle
// (the field is read without synchronisation on the hot paths). To have the hook during Open
// or Create (the registration sweep may reclaim), use OpenOptions.pauseHook.
func (c *Cache) setPauseHook(f func(point string)) {
	c.hooks.pause = f
}
