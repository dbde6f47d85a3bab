// Command warmcache-propagation is the Go side of scripts/bench-propagation.sh (issue 12 §1,
// docs/BENCHMARKS.md): it waits for what the Rust producer (rust-fixture/src/bin/
// warmcache-propagation.rs) publishes and measures how long each publication took to be seen.
//
//	warmcache-propagation MODE PATH SAMPLES WARMUP
//
// MODE is floor (one atomic word bounced through a plain shared mapping: what any shared-memory
// handoff costs on this machine), spin (Get in a loop until the new sample is there) or park
// (Generation, Get, WaitForChange until it is). The producer stamps each sample with
// CLOCK_REALTIME just before publishing; this side stamps it when it sees it. Both processes
// read the same clock, so the difference is the one-way latency. After each sample this side
// acknowledges, and the producer waits for that (and then a short gap) before the next, so that
// every sample starts with this side already waiting (and, parked, asleep). The first WARMUP
// samples are not counted. Prints one JSON object: mode, samples, p50/p90/p99/max in ns.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// Words of the floor's mapping, one cache line each so that the two sides' stores do not share
// a line (as in a segment): the producer writes seq and stamp, this side ack and ready.
const (
	floorSeq   = 0
	floorStamp = 8
	floorAck   = 64
	floorReady = 128
	floorSize  = 4096
)

// Keys of the cache modes: the producer puts sample (8 bytes index, 8 bytes stamp), this side
// puts ack (the index seen) and ready.
var (
	keySample = []byte("propagation.sample")
	keyAck    = []byte("propagation.ack")
	keyReady  = []byte("propagation.ready")
)

// stall bounds every wait: a producer that died must not hang the bench.
const stall = 10 * time.Second

func main() {
	if len(os.Args) != 5 {
		fail("usage: warmcache-propagation floor|spin|park PATH SAMPLES WARMUP")
	}
	mode, path := os.Args[1], os.Args[2]
	samples, err1 := strconv.Atoi(os.Args[3])
	warmup, err2 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil || samples < 1 || warmup < 0 {
		fail("SAMPLES must be a positive and WARMUP a non-negative integer")
	}
	var lat []int64
	var err error
	switch mode {
	case "floor":
		lat, err = floor(path, samples+warmup)
	case "spin", "park":
		lat, err = viaCache(path, mode == "park", samples+warmup)
	default:
		fail(fmt.Sprintf("mode %q is not floor, spin or park", mode))
	}
	if err != nil {
		fail(err.Error())
	}
	report(mode, lat[warmup:])
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "warmcache-propagation (go):", msg)
	os.Exit(2)
}

func floor(path string, n int) ([]int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Both sides create and size the file; truncating to the size it has keeps its contents.
	if err := f.Truncate(floorSize); err != nil {
		return nil, err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, floorSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	defer syscall.Munmap(mem)
	// The words are only ever reached through sync/atomic (the producer writes them at the same
	// time); the mapping is page-aligned, so every word is 8-byte aligned.
	word := func(off int) *uint64 { return (*uint64)(unsafe.Pointer(&mem[off])) }
	seq, stamp, ack := word(floorSeq), word(floorStamp), word(floorAck)
	atomic.StoreUint64(word(floorReady), 1)
	lat := make([]int64, 0, n)
	for i := uint64(1); i <= uint64(n); i++ {
		deadline := time.Now().Add(stall)
		// Acquire (Go's atomics are sequentially consistent): the stamp stored before seq is seen.
		for spins := 0; atomic.LoadUint64(seq) != i; spins++ {
			if spins&1023 == 0 && time.Now().After(deadline) {
				return nil, fmt.Errorf("floor: sample %d not seen within %v (producer gone?)", i, stall)
			}
		}
		seen := time.Now().UnixNano()
		lat = append(lat, seen-int64(atomic.LoadUint64(stamp)))
		atomic.StoreUint64(ack, i)
	}
	return lat, nil
}

func viaCache(path string, park bool, n int) ([]int64, error) {
	c, _, err := warmcache.OpenOrCreate(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Put(keyReady, []byte{1}, warmcache.PutOptions{}); err != nil {
		return nil, err
	}
	buf := make([]byte, 64)
	ackBuf := make([]byte, 8)
	lat := make([]int64, 0, n)
	for i := uint64(1); i <= uint64(n); i++ {
		deadline := time.Now().Add(stall)
		var stamp uint64
		for spins := 0; ; spins++ {
			// Read the generation before looking, so that a publish after the look wakes the wait.
			var gen uint32
			if park {
				if gen, err = c.Generation(); err != nil {
					return nil, err
				}
			}
			l, err := c.GetInto(keySample, buf)
			if err != nil {
				return nil, err
			}
			if l.Hit && len(l.Value) == 16 && binary.LittleEndian.Uint64(l.Value) == i {
				stamp = binary.LittleEndian.Uint64(l.Value[8:])
				break
			}
			if park {
				if _, _, err := c.WaitForChange(gen, 100*time.Millisecond); err != nil {
					return nil, err
				}
			}
			if (park || spins&1023 == 0) && time.Now().After(deadline) {
				return nil, fmt.Errorf("sample %d not seen within %v (producer gone?)", i, stall)
			}
		}
		seen := time.Now().UnixNano()
		lat = append(lat, seen-int64(stamp))
		binary.LittleEndian.PutUint64(ackBuf, i)
		if _, err := c.Put(keyAck, ackBuf, warmcache.PutOptions{}); err != nil {
			return nil, err
		}
	}
	return lat, nil
}

// report prints exact percentiles of every sample (nearest rank), not a histogram's estimate.
func report(mode string, lat []int64) {
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	rank := func(p float64) int64 {
		i := int(p*float64(len(lat))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		return lat[i]
	}
	out, _ := json.Marshal(map[string]any{
		"mode": mode, "samples": len(lat),
		"p50_ns": rank(0.50), "p90_ns": rank(0.90), "p99_ns": rank(0.99), "max_ns": lat[len(lat)-1],
	})
	fmt.Println(string(out))
}
