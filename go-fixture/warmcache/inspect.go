package warmcache

import (
	"bytes"
	"fmt"
	"sync/atomic"
)

// Counters are one shard's counters, or their sums (§6). They are advisory.
type Counters struct {
	Hits          uint64 `json:"hits"`
	Misses        uint64 `json:"misses"`
	StaleHits     uint64 `json:"stale_hits"`
	Inserts       uint64 `json:"inserts"`
	Refreshes     uint64 `json:"refreshes"`
	Evictions     uint64 `json:"evictions"`
	Invalidations uint64 `json:"invalidations"`
	Expirations   uint64 `json:"expirations"`
	Reclaims      uint64 `json:"reclaims"`
}

func (a *Counters) addAll(b Counters) {
	a.Hits += b.Hits
	a.Misses += b.Misses
	a.StaleHits += b.StaleHits
	a.Inserts += b.Inserts
	a.Refreshes += b.Refreshes
	a.Evictions += b.Evictions
	a.Invalidations += b.Invalidations
	a.Expirations += b.Expirations
	a.Reclaims += b.Reclaims
}

// ShardStats are a shard's counters plus occupancy by state name (and "IMPOSSIBLE").
type ShardStats struct {
	Counters
	Occupancy map[string]uint64 `json:"occupancy"`
}

// TotalStats are the shards' sums plus this handle's corruption count.
type TotalStats struct {
	ShardStats
	// Corrupt counts this handle's gets that met a corrupt slot (private, §15): reported in
	// totals (DRIVER.md "stats"), never per shard, since the segment has no such counter.
	Corrupt uint64 `json:"corrupt"`
}

// Stats is the result of (*Cache).Stats (§9.7).
type Stats struct {
	Totals TotalStats   `json:"totals"`
	Shards []ShardStats `json:"shards"`
}

func newOccupancy() map[string]uint64 {
	m := make(map[string]uint64, 7)
	for _, n := range stateNames {
		m[n] = 0
	}
	return m
}

// Stats sums the shards' counters (relaxed loads) and counts slots by state.
func (c *Cache) Stats() (Stats, error) {
	var st Stats
	if err := c.checkOpen("stats"); err != nil {
		return st, err
	}
	st.Totals.Occupancy = newOccupancy()
	pc := c.geo.ParticipantCapacity
	for s := uint32(0); s < c.geo.ShardCount; s++ {
		o := c.shardOff(s)
		var ss ShardStats
		ss.Counters = Counters{
			Hits: c.load(o + ShardHits), Misses: c.load(o + ShardMisses), StaleHits: c.load(o + ShardStaleHits),
			Inserts: c.load(o + ShardInserts), Refreshes: c.load(o + ShardRefreshes),
			Evictions: c.load(o + ShardEvictions), Invalidations: c.load(o + ShardInvalidations),
			Expirations: c.load(o + ShardExpirations), Reclaims: c.load(o + ShardReclaims),
		}
		ss.Occupancy = newOccupancy()
		for j := uint32(0); j < c.geo.SlotsPerShard; j++ {
			w := Word(c.load(c.slotOff(s, j) + SlotState))
			name := "IMPOSSIBLE"
			if w.valid(pc) {
				name = w.State().String()
			}
			ss.Occupancy[name]++
			st.Totals.Occupancy[name]++
		}
		st.Totals.Counters.addAll(ss.Counters)
		st.Shards = append(st.Shards, ss)
	}
	st.Totals.Corrupt = atomic.LoadUint64(&c.corrupt)
	return st, nil
}

// Entry is one readable slot found by Dump.
type Entry struct {
	Shard, Slot uint32
	State       State
	Seq         uint32
	Key         []byte
	Lookup      // value and record fields; Hit/Stale describe the entry at the dump's time
}

// DumpResult lists every READY, REFRESHING or STALE slot whose record passes its checks, and
// every problem found (impossible words, bad lengths, bad checksums, duplicate keys ...).
type DumpResult struct {
	Entries  []Entry
	Problems []string
}

// Dump scans every slot of the segment (§13 "inspect"). It writes nothing.
func (c *Cache) Dump() (DumpResult, error) {
	var d DumpResult
	if err := c.checkOpen("dump"); err != nil {
		return d, err
	}
	pc := c.geo.ParticipantCapacity
	now := c.now()
	for s := uint32(0); s < c.geo.ShardCount; s++ {
		if v := c.load(c.shardOff(s) + ShardInsertLock); v > uint64(pc) {
			d.Problems = append(d.Problems, fmt.Sprintf("shard %d: insert_lock %d is not a participant id (capacity %d)", s, v, pc))
		}
		first := len(d.Entries)
		for j := uint32(0); j < c.geo.SlotsPerShard; j++ {
			e, problem, ok := c.inspectSlot(s, j, now)
			if problem != "" {
				d.Problems = append(d.Problems, fmt.Sprintf("shard %d slot %d: %s", s, j, problem))
			}
			if ok {
				d.Entries = append(d.Entries, e)
			}
		}
		// Invariant 1: a key lives in at most one slot of its shard. Of several copies only the
		// one a get finds (the first in window order) is an entry (§13.1).
		es := d.Entries[first:]
		kept := es[:0]
		for _, e := range es {
			dup := -1
			for i := range kept {
				if bytes.Equal(kept[i].Key, e.Key) {
					dup = i
				}
			}
			if dup < 0 {
				kept = append(kept, e)
				continue
			}
			if c.windowPos(e) < c.windowPos(kept[dup]) {
				kept[dup], e = e, kept[dup]
			}
			d.Problems = append(d.Problems, fmt.Sprintf("shard %d slot %d: key %x is also in slot %d, which a get finds first (invariant 1)", s, e.Slot, e.Key, kept[dup].Slot))
		}
		d.Entries = d.Entries[:first+len(kept)]
	}
	return d, nil
}

// windowPos is the position of e's slot in its key's window (0 = home). Only for entries in
// their window.
func (c *Cache) windowPos(e Entry) uint32 {
	_, _, home := c.keyPlace(e.Key)
	return (e.Slot + c.geo.SlotsPerShard - home) % c.geo.SlotsPerShard
}

// inspectSlot reads one slot consistently (the §9.2 snapshot rule) and checks invariant 2.
func (c *Cache) inspectSlot(s, j uint32, now uint64) (Entry, string, bool) {
	pc := c.geo.ParticipantCapacity
	so := c.slotOff(s, j)
	kc, vc := uint64(c.geo.KeyCapacity), uint64(c.geo.ValueCapacity)
	for attempt := 0; attempt < ReadRetries; attempt++ {
		s1 := Word(c.load(so + SlotState))
		if !s1.valid(pc) {
			return Entry{}, fmt.Sprintf("impossible state word %#016x", uint64(s1)), false
		}
		if !s1.State().Readable() {
			return Entry{}, "", false
		}
		kh := c.load(so + SlotKeyHash)
		kl := c.load(so + SlotKeyLen)
		var key []byte
		keyOK := kl >= 1 && kl <= kc // bounds before copying (§13)
		if keyOK {
			key = make([]byte, kl)
			c.copyValue(so+SlotKey, key)
		}
		ro := c.recOff(so, s1.A())
		version := c.load(ro + RecVersion)
		vinfo := c.load(ro + RecValueInfo)
		sum := c.load(ro + RecChecksum)
		exp, until := c.load(ro+RecExpiresAtNs), c.load(ro+RecStaleUntilNs)
		written, writer, wstart := c.load(ro+RecWrittenAtNs), c.load(ro+RecWriter), c.load(ro+RecWriterStartTime)
		vlen := vinfo & 0xFFFFFFFF
		var val []byte
		var got uint64
		if vlen <= vc {
			val = make([]byte, vlen)
			got = c.copyRecordValue(ro+RecValue, val)
		}
		s2 := Word(c.load(so + SlotState))
		if !snapshotOK(s1, s2, pc) {
			continue
		}
		where := fmt.Sprintf("%s seq %d", s1.State(), s1.Seq())
		switch {
		case !keyOK:
			return Entry{}, fmt.Sprintf("%s: key_len %d outside 1..%d", where, kl, kc), false
		case kh != WCH64(key, c.keySeed()):
			return Entry{}, fmt.Sprintf("%s: key_hash %#016x does not match the key (%#016x)", where, kh, WCH64(key, c.keySeed())), false
		case vlen > vc:
			return Entry{}, fmt.Sprintf("%s: value_len %d exceeds value_capacity %d", where, vlen, vc), false
		case got != sum:
			return Entry{}, fmt.Sprintf("%s: record %d checksum %#016x, value hashes to %#016x", where, s1.A(), sum, got), false
		case version == 0:
			return Entry{}, fmt.Sprintf("%s: record %d has version 0", where, s1.A()), false
		}
		_, ks, home := c.keyPlace(key)
		off := (j + c.geo.SlotsPerShard - home) % c.geo.SlotsPerShard
		if ks != s || off >= c.geo.ProbeWindow {
			// No get can reach it, so it is not an entry (§13.1).
			return Entry{}, fmt.Sprintf("%s: key %x belongs to shard %d window from slot %d", where, key, ks, home), false
		}
		e := Entry{Shard: s, Slot: j, State: s1.State(), Seq: s1.Seq(), Key: key}
		e.Lookup = Lookup{Hit: true, Value: val, Version: version, OriginTag: uint32(vinfo >> 32),
			ExpiresAtNs: exp, StaleUntilNs: until, WrittenAtNs: written,
			Writer: decodeWriter(writer, wstart), Shard: s, Slot: j}
		e.Stale = s1.State() == StateStale || (exp != 0 && now >= exp)
		return e, "", true
	}
	return Entry{}, "", false // changing under us: a live writer, not a problem
}
