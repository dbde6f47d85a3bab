package warmcache

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of compaction (docs/PERSISTENCE.md §8): what a snapshot covers, what it leaves to the
// live writers, a crash at every snapshot point, and snapshots that must not be applied.

func storeNames(t *testing.T, dir string) (snaps, journals []string) {
	t.Helper()
	s, j, err := listStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, j
}

// fillStore writes n durable puts (k0..k{n-1}), invalidates k1 durably, closes the handle and
// returns the values a restore must give.
func fillStore(t *testing.T, path, dir string, n int) map[string]string {
	t.Helper()
	c, _ := restoreT(t, path, dir, FsyncAlways)
	want := map[string]string{}
	for i := 0; i < n; i++ {
		k, v := fmt.Sprint("k", i), fmt.Sprint("v", i)
		mustPut(t, c, k, v, PutOptions{Durable: true})
		want[k] = v
	}
	if _, err := c.InvalidateDurable([]byte("k1"), true); err != nil {
		t.Fatal(err)
	}
	delete(want, "k1")
	c.Close()
	return want
}

func checkRestored(t *testing.T, path, dir string, want map[string]string) RestoreReport {
	t.Helper()
	os.Remove(path)
	c, rep := restoreT(t, path, dir, FsyncAlways)
	defer c.Close()
	if !rep.Restored {
		t.Fatalf("not restored: %+v", rep)
	}
	for k, v := range want {
		if l := getT(t, c, k); !l.Hit || string(l.Value) != v {
			t.Fatalf("%s: %+v, want %q (report %+v)", k, l, v, rep)
		}
	}
	if getT(t, c, "k1").Hit {
		t.Fatal("the invalidated k1 came back")
	}
	if rep.Installed != len(want) {
		t.Fatalf("installed %d, want %d: %+v", rep.Installed, len(want), rep)
	}
	return rep
}

func TestCompactFoldsClosedJournalsIntoASnapshot(t *testing.T) {
	path, dir := segPath(t), filepath.Join(t.TempDir(), "store")
	want := fillStore(t, path, dir, 10)
	rep, err := Compact(dir, smallGeo, CompactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Snapshot == "" || rep.Covered != 1 || rep.Live != 0 || rep.Records != 10 || rep.Tombstones != 1 || rep.Removed != 1 {
		t.Fatalf("report %+v", rep)
	}
	snaps, journals := storeNames(t, dir)
	if len(snaps) != 1 || len(journals) != 0 || filepath.Base(snaps[0]) != rep.Snapshot {
		t.Fatalf("after compaction: %v %v", snaps, journals)
	}
	r := checkRestored(t, path, dir, want)
	if r.Snapshot != rep.Snapshot || r.OrderFloor != rep.OrderFloor || r.VersionFloor != rep.VersionFloor {
		t.Fatalf("restore %+v did not read snapshot %+v", r, rep)
	}
	// The journal tail of the restored handle, then a second compaction over the first.
	c, _ := restoreT(t, path, dir, FsyncAlways)
	mustPut(t, c, "k0", "v0b", PutOptions{Durable: true})
	c.Close()
	want["k0"] = "v0b"
	rep2, err := Compact(dir, smallGeo, CompactOptions{})
	if err != nil || rep2.Base != rep.Snapshot || rep2.Snapshot <= rep.Snapshot || rep2.Removed != 2 {
		t.Fatalf("second compaction %+v %v after %+v", rep2, err, rep)
	}
	checkRestored(t, path, dir, want)
}

func TestCompactLeavesLiveJournalsAndCacheCompactEndsItsOwn(t *testing.T) {
	path, dir := segPath(t), filepath.Join(t.TempDir(), "store")
	c, _ := restoreT(t, path, dir, FsyncAlways)
	mustPut(t, c, "a", "1", PutOptions{Durable: true})
	rep, err := Compact(dir, smallGeo, CompactOptions{})
	if err != nil || rep.Snapshot != "" || rep.Live != 1 || rep.Covered != 0 {
		t.Fatalf("a held journal was covered: %+v %v", rep, err)
	}
	rep, err = c.Compact()
	if err != nil || rep.Covered != 1 || rep.Live != 0 {
		t.Fatalf("Cache.Compact: %+v %v", rep, err)
	}
	// The handle goes on journaling into a new part, which the next restore reads.
	if r := mustPut(t, c, "b", "2", PutOptions{Durable: true}); !r.Durable {
		t.Fatal("put after compaction not durable")
	}
	if st, _ := c.JournalState(); !strings.HasSuffix(st.Path, "-0001.wcj") {
		t.Fatalf("journal after compaction: %+v", st)
	}
	c.Close()
	os.Remove(path)
	c2, rr := restoreT(t, path, dir, FsyncAlways)
	if !getT(t, c2, "a").Hit || !getT(t, c2, "b").Hit || rr.Snapshot == "" {
		t.Fatalf("restore after compaction: %+v", rr)
	}
}

// A crash at every snapshot point (the hook panics there, which stops the compactor exactly as
// a kill does but for the descriptors Go closes): restore still gives every acknowledged write,
// and the next compaction finishes the job.
func TestCompactCrashAtEverySnapshotPoint(t *testing.T) {
	for _, point := range []string{PointSnapshotAfterWrite, PointSnapshotBeforeRename, PointSnapshotBeforeRemove, PointSnapshotAfterRemove} {
		t.Run(point, func(t *testing.T) {
			path, dir := segPath(t), filepath.Join(t.TempDir(), "store")
			want := fillStore(t, path, dir, 8)
			// A second closed journal, so that after_remove falls between two removals.
			c, _ := restoreT(t, path, dir, FsyncAlways)
			mustPut(t, c, "k2", "v2b", PutOptions{Durable: true})
			want["k2"] = "v2b"
			c.Close()
			reached := false
			func() {
				defer func() { _ = recover() }()
				_, _ = Compact(dir, smallGeo, CompactOptions{pauseHook: func(p string) {
					if p == point {
						reached = true
						panic("crash")
					}
				}})
			}()
			if !reached {
				t.Fatalf("%s not reached", point)
			}
			checkRestored(t, path, dir, want)
			rep, err := Compact(dir, smallGeo, CompactOptions{})
			if err != nil || rep.Snapshot == "" {
				t.Fatalf("compaction after the crash: %+v %v", rep, err)
			}
			if snaps, journals := storeNames(t, dir); len(snaps) != 1 || len(journals) != 0 {
				t.Fatalf("left behind: %v %v", snaps, journals)
			}
			checkRestored(t, path, dir, want)
		})
	}
}

// Snapshots that must not be applied: an incomplete (truncated) newest one falls back to the
// older one; one of another geometry, or of an unknown format, is skipped and reported.
func TestCompactBadSnapshotsAreReportedNeverApplied(t *testing.T) {
	path, dir := segPath(t), filepath.Join(t.TempDir(), "store")
	want := fillStore(t, path, dir, 6)
	rep, err := Compact(dir, smallGeo, CompactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, rep.Snapshot))
	if err != nil {
		t.Fatal(err)
	}
	plant := func(num int, data []byte) string {
		p := filepath.Join(dir, fmt.Sprintf("snapshot-%016x.wcs", num))
		if err := os.WriteFile(p, data, 0600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := plant(10, good[:len(good)-40]) // the end record is cut
	r := checkRestored(t, path, dir, want)
	if r.Snapshot != rep.Snapshot || !hasProblem(r.Problems, filepath.Base(truncated), "torn_record") {
		t.Fatalf("truncated snapshot: %+v", r)
	}
	os.Remove(truncated)
	// patched is good with one header word raised by one and the header checksum redone.
	patched := func(off int) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[off:], binary.LittleEndian.Uint64(b[off:])+1)
		binary.LittleEndian.PutUint64(b[hdrOffChecksum:], WCH64(b[:hdrOffChecksum], JournalSeed))
		return b
	}
	other := patched(hdrOffGeoSizes) // another key capacity
	for i, c := range []struct {
		data []byte
		code string
	}{{other, "other_geometry"}, {patched(8), "unsupported_format"}} { // offset 8: major 2
		p := plant(11+i, c.data)
		r = checkRestored(t, path, dir, want)
		if r.Snapshot != rep.Snapshot || !hasProblem(r.Problems, filepath.Base(p), c.code) {
			t.Fatalf("%s snapshot: %+v", c.code, r)
		}
		os.Remove(p)
	}
	// A compactor never removes a file it could not read as its own geometry's journal.
	stray := filepath.Join(dir, "journal-0000000000000000-0001-0000000000000001-0000.wcj")
	os.WriteFile(stray, other, 0600)
	rc, err := Compact(dir, smallGeo, CompactOptions{})
	if err != nil || rc.Covered != 0 || !hasProblem(rc.Problems, filepath.Base(stray), "other_geometry") {
		t.Fatalf("stray journal: %+v %v", rc, err)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Fatal("a journal of another geometry was removed")
	}
}

func hasProblem(ps []StoreProblem, file, code string) bool {
	for _, p := range ps {
		if filepath.Base(p.File) == file && p.Code == code {
			return true
		}
	}
	return false
}

// The snapshot fast path of storeMerge (a list, no map) must merge exactly as the map does: a
// journal record of a higher order beats the snapshot's, a lower one loses, the same write read
// twice stays once; a snapshot with a repeated key (crafted) takes the map like a journal.
func TestMergeSnapshotBaseAgainstJournals(t *testing.T) {
	rec := func(key string, order uint64, value string) DurableRecord {
		return DurableRecord{Kind: RecordKindPut, Order: order, Key: []byte(key), Value: []byte(value)}
	}
	snap := StoreFile{Usable: true, Header: StoreHeader{Magic: SnapshotMagic},
		Records: []DurableRecord{rec("a", 5, "snap-a"), rec("b", 6, "snap-b"), rec("c", 7, "snap-c")}}
	journal := StoreFile{Usable: true, Header: StoreHeader{Magic: JournalMagic},
		Records: []DurableRecord{rec("a", 3, "old-a"), rec("b", 9, "new-b"), rec("c", 7, "snap-c"), rec("d", 1, "d")}}
	got := func(m *storeMerge) string {
		s := ""
		for _, r := range m.result() {
			s += fmt.Sprintf("%s=%s@%d ", r.Key, r.Value, r.Order)
		}
		return s
	}
	want := "d=d@1 a=snap-a@5 c=snap-c@7 b=new-b@9 "
	m := newStoreMerge()
	m.take(snap)
	if m.base == nil {
		t.Fatal("a snapshot of unique keys did not take the fast path")
	}
	m.take(journal)
	if g := got(m); g != want {
		t.Fatalf("fast path merged %q, want %q", g, want)
	}
	// The map path (journal first, as compaction reads) gives the same.
	m = newStoreMerge()
	m.take(journal)
	m.take(snap)
	if m.base != nil {
		t.Fatal("a snapshot after a journal took the fast path")
	}
	if g := got(m); g != want {
		t.Fatalf("map path merged %q, want %q", g, want)
	}
	dup := snap
	dup.Records = append([]DurableRecord{rec("b", 2, "dup-b")}, snap.Records...)
	m = newStoreMerge()
	m.take(dup)
	if m.base != nil {
		t.Fatal("a snapshot with a repeated key took the fast path")
	}
	if g := got(m); g != "a=snap-a@5 b=snap-b@6 c=snap-c@7 " {
		t.Fatalf("repeated-key snapshot merged %q", g)
	}
}
