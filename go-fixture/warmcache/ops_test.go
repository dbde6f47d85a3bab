package warmcache

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPutGetRefreshInvalidateEvict(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, DefaultGeometry, CreateOptions{})
	other := mustOpen(t, p)
	if l := c.Get([]byte("k")); l.Hit {
		t.Fatal("hit on empty")
	}
	r := mustPut(t, c, "k", "v1", PutOptions{})
	if !r.Created || r.Version == 0 {
		t.Fatalf("%+v", r)
	}
	// Refresh: while the refresher holds the slot, the old value stays readable.
	sawOld := false
	c.hookAfterClaim = func(ev string) bool {
		if ev == EvRefreshClaim {
			l := other.Get([]byte("k"))
			sawOld = l.Hit && string(l.Value) == "v1"
		}
		return false
	}
	r2, err := c.Refresh([]byte("k"), []byte("v2-longer-value"), PutOptions{})
	c.hookAfterClaim = nil
	if err != nil || r2.Created || r2.Version <= r.Version || r2.Slot != r.Slot {
		t.Fatalf("refresh %+v %v", r2, err)
	}
	if !sawOld {
		t.Fatal("old value not readable during the refresh")
	}
	if l := other.Get([]byte("k")); !l.Hit || string(l.Value) != "v2-longer-value" || l.Version != r2.Version {
		t.Fatalf("after refresh %+v", l)
	}
	// GetInto: allocation-free, and a short buffer is reported.
	buf := make([]byte, 64)
	l, err := other.GetInto([]byte("k"), buf)
	if err != nil || string(l.Value) != "v2-longer-value" {
		t.Fatalf("GetInto %+v %v", l, err)
	}
	_, err = other.GetInto([]byte("k"), buf[:3])
	wantCode(t, err, CodeTooLarge)
	if n := testing.AllocsPerRun(100, func() { other.GetInto([]byte("k"), buf) }); n != 0 {
		t.Fatalf("GetInto allocates %v", n)
	}

	_, err = c.Refresh([]byte("absent"), []byte("x"), PutOptions{})
	wantCode(t, err, CodeNotFound)
	_, err = c.Put(make([]byte, 65), nil, PutOptions{})
	wantCode(t, err, CodeTooLarge)
	_, err = c.Put(nil, nil, PutOptions{})
	wantCode(t, err, CodeTooLarge)
	_, err = c.Put([]byte("k"), make([]byte, 1025), PutOptions{})
	wantCode(t, err, CodeTooLarge)
	// Empty value and full-capacity key and value.
	mustPut(t, c, "empty", "", PutOptions{})
	if l := c.Get([]byte("empty")); !l.Hit || len(l.Value) != 0 {
		t.Fatalf("empty %+v", l)
	}
	bigK, bigV := strings.Repeat("K", 64), strings.Repeat("v", 1024)
	mustPut(t, c, bigK, bigV, PutOptions{})
	if l := other.Get([]byte(bigK)); !l.Hit || string(l.Value) != bigV {
		t.Fatal("full-size entry")
	}

	gen, _ := c.Generation()
	if ok, err := c.Invalidate([]byte("k")); !ok || err != nil {
		t.Fatalf("invalidate %v %v", ok, err)
	}
	if g2, _ := c.Generation(); g2 == gen {
		t.Fatal("invalidate did not bump generation")
	}
	if l := other.Get([]byte("k")); l.Hit {
		t.Fatal("hit after invalidate")
	}
	if ok, _ := c.Invalidate([]byte("k")); ok {
		t.Fatal("second invalidate removed something")
	}
	if ok, _ := other.Evict([]byte("empty")); !ok {
		t.Fatal("evict")
	}
	st, _ := c.Stats()
	if st.Totals.Inserts != 3 || st.Totals.Refreshes != 1 || st.Totals.Invalidations != 1 || st.Totals.Evictions != 1 ||
		st.Totals.Occupancy["READY"] != 1 || st.Totals.Hits == 0 || st.Totals.Misses == 0 {
		t.Fatalf("stats %+v", st.Totals)
	}
	d, _ := c.Dump()
	if len(d.Entries) != 1 || len(d.Problems) != 0 || string(d.Entries[0].Key) != bigK {
		t.Fatalf("dump %+v", d)
	}
}

func TestVersions(t *testing.T) {
	c := mustCreate(t, segPath(t), smallGeo, CreateOptions{})
	k := []byte("ver")
	a := mustPut(t, c, "ver", "1", PutOptions{})
	b := mustPut(t, c, "ver", "2", PutOptions{})
	if b.Version <= a.Version {
		t.Fatalf("%d then %d", a.Version, b.Version)
	}
	e := mustPut(t, c, "ver", "3", PutOptions{Version: 100})
	if e.Version != 100 {
		t.Fatal(e)
	}
	_, err := c.Put(k, []byte("4"), PutOptions{Version: 100})
	wantCode(t, err, CodeVersionNotNewer)
	_, err = c.Put(k, []byte("4"), PutOptions{Version: 50})
	wantCode(t, err, CodeVersionNotNewer)
	if l := c.Get(k); string(l.Value) != "3" || l.Version != 100 {
		t.Fatalf("after refused put %+v", l)
	}
	f := mustPut(t, c, "ver", "5", PutOptions{})
	if f.Version <= 100 {
		t.Fatalf("automatic after explicit: %d", f.Version)
	}
	c.Invalidate(k)
	if g := mustPut(t, c, "ver", "6", PutOptions{Version: 5}); g.Version != 5 {
		t.Fatal("explicit version after invalidation")
	}
	if g := mustPut(t, c, "ver", "7", PutOptions{}); g.Version <= 5 {
		t.Fatal("automatic version not above the current one")
	}
	// Automatic versions never restart, even across an invalidation (version_clock is global).
	a1 := mustPut(t, c, "auto", "1", PutOptions{})
	c.Invalidate([]byte("auto"))
	if a2 := mustPut(t, c, "auto", "2", PutOptions{}); a2.Version <= a1.Version {
		t.Fatal("automatic versions went back")
	}
}

func TestExpirySimClock(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{simClock: true, simClockStart: 1000})
	r := mustOpen(t, p)
	if !r.SimClock() {
		t.Fatal("opener does not see SIM_CLOCK")
	}
	mustPut(t, c, "e", "val", PutOptions{TTL: 100, Grace: 50})
	if l := r.Get([]byte("e")); !l.Hit || l.Stale || l.ExpiresAtNs != 1100 || l.StaleUntilNs != 1150 || l.WrittenAtNs != 1000 {
		t.Fatalf("fresh %+v", l)
	}
	c.setSimClock(1100)
	requests := 0
	for i := 0; i < 5; i++ {
		for _, h := range []*Cache{c, r} {
			l := h.Get([]byte("e"))
			if !l.Hit || !l.Stale || string(l.Value) != "val" {
				t.Fatalf("stale %+v", l)
			}
			if l.RefreshRequested {
				requests++
			}
		}
	}
	if requests != 1 {
		t.Fatalf("%d refresh requests", requests)
	}
	c.setSimClock(1149)
	if l := r.Get([]byte("e")); !l.Hit || !l.Stale {
		t.Fatal("still stale")
	}
	c.setSimClock(1150)
	if l := r.Get([]byte("e")); l.Hit {
		t.Fatal("hit after stale_until")
	}
	st, _ := c.Stats()
	if st.Totals.StaleHits != 11 || st.Totals.Occupancy["STALE"] != 1 {
		t.Fatalf("stats %+v", st.Totals)
	}
	// Refresh an expired entry: fresh again.
	mustPut(t, c, "e", "new", PutOptions{TTL: 100})
	if l := r.Get([]byte("e")); !l.Hit || l.Stale || string(l.Value) != "new" {
		t.Fatal("refreshed")
	}
	// Without grace, an entry goes straight from fresh to miss.
	mustPut(t, c, "nograce", "x", PutOptions{TTL: 10})
	c.setSimClock(1160)
	if l := r.Get([]byte("nograce")); l.Hit {
		t.Fatal("no-grace entry hit at expiry")
	}
	// A real-time segment refuses setSimClock.
	rt := mustCreate(t, segPath(t), smallGeo, CreateOptions{})
	wantCode(t, rt.setSimClock(5), CodeUnsupported)
}

// keysInWindow returns n distinct keys whose shard and home are those of the first.
func keysInWindow(c *Cache, n int, prefix string) [][]byte {
	var out [][]byte
	var s0, h0 uint32
	for i := 0; len(out) < n; i++ {
		k := []byte(fmt.Sprintf("%s%d", prefix, i))
		_, s, h := c.keyPlace(k)
		if len(out) == 0 {
			s0, h0 = s, h
		}
		if s == s0 && h == h0 {
			out = append(out, k)
		}
	}
	return out
}

func TestClockEvictionAndExpiryReuse(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{simClock: true, simClockStart: 1})
	keys := keysInWindow(c, 12, "clk")
	for i, k := range keys {
		if _, err := c.Put(k, []byte(fmt.Sprintf("value-%d", i)), PutOptions{}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	st, _ := c.Stats()
	if st.Totals.Evictions != 8 || st.Totals.Inserts != 12 {
		t.Fatalf("stats %+v", st.Totals)
	}
	present := 0
	for i, k := range keys {
		if l := c.Get(k); l.Hit {
			present++
			if string(l.Value) != fmt.Sprintf("value-%d", i) {
				t.Fatalf("key %d has %q", i, l.Value)
			}
		}
	}
	if present != int(smallGeo.ProbeWindow) {
		t.Fatalf("%d keys present, window %d", present, smallGeo.ProbeWindow)
	}
	// The last insert survives (its referenced bit was just set); d.Problems stays empty.
	if !c.Get(keys[len(keys)-1]).Hit {
		t.Fatal("newest key evicted")
	}
	d, _ := c.Dump()
	if len(d.Problems) != 0 {
		t.Fatal(d.Problems)
	}
	// Expired entries are reused before anything is evicted (T11).
	for _, k := range keys {
		c.Invalidate(k)
	}
	more := keysInWindow(c, 20, "exp")
	for _, k := range more[:4] {
		mustPut(t, c, string(k), "short-lived", PutOptions{TTL: 10})
	}
	c.setSimClock(100)
	mustPut(t, c, string(more[4]), "new", PutOptions{})
	st2, _ := c.Stats()
	if st2.Totals.Expirations != 1 || st2.Totals.Evictions != st.Totals.Evictions {
		t.Fatalf("expirations %d evictions %d", st2.Totals.Expirations, st2.Totals.Evictions)
	}
}

func TestConcurrentPutsOneKey(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	c2 := mustOpen(t, p)
	key := []byte("contended")
	written := sync.Map{}
	var wg sync.WaitGroup
	for gi := 0; gi < 6; gi++ {
		h := c
		if gi%2 == 1 {
			h = c2
		}
		wg.Add(1)
		go func(gi int, h *Cache) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				v := fmt.Sprintf("g%d-%d", gi, i)
				written.Store(v, true)
				for {
					_, err := h.Put(key, []byte(v), PutOptions{})
					if err == nil {
						break
					}
					if CodeOf(err) != CodeBusy {
						t.Errorf("put: %v", err)
						return
					}
				}
				if l := h.Get(key); !l.Hit {
					if !l.Contended {
						t.Errorf("miss on a present key")
						return
					}
				} else if _, ok := written.Load(string(l.Value)); !ok {
					t.Errorf("read a value nobody wrote: %q", l.Value)
					return
				}
			}
		}(gi, h)
	}
	wg.Wait()
	d, _ := c.Dump()
	n := 0
	for _, e := range d.Entries {
		if string(e.Key) == string(key) {
			n++
			if _, ok := written.Load(string(e.Value)); !ok {
				t.Fatalf("final value %q was never written", e.Value)
			}
		}
	}
	if n != 1 || len(d.Problems) != 0 {
		t.Fatalf("%d copies, problems %v", n, d.Problems)
	}
	st, _ := c.Stats()
	if st.Totals.Inserts != 1 {
		t.Fatalf("inserts %d", st.Totals.Inserts)
	}
}

func TestConcurrentDistinctKeys(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, DefaultGeometry, CreateOptions{})
	c2 := mustOpen(t, p)
	var wg sync.WaitGroup
	for gi := 0; gi < 4; gi++ {
		h := []*Cache{c, c2}[gi%2]
		wg.Add(1)
		go func(gi int, h *Cache) {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				k := []byte(fmt.Sprintf("k%d", i%97))
				v := []byte(fmt.Sprintf("%s=%d/%d", k, gi, i))
				if _, err := h.Put(k, v, PutOptions{}); err != nil && CodeOf(err) != CodeBusy {
					t.Errorf("put: %v", err)
				}
				if l := h.Get(k); l.Hit && !strings.HasPrefix(string(l.Value), string(k)+"=") {
					t.Errorf("key %s has %q", k, l.Value)
				}
				if i%50 == 0 {
					h.Invalidate(k)
				}
			}
		}(gi, h)
	}
	wg.Wait()
	d, _ := c.Dump()
	if len(d.Problems) != 0 {
		t.Fatal(d.Problems)
	}
}

func TestWaitForChange(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	w := mustOpen(t, p)
	g0, _ := w.Generation()
	if g, to, _ := w.WaitForChange(g0, 20*time.Millisecond); !to || g != g0 {
		t.Fatalf("wait without change: %d %v", g, to)
	}
	done := make(chan struct{})
	var got uint32
	var timedOut bool
	go func() {
		got, timedOut, _ = w.WaitForChange(g0, 30*time.Second)
		close(done)
	}()
	// Publish once the waiter has (very likely) parked; the result is right either way.
	for i := 0; i < 1000 && readWaiters(c) == 0; i++ {
		time.Sleep(time.Millisecond)
	}
	mustPut(t, c, "wake", "up", PutOptions{})
	<-done
	if timedOut || got == g0 {
		t.Fatalf("woken: %d %v", got, timedOut)
	}
	if readWaiters(c) != 0 {
		t.Fatal("waiters not decremented")
	}
	if g, to, _ := w.WaitForChange(g0, time.Second); to || g != got {
		t.Fatal("already changed")
	}
}

func readWaiters(c *Cache) uint64 { return c.load(OffWaiters) }
