package warmcache

import (
	"strings"
	"testing"
)

// abandonAfter makes c's next claim of the given event stop with the slot still claimed, as if
// the process died right after its CAS.
func abandonAfter(c *Cache, event string) {
	c.hookAfterClaim = func(ev string) bool { return ev == event }
}

func TestDeadWriterClaimReclaimed(t *testing.T) {
	p := segPath(t)
	live := mustCreate(t, p, smallGeo, CreateOptions{})
	dying, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	abandonAfter(dying, EvClaim)
	_, err = dying.Put([]byte("k"), []byte("never published"), PutOptions{})
	if CodeOf(err) != codeAbandoned {
		t.Fatalf("hook: %v", err)
	}
	if st, _ := live.Stats(); st.Totals.Occupancy["WRITING"] != 1 {
		t.Fatal("no WRITING slot")
	}
	if live.Get([]byte("k")).Hit {
		t.Fatal("hit on a WRITING slot")
	}
	// While the claimer is alive, a put of the same key waits and gives up: busy.
	_, err = live.Put([]byte("k"), []byte("v"), PutOptions{})
	wantCode(t, err, CodeBusy)
	dying.Close() // releases its OFD lock: the owner is now dead
	live.enableTrace()
	r, err := live.Put([]byte("k"), []byte("v"), PutOptions{})
	if err != nil || !r.Created {
		t.Fatalf("put after death: %+v %v", r, err)
	}
	tr := live.drainTrace()
	if len(tr) < 3 || tr[0].Event != EvReclaim || tr[0].From != "WRITING" || tr[0].To != "EMPTY" {
		t.Fatalf("trace %+v", tr)
	}
	for i := 1; i < len(tr); i++ {
		if tr[i].Gseq <= tr[i-1].Gseq {
			t.Fatalf("gseq not increasing: %+v", tr)
		}
	}
	st, _ := live.Stats()
	if st.Totals.Reclaims != 1 || st.Totals.Occupancy["WRITING"] != 0 {
		t.Fatalf("stats %+v", st.Totals)
	}
}

func TestDeadRefresherReclaimedKeepsOldValue(t *testing.T) {
	p := segPath(t)
	live := mustCreate(t, p, smallGeo, CreateOptions{})
	mustPut(t, live, "k", "old", PutOptions{})
	dying := mustOpen(t, p)
	abandonAfter(dying, EvRefreshClaim)
	dying.Put([]byte("k"), []byte("new"), PutOptions{})
	if l := live.Get([]byte("k")); !l.Hit || string(l.Value) != "old" {
		t.Fatalf("REFRESHING slot must serve the old value: %+v", l)
	}
	dying.Close()
	// An invalidation meets the dead REFRESHING(d) claim, reclaims it (T13) and removes.
	if ok, err := live.Invalidate([]byte("k")); !ok || err != nil {
		t.Fatalf("invalidate %v %v", ok, err)
	}
	if st, _ := live.Stats(); st.Totals.Reclaims != 1 {
		t.Fatalf("reclaims %d", st.Totals.Reclaims)
	}
}

func TestSweepOnRegistration(t *testing.T) {
	p := segPath(t)
	first := mustCreate(t, p, smallGeo, CreateOptions{})
	first.hookAfterClaim = func(ev string) bool { return true }
	first.Put([]byte("a"), []byte("x"), PutOptions{}) // WRITING(1)
	first.hookAfterClaim = nil
	mustPut(t, first, "b", "old", PutOptions{})
	first.hookAfterClaim = func(ev string) bool { return true }
	first.Put([]byte("b"), []byte("new"), PutOptions{}) // REFRESHING(1)
	first.hookAfterClaim = nil
	// A dead insert-lock holder and a dead invalidator, written by hand.
	sh := uint32(1)
	first.store(first.shardOff(sh)+ShardInsertLock, 1)
	mustPut(t, first, "c", "gone", PutOptions{})
	_, cs, ch := first.keyPlace([]byte("c"))
	j, w, _ := first.find([]byte("c"), WCH64([]byte("c"), KeySeed), cs, ch, maskPut)
	first.store(first.slotOff(cs, j)+SlotState, uint64(w.next(StateInvalidated, w.A(), 1)))
	first.Close()

	second := mustOpen(t, p) // gets entry 0 again, id 1, and sweeps
	if second.ParticipantID() != 1 {
		t.Fatalf("id %d", second.ParticipantID())
	}
	st, _ := second.Stats()
	if st.Totals.Occupancy["WRITING"] != 0 || st.Totals.Occupancy["REFRESHING"] != 0 ||
		st.Totals.Occupancy["INVALIDATED"] != 0 || st.Totals.Reclaims != 4 {
		t.Fatalf("after sweep %+v", st.Totals)
	}
	if second.load(second.shardOff(sh)+ShardInsertLock) != 0 {
		t.Fatal("insert lock not released")
	}
	if l := second.Get([]byte("b")); !l.Hit || string(l.Value) != "old" {
		t.Fatalf("b %+v", l)
	}
	if second.Get([]byte("c")).Hit || second.load(second.slotOff(cs, j)+SlotKeyHash) != 0 {
		t.Fatal("c not cleared")
	}
}

func TestDeadInsertLockFreed(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	_, s, _ := c.keyPlace([]byte("x"))
	c.store(c.shardOff(s)+ShardInsertLock, 7) // participant 7 never registered: dead
	mustPut(t, c, "x", "y", PutOptions{})
	if st, _ := c.Stats(); st.Shards[s].Reclaims != 1 {
		t.Fatal("dead insert lock not counted")
	}
	c.store(c.shardOff(s)+ShardInsertLock, 9999) // not a participant id at all
	mustPut(t, c, "x2", "y", PutOptions{})
}

// TestGarbageSlots writes impossible contents by hand: every case is a miss for Get, a problem
// for Dump, and never a panic.
func TestGarbageSlots(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	type corruption struct {
		name    string
		key     string
		apply   func(so, ro uint64, w Word)
		problem string
	}
	cases := []corruption{
		{"key_len past capacity", "kl", func(so, ro uint64, w Word) { c.store(so+SlotKeyLen, 1<<20) }, "key_len"},
		{"key_len huge", "kl2", func(so, ro uint64, w Word) { c.store(so+SlotKeyLen, ^uint64(0)) }, "key_len"},
		{"value_len past capacity", "vl", func(so, ro uint64, w Word) {
			c.store(ro+RecValueInfo, c.load(ro+RecValueInfo)&^0xFFFFFFFF|0xFFFFFFFF)
		}, "value_len"},
		{"bad checksum", "cs", func(so, ro uint64, w Word) { c.store(ro+RecChecksum, 12345) }, "checksum"},
		{"bad value byte", "vb", func(so, ro uint64, w Word) { c.store(ro+RecValue, 0x4141414141414141) }, "checksum"},
		{"state code 9", "s9", func(so, ro uint64, w Word) { c.store(so+SlotState, uint64(w)&^0xFF|9) }, "impossible"},
		{"bits 9..15", "b9", func(so, ro uint64, w Word) { c.store(so+SlotState, uint64(w)|1<<12) }, "impossible"},
		{"READY with owner", "ro", func(so, ro uint64, w Word) { c.store(so+SlotState, uint64(w)|5<<16) }, "impossible"},
		{"WRITING without owner", "wo", func(so, ro uint64, w Word) {
			c.store(so+SlotState, uint64(MakeWord(StateWriting, 0, 0, w.Seq())))
		}, "impossible"},
		{"owner past capacity", "op", func(so, ro uint64, w Word) {
			c.store(so+SlotState, uint64(MakeWord(StateRefreshing, w.A(), 999, w.Seq())))
		}, "impossible"},
		{"version 0", "v0", func(so, ro uint64, w Word) { c.store(ro+RecVersion, 0) }, "version 0"},
	}
	for _, cs := range cases {
		r := mustPut(t, c, cs.key, "some value!", PutOptions{})
		so := c.slotOff(r.Shard, r.Slot)
		w := Word(c.load(so + SlotState))
		cs.apply(so, c.recOff(so, w.A()), w)
		if l := c.Get([]byte(cs.key)); l.Hit {
			t.Errorf("%s: Get hit %+v", cs.name, l)
		}
		d, err := c.Dump()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, pr := range d.Problems {
			found = found || strings.Contains(pr, cs.problem)
		}
		if !found {
			t.Errorf("%s: Dump problems %q lack %q", cs.name, d.Problems, cs.problem)
		}
		for _, e := range d.Entries {
			if string(e.Key) == cs.key {
				t.Errorf("%s: Dump lists the corrupt entry", cs.name)
			}
		}
		// Writers leave impossible slots alone and never panic on them either.
		c.Put([]byte(cs.key), []byte("again"), PutOptions{})
		c.Invalidate([]byte(cs.key))
		c.store(so+SlotState, 0) // clean up for the next case (zero is EMPTY)
		c.store(so+SlotKeyHash, 0)
	}
	if st, _ := c.Stats(); st.Totals.Corrupt == 0 {
		t.Fatal("corrupt gets not counted")
	}
	// A garbage sweep: every word of every slot set to all ones.
	g := mustCreate(t, segPath(t), smallGeo, CreateOptions{})
	for off := g.lay.ShardsOffset; off < g.lay.TotalLen; off += 8 {
		g.store(off, ^uint64(0))
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if g.Get([]byte(k)).Hit {
			t.Fatal("hit in garbage")
		}
		g.Put([]byte(k), []byte("v"), PutOptions{})
		g.Invalidate([]byte(k))
	}
	if _, err := g.Stats(); err != nil {
		t.Fatal(err)
	}
	if d, _ := g.Dump(); len(d.Problems) == 0 {
		t.Fatal("no problems in garbage")
	}
}
