package warmcache

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"
)

// Journal append cost per put and restore time (docs/BENCHMARKS.md "Durable store").

func benchDurablePut(b *testing.B, pol FsyncPolicy, durable bool) {
	c := benchCache(b)
	if durable {
		dir := os.Getenv("WARMCACHE_STORE_DIR")
		if dir == "" {
			dir = b.TempDir()
		} else {
			dir = filepath.Join(dir, fmt.Sprintf("bench-%d-%s", os.Getpid(), pol))
			b.Cleanup(func() { os.RemoveAll(dir) })
		}
		if err := c.AttachStore(StoreOptions{Dir: dir, Policy: pol, Interval: time.Second}); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([][]byte, 512)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("bench:key:%05d", i))
	}
	val := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Put(keys[i%len(keys)], val, PutOptions{Durable: durable}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutNotDurable(b *testing.B)      { benchDurablePut(b, FsyncNone, false) }
func BenchmarkPutDurableNone(b *testing.B)     { benchDurablePut(b, FsyncNone, true) }
func BenchmarkPutDurableInterval(b *testing.B) { benchDurablePut(b, FsyncInterval, true) }
func BenchmarkPutDurableAlways(b *testing.B)   { benchDurablePut(b, FsyncAlways, true) }

// cpuNow is this process's user+system CPU time: on a loaded machine the wall clock measures
// the queue for a core more than the work.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDurableRestoreTiming measures restore of N entries against rebuilding cold (the same N
// puts into an empty segment), median of 3. Set WARMCACHE_DURABLE_BENCH=10000,1000000.
func TestDurableRestoreTiming(t *testing.T) {
	spec := os.Getenv("WARMCACHE_DURABLE_BENCH")
	if spec == "" {
		t.Skip("set WARMCACHE_DURABLE_BENCH=10000,1000000 to measure")
	}
	var sizes []int
	for _, f := range filepath.SplitList(spec) {
		var n int
		fmt.Sscan(f, &n)
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		// ~1.3 slots per entry, window 16: every entry fits.
		g := Geometry{ShardCount: 32, SlotsPerShard: uint32((n*13/10)/32 + 16), KeyCapacity: 16, ValueCapacity: 64, ProbeWindow: 16, ParticipantCapacity: 8}
		if g.SlotsPerShard > 65536 {
			g.ShardCount = uint32((n*13/10)/65536 + 1)
			g.SlotsPerShard = 65536
		}
		dir := filepath.Join(t.TempDir(), "store")
		path := fmt.Sprintf("/dev/shm/warmcache-durbench-%d", os.Getpid())
		os.Remove(path)
		defer os.Remove(path)
		val := make([]byte, 64)
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = []byte(fmt.Sprintf("key:%012d", i))
		}
		fill := func(c *Cache, durable bool) time.Duration {
			t0 := time.Now()
			for _, k := range keys {
				if _, err := c.Put(k, val, PutOptions{Durable: durable}); err != nil {
					t.Fatal(err)
				}
			}
			return time.Since(t0)
		}
		c, _, err := OpenOrRestore(path, g, StoreOptions{Dir: dir, Policy: FsyncNone}, CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		write := fill(c, true)
		c.Close()
		var cold, restore, coldCPU, restoreCPU []time.Duration
		var installed int
		for r := 0; r < 3; r++ {
			os.Remove(path)
			t0, u0 := time.Now(), cpuNow()
			c, err := Create(path, g, CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			fill(c, false)
			cold, coldCPU = append(cold, time.Since(t0)), append(coldCPU, cpuNow()-u0)
			c.Close()
			os.Remove(path)
			t0, u0 = time.Now(), cpuNow()
			c, rep, err := OpenOrRestore(path, g, StoreOptions{Dir: dir, Policy: FsyncNone}, CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			restore, restoreCPU = append(restore, time.Since(t0)), append(restoreCPU, cpuNow()-u0)
			installed = rep.Installed
			c.Close()
		}
		// The same store compacted (PERSISTENCE.md §8): restore from one snapshot.
		t0 := time.Now()
		crep, err := Compact(dir, g, CompactOptions{})
		if err != nil || crep.Snapshot == "" {
			t.Fatalf("compact: %+v %v", crep, err)
		}
		compactTime := time.Since(t0)
		var snap, snapCPU []time.Duration
		for r := 0; r < 3; r++ {
			os.Remove(path)
			t0, u0 := time.Now(), cpuNow()
			c, rep, err := OpenOrRestore(path, g, StoreOptions{Dir: dir, Policy: FsyncNone}, CreateOptions{})
			if err != nil || rep.Snapshot == "" || rep.Installed != installed {
				t.Fatalf("snapshot restore: %+v %v", rep, err)
			}
			snap, snapCPU = append(snap, time.Since(t0)), append(snapCPU, cpuNow()-u0)
			c.Close()
		}
		med := func(d []time.Duration) time.Duration {
			sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
			return d[1]
		}
		t.Logf("durable restore: %d entries (%d installed, segment %d MB): journal write %v; median of 3: restore %v wall / %v CPU, cold rebuild by put %v wall / %v CPU; restore/cold CPU ratio %.2f",
			n, installed, g.Layout().TotalLen>>20, write, med(restore), med(restoreCPU), med(cold), med(coldCPU),
			float64(med(restoreCPU))/float64(med(coldCPU)))
		t.Logf("durable restore: %d entries: compaction %v; from the snapshot, median of 3: restore %v wall / %v CPU; snapshot/cold CPU ratio %.2f",
			n, compactTime, med(snap), med(snapCPU), float64(med(snapCPU))/float64(med(coldCPU)))
	}
}
