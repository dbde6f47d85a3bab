package warmcache

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Each test shows the deliberate bug happening on a handle opened with the fault, next to a
// correct handle on the same segment that does not show it.

func openFaulty(t *testing.T, path string, f faultSet) *Cache {
	t.Helper()
	c, err := Open(path, OpenOptions{Timeout: -1, faults: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c.faultSwitches() != f {
		t.Fatal(c.faultSwitches())
	}
	return c
}

// oneWindow is a shard of 4 slots with a window of 4: every key shares one window.
var oneWindow = Geometry{ShardCount: 1, SlotsPerShard: 4, KeyCapacity: 16, ValueCapacity: 64, ProbeWindow: 4, ParticipantCapacity: 8}

func TestFaultNoVersionBump(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{})
	bad := openFaulty(t, p, faultNoVersionBump)
	r1 := mustPut(t, good, "k", "v1", PutOptions{})
	r2 := mustPut(t, good, "k", "v2", PutOptions{})
	if r2.Version <= r1.Version {
		t.Fatalf("correct refresh: %d then %d", r1.Version, r2.Version)
	}
	r3, err := bad.Refresh([]byte("k"), []byte("v3"), PutOptions{})
	if err != nil || r3.Version != r2.Version {
		t.Fatalf("faulty refresh must keep version %d: %+v %v", r2.Version, r3, err)
	}
	if l := good.Get([]byte("k")); string(l.Value) != "v3" || l.Version != r2.Version {
		t.Fatalf("%+v", l)
	}
}

func TestFaultWrongHash(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{})
	bad := openFaulty(t, p, faultWrongHash)
	mustPut(t, good, "user:42", "v", PutOptions{})
	if l := bad.Get([]byte("user:42")); l.Hit {
		t.Fatalf("faulty handle found a key written with KEY_SEED: %+v", l)
	}
	mustPut(t, bad, "user:43", "w", PutOptions{})
	if good.Get([]byte("user:43")).Hit {
		t.Fatal("correct handle found a key written with the wrong seed")
	}
	if l := bad.Get([]byte("user:43")); !l.Hit || string(l.Value) != "w" {
		t.Fatalf("the faulty handle reads its own key: %+v", l)
	}
	// The correct handle's dump sees key_hash ≠ WCH64(key, KEY_SEED).
	d, _ := good.Dump()
	if len(d.Problems) == 0 {
		t.Fatal("dump of a wrong-hash entry reports no problem")
	}
}

func TestFaultNeverReclaim(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{})
	bad := openFaulty(t, p, faultNeverReclaim)
	dying := mustOpen(t, p)
	abandonAfter(dying, EvClaim)
	dying.Put([]byte("k"), []byte("never published"), PutOptions{}) // WRITING(dying), key written
	dying.Close()                                                   // the owner is dead
	_, err := bad.Put([]byte("k"), []byte("v"), PutOptions{})
	wantCode(t, err, CodeBusy)
	if st, _ := bad.Stats(); st.Totals.Reclaims != 0 || st.Totals.Occupancy["WRITING"] != 1 {
		t.Fatalf("the dead claim must stay: %+v", st.Totals)
	}
	// A correct handle reclaims it.
	if r, err := good.Put([]byte("k"), []byte("v"), PutOptions{}); err != nil || !r.Created {
		t.Fatal(r, err)
	}
	if st, _ := good.Stats(); st.Totals.Reclaims != 1 || st.Totals.Occupancy["WRITING"] != 0 {
		t.Fatalf("%+v", st.Totals)
	}
}

func TestFaultStealLiveClaim(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{})
	bad := openFaulty(t, p, faultStealLiveClaim)
	mustPut(t, good, "k", "old", PutOptions{})
	writer := mustOpen(t, p) // stays alive
	abandonAfter(writer, EvRefreshClaim)
	writer.Put([]byte("k"), []byte("new"), PutOptions{}) // REFRESHING(writer), writer alive
	_, err := good.Put([]byte("k"), []byte("mine"), PutOptions{})
	wantCode(t, err, CodeBusy) // correct: a live owner's claim is waited for
	if _, err := bad.Put([]byte("k"), []byte("mine"), PutOptions{}); err != nil {
		t.Fatalf("faulty handle must take the live claim: %v", err)
	}
	if st, _ := good.Stats(); st.Totals.Reclaims != 1 {
		t.Fatalf("reclaims %d", st.Totals.Reclaims)
	}
	// Participants still reports the truth.
	ps, _ := bad.Participants()
	for _, q := range ps {
		if !q.Alive {
			t.Fatalf("%v reported dead", q)
		}
	}
}

func TestFaultSkipInsertLockDuplicates(t *testing.T) {
	for _, faulty := range []bool{false, true} {
		p := segPath(t)
		var f faultSet
		if faulty {
			f = faultSkipInsertLock
		}
		a, err := Create(p, oneWindow, CreateOptions{Open: OpenOptions{faults: f}})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b := openFaulty(t, p, f)
		// a claims a slot for "k" and stops before writing the key; b inserts "k" meanwhile.
		var berr error
		a.setPauseHook(func(pt string) {
			if pt == PointPutAfterClaim {
				_, berr = b.Put([]byte("k"), []byte("from b"), PutOptions{})
			}
		})
		mustPut(t, a, "k", "from a", PutOptions{})
		d, _ := a.Dump()
		n := 0
		for _, e := range d.Entries {
			if bytes.Equal(e.Key, []byte("k")) {
				n++
			}
		}
		if !faulty {
			// Correct: b waits for a's insert lock, a live holder, and gives up.
			wantCode(t, berr, CodeBusy)
			if n != 1 {
				t.Fatalf("correct handles: %d entries for one key", n)
			}
			continue
		}
		// The second copy is not an entry (a get never finds it) but a problem (§13.1).
		dup := false
		for _, pr := range d.Problems {
			dup = dup || strings.Contains(pr, "invariant 1")
		}
		if berr != nil || n != 1 || !dup {
			t.Fatalf("skip_insert_lock: b %v, %d entries for \"k\", problems %q (want 1 and a duplicate)", berr, n, d.Problems)
		}
	}
}

func TestFaultPublishBeforePayload(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{})
	bad := openFaulty(t, p, faultPublishBeforePayload)
	r1 := mustPut(t, good, "k", "v1", PutOptions{}) // record 1
	r2 := mustPut(t, good, "k", "v2", PutOptions{}) // record 0; record 1 still holds v1
	var seen Lookup
	bad.setPauseHook(func(pt string) {
		if pt == PointRefreshAfterPayload { // published, payload not written yet
			seen = good.Get([]byte("k"))
		}
	})
	mustPut(t, bad, "k", "v3", PutOptions{})
	// A reader after the publish gets the older record: the version went back.
	if !seen.Hit || string(seen.Value) != "v1" || seen.Version != r1.Version || seen.Version >= r2.Version {
		t.Fatalf("reader during the faulty refresh: %+v (v1 = %d, v2 = %d)", seen, r1.Version, r2.Version)
	}
	if l := good.Get([]byte("k")); string(l.Value) != "v3" {
		t.Fatalf("after: %+v", l)
	}
	// Insert: the new entry is readable before its record is written (here: a zero record,
	// which the reader sees as corrupt).
	bad.setPauseHook(func(pt string) {
		if pt == PointPutAfterPayload {
			seen = good.Get([]byte("new"))
		}
	})
	mustPut(t, bad, "new", "x", PutOptions{})
	if !seen.Corrupt {
		t.Fatalf("reader during the faulty insert: %+v", seen)
	}
}

func TestFaultSkipSecondSeqCheck(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	mustPut(t, w, "k", "v1", PutOptions{})
	for _, faulty := range []bool{false, true} {
		var f faultSet
		if faulty {
			f = faultSkipSecondSeqCheck
		}
		r := openFaulty(t, p, f)
		n := 0
		r.setPauseHook(func(pt string) {
			if pt != PointGetBetweenSeqReads {
				return
			}
			if n++; n == 1 { // the slot changes between the copy and the second state load
				mustPut(t, w, "k", "changed", PutOptions{})
				w.Invalidate([]byte("k"))
			}
		})
		l := r.Get([]byte("k"))
		if !faulty && (n != 1 || l.Hit) {
			// It retried; the retry found no entry, so it copied nothing more.
			t.Fatalf("correct reader must retry and miss the invalidated key: %d copies, %+v", n, l)
		}
		if faulty && (n != 1 || !l.Hit || string(l.Value) != "v1") {
			t.Fatalf("faulty reader must return its unchecked copy: %d copies, %+v", n, l)
		}
		mustPut(t, w, "k", "v1", PutOptions{})
	}
}

// TestFaultSkipSecondSeqCheckTorn: under a concurrent refresher the unchecked reader returns
// torn copies. Its checksum test catches torn value bytes, so they show up as "corrupt" misses
// of a key that is always present (a correct reader never sees one); copies whose header and
// value come from different writes show up as an origin_tag that does not match the value.
// A reader copies faster than a writer writes, so a tear needs the reader to be descheduled
// in the middle of its copy: the test runs more threads than CPUs to make that frequent.
func TestFaultSkipSecondSeqCheckTorn(t *testing.T) {
	if testing.Short() {
		t.Skip("stress")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3 * runtime.NumCPU()))
	const size = 32768 // large values: long copies, easy to interrupt
	p := segPath(t)
	w := mustCreate(t, p, Geometry{ShardCount: 1, SlotsPerShard: 4, KeyCapacity: 16, ValueCapacity: size, ProbeWindow: 4, ParticipantCapacity: 8}, CreateOptions{})
	// Three values: records alternate, so with two values each record would always be
	// rewritten with the bytes it already holds and a tear would be invisible.
	var vals [3][]byte
	for i := range vals {
		vals[i] = bytes.Repeat([]byte{'a' + byte(i)}, size)
	}
	mustPut(t, w, "k", string(vals[0]), PutOptions{OriginTag: 'a'})
	run := func(f faultSet, budget time.Duration) (corrupt, mixed, misses, reads int64) {
		r := openFaulty(t, p, f)
		var stop int32
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; atomic.LoadInt32(&stop) == 0; i++ {
				w.Put([]byte("k"), vals[i%3], PutOptions{OriginTag: uint32('a' + i%3)})
			}
		}()
		for g := 0; g < 2*runtime.NumCPU(); g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, size)
				for atomic.LoadInt32(&stop) == 0 {
					l, _ := r.GetInto([]byte("k"), buf)
					atomic.AddInt64(&reads, 1)
					switch {
					case l.Corrupt:
						atomic.AddInt64(&corrupt, 1)
					case !l.Hit:
						atomic.AddInt64(&misses, 1)
					case l.Value[0] != l.Value[size/2] || l.Value[0] != l.Value[size-1] || uint32(l.Value[0]) != l.OriginTag:
						atomic.AddInt64(&mixed, 1)
					}
				}
			}()
		}
		deadline := time.Now().Add(budget)
		for time.Now().Before(deadline) && atomic.LoadInt64(&corrupt)+atomic.LoadInt64(&mixed) < 20 {
			time.Sleep(10 * time.Millisecond)
		}
		atomic.StoreInt32(&stop, 1)
		wg.Wait()
		return
	}
	c, m, miss, n := run(0, time.Second)
	t.Logf("correct reader: %d corrupt, %d mixed, %d other misses in %d reads", c, m, miss, n)
	if c != 0 || m != 0 {
		t.Fatalf("correct reader: %d corrupt, %d mixed in %d reads", c, m, n)
	}
	c, m, miss, n = run(faultSkipSecondSeqCheck, 3*time.Second)
	t.Logf("skip_second_seq_check: %d corrupt, %d mixed, %d other misses in %d reads", c, m, miss, n)
	if c+m == 0 {
		t.Fatalf("no torn read observed in %d reads", n)
	}
}

func TestFaultIgnoreChecksum(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{})
	bad := openFaulty(t, p, faultIgnoreChecksum)
	r := mustPut(t, good, "k", "12345678", PutOptions{})
	so := good.slotOff(r.Shard, r.Slot)
	w := Word(good.load(so + SlotState))
	good.store(good.recOff(so, w.A())+RecValue, 0x4242424242424242) // corrupt the value word
	if l := good.Get([]byte("k")); l.Hit || !l.Corrupt {
		t.Fatalf("correct reader: %+v", l)
	}
	if l := bad.Get([]byte("k")); !l.Hit || string(l.Value) != "BBBBBBBB" {
		t.Fatalf("faulty reader must return the corrupt value: %+v", l)
	}
}

func TestFaultStaleForever(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{simClock: true, simClockStart: 1000})
	bad := openFaulty(t, p, faultStaleForever)
	mustPut(t, good, "k", "v", PutOptions{TTL: 10, Grace: 10})
	good.setSimClock(1015)
	if l := good.Get([]byte("k")); !l.Hit || !l.Stale {
		t.Fatalf("within grace: %+v", l)
	}
	good.setSimClock(1_000_000)
	if l := good.Get([]byte("k")); l.Hit {
		t.Fatalf("correct reader past stale_until: %+v", l)
	}
	if l := bad.Get([]byte("k")); !l.Hit || !l.Stale || string(l.Value) != "v" {
		t.Fatalf("faulty reader must serve the expired value as stale: %+v", l)
	}
}

func TestFaultNoGenerationBump(t *testing.T) {
	p := segPath(t)
	good := mustCreate(t, p, smallGeo, CreateOptions{})
	bad := openFaulty(t, p, faultNoGenerationBump)
	g0, _ := good.Generation()
	mustPut(t, good, "a", "v", PutOptions{})
	if g, _ := good.Generation(); g != g0+1 {
		t.Fatalf("correct put: generation %d → %d", g0, g)
	}
	mustPut(t, bad, "b", "v", PutOptions{})
	mustPut(t, bad, "a", "w", PutOptions{})
	bad.Invalidate([]byte("b"))
	if g, _ := good.Generation(); g != g0+1 {
		t.Fatalf("faulty publishes bumped generation to %d", g)
	}
}

func TestFaultEvictWritingSlot(t *testing.T) {
	for _, faulty := range []bool{false, true} {
		p := segPath(t)
		a := mustCreate(t, p, oneWindow, CreateOptions{})
		for _, k := range []string{"a", "b", "c", "d"} {
			mustPut(t, a, k, "v", PutOptions{})
		}
		var f faultSet
		if faulty {
			f = faultEvictWritingSlot
		}
		e := openFaulty(t, p, f)
		e.enableTrace()
		// Only "a"'s slot has its CLOCK bit clear, so a CLOCK that may take it takes it.
		for j := uint32(0); j < 4; j++ {
			a.store(a.slotOff(0, j)+SlotReferenced, 1)
		}
		_, _, ha := a.keyPlace([]byte("a"))
		ja, _, _ := a.find([]byte("a"), WCH64([]byte("a"), KeySeed), 0, ha, maskPut)
		a.store(a.slotOff(0, ja)+SlotReferenced, 0)
		// a refreshes "a"; while it holds REFRESHING, e inserts a new key into the full window.
		a.setPauseHook(func(pt string) {
			if pt == PointRefreshAfterClaim {
				mustPut(t, e, "x", "v", PutOptions{})
			}
		})
		_, aerr := a.Put([]byte("a"), []byte("new"), PutOptions{})
		tr := e.drainTrace()
		if !faulty {
			if aerr != nil || tr[0].Event != EvEvict || tr[0].From != "READY" || tr[0].Slot == ja {
				t.Fatalf("correct CLOCK: refresh %v, trace %+v", aerr, tr)
			}
			continue
		}
		// The refresher's claim was stolen: REFRESHING → WRITING(e), and its publish fails.
		if tr[0].Event != EvEvict || tr[0].From != "REFRESHING" || tr[0].Slot != ja {
			t.Fatalf("faulty CLOCK trace %+v", tr)
		}
		wantCode(t, aerr, CodeBusy)
		if a.Get([]byte("a")).Hit {
			t.Fatal("\"a\" survived the theft")
		}
	}
}

// TestFaultPrivateFutex: a waiter parked with FUTEX_PRIVATE_FLAG is not woken by a publish made
// through another mapping of the segment (another process, or as here another handle of this
// process: a private futex is keyed by address space and virtual address, a shared one by the
// file page). It only notices the change when its timeout ends.
func TestFaultPrivateFutex(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	const timeout = 800 * time.Millisecond
	for _, faulty := range []bool{false, true} {
		var f faultSet
		if faulty {
			f = faultPrivateFutex
		}
		waiter := openFaulty(t, p, f)
		g, _ := waiter.Generation()
		parked := make(chan struct{})
		waiter.setPauseHook(func(pt string) {
			if pt == PointWaitBeforePark {
				close(parked)
			}
		})
		go func() {
			<-parked
			time.Sleep(50 * time.Millisecond) // let the waiter enter FUTEX_WAIT
			mustPut(t, w, "k", "v", PutOptions{})
		}()
		t0 := time.Now()
		g2, timedOut, _ := waiter.WaitForChange(g, timeout)
		el := time.Since(t0)
		if g2 == g || timedOut {
			t.Fatalf("faulty=%v: generation %d → %d, timed out %v", faulty, g, g2, timedOut)
		}
		if !faulty && el > timeout/2 {
			t.Fatalf("correct waiter woke after %v", el)
		}
		if faulty && el < timeout*9/10 {
			t.Fatalf("private-futex waiter woke after %v: the wakeup was not lost", el)
		}
		t.Logf("faulty=%v: woke after %v", faulty, el)
	}
}
