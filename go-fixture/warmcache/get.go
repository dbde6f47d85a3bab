package warmcache

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// Provenance is the decoded `writer` word of a record plus writer_start_time (§7.2).
type Provenance struct {
	Pid           uint32
	Language      Language
	ProtocolMajor uint8
	ProtocolMinor uint8
	Participant   uint8 // low 8 bits of the writer's participant id
	StartTime     uint64
}

func decodeWriter(w, start uint64) Provenance {
	return Provenance{uint32(w), Language(w >> 32), uint8(w >> 40), uint8(w >> 48), uint8(w >> 56), start}
}

// Lookup is the result of Get.
type Lookup struct {
	Hit              bool   // a fresh or stale value was found
	Stale            bool   // the value expired and is served within its grace (§12)
	RefreshRequested bool   // this reader made T7: the caller should recompute and put
	Value            []byte // the value (Get: newly allocated; GetInto: a prefix of buf)
	Version          uint64
	OriginTag        uint32
	ExpiresAtNs      uint64
	StaleUntilNs     uint64
	WrittenAtNs      uint64
	Writer           Provenance
	Shard, Slot      uint32
	// Corrupt is set on a miss caused by a slot that failed its checks (§15).
	Corrupt bool
	// Contended is set on a miss after READ_RETRIES torn snapshots.
	Contended bool
}

// keyPlace computes h, shard and home slot of a key (§6).
func (c *Cache) keyPlace(key []byte) (h uint64, shard, home uint32) {
	h = WCH64(key, c.keySeed()) // KEY_SEED (FAULT wrong_hash: another seed, see keySeed)
	return h, c.shardMod.rem(uint32(h >> 32)), c.slotMod.rem(uint32(h))
}

// nextSlot is (j + 1) mod slots_per_shard without a division.
func (c *Cache) nextSlot(j uint32) uint32 {
	if j+1 == c.geo.SlotsPerShard {
		return 0
	}
	return j + 1
}

// Get looks key up and copies its value into a new slice (§9.2).
func (c *Cache) Get(key []byte) Lookup {
	var l Lookup
	c.get(&l, key, nil, true)
	return l
}

// GetChecked is Get that also says why nothing was found when the handle cannot look: after
// Close it answers CodeClosed (Get answers a miss).
func (c *Cache) GetChecked(key []byte) (Lookup, error) {
	var l Lookup
	err := c.get(&l, key, nil, true)
	return l, err
}

// GetInto looks key up and copies its value into buf, allocating nothing. If the value is
// longer than len(buf) it returns a miss and a too_large error naming the length needed.
func (c *Cache) GetInto(key, buf []byte) (Lookup, error) {
	// get fills the caller's Lookup in place: returning the ~100-byte struct by value from get
	// and again from here cost two block copies and a block zeroing per hit (callgrind: ~140 of
	// ~1,130 instructions of a 64-byte get).
	var l Lookup
	err := c.get(&l, key, buf, false)
	return l, err
}

// loadAt is the atomic load of the shared word at p+off. The get path addresses a slot's words
// from one pointer to the slot: Go's atomic loads are compiler barriers, so c.base and the
// layout fields would otherwise be reloaded from the handle before every word.
func loadAt(p unsafe.Pointer, off uint64) uint64 {
	return atomic.LoadUint64((*uint64)(unsafe.Add(p, off)))
}

// snapshotOK is §9.2's test that the one transition between the two state loads s1 and s2 (if
// any) cannot have written record[A(s1)] or the key.
func snapshotOK(s1, s2 Word, pc uint32) bool {
	if s1 == s2 {
		return true
	}
	if s2.Seq() != s1.Seq()+1 || !s1.valid(pc) || !s2.valid(pc) {
		return false
	}
	st1, st2 := s1.State(), s2.State()
	switch {
	case st1 == StateReady && st2 == StateStale: // T7
		return s1.A() == s2.A()
	case (st1 == StateReady || st1 == StateStale) && st2 == StateRefreshing: // T4
		return s1.A() == s2.A()
	case st1 == StateRefreshing && st2 == StateReady: // T5 (record now inactive, unwritten), T6, T13
		return true
	}
	return false
}

// get fills res, which must be the zero Lookup, with the outcome of a get of key (§9.2).
func (c *Cache) get(res *Lookup, key, buf []byte, grow bool) error {
	if err := c.checkOpen("get"); err != nil {
		return err
	}
	h, shard, home := c.keyPlace(key)
	return c.getPlaced(res, key, buf, grow, h, shard, home)
}

// getPlaced is get once the key's placement (keyPlace) is known: GetMany computes it for a
// whole batch before the gets, and must not hash every key twice.
func (c *Cache) getPlaced(res *Lookup, key, buf []byte, grow bool, h uint64, shard, home uint32) error {
	kc := c.geo.KeyCapacity
	res.Shard = shard
	shOff := c.shardOff(shard)
	// Touch the shard's counter line now, so that on a large segment (where it is rarely in
	// cache) its miss overlaps the slot's instead of stalling the fetch-add that ends the get: a
	// locked RMW cannot overlap a miss. The load is atomic like every access to a shared word, and
	// its value is unused (a load has no effect another participant can observe).
	if countersCompiled {
		loadAt(c.base, shOff+ShardHits)
	}
	if len(key) == 0 || len(key) > int(kc) {
		// Such a key can never be stored (put refuses it), so it is simply absent, and counted
		// as a miss like every get that returns nothing (DRIVER.md "stats"). Bounds first: we
		// must not compare more key words than the slot has.
		c.add(shOff+ShardMisses, 1)
		return nil
	}
	pc := c.geo.ParticipantCapacity
	window := c.geo.ProbeWindow
	vc := uint64(c.geo.ValueCapacity)
	corrupt, expired := false, false

retry:
	for attempt := 0; attempt < ReadRetries; attempt++ {
		j := home
		for k := uint32(0); k < window; k, j = k+1, c.nextSlot(j) {
			so := c.slotOff(shard, j)
			sp := unsafe.Add(c.base, so) // every word of this slot is loaded through sp
			// Acquire load (Go: seq-cst): pairs with the writer's release publish, so the
			// record and key written before it are visible.
			s1 := Word(loadAt(sp, SlotState))
			// Impossible words (§8.1) are a miss for readers; bounds-check the owner too (§13).
			if !s1.valid(pc) || !s1.State().Readable() {
				continue
			}
			if loadAt(sp, SlotKeyHash) != h || loadAt(sp, SlotKeyLen) != uint64(len(key)) {
				continue
			}
			// key_len equals len(key) ≤ key_capacity here, so the key words below are in the
			// slot's key area.
			if !keyWordsMatch(unsafe.Add(sp, SlotKey), key) {
				// Torn or a different key: no need to copy. Re-check the word to tell which.
				if !snapshotOK(s1, Word(loadAt(sp, SlotState)), pc) {
					continue retry
				}
				continue
			}
			// The key of a readable slot matched (after the first state load), before the copy.
			c.hooks.at(PointGetAfterKeyMatch)
			ro := c.recOff(so, s1.A())
			rp := unsafe.Add(c.base, ro)
			version := loadAt(rp, RecVersion)
			vinfo := loadAt(rp, RecValueInfo)
			sum := loadAt(rp, RecChecksum)
			exp := loadAt(rp, RecExpiresAtNs)
			until := loadAt(rp, RecStaleUntilNs)
			written := loadAt(rp, RecWrittenAtNs)
			writer := loadAt(rp, RecWriter)
			wstart := loadAt(rp, RecWriterStartTime)
			vlen := vinfo & 0xFFFFFFFF
			bad := false
			short := false
			var got uint64
			if vlen > vc {
				bad = true // §13: copy nothing, count as corrupt
			} else if vlen > uint64(len(buf)) && !grow {
				short = true
			} else {
				if vlen > uint64(len(buf)) {
					buf = make([]byte, vlen)
				}
				got = c.copyRecordValue(ro+RecValue, buf[:vlen])
			}
			c.hooks.at(PointGetBetweenSeqReads)
			// The "fence(acquire)" + relaxed second load of §9.2: Go's atomic load is
			// sequentially consistent, so it cannot move above the copy's loads.
			//
			// FAULT skip_second_seq_check: the torn-read bug of a seqlock reader that trusts its
			// first load: without the second load a copy that raced with a writer (T5 then a
			// new T4 rewriting record[A(s1)], or an eviction rewriting the key and record) is
			// returned as if it were a snapshot.
			if !c.faults.has(faultSkipSecondSeqCheck) {
				s2 := Word(loadAt(sp, SlotState))
				if !snapshotOK(s1, s2, pc) {
					continue retry
				}
			}
			if short {
				res.Slot = j
				return newErr(CodeTooLarge, "get", c.path,
					"buffer holds %d bytes, the value has %d", len(buf), vlen)
			}
			// FAULT ignore_checksum (checked only when the sums differ, so free otherwise): the
			// bug of a reader that copies without verifying, returning torn or corrupt bytes.
			// `bad` (value_len > value_capacity) still makes a miss: nothing was copied (§13).
			if bad || version == 0 || (got != sum && !c.faults.has(faultIgnoreChecksum)) {
				// A stable snapshot that fails its checks is real corruption: never return it.
				corrupt = true
				break retry
			}
			now := uint64(0)
			if exp != 0 {
				now = c.now()
			}
			switch {
			case exp == 0 || now < exp:
				res.Hit = true
			case now < until || c.faults.has(faultStaleForever):
				// FAULT stale_forever (evaluated only for an expired record): the bug of a
				// reader that forgets stale_until_ns and serves an expired value for ever.
				res.Hit, res.Stale = true, true
				if s1.State() == StateReady {
					c.hooks.at(PointGetBeforeMarkStale)
					// T7: the one reader whose CAS succeeds asks for the refresh.
					res.RefreshRequested = c.casState(EvMarkStale, shard, j, s1, s1.next(StateStale, s1.A(), 0))
				}
			default:
				expired = true
				break retry // expired past its grace: a miss
			}
			// Second-chance bit: only write when it changes, to keep the line clean.
			if loadAt(sp, SlotReferenced) == 0 {
				atomic.StoreUint64((*uint64)(unsafe.Add(sp, SlotReferenced)), 1)
			}
			if res.Stale {
				c.add(shOff+ShardStaleHits, 1)
			} else {
				c.add(shOff+ShardHits, 1)
			}
			res.Value = buf[:vlen]
			res.Version = version
			res.OriginTag = uint32(vinfo >> 32)
			res.ExpiresAtNs, res.StaleUntilNs, res.WrittenAtNs = exp, until, written
			res.Writer = decodeWriter(writer, wstart)
			res.Slot = j
			return nil
		}
		// Every slot of the window examined with a consistent view: absent.
		c.add(shOff+ShardMisses, 1)
		return nil
	}
	// Nothing but Shard was set on the way here (a hit returns above, with its fields).
	if corrupt {
		atomic.AddUint64(&c.corrupt, 1)
		c.add(shOff+ShardMisses, 1)
		res.Corrupt = true
		return nil
	}
	c.add(shOff+ShardMisses, 1)
	// Either the entry expired, or every retry saw a torn snapshot (contended).
	res.Contended = !expired
	return nil
}

// copyRecordValue is copyValue for a record's value: the checksum it computes on the way is
// the segment's record checksum, WCH64X4 on a FAST_CHECKSUM segment (§2), else WCH64.
func (c *Cache) copyRecordValue(off uint64, dst []byte) uint64 {
	if c.fastSum {
		return c.copyValueX4(off, dst)
	}
	return c.copyValue(off, dst)
}

// copyValueX4 is copyValue computing WCH64X4: four words per round, one per lane, so the four
// multiply chains overlap. Same atomic loads and the same masking of the last word.
func (c *Cache) copyValueX4(off uint64, dst []byte) uint64 {
	n := len(dst)
	var l lanes
	l.start(ValueSeed, n)
	p := unsafe.Add(c.base, off)
	// The loops walk dst down (d = d[32:]) so that the compiler proves every store in bounds
	// (indexing dst[i*8:] kept a bounds check per word), and address the source by index so
	// that no pointer ever leaves the value area.
	i := uint64(0)
	d := dst
	for ; len(d) >= 32; d, i = d[32:], i+32 {
		w0 := loadAt(p, i)
		w1 := loadAt(p, i+8)
		w2 := loadAt(p, i+16)
		w3 := loadAt(p, i+24)
		q := d[:32]
		binary.LittleEndian.PutUint64(q[0:8], w0)
		binary.LittleEndian.PutUint64(q[8:16], w1)
		binary.LittleEndian.PutUint64(q[16:24], w2)
		binary.LittleEndian.PutUint64(q[24:32], w3)
		l.v0, l.v1, l.v2, l.v3 = laneStep(l.v0, w0), laneStep(l.v1, w1), laneStep(l.v2, w2), laneStep(l.v3, w3)
	}
	// At most three full words and a partial one are left; word k of them goes to lane k.
	k := 0
	for ; len(d) >= 8; d, i, k = d[8:], i+8, k+1 {
		w := loadAt(p, i)
		binary.LittleEndian.PutUint64(d, w)
		l.word(k, w)
	}
	if r := len(d); r != 0 {
		l.word(k, copyTail(loadAt(p, i), d))
	}
	return l.end()
}

// copyValue copies len(dst) bytes of value words from shared memory at off into dst, one
// atomic 64-bit load per word, and returns WCH64(dst, VALUE_SEED) computed on the way. The
// last word is masked to the value length so that non-zero padding (garbage) cannot leak into
// the copy or the checksum. len(dst) ≤ value_capacity was checked by the caller.
func (c *Cache) copyValue(off uint64, dst []byte) uint64 {
	h := wchStart(ValueSeed, len(dst))
	p := unsafe.Add(c.base, off)
	i := uint64(0)
	d := dst // walked down as in copyValueX4, for the same reason
	for ; len(d) >= 8; d, i = d[8:], i+8 {
		w := loadAt(p, i)
		binary.LittleEndian.PutUint64(d, w)
		h = wchWord(h, w)
	}
	if len(d) != 0 {
		h = wchWord(h, copyTail(loadAt(p, i), d))
	}
	return wchEnd(h)
}

// copyTail stores the low len(t) (1..7) bytes of the shared word w into t and returns w masked
// to them: the padding above a value's last byte is not part of the value or its checksum.
func copyTail(w uint64, t []byte) uint64 {
	w &= lowMask(len(t))
	for b := range t {
		t[b] = byte(w >> (8 * uint(b)))
	}
	return w
}
