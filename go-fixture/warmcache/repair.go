package warmcache

import "fmt"

// §9.9 Repair: the recovery path behind the health probe. On a segment whose header opened
// (the rebuild of a damaged header is OpenOrRestore, PERSISTENCE.md §7), Repair
//
//	frees the insert locks of dead holders,
//	reclaims every claim of a dead owner (T12, T13, T14 — the §9.8 path),
//	quarantines readable slots whose record fails the checks of §13 (T8 then T9: the slot
//	  becomes EMPTY, as an invalidate makes it, so a 1.0/1.1 reader sees nothing new),
//
// and reports each action. Every change is one CAS from the exact word it judged, by a legal
// transition any participant may make, so Repair tolerates live processes using the segment as
// any operation does: a slot that moved on in between is left alone (its CAS fails).

// OffQuarantined is header word 768 (line 12): slots quarantined by repairs since creation
// (§9.9). Fetch-add, relaxed: a counter, never a decision.
const OffQuarantined = 768

// RepairAction is one thing Repair did or could not do.
type RepairAction struct {
	Shard  uint32 `json:"shard"`
	Slot   uint32 `json:"slot"` // for an insert lock: 0
	Detail string `json:"detail"`
}

// RepairReport lists what Repair did (§9.9), each list in shard/slot order.
type RepairReport struct {
	LocksFreed  []RepairAction `json:"locks_freed"`
	Reclaimed   []RepairAction `json:"reclaimed"`
	Quarantined []RepairAction `json:"quarantined"`
	// Unrepairable: slots whose state word is impossible (§13). No legal transition leaves
	// such a word, so only a rebuild (OpenOrRestore) removes it; gets treat it as a miss.
	Unrepairable []RepairAction `json:"unrepairable"`
	// QuarantinedTotal is header word 768 after this repair.
	QuarantinedTotal uint64 `json:"quarantined_total"`
}

// Repair runs §9.9 over the whole segment through this handle.
func (c *Cache) Repair() (RepairReport, error) {
	rep := RepairReport{LocksFreed: []RepairAction{}, Reclaimed: []RepairAction{}, Quarantined: []RepairAction{}, Unrepairable: []RepairAction{}}
	if err := c.checkOpen("repair"); err != nil {
		return rep, err
	}
	pc := c.geo.ParticipantCapacity
	// Locks first, so that the T14 reclaims below can take them (reclaim.go).
	for s := uint32(0); s < c.geo.ShardCount; s++ {
		p := c.u64(c.shardOff(s) + ShardInsertLock)
		h := c.load(c.shardOff(s) + ShardInsertLock)
		if h == 0 || (h <= uint64(pc) && c.alive(uint16(h))) {
			continue
		}
		// A dead holder, or an id no participant can have: nobody will ever release it.
		c.hooks.at(PointRepairBeforeCAS)
		if casU64(p, h, 0) {
			c.add(c.shardOff(s)+ShardReclaims, 1)
			rep.LocksFreed = append(rep.LocksFreed, RepairAction{s, 0, fmt.Sprintf("insert lock of dead participant %d", h)})
		}
	}
	now := c.now()
	for s := uint32(0); s < c.geo.ShardCount; s++ {
		for j := uint32(0); j < c.geo.SlotsPerShard; j++ {
			w := Word(c.load(c.slotOff(s, j) + SlotState))
			switch {
			case !w.valid(pc):
				rep.Unrepairable = append(rep.Unrepairable, RepairAction{s, j, fmt.Sprintf("impossible state word %#016x", uint64(w))})
			case w.State().Owned():
				if d := w.Owner(); !c.alive(d) && c.reclaim(s, j, w) {
					rep.Reclaimed = append(rep.Reclaimed, RepairAction{s, j, fmt.Sprintf("%s of dead participant %d", w.State(), d)})
				}
			case w.State().Readable():
				if _, problem, ok := c.inspectSlot(s, j, now); !ok && problem != "" {
					c.hooks.at(PointRepairBeforeCAS)
					if c.quarantine(s, j, w) {
						rep.Quarantined = append(rep.Quarantined, RepairAction{s, j, problem})
					}
				}
			}
		}
	}
	rep.QuarantinedTotal = c.load(OffQuarantined)
	return rep, nil
}

// quarantine moves the corrupt readable slot (s, j) of word w to EMPTY by T8 then T9, as an
// invalidate does, and counts it in `quarantined` and in the shard's invalidations (so that
// the counters still balance). The T8 CAS is from the exact word inspectSlot judged (or an
// older one, which fails): record[A] cannot change while the word stays, so a slot a writer
// republished in between is never quarantined.
func (c *Cache) quarantine(s, j uint32, w Word) bool {
	claimed := w.next(StateInvalidated, w.A(), c.id)
	if !c.casState(EvInvalidateClaim, s, j, w, claimed) {
		return false
	}
	c.store(c.slotOff(s, j)+SlotKeyHash, 0) // we own the slot: nobody else writes key_hash now
	if !c.casState(EvClear, s, j, claimed, claimed.next(StateEmpty, w.A(), 0)) {
		return false // only a reclaimer that wrongly judged us dead can take it; it ends EMPTY too
	}
	c.add(c.shardOff(s)+ShardInvalidations, 1)
	c.add(OffQuarantined, 1)
	c.notify()
	return true
}
