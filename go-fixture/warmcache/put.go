package warmcache

import (
	"encoding/binary"
	"time"
	"unsafe"
)

// PutOptions are the options of Put and Refresh (§9.4).
type PutOptions struct {
	TTL       time.Duration // 0 = never expires
	Grace     time.Duration // stale-serving window after expiry, 0 = none
	OriginTag uint32        // opaque, stored in value_info
	Version   uint64        // 0 = automatic
	// Durable journals the put into the handle's store (PERSISTENCE.md §6); ignored without
	// AttachStore.
	Durable bool
}

// PutResult is the result of a successful Put or Refresh.
type PutResult struct {
	Version     uint64
	Created     bool // a new entry was inserted (T2) rather than refreshed (T5)
	Shard, Slot uint32
	// Durable: the put's journal record is durable as the store's policy promises (false for
	// a put without Durable, and when the journal failed).
	Durable bool
}

// find state masks (§9.1: what the caller wants differs).
const (
	maskPut    = 1<<StateWriting | 1<<StateReady | 1<<StateRefreshing | 1<<StateStale | 1<<StateInvalidated
	maskRemove = 1<<StateWriting | 1<<StateReady | 1<<StateRefreshing | 1<<StateStale
)

// find looks for key in its window among slots whose state is in mask (§9.1). It never stops
// at an EMPTY slot. Impossible words and out-of-range key lengths are skipped (§13). The key
// loads are only a hint for slots owned by others; callers act by CAS on the returned word.
func (c *Cache) find(key []byte, h uint64, shard, home uint32, mask uint32) (uint32, Word, bool) {
	pc := c.geo.ParticipantCapacity
	j := home
	for k := uint32(0); k < c.geo.ProbeWindow; k, j = k+1, c.nextSlot(j) {
		so := c.slotOff(shard, j)
		w := Word(c.load(so + SlotState)) // acquire (seq-cst in Go)
		if !w.valid(pc) || mask&(1<<w.State()) == 0 {
			continue
		}
		// len(key) ≤ key_capacity (checked by callers) and key_len must equal it, so the key
		// words compared are inside the key area.
		if c.load(so+SlotKeyHash) != h || c.load(so+SlotKeyLen) != uint64(len(key)) {
			continue
		}
		if c.keyMatches(so, key) {
			return j, w, true
		}
	}
	return 0, 0, false
}

// keyMatches compares the key words of the slot at so with key (len(key) = key_len ≤
// key_capacity, checked by the caller). The padding bytes of the last word belong to nothing
// (§1, §13.1) and are masked off, so that every implementation matches the same slots.
func (c *Cache) keyMatches(so uint64, key []byte) bool {
	return keyWordsMatch(unsafe.Add(c.base, so+SlotKey), key)
}

// keyWordsMatch compares the shared key words at p with key (len(key) ≥ 1, and ≤ the key area
// at p), one atomic load per word; the last word is masked to the key's length, since the slot's
// padding after the key is not part of it.
func keyWordsMatch(p unsafe.Pointer, key []byte) bool {
	i := uint64(0)
	k := key
	for ; len(k) >= 8; k, i = k[8:], i+8 {
		if loadAt(p, i) != binary.LittleEndian.Uint64(k) {
			return false
		}
	}
	return len(k) == 0 || loadAt(p, i)&lowMask(len(k)) == lastWord(key)
}

// Put stores value under key: a refresh if the key is present, else an insert (§9.4).
func (c *Cache) Put(key, value []byte, o PutOptions) (PutResult, error) {
	return c.put("put", key, value, o, false)
}

// Refresh is Put's refresh path only: a key that is not present fails with not_found.
func (c *Cache) Refresh(key, value []byte, o PutOptions) (PutResult, error) {
	return c.put("refresh", key, value, o, true)
}

type step int

const (
	stepDone  step = iota // return the result
	stepRetry             // go round the put loop again
)

func (c *Cache) put(op string, key, value []byte, o PutOptions, refreshOnly bool) (PutResult, error) {
	if err := c.checkOpen(op); err != nil {
		return PutResult{}, err
	}
	if len(key) < 1 || len(key) > int(c.geo.KeyCapacity) {
		return PutResult{}, newErr(CodeTooLarge, op, c.path, "key is %d bytes, allowed 1..%d", len(key), c.geo.KeyCapacity)
	}
	if len(value) > int(c.geo.ValueCapacity) {
		return PutResult{}, newErr(CodeTooLarge, op, c.path, "value is %d bytes, value_capacity is %d", len(value), c.geo.ValueCapacity)
	}
	if o.TTL < 0 || o.Grace < 0 {
		return PutResult{}, newErr(CodeTooLarge, op, c.path, "negative ttl or grace")
	}
	h, shard, home := c.keyPlace(key)
	// §5.1: the claim hint covers every lock and claim of the loop below. An operation that a
	// test hook abandons keeps its claim, as a dead process would, so it keeps the hint too.
	c.enterHint(shard, home)
	r, err := c.putLoop(op, key, value, o, refreshOnly, h, shard, home)
	if !isAbandoned(err) {
		c.leaveHint()
	}
	return r, err
}

func (c *Cache) putLoop(op string, key, value []byte, o PutOptions, refreshOnly bool, h uint64, shard, home uint32) (PutResult, error) {
	for i := 0; i < WaitSpins; i++ {
		j, w, found := c.find(key, h, shard, home, maskPut)
		if found {
			switch w.State() {
			case StateReady, StateStale:
				r, err, st := c.refreshPath(op, shard, j, w, key, value, o)
				if st == stepRetry {
					continue
				}
				return r, err
			default: // WRITING, REFRESHING, INVALIDATED owned by d
				if d := w.Owner(); !c.alive(d) {
					c.reclaim(shard, j, w)
				} else {
					relax(i)
				}
				continue
			}
		}
		if refreshOnly {
			return PutResult{}, newErr(CodeNotFound, op, c.path, "key not present (shard %d)", shard)
		}
		r, err, st := c.insertPath(op, key, h, shard, home, value, o)
		if st == stepRetry {
			relax(i)
			continue
		}
		return r, err
	}
	return PutResult{}, newErr(CodeBusy, op, c.path, "key held by a live writer for %d waits (shard %d)", WaitSpins, shard)
}

// chooseVersion picks the data version after the claim (§9.4 "Version"). current is
// record[A].version on the refresh path, 0 on insert.
func (c *Cache) chooseVersion(o PutOptions, current uint64) uint64 {
	if o.Version != 0 {
		return o.Version
	}
	return AutoVersion(c.add1(OffVersionClock)-1, current)
}

// AutoVersion is the pure part of the automatic version (§9.4): before is what the fetch-add
// of version_clock returned, current the record's version (0 on insert). Exported for the C ABI
// (cmd/warmcache-abi, docs/ABI.md).
func AutoVersion(before, current uint64) uint64 {
	v := before + 1 // fetch_add(version_clock, 1) + 1
	if v < current+1 {
		v = current + 1
	}
	return v
}

func (c *Cache) add1(off uint64) uint64 { return addU64(c.u64(off), 1) }

const maxU64 = ^uint64(0)

// expiry is §12's expires_at_ns and stale_until_ns for a put at now, each sum saturating at
// 2^64−1 (§13.1) rather than wrapping into the past.
func expiry(now uint64, ttl, grace time.Duration) (exp, until uint64) {
	if ttl <= 0 {
		return 0, 0
	}
	return satAdd(now, uint64(ttl)), satAdd(satAdd(now, uint64(ttl)), uint64(grace))
}

func satAdd(a, b uint64) uint64 {
	if a > maxU64-b {
		return maxU64
	}
	return a + b
}

func (c *Cache) refreshPath(op string, shard, j uint32, w Word, key, value []byte, o PutOptions) (PutResult, error, step) {
	so := c.slotOff(shard, j)
	a := w.A()
	claimed := w.next(StateRefreshing, a, c.id)
	c.hooks.at(PointRefreshBeforeClaim)
	// T4, acquire-release CAS: we see the previous owner's writes.
	if !c.casState(EvRefreshClaim, shard, j, w, claimed) {
		return PutResult{}, nil, stepRetry
	}
	c.hooks.at(PointRefreshAfterClaim)
	if c.hookAfterClaim != nil && c.hookAfterClaim(EvRefreshClaim) {
		return PutResult{}, &Error{C: codeAbandoned, Op: op, Detail: "abandoned by test hook"}, stepDone
	}
	current := c.load(c.recOff(so, a) + RecVersion)
	// An explicit version must be newer; an automatic one cannot be past 2^64−1 (§13.1).
	if (o.Version != 0 && o.Version <= current) || (o.Version == 0 && current == maxU64) {
		// T6: give the slot back unchanged.
		c.casState(EvRefreshAbort, shard, j, claimed, claimed.next(StateReady, a, 0))
		return PutResult{}, newErr(CodeVersionNotNewer, op, c.path, "version %d is not newer than the stored %d", o.Version, current), stepDone
	}
	v := c.chooseVersion(o, current)
	if c.faults.has(faultNoVersionBump) {
		// FAULT no_version_bump: the bug of a refresh that copies the old record header and
		// forgets to advance the version; readers cannot tell the new value from the old one
		// by version (invariant 3 and version-based caching break).
		v = current
	}
	rec, to := c.recOff(so, 1-a), claimed.next(StateReady, 1-a, 0)
	order := c.takeOrder(o.Durable) // inside the claim (PERSISTENCE.md §3)
	var published bool
	var t recordTimes
	if c.faults.has(faultPublishBeforePayload) {
		published, t = c.publishBeforePayload(EvRefreshPublish, PointRefreshAfterPayload, shard, j, claimed, to, rec, v, value, o)
	} else {
		t = c.writeRecord(rec, v, value, o)
		c.hooks.at(PointRefreshAfterPayload)
		// T5, the publish: Go's CAS is sequentially consistent, so at least release: the
		// record written above is visible to a reader's acquire load of the new word.
		published = c.casState(EvRefreshPublish, shard, j, claimed, to)
	}
	if !published {
		// Only a reclaimer that wrongly judged us dead can have moved our claim.
		return PutResult{}, newErr(CodeBusy, op, c.path, "refresh claim on shard %d slot %d was taken away", shard, j), stepDone
	}
	c.store(so+SlotReferenced, 1)
	c.add(c.shardOff(shard)+ShardRefreshes, 1)
	c.notify()
	durable := c.journalPut(o, order, v, key, value, t)
	return PutResult{Version: v, Created: false, Shard: shard, Slot: j, Durable: durable}, nil, stepDone
}

func (c *Cache) insertPath(op string, key []byte, h uint64, shard, home uint32, value []byte, o PutOptions) (PutResult, error, step) {
	shOff := c.shardOff(shard)
	// FAULT skip_insert_lock: the bug of an insert that does not serialise on the shard's
	// insert lock. Two inserters of one key can both find it absent and claim two slots, so
	// the key ends up twice in its window (invariant 1 of §8.3 broken).
	locked := !c.faults.has(faultSkipInsertLock)
	c.hooks.at(PointPutBeforeLock)
	if locked && !c.lockInsert(shard) {
		return PutResult{}, newErr(CodeBusy, op, c.path, "insert lock of shard %d held by a live participant", shard), stepDone
	}
	// Find again under the lock: a key inserted meanwhile is seen now (the lock's acquire
	// pairs with the previous holder's release after writing its key).
	if _, _, found := c.find(key, h, shard, home, maskPut); found {
		c.endInsert(shard, locked)
		return PutResult{}, nil, stepRetry
	}
	j, w, ev, ok := c.pickVictim(shard, home)
	if !ok {
		c.endInsert(shard, locked)
		return PutResult{}, newErr(CodeFull, op, c.path, "no free, expired or evictable slot in the window of shard %d slot %d", shard, home), stepDone
	}
	claimed := w.next(StateWriting, w.A(), c.id)
	if ev != EvEvict { // a CLOCK victim has stopped at evict.after_victim already
		c.hooks.at(PointPutBeforeClaim)
	}
	// T1/T10/T11: acquire-release claim (Go CAS is seq-cst).
	if !c.casState(ev, shard, j, w, claimed) {
		c.endInsert(shard, locked)
		return PutResult{}, nil, stepRetry
	}
	c.hooks.at(PointPutAfterClaim)
	switch ev {
	case EvEvict:
		c.add(shOff+ShardEvictions, 1)
	case EvExpire:
		c.add(shOff+ShardExpirations, 1)
	}
	so := c.slotOff(shard, j)
	c.store(so+SlotClaimedAtNs, c.now())
	c.store(so+SlotKeyHash, h)
	c.store(so+SlotKeyLen, uint64(len(key)))
	c.writeWords(so+SlotKey, key)
	c.hooks.at(PointPutAfterKey)
	// Release the insert lock (seq-cst store ≥ release): the next holder sees the key.
	c.endInsert(shard, locked)
	if c.hookAfterClaim != nil && c.hookAfterClaim(ev) {
		return PutResult{}, &Error{C: codeAbandoned, Op: op, Detail: "abandoned by test hook"}, stepDone
	}
	a2 := 1 - w.A() // any record is fine: the slot has been unreadable since the claim
	v := c.chooseVersion(o, 0)
	c.store(so+SlotReferenced, 1)
	rec, to := c.recOff(so, a2), claimed.next(StateReady, a2, 0)
	order := c.takeOrder(o.Durable) // inside the claim (PERSISTENCE.md §3)
	var published bool
	var t recordTimes
	if c.faults.has(faultPublishBeforePayload) {
		published, t = c.publishBeforePayload(EvPublish, PointPutAfterPayload, shard, j, claimed, to, rec, v, value, o)
	} else {
		t = c.writeRecord(rec, v, value, o)
		c.hooks.at(PointPutAfterPayload)
		// T2, the publish (release).
		published = c.casState(EvPublish, shard, j, claimed, to)
	}
	if !published {
		return PutResult{}, newErr(CodeBusy, op, c.path, "claim on shard %d slot %d was taken away", shard, j), stepDone
	}
	c.add(shOff+ShardInserts, 1)
	c.notify()
	durable := c.journalPut(o, order, v, key, value, t)
	return PutResult{Version: v, Created: true, Shard: shard, Slot: j, Durable: durable}, nil, stepDone
}

// publishBeforePayload is FAULT publish_before_payload: the bug of a writer that makes the
// publish CAS (T2/T5) before writing the record. Readers that load the new state word copy
// record[A'] while it still holds whatever an older write left there (another key's value, the
// previous version, or zeros) and may return it, or see it torn, until the late write lands.
// The pause point that normally sits between the write and the publish sits between the
// publish and the write here, so a harness can stop the writer inside the window of the bug.
func (c *Cache) publishBeforePayload(ev, point string, shard, j uint32, claimed, to Word, rec, v uint64, value []byte, o PutOptions) (bool, recordTimes) {
	if !c.casState(ev, shard, j, claimed, to) {
		return false, recordTimes{}
	}
	c.hooks.at(point)
	t := c.writeRecord(rec, v, value, o) // too late: readers may already have copied this record
	return true, t
}

// endInsert releases the insert lock if the insert path took it (FAULT skip_insert_lock does
// not).
func (c *Cache) endInsert(shard uint32, locked bool) {
	if locked {
		c.unlockInsert(shard)
	}
}

// pickVictim chooses the slot an insert claims (§9.4): the first EMPTY slot of the window;
// else the first WRITING or INVALIDATED slot whose owner is dead, reclaimed here (§9.8) and
// then claimed as EMPTY (T1); else the first READY/STALE slot whose record[A] is past
// stale_until_ns (T11); else CLOCK (§9.6, T10). Called with the insert lock held.
func (c *Cache) pickVictim(shard, home uint32) (uint32, Word, string, bool) {
	pc := c.geo.ParticipantCapacity
	pw, sps := c.geo.ProbeWindow, c.geo.SlotsPerShard
	for k := uint32(0); k < pw; k++ {
		j := (home + k) % sps
		w := Word(c.load(c.slotOff(shard, j) + SlotState))
		if w.valid(pc) && w.State() == StateEmpty {
			return j, w, EvClaim, true
		}
	}
	// No EMPTY slot: only now ask about liveness (a syscall per owner). A writer killed right
	// after its claim leaves a WRITING slot without a key, which find() can never reach; an
	// INVALIDATED slot of a dead owner has lost its key. Reclaim the first such slot and use it
	// as EMPTY. REFRESHING slots still hold their key: find() reaches them, and they are not
	// victims here.
	for k := uint32(0); k < pw; k++ {
		j := (home + k) % sps
		so := c.slotOff(shard, j)
		w := Word(c.load(so + SlotState))
		if !w.valid(pc) || (w.State() != StateWriting && w.State() != StateInvalidated) {
			continue
		}
		if c.alive(w.Owner()) {
			continue
		}
		c.reclaim(shard, j, w) // T12/T14; reclaims += 1 on success
		// If our CAS lost, someone else moved the slot on (another reclaimer, say): use it only
		// if it is EMPTY now. Under FAULT never_reclaim it stays WRITING/INVALIDATED and is
		// skipped, as that fault wants.
		if e := Word(c.load(so + SlotState)); e.valid(pc) && e.State() == StateEmpty {
			return j, e, EvClaim, true
		}
	}
	var now uint64
	haveNow := false
	for k := uint32(0); k < pw; k++ {
		j := (home + k) % sps
		so := c.slotOff(shard, j)
		w := Word(c.load(so + SlotState))
		if !w.valid(pc) || (w.State() != StateReady && w.State() != StateStale) {
			continue
		}
		// A racy read of the record is fine: the claim CAS from w fails if it changed.
		ro := c.recOff(so, w.A())
		exp := c.load(ro + RecExpiresAtNs)
		if exp == 0 {
			continue
		}
		if !haveNow {
			now, haveNow = c.now(), true
		}
		if now >= exp && now >= c.load(ro+RecStaleUntilNs) {
			return j, w, EvExpire, true
		}
	}
	// §9.6 CLOCK with second chance.
	start := addU64(c.u64(c.shardOff(shard)+ShardClockHand), 1) - 1
	for k := uint64(0); k < 2*uint64(pw); k++ {
		j := (home + uint32((start+k)%uint64(pw))) % sps
		so := c.slotOff(shard, j)
		w := Word(c.load(so + SlotState))
		st := w.State()
		if !w.valid(pc) || (st != StateReady && st != StateStale &&
			// FAULT evict_writing_slot: the bug of a CLOCK that only skips EMPTY slots and so
			// takes a slot another writer owns (WRITING or REFRESHING), CASing it to
			// WRITING(me): an impossible transition that steals the owner's claim; its
			// publish then fails and its value is lost (or, for REFRESHING, the key is).
			!(c.faults.has(faultEvictWritingSlot) && (st == StateWriting || st == StateRefreshing))) {
			continue
		}
		if c.load(so+SlotReferenced) == 1 {
			c.store(so+SlotReferenced, 0)
			continue
		}
		c.hooks.at(PointEvictAfterVictim)
		return j, w, EvEvict, true
	}
	return 0, 0, "", false
}

// writeRecord writes a whole record (header words, value words, zero padding) with plain
// atomic stores; the publish CAS that follows makes them visible (§10).
func (c *Cache) writeRecord(ro, version uint64, value []byte, o PutOptions) recordTimes {
	now := c.now()
	exp, until := expiry(now, o.TTL, o.Grace)
	c.store(ro+RecVersion, version)
	c.store(ro+RecValueInfo, uint64(len(value))|uint64(o.OriginTag)<<32)
	c.store(ro+RecChecksum, ValueChecksum(value, c.fastSum))
	c.store(ro+RecExpiresAtNs, exp)
	c.store(ro+RecStaleUntilNs, until)
	c.store(ro+RecWrittenAtNs, now)
	c.store(ro+RecWriter, c.writer)
	c.store(ro+RecWriterStartTime, c.startTime)
	c.writeWords(ro+RecValue, value)
	return recordTimes{now, exp, until}
}

// recordTimes are the time fields writeRecord stored, kept in private memory for the journal
// record (the shared record may be rewritten by the next writer as soon as we publish).
type recordTimes struct{ written, expires, staleUntil uint64 }

// journalPut appends the durable record of a published put (PERSISTENCE.md §6 step 2).
func (c *Cache) journalPut(o PutOptions, order, version uint64, key, value []byte, t recordTimes) bool {
	if !o.Durable || c.journal == nil {
		return false
	}
	return c.journalAppend(DurableRecord{Kind: RecordKindPut, Order: order, Version: version, OriginTag: o.OriginTag,
		ExpiresAtNs: t.expires, StaleUntilNs: t.staleUntil, WrittenAtNs: t.written, Writer: c.writer,
		WriterStartTime: c.startTime, Key: key, Value: value})
}

// writeWords stores b at off as little-endian 64-bit words, the last one zero-padded. Only
// ceil(len(b)/8) words are written; bytes after them belong to nothing.
func (c *Cache) writeWords(off uint64, b []byte) {
	full := len(b) / 8
	for i := 0; i < full; i++ {
		c.store(off+uint64(i)*8, binary.LittleEndian.Uint64(b[i*8:]))
	}
	if len(b)%8 != 0 {
		c.store(off+uint64(full)*8, tailWord(b[full*8:]))
	}
}

// lockInsert takes the shard's insert lock (§9.3), freeing it from a dead holder if need be.
func (c *Cache) lockInsert(shard uint32) bool {
	shOff := c.shardOff(shard)
	p := c.u64(shOff + ShardInsertLock)
	for i := 0; i < LockSpins; i++ {
		v := loadU64(p) // acquire
		if v == 0 {
			if casU64(p, 0, uint64(c.id)) { // acquire (seq-cst)
				c.hooks.at(PointLockAfterAcquire)
				return true
			}
			continue
		}
		// A holder that is not a participant id at all (§13) or whose lock is gone is dead.
		// FAULT never_reclaim: a dead holder's lock is not freed either (see reclaim).
		if (v > uint64(c.geo.ParticipantCapacity) || !c.alive(uint16(v))) && !c.faults.has(faultNeverReclaim) {
			if casU64(p, v, 0) {
				c.add(shOff+ShardReclaims, 1)
			}
			continue
		}
		relax(i)
	}
	return false
}

// unlockInsert gives the lock back (a seq-cst store, at least the release §9.3 asks for).
func (c *Cache) unlockInsert(shard uint32) {
	storeU64(c.u64(c.shardOff(shard)+ShardInsertLock), 0)
}
