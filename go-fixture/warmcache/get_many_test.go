package warmcache

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// getManySegment lays out one segment of every case a batched get must answer as N gets do: fresh
// hits, a stale entry (TTL passed, grace not: the first get marks it, T7), an entry expired past
// its grace, a key whose slot is mid-write (WRITING: not readable), a key mid-refresh (REFRESHING:
// still serves its active record), absent keys, an empty and an over-long key. It returns a
// second handle (the reader) and the batch, with the stale key asked twice so that only the first
// of the two may request the refresh.
func getManySegment(t *testing.T) (*Cache, [][]byte) {
	p := segPath(t)
	c := mustCreate(t, p, smallGeo, CreateOptions{simClock: true, simClockStart: 1000})
	r := mustOpen(t, p)
	for i := 0; i < 8; i++ {
		mustPut(t, c, fmt.Sprintf("hit%d", i), fmt.Sprintf("value-%d", i), PutOptions{})
	}
	mustPut(t, c, "stale", "old", PutOptions{TTL: 100, Grace: 500})
	mustPut(t, c, "expired", "gone", PutOptions{TTL: 10})
	w := mustPut(t, c, "writing", "half", PutOptions{})
	so := c.slotOff(w.Shard, w.Slot)
	ws := Word(c.load(so + SlotState))
	c.store(so+SlotState, uint64(ws.next(StateWriting, ws.A(), c.id)))
	f := mustPut(t, c, "refreshing", "served", PutOptions{})
	so = c.slotOff(f.Shard, f.Slot)
	fs := Word(c.load(so + SlotState))
	c.store(so+SlotState, uint64(fs.next(StateRefreshing, fs.A(), c.id)))
	c.setSimClock(1200) // stale's TTL passed, its grace not; expired's both
	keys := [][]byte{[]byte("hit0"), []byte("stale"), []byte("absent"), []byte("writing"), []byte("hit5"),
		[]byte("expired"), []byte("stale"), []byte("refreshing"), {}, make([]byte, smallGeo.KeyCapacity+1),
		[]byte("hit7"), []byte("hit0")}
	return r, keys
}

// TestGetManyIsNGets: the same batch on two identical segments, once as N GetInto calls and
// once as one GetMany, gives the same lookups, the same errors (a buffer too small included), the
// same counters and the same state words afterwards (the T7 mark of the stale key).
func TestGetManyIsNGets(t *testing.T) {
	one, keys := getManySegment(t)
	many, _ := getManySegment(t)
	bufs := func() [][]byte {
		b := make([][]byte, len(keys))
		for i := range b {
			b[i] = make([]byte, 16)
		}
		b[4] = make([]byte, 3) // hit5's value is 7 bytes: too_large
		return b
	}
	wantL := make([]Lookup, len(keys))
	wantE := make([]error, len(keys))
	b1 := bufs()
	for i, k := range keys {
		wantL[i], wantE[i] = one.GetInto(k, b1[i])
	}
	gotL := make([]Lookup, len(keys))
	gotE := make([]error, len(keys))
	first := many.GetMany(keys, bufs(), gotL, gotE)
	if first == nil || CodeOf(first) != CodeTooLarge {
		t.Fatalf("GetMany returned %v, want the first error %v", first, wantE[4])
	}
	for i := range keys {
		if !reflect.DeepEqual(gotL[i], wantL[i]) || !sameError(gotE[i], wantE[i], many.path, one.path) {
			t.Errorf("key %d %q: GetMany %+v, %v; GetInto %+v, %v", i, keys[i], gotL[i], gotE[i], wantL[i], wantE[i])
		}
	}
	// Pin the cases, so that the comparison cannot pass on two equally wrong answers.
	hit := func(i int) bool { return gotL[i].Hit }
	if !hit(0) || !hit(1) || !gotL[1].Stale || !gotL[1].RefreshRequested || hit(2) || hit(3) || hit(4) || hit(5) ||
		!hit(6) || gotL[6].RefreshRequested || !hit(7) || string(gotL[7].Value) != "served" || hit(8) || hit(9) || !hit(11) {
		t.Fatalf("unexpected outcomes %+v", gotL)
	}
	s1, _ := one.Stats()
	s2, _ := many.Stats()
	if !reflect.DeepEqual(s1.Totals, s2.Totals) {
		t.Fatalf("counters differ: N gets %+v, GetMany %+v", s1.Totals, s2.Totals)
	}
	for s := uint32(0); s < smallGeo.ShardCount; s++ {
		for j := uint32(0); j < smallGeo.SlotsPerShard; j++ {
			if a, b := one.load(one.slotOff(s, j)+SlotState), many.load(many.slotOff(s, j)+SlotState); a != b {
				t.Fatalf("slot %d/%d: state %#x after N gets, %#x after GetMany", s, j, a, b)
			}
		}
	}
}

// TestGetManyChunks: a batch longer than MaxGetBatch is served in chunks, every key answered.
func TestGetManyChunks(t *testing.T) {
	c := mustCreate(t, segPath(t), Geometry{ShardCount: 8, SlotsPerShard: 128, KeyCapacity: 16, ValueCapacity: 32,
		ProbeWindow: 16, ParticipantCapacity: 8}, CreateOptions{})
	n := 2*MaxGetBatch + 3
	keys, bufs := make([][]byte, n), make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key%d", i))
		bufs[i] = make([]byte, 32)
		if i%3 != 0 {
			mustPut(t, c, string(keys[i]), fmt.Sprintf("v%d", i), PutOptions{})
		}
	}
	out := make([]Lookup, n)
	if err := c.GetMany(keys, bufs, out, nil); err != nil {
		t.Fatal(err)
	}
	for i, l := range out {
		if l.Hit != (i%3 != 0) || (l.Hit && string(l.Value) != fmt.Sprintf("v%d", i)) {
			t.Fatalf("key %d: %+v", i, l)
		}
	}
}

// TestGetManyClosed: on a closed handle every key fails as GetInto does.
func TestGetManyClosed(t *testing.T) {
	c := mustCreate(t, segPath(t), smallGeo, CreateOptions{})
	c.Close()
	keys := [][]byte{[]byte("a"), []byte("b")}
	errs := make([]error, 2)
	err := c.GetMany(keys, make([][]byte, 2), make([]Lookup, 2), errs)
	wantCode(t, err, CodeClosed)
	wantCode(t, errs[1], CodeClosed)
}

// sameError: the same error, but for the segment path each names.
func sameError(got, want error, gotPath, wantPath string) bool {
	if got == nil || want == nil {
		return got == want
	}
	return strings.ReplaceAll(got.Error(), gotPath, wantPath) == want.Error()
}
