// Command warmcache-consumer is the Go consumer (and producer) of `warmcheck bench startup`
// (docs/BENCHMARKS.md "Startup"): a program built on the public library API as a service would
// be, started afresh for every measurement. Rows (d) and (e), which need sockets, are
// cmd/warmcache-remote-consumer: a service of this kind links no network code, and `net` alone
// (its resolver links cgo, hence the dynamic loader and libc) doubled this program's start.
//
//	warmcache-consumer produce SEG N                      create SEG, put the working set, print "ready", hold it until stdin closes
//	warmcache-consumer warm SEG N [--legacy-sweep]        open SEG and serve the request stream from it
//	warmcache-consumer warm SEG N --batch K               the same, K requests at a time through GetMany (row a-batched)
//	warmcache-consumer cold N COST_NS                     recompute every entry (COST_NS of CPU each) into a private map
//	warmcache-consumer produce-durable SEG STORE N         durable puts, a compaction, a 1 % journal tail into STORE; print "ready"
//	warmcache-consumer restore SEG STORE N                rebuild the missing SEG from STORE, then serve as warm
//
// Every serving mode prints one JSON line of realtime nanoseconds (benchload.Milestones); with
// --trace FILE --exec-ns T it also writes the phases of the start as Chrome trace JSON.
package main

import (
	"io"
	"os"
	"strconv"
	"time"

	"github.com/warmcache/warmcache/go-fixture/internal/benchload"
	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

const prog = "warmcache-consumer"

func die(msg string) { benchload.Die(prog, msg) }

func main() {
	start := benchload.Now()
	if len(os.Args) < 2 {
		die("usage: warmcache-consumer produce|warm|cold|produce-durable|restore ARGS (see the source)")
	}
	pos, f := benchload.ParseFlags(prog, os.Args[2:])
	need := func(k int) {
		if len(pos) != k {
			die(os.Args[1] + " takes " + strconv.Itoa(k) + " arguments, got " + strconv.Itoa(len(pos)))
		}
	}
	num := func(s string) uint64 { return benchload.Num(prog, s) }
	switch os.Args[1] {
	case "produce":
		need(2)
		produce(pos[0], num(pos[1]))
	case "warm":
		need(2)
		serveWarm(start, pos[0], num(pos[1]), f)
	case "cold":
		need(2)
		cost, err := strconv.ParseInt(pos[1], 10, 64)
		if err != nil || cost < 0 {
			die("bad COST_NS " + strconv.Quote(pos[1]))
		}
		serveCold(start, num(pos[0]), time.Duration(cost), f)
	case "produce-durable": // row (b), durable.go
		need(3)
		produceDurable(pos[0], pos[1], num(pos[2]))
	case "restore": // row (b), durable.go
		need(3)
		serveRestored(start, pos[0], pos[1], num(pos[2]), f)
	case "redis", "memcached", "load-redis", "load-memcached":
		die(os.Args[1] + " is a mode of warmcache-remote-consumer (rows d and e)")
	default:
		die("unknown mode " + strconv.Quote(os.Args[1]))
	}
}

func produce(path string, n uint64) {
	c, err := warmcache.Create(path, benchload.Geometry(n), warmcache.CreateOptions{})
	if err != nil {
		die("create " + path + ": " + err.Error())
	}
	defer c.Close()
	for i := uint64(0); i < n; i++ {
		if _, err := c.Put(benchload.NewKey(i), benchload.Value(i), warmcache.PutOptions{}); err != nil {
			die("put " + strconv.FormatUint(i, 10) + ": " + err.Error())
		}
	}
	os.Stdout.WriteString("ready\n")
	_, _ = io.Copy(io.Discard, os.Stdin) // hold the segment until the bench closes our stdin
}

func serveWarm(start int64, path string, n uint64, f benchload.Flags) {
	c, err := warmcache.Open(path, warmcache.OpenOptions{LegacySweep: f.Legacy})
	if err != nil {
		die("open " + path + ": " + err.Error())
	}
	opened := benchload.Now()
	m := benchload.NewMilestones(n)
	if f.Batch > 0 {
		serveBatched(c, n, f.Batch, m)
		benchload.Finish(prog, start, opened, m, f)
		return
	}
	buf := make([]byte, 128)
	k := make([]byte, benchload.KeyLen)
	for r := uint64(0); r < 2*n; r++ {
		i := benchload.Index(r, n)
		l, _ := c.GetInto(benchload.Key(k, i), buf)
		if m.Record(l.Hit && benchload.Right(l.Value, i)) {
			break
		}
	}
	benchload.Finish(prog, start, opened, m, f)
}

// serveBatched serves the same request stream as serveWarm, batch requests at a time through
// Cache.GetMany (row a-batched): requests r..r+batch-1 are gathered, got together, then recorded
// in order, as a server answering a pipeline of that depth would.
func serveBatched(c *warmcache.Cache, n uint64, batch int, m *benchload.Milestones) {
	keys, bufs := make([][]byte, batch), make([][]byte, batch)
	idx := make([]uint64, batch)
	out := make([]warmcache.Lookup, batch)
	for j := range keys {
		keys[j], bufs[j] = make([]byte, benchload.KeyLen), make([]byte, 128)
	}
	for r := uint64(0); r < 2*n; {
		k := 0
		for ; k < batch && r < 2*n; k, r = k+1, r+1 {
			idx[k] = benchload.Index(r, n)
			benchload.Key(keys[k], idx[k])
		}
		c.GetMany(keys[:k], bufs[:k], out[:k], nil)
		for j := 0; j < k; j++ {
			if m.Record(out[j].Hit && benchload.Right(out[j].Value, idx[j])) {
				return
			}
		}
	}
}

func serveCold(start int64, n uint64, cost time.Duration, f benchload.Flags) {
	local := make(map[uint64][]byte)
	m := benchload.NewMilestones(n)
	for r := uint64(0); r < 2*n; r++ {
		i := benchload.Index(r, n)
		_, hit := local[i]
		if !hit {
			local[i] = compute(i, cost)
		}
		if m.Record(hit) {
			break
		}
	}
	benchload.Finish(prog, start, start, m, f)
}

// compute stands for the work a cold service redoes per entry: cost of CPU (a busy loop on
// the clock, never a sleep), then the value.
func compute(i uint64, cost time.Duration) []byte {
	t0 := time.Now()
	x := i
	for time.Since(t0) < cost {
		x = x*6364136223846793005 + 1442695040888963407
	}
	v := benchload.Value(i)
	v[benchload.ValueLen-1] ^= byte(x >> 63 & 0) // keep x live without changing the value
	return v
}
