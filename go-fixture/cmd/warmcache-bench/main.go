// Command warmcache-bench measures get-hit and put latency (p50/p99 per operation, timed in
// batches) and single-goroutine get throughput on a default-geometry segment in /dev/shm, next
// to a same-run baseline: a Go map[string][]byte lookup plus a copy of the same value.
//
// With -gets N it does nothing but N untimed GetInto hits of a -size byte value: run under
// valgrind --tool=callgrind with two values of N, the difference of the instruction counts over
// the difference of N is the instructions per get, which does not depend on the machine's load
// (scripts/bench-hotpath.sh).
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

const batch = 1000

// samples runs fn in batches of `batch` calls and returns per-op nanoseconds of each batch.
func samples(n int, fn func()) []float64 {
	out := make([]float64, 0, n)
	for s := 0; s < n; s++ {
		t0 := time.Now()
		for i := 0; i < batch; i++ {
			fn()
		}
		out = append(out, float64(time.Since(t0).Nanoseconds())/batch)
	}
	sort.Float64s(out)
	return out
}

// timerCost is the p50 cost of one clock read (time.Now), from batches of back-to-back reads.
func timerCost(n int) float64 {
	var sink time.Time
	s := samples(n/10+1, func() { sink = time.Now() })
	_ = sink
	return pct(s, .5)
}

func pct(s []float64, p float64) float64 { return s[int(p*float64(len(s)-1))] }

func throughput(d time.Duration, fn func()) float64 {
	n := 0
	t0 := time.Now()
	for time.Since(t0) < d {
		for i := 0; i < batch; i++ {
			fn()
		}
		n += batch
	}
	return float64(n) / time.Since(t0).Seconds()
}

func main() {
	nSamples := flag.Int("samples", 2000, "batches per figure")
	dur := flag.Duration("duration", time.Second, "throughput run length")
	fast := flag.Bool("fast-checksum", false, "create the segment with FAST_CHECKSUM (WCH64X4 record checksums, PROTOCOL.md §2)")
	gets := flag.Int("gets", -1, "only do this many untimed get hits (for callgrind), then exit")
	size := flag.Int("size", 64, "value size of -gets")
	flag.Parse()
	path := fmt.Sprintf("/dev/shm/warmcache-bench-%d", os.Getpid())
	c, err := warmcache.Create(path, warmcache.DefaultGeometry, warmcache.CreateOptions{FastChecksum: *fast})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.Remove(path)
	defer c.Close()

	if *gets >= 0 {
		countGets(c, *gets, *size)
		return
	}
	fmt.Printf("warmcache-go bench: default geometry, %s, batches of %d ops, %d samples, fast checksum %v\n", path, batch, *nSamples, *fast)
	// The timer is read twice per batch, never per operation: its cost, shown here, is spread
	// over `batch` operations (at most timer/batch ns of each figure).
	fmt.Printf("timer: one time.Now() %.1f ns (p50), %.3f ns per timed op\n", timerCost(*nSamples), timerCost(*nSamples)/batch)
	fmt.Printf("%-22s %10s %10s %14s\n", "figure", "p50 ns", "p99 ns", "ops/s")
	for _, size := range []int{64, 1024} {
		key, val, get := hitLoop(c, size)
		buf := make([]byte, size)
		m := map[string][]byte{string(key): append([]byte(nil), val...)}
		base := func() {
			v, ok := m[string(key)]
			if !ok {
				panic("miss")
			}
			copy(buf, v)
		}
		put := func() {
			if _, err := c.Put(key, val, warmcache.PutOptions{}); err != nil {
				panic(err)
			}
		}
		samples(*nSamples/10, get) // warm up
		g := samples(*nSamples, get)
		b := samples(*nSamples, base)
		p := samples(*nSamples, put)
		gt := throughput(*dur, get)
		bt := throughput(*dur, base)
		fmt.Printf("%-22s %10.1f %10.1f %14.0f\n", fmt.Sprintf("get-hit %dB", size), pct(g, .5), pct(g, .99), gt)
		fmt.Printf("%-22s %10.1f %10.1f %14.0f\n", fmt.Sprintf("map baseline %dB", size), pct(b, .5), pct(b, .99), bt)
		fmt.Printf("%-22s %10.1f %10.1f\n", fmt.Sprintf("put %dB", size), pct(p, .5), pct(p, .99))
		fmt.Printf("%-22s get/map p50 = %.1fx, throughput = %.1fx\n", "", pct(g, .5)/pct(b, .5), bt/gt)
	}
}

// hitLoop puts the bench's key with a size-byte value and returns them and one get hit of it
// (GetInto into a buffer of its own), checked so that a miss cannot pass for a cheap hit.
func hitLoop(c *warmcache.Cache, size int) (key, val []byte, get func()) {
	key = []byte("bench:key:00042")
	val = make([]byte, size)
	for i := range val {
		val[i] = byte(i)
	}
	if _, err := c.Put(key, val, warmcache.PutOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, size)
	return key, val, func() {
		if l, _ := c.GetInto(key, buf); !l.Hit {
			panic("miss")
		}
	}
}

// countGets is the untimed loop of -gets: the timed figure's get hits.
func countGets(c *warmcache.Cache, n, size int) {
	_, _, get := hitLoop(c, size)
	for i := 0; i < n; i++ {
		get()
	}
	fmt.Printf("gets=%d size=%d\n", n, size)
}
