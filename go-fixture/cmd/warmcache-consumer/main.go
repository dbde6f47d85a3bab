// Command warmcache-consumer is the Go consumer (and producer) of `warmcheck bench startup`
// (docs/BENCHMARKS.md "Startup"): a program built on the public library API as a service would
// be, started afresh for every measurement.
//
//	warmcache-consumer produce SEG N                      create SEG, put the working set, print "ready", hold it until stdin closes
//	warmcache-consumer warm SEG N [--legacy-sweep]        open SEG and serve the request stream from it
//	warmcache-consumer cold N COST_NS                     recompute every entry (COST_NS of CPU each) into a private map
//	warmcache-consumer redis ADDR N | memcached ADDR N    fetch the stream from a server (pipelined batches)
//	warmcache-consumer load-redis ADDR N | load-memcached ADDR N   fill a server, print "ready"
//	warmcache-consumer produce-durable SEG STORE N         durable puts, a compaction, a 1 % journal tail into STORE; print "ready"
//	warmcache-consumer restore SEG STORE N                rebuild the missing SEG from STORE, then serve as warm
//
// Every serving mode prints one JSON line of realtime nanoseconds (see milestones); with
// --trace FILE --exec-ns T it also writes the phases of the start as Chrome trace JSON.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "warmcache-consumer: "+format+"\n", a...)
	os.Exit(2)
}

func num(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 {
		die("%q is not a positive integer", s)
	}
	if v%orderStep == 0 {
		die("N must not be a multiple of %d", orderStep)
	}
	return v
}

type flags struct {
	legacy bool
	trace  string
	execNs int64
}

func parseFlags(args []string) ([]string, flags) {
	var f flags
	var pos []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--legacy-sweep":
			f.legacy = true
		case "--trace", "--exec-ns":
			if i+1 >= len(args) {
				die("%s needs a value", args[i])
			}
			if args[i] == "--trace" {
				f.trace = args[i+1]
			} else {
				v, err := strconv.ParseInt(args[i+1], 10, 64)
				if err != nil {
					die("bad --exec-ns %q", args[i+1])
				}
				f.execNs = v
			}
			i++
		default:
			pos = append(pos, args[i])
		}
	}
	return pos, f
}

func main() {
	start := time.Now().UnixNano()
	if len(os.Args) < 2 {
		die("usage: warmcache-consumer produce|warm|cold|redis|memcached|load-redis|load-memcached ARGS (see the source)")
	}
	pos, f := parseFlags(os.Args[2:])
	need := func(k int) {
		if len(pos) != k {
			die("%s takes %d arguments, got %d", os.Args[1], k, len(pos))
		}
	}
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
			die("bad COST_NS %q", pos[1])
		}
		serveCold(start, num(pos[0]), time.Duration(cost), f)
	case "redis", "memcached":
		need(2)
		serveRemote(start, os.Args[1], pos[0], num(pos[1]), f)
	case "load-redis", "load-memcached":
		need(2)
		load(os.Args[1][len("load-"):], pos[0], num(pos[1]))
	case "produce-durable": // row (b), durable.go
		need(3)
		produceDurable(pos[0], pos[1], num(pos[2]))
	case "restore": // row (b), durable.go
		need(3)
		serveRestored(start, pos[0], pos[1], num(pos[2]), f)
	default:
		die("unknown mode %q", os.Args[1])
	}
}

func produce(path string, n uint64) {
	c, err := warmcache.Create(path, geometry(n), warmcache.CreateOptions{})
	if err != nil {
		die("create %s: %v", path, err)
	}
	defer c.Close()
	for i := uint64(0); i < n; i++ {
		if _, err := c.Put(key(i), value(i), warmcache.PutOptions{}); err != nil {
			die("put %d: %v", i, err)
		}
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // hold the segment until the bench closes our stdin
}

func serveWarm(start int64, path string, n uint64, f flags) {
	c, err := warmcache.Open(path, warmcache.OpenOptions{LegacySweep: f.legacy})
	if err != nil {
		die("open %s: %v", path, err)
	}
	opened := time.Now().UnixNano()
	m := newMilestones(n)
	buf := make([]byte, 128)
	for r := uint64(0); r < 2*n; r++ {
		i := index(r, n)
		l, _ := c.GetInto(key(i), buf)
		hit := l.Hit && len(l.Value) == valueLen && leU64(l.Value) == i
		if m.record(hit) {
			break
		}
	}
	finish(start, opened, m, f)
}

func serveCold(start int64, n uint64, cost time.Duration, f flags) {
	local := make(map[uint64][]byte)
	m := newMilestones(n)
	for r := uint64(0); r < 2*n; r++ {
		i := index(r, n)
		_, hit := local[i]
		if !hit {
			local[i] = compute(i, cost)
		}
		if m.record(hit) {
			break
		}
	}
	finish(start, start, m, f)
}

// compute stands for the work a cold service redoes per entry: cost of CPU (a busy loop on
// the clock, never a sleep), then the value.
func compute(i uint64, cost time.Duration) []byte {
	t0 := time.Now()
	x := i
	for time.Since(t0) < cost {
		x = x*6364136223846793005 + 1442695040888963407
	}
	v := value(i)
	v[valueLen-1] ^= byte(x >> 63 & 0) // keep x live without changing the value
	return v
}

func leU64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func finish(start, opened int64, m *milestones, f flags) {
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, m.json(start, opened))
	_ = w.Flush()
	if f.trace != "" {
		writeTrace(f.trace, f.execNs, start, opened, m)
	}
}
