package warmcache

// Invalidate removes key (§9.5); removed says whether an entry was there. It answers busy only
// if a live writer held the key's slot for the whole wait: an invalidation is never silently
// lost.
func (c *Cache) Invalidate(key []byte) (removed bool, err error) {
	r, err := c.remove("invalidate", key, ShardInvalidations, false)
	return r.Removed, err
}

// RemoveResult is the result of InvalidateDurable and EvictDurable.
type RemoveResult struct {
	Removed bool
	// Durable: the tombstone is durable as the store's policy promises (PERSISTENCE.md §6).
	Durable bool
}

// InvalidateDurable is Invalidate that, with durable, journals its tombstone when it removed an
// entry (PERSISTENCE.md §6).
func (c *Cache) InvalidateDurable(key []byte, durable bool) (RemoveResult, error) {
	return c.remove("invalidate", key, ShardInvalidations, durable)
}

// EvictDurable is Evict with InvalidateDurable's durable option.
func (c *Cache) EvictDurable(key []byte, durable bool) (RemoveResult, error) {
	return c.remove("evict", key, ShardEvictions, durable)
}

// Evict removes key like Invalidate but counts it as an eviction.
func (c *Cache) Evict(key []byte) (removed bool, err error) {
	r, err := c.remove("evict", key, ShardEvictions, false)
	return r.Removed, err
}

func (c *Cache) remove(op string, key []byte, counter uint64, durable bool) (RemoveResult, error) {
	if err := c.checkOpen(op); err != nil {
		return RemoveResult{}, err
	}
	if len(key) < 1 || len(key) > int(c.geo.KeyCapacity) {
		return RemoveResult{}, nil // can never be stored, hence absent
	}
	h, shard, home := c.keyPlace(key)
	c.enterHint(shard, home) // §5.1; remove has no abandoning hook
	removed, err := c.removeLoop(op, key, counter, durable, h, shard, home)
	c.leaveHint()
	return removed, err
}

func (c *Cache) removeLoop(op string, key []byte, counter uint64, durable bool, h uint64, shard, home uint32) (RemoveResult, error) {
	for i := 0; i < WaitSpins; i++ {
		j, w, found := c.find(key, h, shard, home, maskRemove)
		if !found {
			return RemoveResult{}, nil
		}
		switch w.State() {
		case StateReady, StateStale:
			claimed := w.next(StateInvalidated, w.A(), c.id)
			c.hooks.at(PointInvalidateBeforeClaim)
			// T8, acquire-release claim.
			if !c.casState(EvInvalidateClaim, shard, j, w, claimed) {
				continue
			}
			c.hooks.at(PointInvalidateAfterClaim)
			order := c.takeOrder(durable) // inside the claim (PERSISTENCE.md §3)
			so := c.slotOff(shard, j)
			c.store(so+SlotKeyHash, 0) // we own the slot: nobody else writes key_hash now
			// T9, the publish (release; Go's CAS is seq-cst).
			if !c.casState(EvClear, shard, j, claimed, claimed.next(StateEmpty, w.A(), 0)) {
				return RemoveResult{}, newErr(CodeBusy, op, c.path, "invalidate claim on shard %d slot %d was taken away", shard, j)
			}
			c.add(c.shardOff(shard)+counter, 1)
			c.notify()
			r := RemoveResult{Removed: true}
			if durable && c.journal != nil {
				r.Durable = c.journalAppend(DurableRecord{Kind: RecordKindDelete, Order: order, WrittenAtNs: c.now(),
					Writer: c.writer, WriterStartTime: c.startTime, Key: key})
			}
			return r, nil
		default: // WRITING or REFRESHING owned by d
			if d := w.Owner(); !c.alive(d) {
				c.reclaim(shard, j, w)
			} else {
				relax(i)
			}
		}
	}
	return RemoveResult{}, newErr(CodeBusy, op, c.path, "key held by a live writer for %d waits (shard %d)", WaitSpins, shard)
}
