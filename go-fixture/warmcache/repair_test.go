package warmcache

import (
	"fmt"
	"testing"
)

// Repair (§9.9) on a segment with one corrupt record, a dead owner's claim and a dead holder's
// insert lock: exactly those three are acted on, every healthy entry still reads back, the
// counters balance and header word 768 counts the quarantine; a second repair does nothing.
func TestRepair(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	defer c.Close()
	for i := 0; i < 20; i++ {
		mustPut(t, c, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), PutOptions{})
	}
	// A corrupt record: k3's value checksum off by one.
	bad := c.Get([]byte("k3"))
	so := c.slotOff(bad.Shard, bad.Slot)
	w := Word(c.load(so + SlotState))
	ro := c.recOff(so, w.A())
	c.store(ro+RecChecksum, c.load(ro+RecChecksum)+1)
	// A dead owner's claim: a second handle dies after claiming a new key.
	dying := mustOpen(t, p)
	abandonAfter(dying, EvClaim)
	if _, err := dying.Put([]byte("orphan"), []byte("x"), PutOptions{}); CodeOf(err) != codeAbandoned {
		t.Fatalf("hook: %v", err)
	}
	dying.Close()
	// A dead holder's insert lock (participant 7 never registered).
	lockShard := (bad.Shard + 1) % smallGeo.ShardCount
	c.store(c.shardOff(lockShard)+ShardInsertLock, 7)

	rep, err := c.Repair()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Quarantined) != 1 || rep.Quarantined[0].Shard != bad.Shard || rep.Quarantined[0].Slot != bad.Slot {
		t.Fatalf("quarantined %+v, want only shard %d slot %d", rep.Quarantined, bad.Shard, bad.Slot)
	}
	if len(rep.Reclaimed) != 1 || len(rep.LocksFreed) != 1 || rep.LocksFreed[0].Shard != lockShard || len(rep.Unrepairable) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.QuarantinedTotal != 1 || c.load(OffQuarantined) != 1 {
		t.Fatalf("quarantined word %d", c.load(OffQuarantined))
	}
	if st := Word(c.load(so + SlotState)); st.State() != StateEmpty {
		t.Fatalf("quarantined slot is %s", st.State())
	}
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("k%d", i)
		l := c.Get([]byte(k))
		if i == 3 {
			if l.Hit {
				t.Fatalf("the quarantined key still hits")
			}
			continue
		}
		if !l.Hit || string(l.Value) != fmt.Sprintf("v%d", i) {
			t.Fatalf("%s after repair: %+v", k, l)
		}
	}
	if c.load(c.shardOff(lockShard)+ShardInsertLock) != 0 {
		t.Fatal("dead insert lock still held")
	}
	st, _ := c.Stats()
	if st.Totals.Occupancy["READY"] != 19 || st.Totals.Occupancy["WRITING"] != 0 ||
		st.Totals.Inserts-st.Totals.Invalidations-st.Totals.Evictions != 19 {
		t.Fatalf("counters after repair %+v", st.Totals)
	}
	again, _ := c.Repair()
	if len(again.Quarantined)+len(again.Reclaimed)+len(again.LocksFreed) != 0 {
		t.Fatalf("second repair acted: %+v", again)
	}
}

// Repair never touches what a live participant holds: its claim and its insert lock stay.
func TestRepairLeavesTheLive(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{})
	defer c.Close()
	writer := mustOpen(t, p)
	defer writer.Close()
	abandonAfter(writer, EvClaim)
	if _, err := writer.Put([]byte("mine"), []byte("x"), PutOptions{}); CodeOf(err) != codeAbandoned {
		t.Fatalf("hook: %v", err)
	}
	c.store(c.shardOff(0)+ShardInsertLock, uint64(writer.ParticipantID()))
	rep, _ := c.Repair()
	if len(rep.Reclaimed)+len(rep.LocksFreed)+len(rep.Quarantined) != 0 {
		t.Fatalf("repair acted on a live participant: %+v", rep)
	}
	if c.load(c.shardOff(0)+ShardInsertLock) != uint64(writer.ParticipantID()) {
		t.Fatal("a live holder's insert lock was freed")
	}
}
