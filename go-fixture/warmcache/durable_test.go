package warmcache

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// Tests of the durable store (docs/PERSISTENCE.md): journal, restore, merge across writers,
// power cuts simulated by cutting a journal at its last fsync and tearing what follows, and bad
// input that must be reported and never applied.

func restoreT(t *testing.T, path, dir string, pol FsyncPolicy) (*Cache, RestoreReport) {
	t.Helper()
	c, rep, err := OpenOrRestore(path, smallGeo, StoreOptions{Dir: dir, Policy: pol}, CreateOptions{Open: OpenOptions{Timeout: -1}})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, rep
}

func getT(t *testing.T, c *Cache, key string) Lookup {
	t.Helper()
	return c.Get([]byte(key))
}

func TestDurableRestoreAfterTheSegmentIsGone(t *testing.T) {
	path, dir := segPath(t), filepath.Join(t.TempDir(), "store")
	c, rep := restoreT(t, path, dir, FsyncAlways)
	if !rep.Restored || rep.Installed != 0 || rep.Files != 0 {
		t.Fatalf("an empty store restores an empty segment: %+v", rep)
	}
	for i := 0; i < 20; i++ {
		r := mustPut(t, c, fmt.Sprint("k", i), fmt.Sprint("v", i), PutOptions{Durable: true, OriginTag: uint32(i)})
		if !r.Durable {
			t.Fatalf("put %d not durable", i)
		}
	}
	mustPut(t, c, "k3", "v3b", PutOptions{Durable: true})
	mustPut(t, c, "volatile", "x", PutOptions{})
	if r, err := c.InvalidateDurable([]byte("k5"), true); err != nil || !r.Removed || !r.Durable {
		t.Fatalf("invalidate: %+v %v", r, err)
	}
	top := mustPut(t, c, "k7", "v7b", PutOptions{Durable: true}).Version
	c.Close()
	os.Remove(path) // the reboot wiped tmpfs
	c2, rep := restoreT(t, path, dir, FsyncAlways)
	if !rep.Restored || rep.Installed != 19 || rep.Tombstones != 1 || len(rep.Problems) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if l := getT(t, c2, "k3"); !l.Hit || string(l.Value) != "v3b" {
		t.Fatalf("k3: %+v", l)
	}
	if l := getT(t, c2, "k1"); !l.Hit || l.OriginTag != 1 || l.Writer.Pid != uint32(os.Getpid()) {
		t.Fatalf("k1 provenance: %+v", l)
	}
	if getT(t, c2, "k5").Hit || getT(t, c2, "volatile").Hit {
		t.Fatal("an invalidated or non-durable key came back")
	}
	// Versions never go back: the next automatic version is above every restored one.
	if v := mustPut(t, c2, "new", "n", PutOptions{}).Version; v <= top {
		t.Fatalf("version %d after restore, not above %d", v, top)
	}
}

func TestDurableMergeAcrossWritersTakesTheHighestOrder(t *testing.T) {
	path, dir := segPath(t), filepath.Join(t.TempDir(), "store")
	a, _ := restoreT(t, path, dir, FsyncAlways)
	b, rep := restoreT(t, path, dir, FsyncAlways)
	if rep.Restored {
		t.Fatal("second starter restored")
	}
	// Explicit versions restart after an invalidation: the order, not the version, decides.
	mustPut(t, a, "key", "a9", PutOptions{Durable: true, Version: 9})
	if _, err := b.InvalidateDurable([]byte("key"), true); err != nil {
		t.Fatal(err)
	}
	mustPut(t, a, "key", "a2", PutOptions{Durable: true, Version: 2})
	mustPut(t, b, "other", "b", PutOptions{Durable: true})
	a.Close()
	b.Close()
	os.Remove(path)
	c, rep := restoreT(t, path, dir, FsyncAlways)
	if l := getT(t, c, "key"); !l.Hit || string(l.Value) != "a2" || l.Version != 2 {
		t.Fatalf("key: %+v (report %+v)", l, rep)
	}
	if rep.Files != 2 || rep.VersionFloor < 9 {
		t.Fatalf("report %+v", rep)
	}
}

// cut simulates a power cut of one journal (PERSISTENCE.md §6): bytes past the last fsync are
// lost, except that a random part of them may have reached the disk, possibly tearing a record.
func cut(t *testing.T, data []byte, synced int64, rng *rand.Rand) []byte {
	keep := synced
	if extra := int64(len(data)) - synced; extra > 0 {
		keep += rng.Int63n(extra + 1)
	}
	return append([]byte(nil), data[:keep]...)
}

func TestDurablePowerCuts(t *testing.T) {
	for _, pol := range []FsyncPolicy{FsyncAlways, FsyncNone} {
		t.Run(string(pol), func(t *testing.T) {
			path, dir := segPath(t), filepath.Join(t.TempDir(), "store")
			c, _ := restoreT(t, path, dir, pol)
			type state struct {
				synced int64
				acked  int
			}
			var states []state
			for i := 0; i < 200; i++ {
				mustPut(t, c, fmt.Sprint("k", i), fmt.Sprint("v", i), PutOptions{Durable: true})
				js, _ := c.JournalState()
				states = append(states, state{js.Synced, i + 1})
			}
			js, _ := c.JournalState()
			data, err := os.ReadFile(js.Path)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewSource(1))
			g := smallGeo
			for n := 0; n < 2000; n++ {
				s := states[rng.Intn(len(states))]
				img := cut(t, data[:js.Written], s.synced, rng)
				f := decodeStoreFile("cut", img, &g)
				// Whatever survived is a prefix with no hole, and a torn tail is reported.
				for i, r := range f.Records {
					if string(r.Key) != fmt.Sprint("k", i) {
						t.Fatalf("record %d is %q: a hole", i, r.Key)
					}
				}
				// Under none even the header may be lost (nothing was synced).
				if len(f.Problems) > 0 && f.Problems[0].Code != "torn_record" && f.Problems[0].Code != "bad_record" &&
					!(pol == FsyncNone && f.Problems[0].Code == "not_a_journal") {
					t.Fatalf("cut reported %v", f.Problems)
				}
				if pol == FsyncAlways && len(f.Records) < s.acked {
					t.Fatalf("always lost acknowledged writes: %d of %d survive", len(f.Records), s.acked)
				}
			}
		})
	}
}

func TestDurableBadInputIsReportedNeverApplied(t *testing.T) {
	g := smallGeo
	hdr := encodeHeader(StoreHeader{Magic: JournalMagic, Geometry: g})
	rec := func(seq uint64, key string) []byte {
		return encodeRecord(DurableRecord{Kind: RecordKindPut, Seq: seq, Order: seq, Version: seq, Key: []byte(key), Value: []byte("v")})
	}
	good := append(append(append([]byte(nil), hdr...), rec(1, "a")...), rec(2, "b")...)
	flip := func(b []byte, at int) []byte { c := append([]byte(nil), b...); c[at] ^= 0x40; return c }
	other := g
	other.SlotsPerShard = 32
	version := append([]byte(nil), hdr...)
	binary.LittleEndian.PutUint64(version[8:], 2|96<<32)
	binary.LittleEndian.PutUint64(version[88:], WCH64(version[:88], JournalSeed))
	long := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(long[96+len(rec(1, "a")):], 1<<20)
	cases := []struct {
		name    string
		data    []byte
		code    string
		applied int
	}{
		{"not a journal", []byte("hello, this is not a journal at all, but it is long enough to hold a header of 96 bytes......."), "not_a_journal", 0},
		{"too short", hdr[:40], "not_a_journal", 0},
		{"unknown version", append(version, rec(1, "a")...), "unsupported_format", 0},
		{"header checksum", flip(good, 20), "bad_header_checksum", 0},
		{"other geometry", append(encodeHeader(StoreHeader{Magic: JournalMagic, Geometry: other}), rec(1, "a")...), "other_geometry", 0},
		{"record longer than the file", long, "torn_record", 1},
		{"checksum mismatch in the middle", flip(good, 96+85), "bad_checksum", 0},
		{"seq gap", append(append(append([]byte(nil), hdr...), rec(1, "a")...), rec(3, "c")...), "seq_gap", 1},
		{"zeros", append(append([]byte(nil), good...), make([]byte, 64)...), "bad_record", 2},
	}
	for _, tc := range cases {
		f := decodeStoreFile(tc.name, tc.data, &g)
		if len(f.Problems) != 1 || f.Problems[0].Code != tc.code || len(f.Records) != tc.applied {
			t.Errorf("%s: problems %v, %d records applied; want %s and %d", tc.name, f.Problems, len(f.Records), tc.code, tc.applied)
		}
	}
	// Random bytes never panic and never yield a record whose checksum was not verified.
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 20000; i++ {
		b := append([]byte(nil), good...)
		for k := rng.Intn(4); k >= 0; k-- {
			b[rng.Intn(len(b))] = byte(rng.Intn(256))
		}
		b = b[:rng.Intn(len(b)+1)]
		f := decodeStoreFile("fuzz", b, &g)
		for _, r := range f.Records {
			if !bytes.Equal(r.Value, []byte("v")) {
				t.Fatalf("applied a corrupt record %+v", r)
			}
		}
	}
}
