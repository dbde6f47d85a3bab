package warmcache

import "testing"

// The claim hint and the lazy registration sweep (§5 step 2, §5.1).

// plantClaim stores a WRITING(owner) word into slot 0 of shard s, as a predecessor that died
// right after its claim would have left it, without any hint naming it.
func plantClaim(c *Cache, s uint32, owner uint16) uint64 {
	off := c.slotOff(s, 0) + SlotState
	w := Word(c.load(off))
	c.store(off, uint64(w.next(StateWriting, w.A(), owner)))
	return off
}

func openWith(t *testing.T, p string, o OpenOptions) *Cache {
	t.Helper()
	o.Timeout = -1
	c, err := Open(p, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCleanPredecessorCostsNoSweep(t *testing.T) {
	p := segPath(t)
	keeper := mustCreate(t, p, smallGeo, CreateOptions{})
	a := mustOpen(t, p) // entry 1
	mustPut(t, a, "k", "v", PutOptions{})
	a.Close()
	if h := keeper.load(keeper.partOff(1) + PartClaimHint); h != 0 {
		t.Fatalf("claim_hint after a finished put = %#x, want 0", h)
	}
	// A claim under id 2 that no hint covers: a lazy registrant at entry 1 does not look there.
	off := plantClaim(keeper, 3, 2)
	b := mustOpen(t, p)
	if b.ParticipantID() != 2 || Word(keeper.load(off)).State() != StateWriting {
		t.Fatalf("lazy registration swept an uncovered slot (id %d)", b.ParticipantID())
	}
	b.Close()
	// The 1.0 sweep (LegacySweep) does.
	openWith(t, p, OpenOptions{LegacySweep: true})
	if Word(keeper.load(off)).State() != StateEmpty {
		t.Fatal("legacy registration did not sweep every slot")
	}
}

func TestSuccessorSweepsTheHintedWindow(t *testing.T) {
	for _, ev := range []string{EvClaim, EvRefreshClaim} {
		t.Run(ev, func(t *testing.T) {
			p := segPath(t)
			keeper := mustCreate(t, p, smallGeo, CreateOptions{})
			if ev == EvRefreshClaim {
				mustPut(t, keeper, "k", "old", PutOptions{})
			}
			dying := mustOpen(t, p)
			abandonAfter(dying, ev)
			if _, err := dying.Put([]byte("k"), []byte("new"), PutOptions{}); !isAbandoned(err) {
				t.Fatalf("hook: %v", err)
			}
			if h := keeper.load(keeper.partOff(1) + PartClaimHint); h&hintInFlightMask != 1 {
				t.Fatalf("claim_hint while holding a claim = %#x", h)
			}
			dying.Close() // the owner is dead, its hint stays
			mustOpen(t, p)
			st, _ := keeper.Stats()
			if st.Totals.Reclaims != 1 || st.Totals.Occupancy["WRITING"]+st.Totals.Occupancy["REFRESHING"] != 0 {
				t.Fatalf("after the successor registered: %+v", st.Totals)
			}
		})
	}
}

// A 1.0 owner (LegacySweep) never writes the hint: what an earlier 1.1 owner of the same
// entry left there (here "no claims") must not be trusted after it.
func TestStaleHintOfAnEarlierEpochIsNotTrusted(t *testing.T) {
	p := segPath(t)
	keeper := mustCreate(t, p, smallGeo, CreateOptions{})
	lazy := mustOpen(t, p)
	mustPut(t, lazy, "a", "1", PutOptions{})
	lazy.Close() // entry 1: claim_hint 0, hint_epoch 1
	old := openWith(t, p, OpenOptions{LegacySweep: true})
	abandonAfter(old, EvClaim)
	if _, err := old.Put([]byte("b"), []byte("2"), PutOptions{}); !isAbandoned(err) {
		t.Fatalf("hook: %v", err)
	}
	old.Close() // a 1.0 owner died holding a claim; epoch is 2, hint_epoch still 1
	mustOpen(t, p)
	st, _ := keeper.Stats()
	if st.Totals.Reclaims != 1 || st.Totals.Occupancy["WRITING"] != 0 {
		t.Fatalf("stale hint trusted: %+v", st.Totals)
	}
}

func TestHintCountsAndWidens(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	word := func() uint64 { return c.load(c.partOff(uint32(c.id)-1) + PartClaimHint) }
	c.enterHint(1, 2)
	c.enterHint(1, 2)
	if w := word(); w != 1<<32|2<<16|2 {
		t.Fatalf("two operations on one window: %#x", w)
	}
	c.enterHint(3, 0)
	if w := word(); w&hintWide == 0 || w&hintInFlightMask != 3 {
		t.Fatalf("an operation elsewhere did not widen: %#x", w)
	}
	if sc := c.scopeFor(c.partOff(uint32(c.id)-1), c.load(c.partOff(uint32(c.id)-1)+PartHintEpoch)); !sc.all {
		t.Fatalf("a wide hint must sweep everything: %+v", sc)
	}
	c.leaveHint()
	c.leaveHint()
	if w := word(); w&hintWide == 0 || w&hintInFlightMask != 1 {
		t.Fatalf("W cleared before the last operation left: %#x", w)
	}
	c.leaveHint()
	if w := word(); w != 0 {
		t.Fatalf("after the last leave: %#x", w)
	}
	// A malformed hint (a shard past shard_count) never narrows a sweep (§13).
	c.store(c.partOff(uint32(c.id)-1)+PartClaimHint, uint64(smallGeo.ShardCount)<<32|1)
	if sc := c.scopeFor(c.partOff(uint32(c.id)-1), c.load(c.partOff(uint32(c.id)-1)+PartHintEpoch)); !sc.all {
		t.Fatalf("a malformed hint narrowed the sweep: %+v", sc)
	}
}
