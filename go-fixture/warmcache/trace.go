package warmcache

import (
	"sync"
	"sync/atomic"
)

// Transition is one successful state-word CAS (§8.4): {event, shard, slot, from, to, seq,
// owner, gseq}. Seq is the slot's new seq; Owner is the owner named in the state word as §8.4
// defines it (see eventOwner), which is not always the acting participant; Gseq is the value
// fetch-add took from the header's event_seq (the value before the add).
type Transition struct {
	Event string `json:"event"`
	Shard uint32 `json:"shard"`
	Slot  uint32 `json:"slot"`
	From  string `json:"from"`
	To    string `json:"to"`
	Seq   uint32 `json:"seq"`
	Owner uint16 `json:"owner"`
	Gseq  uint64 `json:"gseq"`
}

// Tracer records transitions. It is optional: without one, no event_seq traffic happens.
type Tracer struct {
	mu     sync.Mutex
	events []Transition
}

// enableTrace turns on transition recording. Call it before sharing the handle between
// goroutines.
func (c *Cache) enableTrace() {
	if c.tracer == nil {
		c.tracer = &Tracer{}
	}
}

// drainTrace returns the transitions recorded since the last call, in order.
func (c *Cache) drainTrace() []Transition {
	if c.tracer == nil {
		return nil
	}
	c.tracer.mu.Lock()
	ev := c.tracer.events
	c.tracer.events = nil
	c.tracer.mu.Unlock()
	return ev
}

// casU64 is a compare-and-swap on a shared word. Go's CAS is sequentially consistent, which is
// at least the acquire-release every claim and publish needs (§10).
func casU64(p *uint64, old, new uint64) bool { return atomic.CompareAndSwapUint64(p, old, new) }

// casState makes one slot transition: CAS the state word of (shard, slot) from old to new, and
// record the event if tracing.
func (c *Cache) casState(ev string, shard, slot uint32, old, new Word) bool {
	if !casU64(c.u64(c.slotOff(shard, slot)+SlotState), uint64(old), uint64(new)) {
		return false
	}
	if t := c.tracer; t != nil {
		g := atomic.AddUint64(c.u64(OffEventSeq), 1) - 1
		t.mu.Lock()
		t.events = append(t.events, Transition{ev, shard, slot, old.State().String(),
			new.State().String(), new.Seq(), eventOwner(ev, old, new), g})
		t.mu.Unlock()
	}
	return true
}

// eventOwner is the `owner` of a reported event (§8.4): the owner named in the state word,
//
//   - for a claim (T1 claim, T4 refresh_claim, T8 invalidate_claim, T10 evict, T11 expire):
//     the new word's owner, i.e. the claimer;
//   - for a transition out of an owned state (T2 publish, T3 abort, T5 refresh_publish,
//     T6 refresh_abort, T9 clear, and T12–T14 reclaim): the replaced word's owner; for a
//     reclaim that is the dead owner whose claim was undone, not the reclaimer;
//   - 0 for T7 mark_stale (neither word is owned).
//
// Who made the transition is known to the harness from which process reported it.
func eventOwner(ev string, old, new Word) uint16 {
	switch ev {
	case EvClaim, EvRefreshClaim, EvInvalidateClaim, EvEvict, EvExpire:
		return new.Owner()
	case EvMarkStale:
		return 0
	default: // EvPublish, EvAbort, EvRefreshPublish, EvRefreshAbort, EvClear, EvReclaim
		return old.Owner()
	}
}

func addU64(p *uint64, d uint64) uint64 { return atomic.AddUint64(p, d) }
func loadU64(p *uint64) uint64          { return atomic.LoadUint64(p) }
func storeU64(p *uint64, v uint64)      { atomic.StoreUint64(p, v) }
