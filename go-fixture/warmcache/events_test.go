package warmcache

import (
	"fmt"
	"strings"
	"testing"
)

// ev is the part of a reported transition that §8.4's owner rule is about.
type ev struct {
	Event, From, To string
	Owner           uint16
}

func (e ev) String() string {
	return fmt.Sprintf("%s %s→%s owner %d", e.Event, e.From, e.To, e.Owner)
}

// expectEvents drains c's trace and compares it with want (event, from, to, owner).
func expectEvents(t *testing.T, c *Cache, what string, want ...ev) []Transition {
	t.Helper()
	tr := c.drainTrace()
	got := make([]ev, len(tr))
	for i, x := range tr {
		got[i] = ev{x.Event, x.From, x.To, x.Owner}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
	return tr
}

// TestEventOwners checks the owner of every event kind against §8.4: the claimer (the new
// word's owner) for claims, the replaced word's owner for transitions out of an owned state
// (for a reclaim: the dead owner, not the reclaimer), 0 for mark_stale.
func TestEventOwners(t *testing.T) {
	// One shard of 4 slots with a window of 4: every key shares one window.
	geo := Geometry{ShardCount: 1, SlotsPerShard: 4, KeyCapacity: 16, ValueCapacity: 64, ProbeWindow: 4, ParticipantCapacity: 8}
	p := segPath(t)
	const t0 = 1_000_000
	c := mustCreate(t, p, geo, CreateOptions{simClock: true, simClockStart: t0})
	c.enableTrace()
	me := c.ParticipantID()
	if me != 1 {
		t.Fatalf("id %d", me)
	}
	const dead = 2 // the id every dying handle below gets (entry 1, free again after Close)

	mustPut(t, c, "k1", "v", PutOptions{})
	expectEvents(t, c, "insert", ev{EvClaim, "EMPTY", "WRITING", me}, ev{EvPublish, "WRITING", "READY", me})
	mustPut(t, c, "k1", "v2", PutOptions{})
	expectEvents(t, c, "refresh", ev{EvRefreshClaim, "READY", "REFRESHING", me}, ev{EvRefreshPublish, "REFRESHING", "READY", me})
	_, err := c.Put([]byte("k1"), []byte("v3"), PutOptions{Version: 1})
	wantCode(t, err, CodeVersionNotNewer)
	expectEvents(t, c, "refresh with an old version", ev{EvRefreshClaim, "READY", "REFRESHING", me}, ev{EvRefreshAbort, "REFRESHING", "READY", me})

	mustPut(t, c, "k2", "v", PutOptions{TTL: 10, Grace: 100})
	c.drainTrace()
	if err := c.setSimClock(t0 + 20); err != nil {
		t.Fatal(err)
	}
	if l := c.Get([]byte("k2")); !l.Hit || !l.Stale || !l.RefreshRequested {
		t.Fatalf("stale get %+v", l)
	}
	expectEvents(t, c, "stale get", ev{EvMarkStale, "READY", "STALE", 0})

	if ok, err := c.Invalidate([]byte("k1")); !ok || err != nil {
		t.Fatal(ok, err)
	}
	expectEvents(t, c, "invalidate", ev{EvInvalidateClaim, "READY", "INVALIDATED", me}, ev{EvClear, "INVALIDATED", "EMPTY", me})

	// T12: a dead writer's WRITING(2), reached by key.
	d := mustOpen(t, p)
	if d.ParticipantID() != dead {
		t.Fatalf("id %d", d.ParticipantID())
	}
	abandonAfter(d, EvClaim)
	d.Put([]byte("k3"), []byte("lost"), PutOptions{})
	d.Close()
	mustPut(t, c, "k3", "v", PutOptions{})
	expectEvents(t, c, "put over a dead writer", ev{EvReclaim, "WRITING", "EMPTY", dead},
		ev{EvClaim, "EMPTY", "WRITING", me}, ev{EvPublish, "WRITING", "READY", me})

	// T13: a dead refresher's REFRESHING(2).
	d = mustOpen(t, p)
	abandonAfter(d, EvRefreshClaim)
	d.Put([]byte("k3"), []byte("lost"), PutOptions{})
	d.Close()
	mustPut(t, c, "k3", "v2", PutOptions{})
	expectEvents(t, c, "put over a dead refresher", ev{EvReclaim, "REFRESHING", "READY", dead},
		ev{EvRefreshClaim, "READY", "REFRESHING", me}, ev{EvRefreshPublish, "REFRESHING", "READY", me})

	// T14: a dead invalidator's INVALIDATED(2), written by hand (participant 2 is dead).
	_, sh, home := c.keyPlace([]byte("k3"))
	j, w, _ := c.find([]byte("k3"), WCH64([]byte("k3"), KeySeed), sh, home, maskPut)
	c.store(c.slotOff(sh, j)+SlotState, uint64(w.next(StateInvalidated, w.A(), dead)))
	mustPut(t, c, "k3", "v3", PutOptions{})
	expectEvents(t, c, "put over a dead invalidator", ev{EvReclaim, "INVALIDATED", "EMPTY", dead},
		ev{EvClaim, "EMPTY", "WRITING", me}, ev{EvPublish, "WRITING", "READY", me})

	// T11: fill the window (k2, k3, k4, k5), then k2 is past stale_until_ns.
	mustPut(t, c, "k4", "v", PutOptions{})
	mustPut(t, c, "k5", "v", PutOptions{})
	c.drainTrace()
	if err := c.setSimClock(t0 + 200); err != nil {
		t.Fatal(err)
	}
	mustPut(t, c, "k6", "v", PutOptions{})
	expectEvents(t, c, "insert over an expired entry", ev{EvExpire, "STALE", "WRITING", me}, ev{EvPublish, "WRITING", "READY", me})

	// T10: nothing free or expired: CLOCK.
	mustPut(t, c, "k7", "v", PutOptions{})
	expectEvents(t, c, "insert by eviction", ev{EvEvict, "READY", "WRITING", me}, ev{EvPublish, "WRITING", "READY", me})

	// Victim selection (§9.4): a full window with a dead owner's WRITING slot that no key
	// reaches: the insert reclaims it (T12, owner = the dead one) and claims it from EMPTY.
	r := mustPut(t, c, "k4", "again", PutOptions{}) // some live entry of the window
	so := c.slotOff(r.Shard, r.Slot)
	w = Word(c.load(so + SlotState))
	c.store(so+SlotKeyHash, 0)
	c.store(so+SlotState, uint64(w.next(StateWriting, w.A(), dead)))
	c.drainTrace()
	st0, _ := c.Stats()
	r2 := mustPut(t, c, "k8", "v", PutOptions{})
	tr := expectEvents(t, c, "insert over a dead keyless WRITING slot", ev{EvReclaim, "WRITING", "EMPTY", dead},
		ev{EvClaim, "EMPTY", "WRITING", me}, ev{EvPublish, "WRITING", "READY", me})
	if r2.Slot != r.Slot || tr[0].Slot != r.Slot || tr[1].Slot != r.Slot {
		t.Fatalf("victim slot %d, dead slot %d, trace %+v", r2.Slot, r.Slot, tr)
	}
	if st, _ := c.Stats(); st.Totals.Reclaims != st0.Totals.Reclaims+1 || st.Totals.Evictions != st0.Totals.Evictions {
		t.Fatalf("reclaims %d → %d, evictions %d → %d", st0.Totals.Reclaims, st.Totals.Reclaims, st0.Totals.Evictions, st.Totals.Evictions)
	}

	// T3 abort is not made by this implementation (nothing fails between a claim and its
	// publish); check its rule on words directly.
	wr := MakeWord(StateWriting, 0, 3, 7)
	if o := eventOwner(EvAbort, wr, wr.next(StateEmpty, 0, 0)); o != 3 {
		t.Fatalf("abort owner %d", o)
	}
}

// TestVictimPrefersEmptyOverDeadClaim: §9.4 takes the first EMPTY slot before any dead owner's
// slot (liveness is only asked when no EMPTY slot exists), and before expired or evictable ones
// takes a dead owner's INVALIDATED slot too.
func TestVictimPrefersEmptyOverDeadClaim(t *testing.T) {
	geo := Geometry{ShardCount: 1, SlotsPerShard: 4, KeyCapacity: 16, ValueCapacity: 64, ProbeWindow: 4, ParticipantCapacity: 8}
	p := segPath(t)
	c := mustCreate(t, p, geo, CreateOptions{})
	const dead = 5 // never registered
	// Slot 0 in WRITING(dead), no key; slots 1..3 EMPTY.
	c.store(c.slotOff(0, 0)+SlotState, uint64(MakeWord(StateWriting, 0, dead, 1)))
	rec := &recorder{}
	c.setPauseHook(rec.hook)
	for i := 0; i < 3; i++ {
		rec.got = nil
		mustPut(t, c, fmt.Sprint("e", i), "v", PutOptions{})
		for _, pt := range rec.got {
			if pt == PointReclaimBeforeCAS {
				t.Fatalf("insert %d reclaimed although an EMPTY slot was free", i)
			}
		}
	}
	st, _ := c.Stats()
	if st.Totals.Occupancy["WRITING"] != 1 || st.Totals.Reclaims != 0 {
		t.Fatalf("before the window is full: %+v", st.Totals)
	}
	// Make one READY slot INVALIDATED(dead) as well: the first dead slot in window order wins.
	// Window order starts at the key's home slot.
	_, _, home := c.keyPlace([]byte("e3"))
	first := uint32(0)
	for k := uint32(0); k < 4; k++ {
		j := (home + k) % 4
		w := Word(c.load(c.slotOff(0, j) + SlotState))
		if w.State() == StateReady {
			c.store(c.slotOff(0, j)+SlotState, uint64(w.next(StateInvalidated, w.A(), dead)))
			break
		}
	}
	for k := uint32(0); k < 4; k++ {
		j := (home + k) % 4
		if s := Word(c.load(c.slotOff(0, j) + SlotState)).State(); s == StateWriting || s == StateInvalidated {
			first = j
			break
		}
	}
	c.enableTrace()
	r := mustPut(t, c, "e3", "v", PutOptions{})
	if r.Slot != first {
		t.Fatalf("victim %d, first dead slot of the window %d", r.Slot, first)
	}
	tr := c.drainTrace()
	if len(tr) != 3 || tr[0].Event != EvReclaim || tr[0].Owner != dead || tr[1].Event != EvClaim || tr[1].From != "EMPTY" {
		t.Fatalf("trace %+v", tr)
	}
	var names []string
	for _, x := range tr {
		names = append(names, x.Event)
	}
	if st, _ := c.Stats(); st.Totals.Reclaims != 1 || st.Totals.Evictions != 0 || st.Totals.Expirations != 0 {
		t.Fatalf("after: %+v (%s)", st.Totals, strings.Join(names, ","))
	}
}
