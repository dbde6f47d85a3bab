package warmcache

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
)

// The "agreement" cases of testdata/vectors.json (PROTOCOL.md §13.1): odd segments that every
// implementation must answer the same way. The Rust and Swift tests run the same cases.

type agreementStep struct {
	Op       string         `json:"op"`
	KeyHex   string         `json:"key_hex"`
	ValueHex string         `json:"value_hex"`
	TTLNs    string         `json:"ttl_ns"`
	GraceNs  string         `json:"grace_ns"`
	Version  string         `json:"version"`
	NowNs    string         `json:"now_ns"`
	Offset   uint64         `json:"offset"`
	Value    string         `json:"value"`
	Bits     string         `json:"bits"`
	From     uint64         `json:"from"`
	To       uint64         `json:"to"`
	Len      int            `json:"len"`
	Expect   map[string]any `json:"expect"`
}

type agreementFile struct {
	Agreement struct {
		Geometry   map[string]uint32 `json:"geometry"`
		SimClockNs string            `json:"sim_clock_ns"`
		Cases      []struct {
			Name  string          `json:"name"`
			Steps []agreementStep `json:"steps"`
		} `json:"cases"`
	} `json:"agreement"`
}

func u64s(t *testing.T, s string) uint64 {
	t.Helper()
	if s == "" {
		return 0
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("bad integer %q: %v", s, err)
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAgreementVectors(t *testing.T) {
	var f agreementFile
	readVectors(t, &f)
	a := f.Agreement
	if len(a.Cases) < 9 {
		t.Fatalf("only %d agreement cases", len(a.Cases))
	}
	g := a.Geometry
	geo := Geometry{ShardCount: g["shard_count"], SlotsPerShard: g["slots_per_shard"], KeyCapacity: g["key_capacity"],
		ValueCapacity: g["value_capacity"], ProbeWindow: g["probe_window"], ParticipantCapacity: g["participant_capacity"]}
	for _, tc := range a.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			p := segPath(t)
			c := mustCreate(t, p, geo, CreateOptions{simClock: true, simClockStart: u64s(t, a.SimClockNs)})
			file, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			for i, st := range tc.Steps {
				runAgreementStep(t, c, file, i, st)
			}
		})
	}
}

// runAgreementStep makes one step; raw writes go through the file, which shares its pages with
// the mapping.
func runAgreementStep(t *testing.T, c *Cache, file *os.File, i int, st agreementStep) {
	t.Helper()
	word := func(off uint64) uint64 {
		var w [8]byte
		if _, err := file.ReadAt(w[:], int64(off)); err != nil {
			t.Fatal(err)
		}
		return binary.LittleEndian.Uint64(w[:])
	}
	setWord := func(off, v uint64) {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], v)
		if _, err := file.WriteAt(w[:], int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	ex := st.Expect
	switch st.Op {
	case "set_word":
		setWord(st.Offset, u64s(t, st.Value))
	case "or_word":
		setWord(st.Offset, word(st.Offset)|u64s(t, st.Bits))
	case "copy":
		buf := make([]byte, st.Len)
		if _, err := file.ReadAt(buf, int64(st.From)); err != nil {
			t.Fatal(err)
		}
		if _, err := file.WriteAt(buf, int64(st.To)); err != nil {
			t.Fatal(err)
		}
	case "set_clock":
		if err := c.setSimClock(u64s(t, st.NowNs)); err != nil {
			t.Fatal(err)
		}
	case "put":
		o := PutOptions{TTL: time.Duration(u64s(t, st.TTLNs)), Grace: time.Duration(u64s(t, st.GraceNs)), Version: u64s(t, st.Version)}
		r, err := c.Put(unhex(t, st.KeyHex), unhex(t, st.ValueHex), o)
		if want, ok := ex["fail"].(string); ok {
			var e *Error
			if !errors.As(err, &e) || string(e.Code()) != want {
				t.Fatalf("step %d put: %v, want fail(%s)", i, err, want)
			}
			return
		}
		if err != nil || strconv.FormatUint(r.Version, 10) != ex["version"] {
			t.Fatalf("step %d put: %+v %v, want version %v", i, r, err, ex["version"])
		}
	case "get":
		l := c.Get(unhex(t, st.KeyHex))
		got := map[string]any{"hit": l.Hit, "value_hex": hex.EncodeToString(l.Value), "version": strconv.FormatUint(l.Version, 10),
			"stale": l.Stale, "refresh_requested": l.RefreshRequested,
			"expires_at_ns": strconv.FormatUint(l.ExpiresAtNs, 10), "stale_until_ns": strconv.FormatUint(l.StaleUntilNs, 10)}
		for k, v := range ex {
			if got[k] != v {
				t.Fatalf("step %d get: %s = %v, want %v (%+v)", i, k, got[k], v, l)
			}
		}
	case "dump":
		d, err := c.Dump()
		if err != nil {
			t.Fatal(err)
		}
		have, want := "", ""
		for _, e := range d.Entries {
			have += strconv.Itoa(int(e.Slot)) + " "
		}
		for _, s := range ex["slots"].([]any) {
			want += strconv.Itoa(int(s.(float64))) + " "
		}
		if have != want {
			t.Fatalf("step %d dump: entries in slots [%s], want [%s] (problems %q)", i, have, want, d.Problems)
		}
		if (len(d.Problems) > 0) != ex["problems"] {
			t.Fatalf("step %d dump: problems %q, want some: %v", i, d.Problems, ex["problems"])
		}
	default:
		t.Fatalf("step %d: unknown op %q", i, st.Op)
	}
}
