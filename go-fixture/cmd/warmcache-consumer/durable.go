package main

// Row (b) of `warmcheck bench startup`: a segment restored after a reboot from the durable store
// (docs/PERSISTENCE.md) that a producer of another language wrote. Kept apart from the other
// modes so that changes to serveWarm (the warm path) apply here unchanged.

import (
	"os"
	"strconv"

	"github.com/warmcache/warmcache/go-fixture/internal/benchload"
	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// storeOptions is the store both modes name: policy none, since the bench measures restore,
// not the journal's fsync (whose cost is in docs/BENCHMARKS.md "Durable store").
func storeOptions(dir string) warmcache.StoreOptions {
	return warmcache.StoreOptions{Dir: dir, Policy: warmcache.FsyncNone}
}

// produceDurable fills STORE as a service with a durable store would: every entry put durably,
// a compaction (a snapshot of all of them), then 1 % of the entries put again, which stay in a
// journal: a restore reads a snapshot plus a journal tail. It leaves the segment in place; the
// bench removes it (the reboot) before each restart.
func produceDurable(path, dir string, n uint64) {
	c, _, err := warmcache.OpenOrRestore(path, benchload.Geometry(n), storeOptions(dir), warmcache.CreateOptions{})
	if err != nil {
		die("restore " + path + " from " + dir + ": " + err.Error())
	}
	put := func(i uint64) {
		if r, err := c.Put(benchload.NewKey(i), benchload.Value(i), warmcache.PutOptions{Durable: true}); err != nil || !r.Durable {
			die("durable put " + strconv.FormatUint(i, 10) + ": " + errText(err))
		}
	}
	for i := uint64(0); i < n; i++ {
		put(i)
	}
	if _, err := c.Compact(); err != nil {
		die("compact " + dir + ": " + err.Error())
	}
	for i := uint64(0); i < n/100; i++ {
		put(i)
	}
	if err := c.Close(); err != nil {
		die("close: " + err.Error())
	}
	os.Stdout.WriteString("ready\n")
}

// serveRestored is a service's start after a reboot: open the segment, or rebuild it from the
// store (it is gone), then serve exactly as the warm mode does (which opens it again: one more
// registration, a few µs with the lazy sweep of PROTOCOL.md §5.1).
func serveRestored(start int64, path, dir string, n uint64, f benchload.Flags) {
	c, rep, err := warmcache.OpenOrRestore(path, benchload.Geometry(n), storeOptions(dir), warmcache.CreateOptions{})
	if err != nil {
		die("restore " + path + " from " + dir + ": " + err.Error())
	}
	if !rep.Restored || len(rep.Problems) != 0 {
		msg := "warmcache-consumer: restore: restored=" + strconv.FormatBool(rep.Restored) + ", " + strconv.Itoa(len(rep.Problems)) + " problems"
		for _, p := range rep.Problems {
			msg += "; " + p.File + ": " + p.Code + ": " + p.Detail
		}
		os.Stderr.WriteString(msg + "\n")
	}
	c.Close()
	serveWarm(start, path, n, f)
}

// errText is err's message, or that the put was not durable although it returned no error.
func errText(err error) string {
	if err == nil {
		return "not durable"
	}
	return err.Error()
}
