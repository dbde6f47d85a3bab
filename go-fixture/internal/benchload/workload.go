// Package benchload is what the Go programs of `warmcheck bench startup` share (docs/BENCHMARKS.md
// "Startup"): the working set, the request stream, the milestones of a start and their output.
// It imports nothing the library does not already import (no net, whose resolver links cgo and
// libc into the binary), so that a consumer built on it starts as a service that imports only
// the library would: what runs before main is the runtime and the library's imports.
package benchload

import (
	"os"
	"strconv"
	"time"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// The working set every consumer serves (Go and Rust alike): key i is "k" + 10 decimal digits,
// its value 100 bytes starting with i (little-endian), so a consumer can tell a right hit from a
// wrong one.
const (
	ValueLen  = 100
	KeyLen    = 11
	OrderStep = 1000003 // prime: (r*step + 7) mod n visits every index once when n is not a multiple
)

// Key writes key i into k (KeyLen bytes) and returns it. A serving loop reuses one buffer:
// formatting a fresh key per request (fmt.Sprintf) cost more than a warm get.
func Key(k []byte, i uint64) []byte {
	k = k[:KeyLen]
	k[0] = 'k'
	for j := KeyLen - 1; j >= 1; j-- {
		k[j] = byte('0' + i%10)
		i /= 10
	}
	return k
}

// NewKey is Key into a fresh buffer, for the loaders and producers.
func NewKey(i uint64) []byte { return Key(make([]byte, KeyLen), i) }

// Value is entry i's value.
func Value(i uint64) []byte {
	v := make([]byte, ValueLen)
	for j := 0; j < 8; j++ {
		v[j] = byte(i >> (8 * j))
	}
	for j := 8; j < ValueLen; j++ {
		v[j] = byte(i + uint64(j))
	}
	return v
}

// LeU64 reads the index a value starts with.
func LeU64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// Right reports whether v is entry i's value (length and leading index).
func Right(v []byte, i uint64) bool { return len(v) == ValueLen && LeU64(v) == i }

// Index is the working-set index of request r (two passes of one permutation).
func Index(r, n uint64) uint64 { return (r%n*OrderStep + 7) % n }

// Geometry sizes a segment for n entries: half-full windows of 64, 512-byte slots (key 16 B,
// value 128 B), so 1 M entries make a ~1 GiB segment.
func Geometry(n uint64) warmcache.Geometry {
	shards := (2*n + 2047) / 2048
	return warmcache.Geometry{ShardCount: uint32(shards), SlotsPerShard: 2048, KeyCapacity: 16, ValueCapacity: 128,
		ProbeWindow: 64, ParticipantCapacity: 64}
}

// Now is the realtime clock in ns, the clock the bench stamps "exec" with.
func Now() int64 { return time.Now().UnixNano() }

// Milestones tracks the three moments of a start (realtime ns): the first request served from
// the cache, 99 % of the working set served, and the trailing-window hit ratio back within 1
// point of its pre-restart value (100 %: before the restart every request of the working set
// was served from the cache).
type Milestones struct {
	n, window          uint64
	requests, hits     uint64
	firstHit, served99 int64
	warm               int64
	recent             []bool // ring of the last `window` outcomes
	recentHits         uint64
}

// NewMilestones starts the bookkeeping for a working set of n entries.
func NewMilestones(n uint64) *Milestones {
	w := n / 100
	if w < 100 {
		w = 100
	}
	return &Milestones{n: n, window: w, recent: make([]bool, w)}
}

// Record notes one served request; done reports whether every milestone is known. The clock is
// read only when a milestone is reached, which is the moment it stands for: a clock read per
// request was ~4 % of a warm pass (docs/BENCHMARKS.md "Where a warm start goes").
func (m *Milestones) Record(hit bool) (done bool) {
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
			m.firstHit = Now()
		}
	}
	if m.served99 == 0 && m.requests*100 >= m.n*99 {
		m.served99 = Now()
	}
	if m.warm == 0 && m.requests >= m.window && m.recentHits*100 >= m.window*99 {
		m.warm = Now()
	}
	return m.firstHit != 0 && m.served99 != 0 && m.warm != 0
}

// Line is the one JSON line a serving mode prints (docs/BENCHMARKS.md "Startup").
func (m *Milestones) Line(start, opened int64) string {
	b := make([]byte, 0, 192)
	field := func(sep, name string, v int64) {
		b = append(b, sep...)
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, v, 10)
	}
	field("{", "main_ns", start)
	field(",", "opened_ns", opened)
	field(",", "first_hit_ns", m.firstHit)
	field(",", "served99_ns", m.served99)
	field(",", "warm_ns", m.warm)
	field(",", "requests", int64(m.requests))
	field(",", "hits", int64(m.hits))
	return string(append(b, '}'))
}

// Finish prints the line and, with a trace path, writes the trace of the start.
func Finish(prog string, start, opened int64, m *Milestones, f Flags) {
	if _, err := os.Stdout.WriteString(m.Line(start, opened) + "\n"); err != nil {
		Die(prog, "write the result line: "+err.Error())
	}
	if f.Trace != "" {
		writeTrace(prog, f.Trace, f.ExecNs, start, opened, m)
	}
}

// Die reports a fatal error on stderr and exits 2.
func Die(prog, msg string) {
	os.Stderr.WriteString(prog + ": " + msg + "\n")
	os.Exit(2)
}

// Num parses a working-set size: positive, and not a multiple of OrderStep.
func Num(prog, s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 {
		Die(prog, strconv.Quote(s)+" is not a positive integer")
	}
	if v%OrderStep == 0 {
		Die(prog, "N must not be a multiple of "+strconv.Itoa(OrderStep))
	}
	return v
}

// Flags are the options every serving mode takes.
type Flags struct {
	Legacy bool   // --legacy-sweep: open with the 1.0 registration sweep
	Trace  string // --trace FILE: write the phases of the start as Chrome trace JSON
	ExecNs int64  // --exec-ns T: the bench's exec stamp, the trace's first moment
	// --batch K: serve the same request stream K requests at a time through the library's batched
	// get (row a-batched; K = 100, the depth of the Redis and memcached pipelines of rows d/e).
	Batch int
}

// ParseFlags splits args into positional arguments and Flags.
func ParseFlags(prog string, args []string) ([]string, Flags) {
	var f Flags
	var pos []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--legacy-sweep":
			f.Legacy = true
		case "--batch":
			if i+1 >= len(args) {
				Die(prog, "--batch needs a value")
			}
			v, err := strconv.Atoi(args[i+1])
			if err != nil || v < 1 {
				Die(prog, "bad --batch "+strconv.Quote(args[i+1]))
			}
			f.Batch = v
			i++
		case "--trace", "--exec-ns":
			if i+1 >= len(args) {
				Die(prog, args[i]+" needs a value")
			}
			if args[i] == "--trace" {
				f.Trace = args[i+1]
			} else {
				v, err := strconv.ParseInt(args[i+1], 10, 64)
				if err != nil {
					Die(prog, "bad --exec-ns "+strconv.Quote(args[i+1]))
				}
				f.ExecNs = v
			}
			i++
		default:
			pos = append(pos, args[i])
		}
	}
	return pos, f
}
