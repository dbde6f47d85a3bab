package warmcache

import (
	"strings"
	"testing"
)

var proto10 = Protocol{Major: 1, Minor: 0}

// A 1.1 handle writes minor 1 everywhere; a handle told to speak 1.0 writes minor 0 into the
// header, its participant entry and its records (§14), and 1.1 readers read its segment.
func TestProtocolMinorWritten(t *testing.T) {
	for _, tc := range []struct {
		p     Protocol
		minor uint64
	}{{Protocol{}, 1}, {Protocol{1, 1}, 1}, {proto10, 0}} {
		p := segPath(t)
		c := mustCreate(t, p, DefaultGeometry, CreateOptions{Open: OpenOptions{Protocol: tc.p}})
		mustPut(t, c, "k", "v", PutOptions{})
		if v := readWord(t, p, OffVersion); v != ProtocolMajor|tc.minor<<16|HeaderSize<<32 {
			t.Errorf("%s: version word %#x", tc.p, v)
		}
		r := mustOpen(t, p) // a 1.1 reader
		l := r.Get([]byte("k"))
		if !l.Hit || uint64(l.Writer.ProtocolMinor) != tc.minor || l.Writer.ProtocolMajor != 1 {
			t.Errorf("%s: lookup %+v", tc.p, l)
		}
		parts, _ := r.Participants()
		if len(parts) < 2 || uint64(parts[0].ProtocolMinor) != tc.minor || parts[1].ProtocolMinor != ProtocolMinor {
			t.Errorf("%s: participants %+v", tc.p, parts)
		}
		r.Close()
		c.Close()
	}
}

// FAST_CHECKSUM: created on request, records carry WCH64X4, 1.1 readers read them, a 1.0 reader
// refuses the segment with unsupported_features and a 1.0 handle cannot create one.
func TestFastChecksumSegment(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, DefaultGeometry, CreateOptions{FastChecksum: true})
	defer c.Close()
	if f := readWord(t, p, OffFeaturesIncompat); f != FeatureFastChecksum {
		t.Fatalf("features_incompat %#x", f)
	}
	val := strings.Repeat("0123456789abcdef", 40) + "xyz"
	pr := mustPut(t, c, "big", val, PutOptions{})
	ro := c.recOff(c.slotOff(pr.Shard, pr.Slot), Word(c.load(c.slotOff(pr.Shard, pr.Slot)+SlotState)).A())
	if got := c.load(ro + RecChecksum); got != WCH64X4([]byte(val), ValueSeed) {
		t.Fatalf("record checksum %#x is not WCH64X4", got)
	}
	r := mustOpen(t, p)
	defer r.Close()
	if l := r.Get([]byte("big")); !l.Hit || string(l.Value) != val {
		t.Fatalf("1.1 reader: %+v", l)
	}
	if d, _ := r.Dump(); len(d.Problems) != 0 || len(d.Entries) != 1 {
		t.Fatalf("dump %+v", d)
	}
	_, err := Open(p, OpenOptions{Protocol: proto10})
	wantCode(t, err, CodeUnsupportedFeatures)
	_, err = Create(segPath(t), DefaultGeometry, CreateOptions{FastChecksum: true, Open: OpenOptions{Protocol: proto10}})
	if err == nil || !strings.Contains(err.Error(), "1.1") {
		t.Fatalf("1.0 create with FAST_CHECKSUM: %v", err)
	}
	// A WCH64 sum on a FAST_CHECKSUM segment is corruption, never a hit.
	c.store(ro+RecChecksum, WCH64([]byte(val), ValueSeed))
	if l := r.Get([]byte("big")); l.Hit || !l.Corrupt {
		t.Fatalf("WCH64 sum on a FAST_CHECKSUM segment: %+v", l)
	}
	if _, err := ParseProtocol("1.2"); err == nil {
		t.Fatal("1.2 parsed")
	}
}

// The future-version images (§14): this reader reads the minor one and refuses the others with
// exactly the code the spec names.
func TestFutureImages(t *testing.T) {
	for _, tc := range []struct {
		f    FutureImage
		code Code
	}{{FutureMinor, ""}, {FutureIncompat, CodeUnsupportedFeatures}, {FutureMajor, CodeUnsupportedMajor}} {
		p := segPath(t)
		c := mustCreate(t, p, DefaultGeometry, CreateOptions{Future: tc.f})
		mustPut(t, c, "k", "v", PutOptions{})
		r, err := Open(p, OpenOptions{})
		if tc.code == "" {
			if err != nil {
				t.Fatalf("%s: %v", tc.f, err)
			}
			if l := r.Get([]byte("k")); !l.Hit || string(l.Value) != "v" {
				t.Fatalf("%s: %+v", tc.f, l)
			}
			if v := readWord(t, p, OffVersion); v>>16&0xFFFF != 9 || readWord(t, p, OffFeaturesCompat) != FutureUnknownBit {
				t.Fatalf("%s: version %#x", tc.f, v)
			}
			r.Close()
		} else {
			wantCode(t, err, tc.code)
		}
		c.Close()
	}
	if _, err := Create(segPath(t), DefaultGeometry, CreateOptions{Future: "2.5"}); err == nil {
		t.Fatal("unknown future image accepted")
	}
}
