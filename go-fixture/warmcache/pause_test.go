package warmcache

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// specTable returns the first-column names (`name`) of the markdown table that follows heading
// in file (under docs/), or skips the test if the docs are not there.
func specTable(t *testing.T, file, heading string) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/" + file)
	if err != nil {
		t.Skipf("docs not available: %v", err)
	}
	s := string(b)
	i := strings.Index(s, heading)
	if i < 0 {
		t.Fatalf("%s: no heading %q", file, heading)
	}
	s = s[i:]
	if j := strings.Index(s[len(heading):], "\n#"); j >= 0 {
		s = s[:len(heading)+j]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\|").FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestPausePointsMatchSpec(t *testing.T) {
	want := specTable(t, "PROTOCOL.md", "## 17. Pause points")
	if !reflect.DeepEqual(PausePoints, want) {
		t.Fatalf("PausePoints %v\n§17 lists   %v", PausePoints, want)
	}
	for _, p := range PausePoints {
		if !IsPausePoint(p) {
			t.Fatal(p)
		}
	}
	if IsPausePoint("put.after_lunch") {
		t.Fatal("unknown point accepted")
	}
}

func TestFaultNamesMatchDriver(t *testing.T) {
	want := specTable(t, "DRIVER.md", "## Fault switches")
	if !reflect.DeepEqual(faultNames, want) {
		t.Fatalf("faultNames %v\nDRIVER.md  %v", faultNames, want)
	}
	if faultSet(1)<<uint(len(faultNames)) != faultEnd {
		t.Fatal("faultNames and the Fault constants disagree")
	}
	var all faultSet
	for i, n := range faultNames {
		f, err := parseFault(n)
		if err != nil || f != faultSet(1)<<uint(i) {
			t.Fatalf("%s: %v %v", n, f, err)
		}
		all |= f
	}
	if !reflect.DeepEqual(all.Names(), faultNames) {
		t.Fatal(all.Names())
	}
	if _, err := parseFault("nope"); err == nil {
		t.Fatal("unknown fault accepted")
	}
}

// recorder collects the pause points a handle reaches; check, if set, runs at each point.
type recorder struct {
	got   []string
	check func(point string)
}

func (r *recorder) hook(p string) {
	r.got = append(r.got, p)
	if r.check != nil {
		r.check(p)
	}
}

// expect runs op with a fresh record and compares the points reached.
func (r *recorder) expect(t *testing.T, what string, want []string, op func()) {
	t.Helper()
	r.got = nil
	op()
	if len(r.got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(r.got, want) {
		t.Fatalf("%s: points %v, want %v", what, r.got, want)
	}
}

func TestPausePointSequences(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	other := mustOpen(t, p)
	rec := &recorder{}
	c.setPauseHook(rec.hook)
	key := []byte("k")
	h, shard, home := c.keyPlace(key)
	so := c.slotOff(shard, home) // the key goes to its home slot in an empty segment
	state := func() Word { return Word(c.load(so + SlotState)) }
	lock := func() uint64 { return c.load(c.shardOff(shard) + ShardInsertLock) }
	// At each point, the operation must be exactly where §17 says.
	rec.check = func(pt string) {
		w := state()
		switch pt {
		case PointLockAfterAcquire:
			if lock() != uint64(c.id) || w.State() != StateEmpty {
				t.Errorf("%s: lock %d, state %v", pt, lock(), w.State())
			}
		case PointPutBeforeLock:
			if lock() != 0 || other.Get(key).Hit {
				t.Errorf("%s: lock %d, or the key is already there", pt, lock())
			}
		case PointPutBeforeClaim:
			if w.State() != StateEmpty || lock() != uint64(c.id) {
				t.Errorf("%s: state %v lock %d (the victim must not be claimed yet)", pt, w.State(), lock())
			}
		case PointRefreshBeforeClaim, PointInvalidateBeforeClaim:
			if w.State() != StateReady {
				t.Errorf("%s: state %v (not claimed yet)", pt, w.State())
			}
		case PointPutAfterClaim:
			if w.State() != StateWriting || w.Owner() != c.id || lock() != uint64(c.id) || c.load(so+SlotKeyHash) == h {
				t.Errorf("%s: state %v owner %d lock %d (key must not be written yet)", pt, w.State(), w.Owner(), lock())
			}
		case PointPutAfterKey:
			if w.State() != StateWriting || lock() != uint64(c.id) || c.load(so+SlotKeyHash) != h {
				t.Errorf("%s: state %v lock %d", pt, w.State(), lock())
			}
		case PointPutAfterPayload:
			if w.State() != StateWriting || lock() != 0 || c.load(c.recOff(so, 1-w.A())+RecVersion) == 0 {
				t.Errorf("%s: state %v lock %d", pt, w.State(), lock())
			}
			if other.Get(key).Hit {
				t.Errorf("%s: a reader sees the entry before T2", pt)
			}
		case PointRefreshAfterClaim, PointRefreshAfterPayload:
			if w.State() != StateRefreshing || w.Owner() != c.id {
				t.Errorf("%s: state %v", pt, w.State())
			}
			if l := other.Get(key); !l.Hit || string(l.Value) != "v1" {
				t.Errorf("%s: readers must see the old value, got %+v", pt, l)
			}
		case PointInvalidateAfterClaim:
			if w.State() != StateInvalidated || w.Owner() != c.id {
				t.Errorf("%s: state %v", pt, w.State())
			}
		}
	}
	rec.expect(t, "insert", []string{PointPutBeforeLock, PointLockAfterAcquire, PointPutBeforeClaim, PointPutAfterClaim, PointPutAfterKey, PointPutAfterPayload}, func() {
		mustPut(t, c, "k", "v1", PutOptions{})
	})
	rec.expect(t, "put of a present key", []string{PointRefreshBeforeClaim, PointRefreshAfterClaim, PointRefreshAfterPayload}, func() {
		mustPut(t, c, "k", "v2", PutOptions{})
	})
	mustPut(t, other, "k", "v1", PutOptions{}) // what readers see during the next refresh
	rec.expect(t, "refresh", []string{PointRefreshBeforeClaim, PointRefreshAfterClaim, PointRefreshAfterPayload}, func() {
		if _, err := c.Refresh(key, []byte("v3"), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	rec.check = nil
	rec.expect(t, "get hit", []string{PointGetAfterKeyMatch, PointGetBetweenSeqReads}, func() {
		if l := c.Get(key); !l.Hit || string(l.Value) != "v3" {
			t.Fatalf("%+v", l)
		}
	})
	rec.expect(t, "get miss", nil, func() { c.Get([]byte("absent")) })
	// get.between_seq_reads is between the copy and the second state load: a refresh made
	// there is seen by that load, and the reader retries and returns the new value.
	rec.check = func(pt string) {
		if len(rec.got) == 2 {
			mustPut(t, other, "k", "v4", PutOptions{})
		}
	}
	rec.expect(t, "get with a refresh at the pause", []string{PointGetAfterKeyMatch, PointGetBetweenSeqReads,
		PointGetAfterKeyMatch, PointGetBetweenSeqReads}, func() {
		if l := c.Get(key); !l.Hit || string(l.Value) != "v4" {
			t.Fatalf("%+v", l)
		}
	})
	// get.after_key_match is after the first state load and the key comparison, before the
	// copy: a refresh made there writes the other record and flips A, so the reader's copy of
	// record[A(s1)] is still the old value, but its second state load sees two transitions
	// (T4, T5): it retries and returns the new value.
	rec.check = func(pt string) {
		if len(rec.got) == 1 {
			if pt != PointGetAfterKeyMatch {
				t.Errorf("first point %s", pt)
			}
			mustPut(t, other, "k", "v5", PutOptions{})
		}
	}
	rec.expect(t, "get with a refresh after the key match", []string{PointGetAfterKeyMatch, PointGetBetweenSeqReads,
		PointGetAfterKeyMatch, PointGetBetweenSeqReads}, func() {
		if l := c.Get(key); !l.Hit || string(l.Value) != "v5" {
			t.Fatalf("%+v", l)
		}
	})
	rec.check = nil
	// A key that does not match (same window, different key) reaches no get point.
	rec.expect(t, "get of an absent key", nil, func() { c.Get([]byte("kk")) })
	rec.check = nil
	rec.expect(t, "invalidate", []string{PointInvalidateBeforeClaim, PointInvalidateAfterClaim}, func() {
		if ok, err := c.Invalidate(key); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
	mustPut(t, other, "k", "v5", PutOptions{})
	rec.expect(t, "evict (the op)", []string{PointInvalidateBeforeClaim, PointInvalidateAfterClaim}, func() {
		if ok, err := c.Evict(key); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
	rec.expect(t, "invalidate of an absent key", nil, func() { c.Invalidate(key) })

	// wait.before_park: registered in waiters, not yet parked.
	g, _ := c.Generation()
	rec.check = func(pt string) {
		if n := c.load(OffWaiters); n != 1 {
			t.Errorf("%s: waiters %d", pt, n)
		}
	}
	rec.expect(t, "wait", []string{PointWaitBeforePark}, func() {
		if _, to, _ := c.WaitForChange(g, 5*time.Millisecond); !to {
			t.Fatal("no timeout")
		}
	})
	rec.expect(t, "wait that sees a change while spinning", nil, func() { c.WaitForChange(g-1, time.Second) })
	rec.check = nil
}

func TestPausePointsEvictAndReclaim(t *testing.T) {
	// One shard of 4 slots with a window of 4: every key shares one window.
	geo := Geometry{ShardCount: 1, SlotsPerShard: 4, KeyCapacity: 16, ValueCapacity: 64, ProbeWindow: 4, ParticipantCapacity: 8}
	p := segPath(t)
	c := mustCreate(t, p, geo, CreateOptions{})
	rec := &recorder{}
	c.setPauseHook(rec.hook)
	for _, k := range []string{"a", "b", "c", "d"} {
		mustPut(t, c, k, "v", PutOptions{})
	}
	c.enableTrace()
	c.drainTrace()
	rec.check = func(pt string) {
		if pt == PointEvictAfterVictim {
			// Victim chosen, not claimed: the lock is held and the window is still all READY.
			if st, _ := c.Stats(); st.Totals.Occupancy["READY"] != 4 || c.load(c.shardOff(0)+ShardInsertLock) != uint64(c.id) {
				t.Errorf("%s: %+v", pt, st.Totals.Occupancy)
			}
		}
	}
	rec.expect(t, "insert by CLOCK eviction", []string{PointPutBeforeLock, PointLockAfterAcquire, PointEvictAfterVictim, PointPutAfterClaim, PointPutAfterKey, PointPutAfterPayload}, func() {
		mustPut(t, c, "e", "v", PutOptions{})
	})
	if tr := c.drainTrace(); len(tr) != 2 || tr[0].Event != EvEvict {
		t.Fatalf("trace %+v", tr)
	}

	// reclaim.before_cas: a dead refresher's claim, found by a put of the same key.
	dying := mustOpen(t, p)
	abandonAfter(dying, EvRefreshClaim)
	dying.Put([]byte("e"), []byte("lost"), PutOptions{})
	dying.Close()
	_, shard, _ := c.keyPlace([]byte("e"))
	j, _, _ := c.find([]byte("e"), WCH64([]byte("e"), KeySeed), shard, 0, maskPut)
	rec.check = func(pt string) {
		if pt == PointReclaimBeforeCAS {
			if w := Word(c.load(c.slotOff(shard, j) + SlotState)); w.State() != StateRefreshing || w.Owner() != dying.id {
				t.Errorf("%s: state %v owner %d", pt, w.State(), w.Owner())
			}
		}
	}
	rec.expect(t, "put after a dead refresher", []string{PointReclaimBeforeCAS, PointRefreshBeforeClaim, PointRefreshAfterClaim, PointRefreshAfterPayload}, func() {
		mustPut(t, c, "e", "v2", PutOptions{})
	})
	if st, _ := c.Stats(); st.Totals.Reclaims != 1 {
		t.Fatalf("reclaims %d", st.Totals.Reclaims)
	}
}

// abandonedClaim returns a segment whose participant 1 died holding WRITING(1), so that the
// next registration at index 0 sweeps it.
func abandonedClaim(t *testing.T) string {
	p := segPath(t)
	first := mustCreate(t, p, smallGeo, CreateOptions{})
	abandonAfter(first, EvClaim)
	first.Put([]byte("k"), []byte("v"), PutOptions{}) // WRITING(1)
	first.Close()
	return p
}

// TestPauseHookAtOpen: OpenOptions.pauseHook sees the registration sweep (§5 step 2).
func TestPauseHookAtOpen(t *testing.T) {
	p := abandonedClaim(t)
	var got []string
	second, err := Open(p, OpenOptions{pauseHook: func(pt string) { got = append(got, pt) }})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if !reflect.DeepEqual(got, []string{PointReclaimBeforeCAS}) {
		t.Fatalf("points during open: %v", got)
	}
	second.setPauseHook(nil)
	mustPut(t, second, "k", "v", PutOptions{})
	if len(got) != 1 {
		t.Fatalf("hook still called after setPauseHook(nil): %v", got)
	}
}

// TestTraceFromRegistration: OpenOptions.trace records the reclaims of the registration sweep
// (§5 step 2), which enableTrace after Open cannot see.
func TestTraceFromRegistration(t *testing.T) {
	second, err := Open(abandonedClaim(t), OpenOptions{trace: true})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if tr := second.drainTrace(); len(tr) != 1 || tr[0].Event != EvReclaim {
		t.Fatalf("trace of the sweep: %+v", tr)
	}
}

// The creator passes §4.1's points in the order of its steps, each with the file in the state
// §17 names: before the link PATH does not exist, after it PATH is the ready segment.
func TestPausePointsOfCreate(t *testing.T) {
	p := segPath(t)
	var got []string
	hook := func(point string) {
		_, err := os.Lstat(p)
		linked := err == nil
		if linked != (point == PointCreateAfterLink) {
			t.Errorf("at %s the path exists = %v", point, linked)
		}
		got = append(got, point)
	}
	c, err := Create(p, smallGeo, CreateOptions{Open: OpenOptions{pauseHook: hook}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := []string{PointCreateBeforeFlock, PointCreateAfterOpenTemp, PointCreateAfterSize, PointCreateAfterHeader, PointCreateBeforeLink, PointCreateAfterLink}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("create passed %v, want %v", got, want)
	}
}
