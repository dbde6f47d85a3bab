package warmcache

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// Tests of §18 (namespace.go, namespace_pin.go, namespace_reclaim.go). Each pins one decision
// of the spec; TestNs*Fault show the two planted bugs change what these checks see.

func nsStage(t *testing.T, c *Cache, ns uint32) uint32 {
	t.Helper()
	r, err := c.NsStage(ns)
	if err != nil {
		t.Fatalf("ns_stage %d: %v", ns, err)
	}
	return r.Version
}

func nsPut(t *testing.T, c *Cache, ns uint32, k, v string) NsPutResult {
	t.Helper()
	r, err := c.NsPut(ns, []byte(k), []byte(v))
	if err != nil {
		t.Fatalf("ns_put %d %q: %v", ns, k, err)
	}
	return r
}

func nsFlip(t *testing.T, c *Cache, ns uint32) NsFlipResult {
	t.Helper()
	r, err := c.NsFlip(ns)
	if err != nil {
		t.Fatalf("ns_flip %d: %v", ns, err)
	}
	return r
}

// nsWant asserts what NsGet returns: value "" means a miss; v the version read.
func nsWant(t *testing.T, c *Cache, ns uint32, k, value string, v uint32) {
	t.Helper()
	l, err := c.NsGet(ns, []byte(k))
	if err != nil {
		t.Fatalf("ns_get %d %q: %v", ns, k, err)
	}
	if l.NsVersion != v || l.Hit != (value != "") || string(l.Value) != value {
		t.Fatalf("ns_get %d %q = hit %v %q version %d, want %q version %d", ns, k, l.Hit, l.Value, l.NsVersion, value, v)
	}
}

// publish stages and flips one version with the given entries.
func publish(t *testing.T, c *Cache, ns uint32, kv ...string) uint32 {
	t.Helper()
	v := nsStage(t, c, ns)
	for i := 0; i+1 < len(kv); i += 2 {
		nsPut(t, c, ns, kv[i], kv[i+1])
	}
	nsFlip(t, c, ns)
	return v
}

// retireAtPoint publishes version 1 of a, and the first time r reaches point, retires it (two
// flips) and reclaims its entry, as another process could in that window.
func retireAtPoint(t *testing.T, w, r *Cache, point string) {
	t.Helper()
	publish(t, w, 0, "a", "1")
	fired := false
	r.setPauseHook(func(at string) {
		if at == point && !fired {
			fired = true
			publish(t, w, 0, "a", "2")
			publish(t, w, 0, "a", "3")
			if rc, _ := w.NsReclaim(0); rc.Removed != 1 {
				t.Errorf("reclaim %+v", rc)
			}
		}
	})
}

func TestNsKeyLayout(t *testing.T) {
	// §18.1: word 0 = NS_KEY_MAGIC | ns << 48 (bytes FF 57 43 4E 53 01, then ns), word 1 = v.
	got := hex.EncodeToString(NsKey(3, 7, []byte("k")))
	if want := "ff57434e5301" + "0300" + "0700000000000000" + "6b"; got != want {
		t.Fatalf("nskey(3, 7, k) = %s, want %s", got, want)
	}
	ns, v, k, ok := ParseNsKey(NsKey(5, 0xFFFFFFFF, []byte("abc")))
	if !ok || ns != 5 || v != 0xFFFFFFFF || string(k) != "abc" {
		t.Fatalf("parse: %d %d %q %v", ns, v, k, ok)
	}
	for _, bad := range [][]byte{
		NsKey(3, 7, nil),         // 16 bytes: no user key
		NsKey(8, 7, []byte("k")), // ns ≥ NS_COUNT
		NsKey(3, 0, []byte("k")), // version 0
		append([]byte{0xFE}, NsKey(3, 7, []byte("k"))[1:]...), // magic differs
	} {
		if _, _, _, ok := ParseNsKey(bad); ok {
			t.Errorf("%x parsed as a namespace key", bad)
		}
	}
	big := NsKey(3, 0, []byte("k"))
	big[8], big[12] = 1, 1 // version 2^32 + 1: above the 32-bit table versions
	if _, _, _, ok := ParseNsKey(big); ok {
		t.Errorf("a version above 2^32 − 1 parsed")
	}
}

func TestNsStageIsInvisibleUntilTheFlip(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	r := mustOpen(t, p)
	nsWant(t, r, 0, "a", "", 0) // a zero table: no version yet
	v1 := publish(t, w, 0, "a", "1", "b", "1")
	if v1 != 1 {
		t.Fatalf("first version %d", v1)
	}
	v2 := nsStage(t, w, 0)
	nsPut(t, w, 0, "a", "2")
	nsPut(t, w, 0, "a", "2b") // a staged entry may be rewritten before the flip
	nsWant(t, r, 0, "a", "1", v1)
	nsWant(t, r, 0, "b", "1", v1)
	if f := nsFlip(t, w, 0); f.Version != v2 || f.Previous != v1 {
		t.Fatalf("flip %+v", f)
	}
	nsWant(t, r, 0, "a", "2b", v2)
	nsWant(t, r, 0, "b", "", v2) // versions are whole: b is not in v2
	// Other namespaces are untouched.
	nsWant(t, r, 1, "a", "", 0)
	st, _ := r.NsState(0)
	if st.Current != v2 || st.Previous != v1 || st.Last != v2 || st.Stager != 0 {
		t.Fatalf("state %+v", st)
	}
}

func TestNsOneStageAtATime(t *testing.T) {
	p := segPath(t)
	a := mustCreate(t, p, smallGeo, CreateOptions{})
	b := mustOpen(t, p)
	nsStage(t, a, 2)
	_, err := b.NsStage(2)
	wantCode(t, err, CodeBusy)
	_, err = a.NsStage(2) // our own open stage too
	wantCode(t, err, CodeBusy)
	_, err = b.NsPut(2, []byte("k"), []byte("v"))
	wantCode(t, err, CodeNotStaging)
	_, err = b.NsFlip(2)
	wantCode(t, err, CodeNotStaging)
	_, err = a.NsPut(2, nil, []byte("v"))
	wantCode(t, err, CodeTooLarge)
	_, err = a.NsPut(2, bytes.Repeat([]byte("k"), int(smallGeo.KeyCapacity)-NsKeyPrefixLen+1), nil)
	wantCode(t, err, CodeTooLarge)
	nsPut(t, a, 2, string(bytes.Repeat([]byte("k"), int(smallGeo.KeyCapacity)-NsKeyPrefixLen)), "v") // exactly fits
}

func TestNsTakeoverFromADeadStagerAndReclaim(t *testing.T) {
	p := segPath(t)
	a := mustCreate(t, p, smallGeo, CreateOptions{})
	v1 := publish(t, a, 0, "k", "1")
	b, err := Open(p, OpenOptions{Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	vb := nsStage(t, b, 0)
	nsPut(t, b, 0, "k", "abandoned")
	b.Close() // the stager dies with its stage open
	r, err := a.NsStage(0)
	if err != nil || !r.TookOver || r.Version != vb+1 {
		t.Fatalf("takeover %+v %v", r, err)
	}
	rc, err := a.NsReclaim(0)
	if err != nil {
		t.Fatal(err)
	}
	// keep: current v1, our open stage vb+1; vb was abandoned and had one entry.
	if rc.Removed != 1 || len(rc.Kept) != 2 || rc.Kept[0] != v1 || rc.Kept[1] != vb+1 {
		t.Fatalf("reclaim %+v", rc)
	}
	if l := a.Get(NsKey(0, vb, []byte("k"))); l.Hit {
		t.Fatalf("abandoned entry still there")
	}
	nsWant(t, a, 0, "k", "1", v1)
}

func TestNsPinSurvivesFlipsAndReclaim(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	r := mustOpen(t, p)
	v1 := publish(t, w, 0, "a", "1", "b", "1")
	if pr, err := r.NsPin(0); err != nil || pr.Version != v1 {
		t.Fatalf("pin %+v %v", pr, err)
	}
	_, err := r.NsPin(1)
	wantCode(t, err, CodePinned) // one pin per handle
	publish(t, w, 0, "a", "2", "b", "2")
	v3 := publish(t, w, 0, "a", "3", "b", "3")
	rc, err := w.NsReclaim(0)
	if err != nil || rc.Removed != 0 {
		t.Fatalf("reclaim with v1 pinned: %+v %v", rc, err)
	}
	nsWant(t, r, 0, "a", "1", v1) // pinned reads stay on v1 …
	nsWant(t, r, 0, "b", "1", v1)
	nsWant(t, w, 0, "a", "3", v3) // … while unpinned ones read the current version
	st, _ := w.NsState(0)
	if len(st.Pins) != 1 || st.Pins[0].Version != v1 || st.Pins[0].Participant != r.ParticipantID() {
		t.Fatalf("pins %+v", st.Pins)
	}
	if u, _ := r.NsUnpin(); u.Version != v1 {
		t.Fatalf("unpin %+v", u)
	}
	rc, _ = w.NsReclaim(0)
	if rc.Removed != 2 {
		t.Fatalf("after unpin: %+v", rc)
	}
	nsWant(t, r, 0, "a", "3", v3)
}

func TestNsDeadPinnerIsReleasedByItsDeath(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	publish(t, w, 0, "a", "1")
	r, err := Open(p, OpenOptions{Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	idx := uint32(r.ParticipantID()) - 1
	if _, err := r.NsPin(0); err != nil {
		t.Fatal(err)
	}
	r.Close() // dies holding its pin: the word stays, the lock goes
	publish(t, w, 0, "a", "2")
	publish(t, w, 0, "a", "3")
	if w.load(w.partOff(idx)+PartNsPin) == 0 {
		t.Fatalf("the dead pinner's word was cleared; this test needs it left")
	}
	if rc, _ := w.NsReclaim(0); rc.Removed != 1 {
		t.Fatalf("a dead pin kept its version: %+v", rc)
	}
}

func TestNsLeftoverPinIsVoidedByA10SuccessorsEpoch(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	publish(t, w, 0, "a", "1")
	r, err := Open(p, OpenOptions{Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.NsPin(0); err != nil {
		t.Fatal(err)
	}
	r.Close()
	// A 1.0 registrant takes the same index: it is alive, and it leaves the word as it was.
	old, err := Open(p, OpenOptions{Timeout: -1, Protocol: Protocol{1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if old.ParticipantID() != r.ParticipantID() || old.load(old.ownPinOff()) == 0 {
		t.Fatalf("setup: 1.0 successor at id %d (pinner %d)", old.ParticipantID(), r.ParticipantID())
	}
	publish(t, w, 0, "a", "2")
	publish(t, w, 0, "a", "3")
	if rc, _ := w.NsReclaim(0); rc.Removed != 1 {
		t.Fatalf("a leftover pin under a live 1.0 successor kept its version: %+v", rc)
	}
	// A 1.1 successor clears the word at registration (§5 step 3).
	old.Close()
	nu := mustOpen(t, p)
	if nu.load(nu.ownPinOff()) != 0 {
		t.Fatalf("1.1 registrant left ns_pin %#x", nu.load(nu.ownPinOff()))
	}
}

func TestNsRollback(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	_, err := w.NsRollback(0)
	wantCode(t, err, CodeNoPrevious)
	v1 := publish(t, w, 0, "a", "1")
	_, err = w.NsRollback(0) // (1, 0): nothing to go back to
	wantCode(t, err, CodeNoPrevious)
	v2 := publish(t, w, 0, "a", "2")
	if rb, err := w.NsRollback(0); err != nil || rb.Version != v1 || rb.Retired != v2 {
		t.Fatalf("rollback %+v %v", rb, err)
	}
	nsWant(t, w, 0, "a", "1", v1)
	// The rolled-back version is retired for good: reclaimed, and a new stage is above it.
	if rc, _ := w.NsReclaim(0); rc.Removed != 1 {
		t.Fatalf("reclaim after rollback %+v", rc)
	}
	if v := nsStage(t, w, 0); v != v2+1 {
		t.Fatalf("stage after rollback: %d, want %d (versions are never reused)", v, v2+1)
	}
}

func TestNsReclaimLeavesAStageOpenedAfterItsScan(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	rc := mustOpen(t, p)
	publish(t, w, 0, "a", "1")
	publish(t, w, 0, "a", "2")
	v3 := publish(t, w, 0, "a", "3") // v1 reclaimable
	var v4 uint32
	rc.setPauseHook(func(point string) {
		if point == PointNsReclaimAfterScan {
			v4 = nsStage(t, w, 0) // above the `last` the reclaimer read
			nsPut(t, w, 0, "a", "4")
		}
	})
	r, err := rc.NsReclaim(0)
	if err != nil || r.Removed != 1 {
		t.Fatalf("reclaim %+v %v", r, err)
	}
	if l := w.Get(NsKey(0, v4, []byte("a"))); !l.Hit {
		t.Fatalf("the entry of a stage opened after the scan was removed")
	}
	nsFlip(t, w, 0)
	nsWant(t, rc, 0, "a", "4", v3+1)
}

func TestNsPinRetriesWhenItsVersionRetiresUnderIt(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	r := mustOpen(t, p)
	publish(t, w, 0, "a", "1")
	fired := false
	r.setPauseHook(func(point string) {
		if point == PointNsPinAfterStore && !fired {
			fired = true
			publish(t, w, 0, "a", "2") // v1 previous …
			publish(t, w, 0, "a", "3") // … then retired, before the pin's second head load
		}
	})
	pr, err := r.NsPin(0)
	if err != nil || pr.Version != 3 {
		t.Fatalf("pin %+v %v: must not hold a version that retired before the pin was seen", pr, err)
	}
}

func TestNsUnpinnedMissRetriesOnARetiredVersion(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	r := mustOpen(t, p)
	retireAtPoint(t, w, r, PointNsGetAfterHead) // v1's entry is gone under the reader
	nsWant(t, r, 0, "a", "3", 3)                // the miss on v1 is not trusted: v1 retired
}

func TestNsTableIsUntrusted(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	_, err := w.NsGet(NsCount, []byte("a"))
	wantCode(t, err, CodeBadNamespace)
	w.store(nsHeadOff(1), NsHeadWord{Current: 2, Previous: 5}.word()) // previous ≥ current
	_, err = w.NsGet(1, []byte("a"))
	wantCode(t, err, CodeBadNamespace)
	w.store(nsStageOff(2), 1<<48) // bits 48..63 set
	_, err = w.NsStage(2)
	wantCode(t, err, CodeBadNamespace)
	w.store(nsStageOff(3), NsStageWord{Last: 1, Stager: uint16(smallGeo.ParticipantCapacity + 1)}.word())
	_, err = w.NsReclaim(3)
	wantCode(t, err, CodeBadNamespace)
}

func TestNs10HandleOnASegmentWithNamespaces(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	mustPut(t, w, "plain", "x", PutOptions{})
	v1 := publish(t, w, 0, "plain", "ns")
	old, err := Open(p, OpenOptions{Timeout: -1, Protocol: Protocol{1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// Plain keys read as before; the namespace entry is another key.
	if l := old.Get([]byte("plain")); !l.Hit || string(l.Value) != "x" {
		t.Fatalf("1.0 get plain: %+v", l)
	}
	if l := old.Get(NsKey(0, v1, []byte("plain"))); !l.Hit || string(l.Value) != "ns" {
		t.Fatalf("1.0 get of the prefixed key: %+v", l)
	}
	_, err = old.NsGet(0, []byte("plain"))
	wantCode(t, err, CodeUnsupported)
	_, err = old.NsStage(0)
	wantCode(t, err, CodeUnsupported)
	d, _ := old.Dump()
	if len(d.Entries) != 2 {
		t.Fatalf("1.0 dump lists %d entries, want the plain one and the prefixed one", len(d.Entries))
	}
}

func TestNsFlipBeforeEntriesFault(t *testing.T) {
	p := segPath(t)
	w, err := Create(p, smallGeo, CreateOptions{Open: OpenOptions{faults: faultNsFlipBeforeEntries}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r := mustOpen(t, p)
	nsStage(t, w, 0)
	nsPut(t, w, 0, "a", "1")
	// The stage is current before its flip, and only half written: b is not there yet.
	nsWant(t, r, 0, "a", "1", 1)
	nsWant(t, r, 0, "b", "", 1)
	nsPut(t, w, 0, "b", "1")
	if f := nsFlip(t, w, 0); f.Version != 1 {
		t.Fatalf("flip %+v", f)
	}
	nsWant(t, r, 0, "b", "1", 1)
}

func TestNsReclaimIgnoresPinsFault(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	bad, err := Open(p, OpenOptions{Timeout: -1, faults: faultNsReclaimIgnoresPins})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	r := mustOpen(t, p)
	v1 := publish(t, w, 0, "a", "1")
	if _, err := r.NsPin(0); err != nil {
		t.Fatal(err)
	}
	publish(t, w, 0, "a", "2")
	publish(t, w, 0, "a", "3")
	if rc, _ := bad.NsReclaim(0); rc.Removed != 1 {
		t.Fatalf("the faulty reclaim removed %d", rc.Removed)
	}
	nsWant(t, r, 0, "a", "", v1) // the pinned reader lost its entry: what the harness must catch
}

// The window the second head load of NsPin closes: between its first load and its store, the
// version retires and a reclaimer scans past the pin that is not stored yet and removes the
// version. A pin that trusted its first load would then read a version with no entries.
func TestNsPinDoesNotTrustAVersionRetiredBeforeItsStore(t *testing.T) {
	p := segPath(t)
	w := mustCreate(t, p, smallGeo, CreateOptions{})
	r := mustOpen(t, p)
	retireAtPoint(t, w, r, PointNsPinBeforeStore)
	pr, err := r.NsPin(0)
	if err != nil || pr.Version != 3 {
		t.Fatalf("pin %+v %v", pr, err)
	}
	nsWant(t, r, 0, "a", "3", 3)
}
