package warmcache

// reclaim undoes the claim in state word w of (shard, slot), whose owner the caller found dead
// (or, in the sweep, knows to be a dead predecessor) (§9.8):
//
//	WRITING(d)     → EMPTY,            same A   (T12)
//	REFRESHING(d)  → READY,            same A   (T13)
//	INVALIDATED(d) → EMPTY, key_hash 0, same A  (T14)
//
// One CAS from the exact word w: if it fails someone else already moved the slot on (and a
// re-claimed slot has a different seq), which is fine. Returns whether we made the transition.
func (c *Cache) reclaim(shard, slot uint32, w Word) bool {
	if c.faults.has(faultNeverReclaim) {
		// FAULT never_reclaim: the bug of an implementation without crash recovery: a dead
		// owner's WRITING/REFRESHING/INVALIDATED claim stays for ever, so its key is busy (or
		// its old value frozen) and its slot lost until the registration sweep of its index,
		// which goes through here too and does nothing either.
		return false
	}
	c.hooks.at(PointReclaimBeforeCAS)
	var to Word
	switch w.State() {
	case StateWriting:
		to = w.next(StateEmpty, w.A(), 0)
	case StateRefreshing:
		to = w.next(StateReady, w.A(), 0)
	case StateInvalidated:
		return c.reclaimInvalidated(shard, slot, w)
	default:
		return false
	}
	if !c.casState(EvReclaim, shard, slot, w, to) {
		return false
	}
	c.add(c.shardOff(shard)+ShardReclaims, 1)
	c.notify()
	return true
}

// reclaimInvalidated is T14. Zeroing key_hash is only safe while no one can claim the slot
// again: a reclaimer that zeroed it after its CAS (or after a failed CAS) could wipe the key of
// a new owner that claimed the EMPTY slot meanwhile. Claims of an EMPTY slot (T1) need the
// shard's insert lock, so we zero key_hash while holding it; nothing else writes key_hash of a
// slot in INVALIDATED(d) or EMPTY. If the lock is busy we make the transition without zeroing:
// key_hash of an EMPTY slot is never read (find skips EMPTY), so this only leaves a stale hash.
func (c *Cache) reclaimInvalidated(shard, slot uint32, w Word) bool {
	to := w.next(StateEmpty, w.A(), 0)
	lockp := c.u64(c.shardOff(shard) + ShardInsertLock)
	locked := casU64(lockp, 0, uint64(c.id))
	if locked {
		// Under the lock, and with the slot in INVALIDATED(d) (dead owner) or already EMPTY,
		// this store cannot clobber anybody's key.
		if Word(c.load(c.slotOff(shard, slot)+SlotState)) == w {
			c.store(c.slotOff(shard, slot)+SlotKeyHash, 0)
		}
	}
	ok := c.casState(EvReclaim, shard, slot, w, to)
	if locked {
		c.store(c.shardOff(shard)+ShardInsertLock, 0) // release (Go stores are seq-cst)
	}
	if !ok {
		return false
	}
	c.add(c.shardOff(shard)+ShardReclaims, 1)
	c.notify()
	return true
}
