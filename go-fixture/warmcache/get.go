package warmcache

import (
	"encoding/binary"
	"sync/atomic"
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
	// Both operands fit 32 bits; 32-bit division is markedly cheaper than 64-bit.
	shard = uint32(h>>32) % c.geo.ShardCount
	home = uint32(h) % c.geo.SlotsPerShard
	return
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
	l, _ := c.get(key, nil, true)
	return l
}

// GetInto looks key up and copies its value into buf, allocating nothing. If the value is
// longer than len(buf) it returns a miss and a too_large error naming the length needed.
func (c *Cache) GetInto(key, buf []byte) (Lookup, error) {
	return c.get(key, buf, false)
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

func (c *Cache) get(key, buf []byte, grow bool) (Lookup, error) {
	var res Lookup
	if err := c.checkOpen("get"); err != nil {
		return res, err
	}
	kc := c.geo.KeyCapacity
	h, shard, home := c.keyPlace(key)
	res.Shard = shard
	shOff := c.shardOff(shard)
	if len(key) == 0 || len(key) > int(kc) {
		// Such a key can never be stored (put refuses it), so it is simply absent, and counted
		// as a miss like every get that returns nothing (DRIVER.md "stats"). Bounds first: we
		// must not compare more key words than the slot has.
		c.add(shOff+ShardMisses, 1)
		return res, nil
	}
	pc := c.geo.ParticipantCapacity
	vc := uint64(c.geo.ValueCapacity)
	corrupt, expired := false, false

retry:
	for attempt := 0; attempt < ReadRetries; attempt++ {
		j := home
		for k := uint32(0); k < c.geo.ProbeWindow; k, j = k+1, c.nextSlot(j) {
			so := c.slotOff(shard, j)
			// Acquire load (Go: seq-cst): pairs with the writer's release publish, so the
			// record and key written before it are visible.
			s1 := Word(c.load(so + SlotState))
			// Impossible words (§8.1) are a miss for readers; bounds-check the owner too (§13).
			if !s1.valid(pc) || !s1.State().Readable() {
				continue
			}
			if c.load(so+SlotKeyHash) != h || c.load(so+SlotKeyLen) != uint64(len(key)) {
				continue
			}
			// key_len equals len(key) ≤ key_capacity here, so the key words below are in the
			// slot's key area.
			if !c.keyMatches(so, key) {
				// Torn or a different key: no need to copy. Re-check the word to tell which.
				if !snapshotOK(s1, Word(c.load(so+SlotState)), pc) {
					continue retry
				}
				continue
			}
			// The key of a readable slot matched (after the first state load), before the copy.
			c.hooks.at(PointGetAfterKeyMatch)
			ro := c.recOff(so, s1.A())
			version := c.load(ro + RecVersion)
			vinfo := c.load(ro + RecValueInfo)
			sum := c.load(ro + RecChecksum)
			exp := c.load(ro + RecExpiresAtNs)
			until := c.load(ro + RecStaleUntilNs)
			written := c.load(ro + RecWrittenAtNs)
			writer := c.load(ro + RecWriter)
			wstart := c.load(ro + RecWriterStartTime)
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
			if !c.faults.has(FaultSkipSecondSeqCheck) {
				s2 := Word(c.load(so + SlotState))
				if !snapshotOK(s1, s2, pc) {
					continue retry
				}
			}
			if short {
				return Lookup{Shard: shard, Slot: j}, newErr(CodeTooLarge, "get", c.path,
					"buffer holds %d bytes, the value has %d", len(buf), vlen)
			}
			// FAULT ignore_checksum (checked only when the sums differ, so free otherwise): the
			// bug of a reader that copies without verifying, returning torn or corrupt bytes.
			// `bad` (value_len > value_capacity) still makes a miss: nothing was copied (§13).
			if bad || version == 0 || (got != sum && !c.faults.has(FaultIgnoreChecksum)) {
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
			case now < until || c.faults.has(FaultStaleForever):
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
			if c.load(so+SlotReferenced) == 0 {
				c.store(so+SlotReferenced, 1)
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
			return res, nil
		}
		// Every slot of the window examined with a consistent view: absent.
		c.add(shOff+ShardMisses, 1)
		return Lookup{Shard: shard}, nil
	}
	if corrupt {
		atomic.AddUint64(&c.corrupt, 1)
		c.add(shOff+ShardMisses, 1)
		return Lookup{Shard: shard, Corrupt: true}, nil
	}
	c.add(shOff+ShardMisses, 1)
	// Either the entry expired, or every retry saw a torn snapshot (contended).
	return Lookup{Shard: shard, Contended: !expired}, nil
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
	full := n / 8
	i := 0
	for ; i+4 <= full; i += 4 {
		p := off + uint64(i)*8
		w0 := atomic.LoadUint64(c.u64(p))
		w1 := atomic.LoadUint64(c.u64(p + 8))
		w2 := atomic.LoadUint64(c.u64(p + 16))
		w3 := atomic.LoadUint64(c.u64(p + 24))
		q := dst[i*8 : i*8+32 : i*8+32]
		binary.LittleEndian.PutUint64(q[0:], w0)
		binary.LittleEndian.PutUint64(q[8:], w1)
		binary.LittleEndian.PutUint64(q[16:], w2)
		binary.LittleEndian.PutUint64(q[24:], w3)
		l.v0, l.v1, l.v2, l.v3 = laneStep(l.v0, w0), laneStep(l.v1, w1), laneStep(l.v2, w2), laneStep(l.v3, w3)
	}
	for ; i < full; i++ {
		w := atomic.LoadUint64(c.u64(off + uint64(i)*8))
		binary.LittleEndian.PutUint64(dst[i*8:], w)
		l.word(i, w)
	}
	if r := n % 8; r != 0 {
		w := atomic.LoadUint64(c.u64(off+uint64(full)*8)) & lowMask(r)
		t := dst[full*8:]
		for b := 0; b < r; b++ {
			t[b] = byte(w >> (8 * uint(b)))
		}
		l.word(full, w)
	}
	return l.end()
}

// copyValue copies len(dst) bytes of value words from shared memory at off into dst, one
// atomic 64-bit load per word, and returns WCH64(dst, VALUE_SEED) computed on the way. The
// last word is masked to the value length so that non-zero padding (garbage) cannot leak into
// the copy or the checksum. len(dst) ≤ value_capacity was checked by the caller.
func (c *Cache) copyValue(off uint64, dst []byte) uint64 {
	n := len(dst)
	h := wchStart(ValueSeed, n)
	full := n / 8
	for i := 0; i < full; i++ {
		w := atomic.LoadUint64(c.u64(off + uint64(i)*8))
		binary.LittleEndian.PutUint64(dst[i*8:], w)
		h = wchWord(h, w)
	}
	if r := n % 8; r != 0 {
		w := atomic.LoadUint64(c.u64(off+uint64(full)*8)) & lowMask(r)
		t := dst[full*8:]
		for b := 0; b < r; b++ {
			t[b] = byte(w >> (8 * uint(b)))
		}
		h = wchWord(h, w)
	}
	return wchEnd(h)
}
