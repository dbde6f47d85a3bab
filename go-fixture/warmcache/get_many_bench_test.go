package warmcache

import (
	"fmt"
	"os"
	"testing"
)

// benchRandomSegment fills a 100 MB segment (the startup bench's geometry at 100 k entries: 98
// shards of 2,048 slots of 512 bytes) with 100 k entries of 100 bytes and returns it with the keys
// in a random-looking order (the startup consumers' permutation), for the batched against the
// unbatched get (docs/BENCHMARKS.md "Stop 10").
func benchRandomSegment(b *testing.B) (*Cache, [][]byte) {
	const n = 100_000
	p := fmt.Sprintf("/dev/shm/warmcache-getmany-%d", os.Getpid())
	os.Remove(p)
	g := Geometry{ShardCount: (2*n + 2047) / 2048, SlotsPerShard: 2048, KeyCapacity: 16, ValueCapacity: 128,
		ProbeWindow: 64, ParticipantCapacity: 64}
	c, err := Create(p, g, CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	os.Remove(p)
	b.Cleanup(func() { c.Close() })
	val := make([]byte, 100)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("k%010d", i))
		if _, err := c.Put(keys[i], val, PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	order := make([][]byte, n)
	for r := range order {
		order[r] = keys[(uint64(r)*1000003+7)%n]
	}
	return c, order
}

// BenchmarkGetRandom100k: one op is a pass over all 100 k keys in random order, one GetInto each.
func BenchmarkGetRandom100k(b *testing.B) {
	c, keys := benchRandomSegment(b)
	buf := make([]byte, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			if l, _ := c.GetInto(k, buf); !l.Hit {
				b.Fatal("miss")
			}
		}
	}
}

// BenchmarkGetManyRandom100k: the same pass in GetMany batches of 100 (the depth of the Redis and
// memcached pipelines of the startup bench).
func BenchmarkGetManyRandom100k(b *testing.B) {
	c, keys := benchRandomSegment(b)
	for _, mode := range []struct {
		name  string
		loads bool
	}{{"prefetch", false}, {"loads", true}} {
		b.Run(mode.name, func(b *testing.B) {
			touchByLoads = mode.loads
			defer func() { touchByLoads = false }()
			benchGetManyPass(b, c, keys)
		})
	}
}

func benchGetManyPass(b *testing.B, c *Cache, keys [][]byte) {
	const batch = 100
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, 128)
	}
	out := make([]Lookup, batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for lo := 0; lo < len(keys); lo += batch {
			hi := lo + batch
			if hi > len(keys) {
				hi = len(keys)
			}
			c.GetMany(keys[lo:hi], bufs[:hi-lo], out[:hi-lo], nil)
			for _, l := range out[:hi-lo] {
				if !l.Hit {
					b.Fatal("miss")
				}
			}
		}
	}
}

// BenchmarkGetHot100: the same 100 k gets over 100 keys only (all in cache): what a get costs
// without its misses.
func BenchmarkGetHot100(b *testing.B) {
	c, keys := benchRandomSegment(b)
	buf := make([]byte, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := range keys {
			c.GetInto(keys[r%100], buf)
		}
	}
}
