package warmcache

import "unsafe"

// MaxGetBatch is how many keys GetMany places and touches ahead at once; a longer call is served
// in chunks of this size. 128 placements fit on the stack, and 128 outstanding slot lines are far
// more than a core can have in flight, so a larger chunk would overlap nothing more.
const MaxGetBatch = 128

// GetMany is GetInto for a batch of keys: out[i], errs[i] = GetInto(keys[i], bufs[i]) for every
// i, in order. errs may be nil (the first error is returned either way); out and bufs must be as
// long as keys, and GetMany panics if they are not.
//
// The per-key semantics are exactly those of len(keys) calls of GetInto (PROTOCOL.md §9.2): the
// same loads with the same orderings, the same counters, the same T7 marks, in key order, and
// nothing held between two keys (a key written between two gets of the batch is seen as a
// GetInto issued at that moment would see it). It is faster only because, before the gets, it
// places every key of a chunk (hash, shard, home slot) and touches each key's home slot and its
// shard's counter line, so that the cache and TLB misses of a large segment overlap instead of
// being taken one get after another. Use it wherever a service already has several keys at hand
// (a page of items, a fan-out); a single key gains nothing.
func (c *Cache) GetMany(keys, bufs [][]byte, out []Lookup, errs []error) error {
	if len(bufs) != len(keys) || len(out) != len(keys) || (errs != nil && len(errs) != len(keys)) {
		panic("warmcache: GetMany needs bufs, out (and errs, if not nil) as long as keys")
	}
	var first error
	for lo := 0; lo < len(keys); lo += MaxGetBatch {
		hi := lo + MaxGetBatch
		if hi > len(keys) {
			hi = len(keys)
		}
		if err := c.getChunk(keys[lo:hi], bufs[lo:hi], out[lo:hi], errsOf(errs, lo, hi)); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func errsOf(errs []error, lo, hi int) []error {
	if errs == nil {
		return nil
	}
	return errs[lo:hi]
}

// keyPlacement is keyPlace's result for one key of a batch.
type keyPlacement struct {
	h           uint64
	shard, home uint32
}

// getChunk is GetMany for at most MaxGetBatch keys.
func (c *Cache) getChunk(keys, bufs [][]byte, out []Lookup, errs []error) error {
	var first error
	if c.checkOpen("get") != nil {
		// A closed handle: every get fails alike, and there is no mapping to touch.
		for i := range keys {
			out[i] = Lookup{}
			err := c.get(&out[i], keys[i], bufs[i], false)
			if errs != nil {
				errs[i] = err
			}
			if first == nil {
				first = err
			}
		}
		return first
	}
	var place [MaxGetBatch]keyPlacement
	for i, k := range keys {
		h, shard, home := c.keyPlace(k)
		place[i] = keyPlacement{h, shard, home}
		c.touchHome(shard, home)
	}
	for i, k := range keys {
		p := place[i]
		out[i] = Lookup{}
		err := c.getPlaced(&out[i], k, bufs[i], false, p.h, p.shard, p.home)
		if errs != nil {
			errs[i] = err
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// touchHome brings into cache every line a hit in the home slot reads (its header, its key and
// both records: which record is active is known only once the state word arrives) and the shard's
// counter line, so that the gets that follow find them there.
//
// Where the architecture has one (amd64, arm64) this is a prefetch instruction (prefetch_*.s):
// it retires at once, so a chunk's misses all overlap. Go has no prefetch intrinsic, and the
// fallback, an atomic load of the first word of each line, keeps fewer misses in flight: each
// load holds a reorder-buffer entry until its line arrives, and the window fills after a few
// keys. Measured (BenchmarkGetManyRandom100k, docs/BENCHMARKS.md "Stop 11"): see there. A
// load's value is unused and neither form has an effect another participant can observe, so
// the get that follows is exactly GetInto's.
func (c *Cache) touchHome(shard, home uint32) {
	sp := unsafe.Add(c.base, c.slotOff(shard, home))
	if havePrefetch && !touchByLoads {
		if countersCompiled {
			prefetchLines(unsafe.Add(c.base, c.shardOff(shard)+ShardHits), 1)
		}
		prefetchLines(sp, uintptr(c.lay.SlotSize/64))
		return
	}
	if countersCompiled {
		loadAt(c.base, c.shardOff(shard)+ShardHits)
	}
	for off := uint64(0); off < c.lay.SlotSize; off += 64 {
		loadAt(sp, off)
	}
}

// touchByLoads makes touchHome use atomic loads even where it could prefetch: the benchmark's
// baseline (BenchmarkGetManyRandom100k/loads), never set outside tests.
var touchByLoads = false
