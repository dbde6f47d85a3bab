package main

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// The working set and request stream every consumer of `warmcheck bench startup` serves (Go and
// Rust alike, docs/BENCHMARKS.md "Startup"): key i is "k" + 10 decimal digits, its value 100
// bytes starting with i (little-endian), so a consumer can tell a right hit from a wrong one.
const (
	valueLen  = 100
	orderStep = 1000003 // prime: (r*step + 7) mod n visits every index once when n is not a multiple
)

func key(i uint64) []byte { return []byte(fmt.Sprintf("k%010d", i)) }

func value(i uint64) []byte {
	v := make([]byte, valueLen)
	binary.LittleEndian.PutUint64(v, i)
	for j := 8; j < valueLen; j++ {
		v[j] = byte(i + uint64(j))
	}
	return v
}

// index is the working-set index of request r (two passes of one permutation).
func index(r, n uint64) uint64 { return (r%n*orderStep + 7) % n }

// geometry sizes a segment for n entries: half-full windows of 64, 512-byte slots (key 16 B,
// value 128 B), so 1 M entries make a ~1 GiB segment.
func geometry(n uint64) warmcache.Geometry {
	shards := (2*n + 2047) / 2048
	return warmcache.Geometry{ShardCount: uint32(shards), SlotsPerShard: 2048, KeyCapacity: 16, ValueCapacity: 128,
		ProbeWindow: 64, ParticipantCapacity: 64}
}

// milestones tracks the three moments of a start (realtime ns): the first request served from
// the cache, 99 % of the working set served, and the trailing-window hit ratio back within 1
// point of its pre-restart value (100 %: before the restart every request of the working set
// was served from the cache).
type milestones struct {
	n, window          uint64
	requests, hits     uint64
	firstHit, served99 int64
	warm               int64
	recent             []bool // ring of the last `window` outcomes
	recentHits         uint64
}

func newMilestones(n uint64) *milestones {
	w := n / 100
	if w < 100 {
		w = 100
	}
	return &milestones{n: n, window: w, recent: make([]bool, w)}
}

// record notes one served request; done reports whether every milestone is known.
func (m *milestones) record(hit bool) (done bool) {
	now := time.Now().UnixNano()
	slot := m.requests % m.window
	if m.requests >= m.window && m.recent[slot] {
		m.recentHits--
	}
	m.recent[slot] = hit
	m.requests++
	if hit {
		m.hits++
		m.recentHits++
		if m.firstHit == 0 {
			m.firstHit = now
		}
	}
	if m.served99 == 0 && m.requests*100 >= m.n*99 {
		m.served99 = now
	}
	if m.warm == 0 && m.requests >= m.window && m.recentHits*100 >= m.window*99 {
		m.warm = now
	}
	return m.firstHit != 0 && m.served99 != 0 && m.warm != 0
}

func (m *milestones) json(start, opened int64) string {
	return fmt.Sprintf(`{"main_ns":%d,"opened_ns":%d,"first_hit_ns":%d,"served99_ns":%d,"warm_ns":%d,"requests":%d,"hits":%d}`,
		start, opened, m.firstHit, m.served99, m.warm, m.requests, m.hits)
}
