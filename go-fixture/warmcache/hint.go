package warmcache

import "sync/atomic"

// The claim hint (§5.1): the participant entry says where its owner may hold claims, so that a
// registrant sweeps only what a dead predecessor can have left (a window and one insert lock,
// or nothing) instead of every slot of the segment. The bit layout is drawn next to
// PartClaimHint in layout.go.
const (
	hintInFlightMask = 0xFFFF
	hintHomeShift    = 16
	hintShardShift   = 32
	hintWide         = uint64(1) << 48
	hintReservedMask = ^uint64(1<<49 - 1) // bits 49..63
)

// sweepScope is what a registration sweep must cover (§5 step 2).
type sweepScope struct {
	all         bool   // every slot and every insert lock (1.0's sweep)
	none        bool   // nothing: the predecessor held no claim
	shard, home uint32 // otherwise: this shard's lock and the window from home
}

// scopeFor decides the sweep from the predecessor's words. prev is what our fetch-add of epoch
// returned: the predecessor's epoch. Its hint is trusted only if it wrote hint_epoch = prev
// (a 1.0 owner, or one that died inside its own registration, did not), and only when the
// word is well formed (§13).
func (c *Cache) scopeFor(off, prev uint64) sweepScope {
	if c.legacySweep {
		return sweepScope{all: true}
	}
	// Acquire loads (seq-cst in Go); the predecessor is dead, so these words are final.
	if c.load(off+PartHintEpoch) != prev {
		return sweepScope{all: true}
	}
	h := c.load(off + PartClaimHint)
	shard, home := uint32(h>>hintShardShift&0xFFFF), uint32(h>>hintHomeShift&0xFFFF)
	switch {
	case h == 0:
		return sweepScope{none: true}
	case h&hintReservedMask != 0 || h&hintWide != 0 || shard >= c.geo.ShardCount || home >= c.geo.SlotsPerShard:
		return sweepScope{all: true}
	}
	return sweepScope{shard: shard, home: home}
}

// enterHint records, before a write operation's first lock or claim, that it may hold claims
// in key's window (shard, home). A seq-cst read-modify-write: its acquire half keeps the
// operation's claims after it, even the insert claim, an acquire-only CAS in the spec (§10).
func (c *Cache) enterHint(shard, home uint32) {
	if c.legacySweep {
		return
	}
	p := c.u64(c.partOff(uint32(c.id)-1) + PartClaimHint)
	here := uint64(shard)<<hintShardShift | uint64(home)<<hintHomeShift
	for i := 0; ; i++ {
		w := atomic.LoadUint64(p)
		n := w & hintInFlightMask
		var next uint64
		switch {
		case n == hintInFlightMask:
			relax(i) // 65535 operations of this handle in flight: wait for one to leave
			continue
		case n == 0:
			next = here | 1
		case w&^hintInFlightMask == here:
			next = w + 1 // same window, not wide
		default:
			next = (w | hintWide) + 1 // two places at once: a successor must sweep everything
		}
		if atomic.CompareAndSwapUint64(p, w, next) {
			return
		}
	}
}

// leaveHint ends what enterHint began, after the operation's last CAS or store on its slot
// and lock (publish, abort, clear, lock release). Its release half keeps those before it. The
// whole word goes back to 0 with the last operation, clearing W.
func (c *Cache) leaveHint() {
	if c.legacySweep {
		return
	}
	p := c.u64(c.partOff(uint32(c.id)-1) + PartClaimHint)
	for {
		w := atomic.LoadUint64(p)
		next := w - 1
		if w&hintInFlightMask <= 1 {
			next = 0
		}
		if atomic.CompareAndSwapUint64(p, w, next) {
			return
		}
	}
}

// sweepWindow is the bounded sweep: the predecessor's one shard lock and one window.
func (c *Cache) sweepWindow(shard, home uint32) {
	c.sweepLock(shard)
	for k, j := uint32(0), home; k < c.geo.ProbeWindow; k, j = k+1, c.nextSlot(j) {
		c.sweepSlot(shard, j)
	}
}

// isAbandoned: the operation was stopped by a test hook with its claim held (hookAfterClaim).
func isAbandoned(err error) bool {
	e, ok := err.(*Error)
	return ok && e.C == codeAbandoned
}
