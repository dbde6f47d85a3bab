package warmcache

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
)

type vectorsFile struct {
	Vectors []struct {
		InputHex      string `json:"input_hex"`
		KeyHash       string `json:"key_hash"`
		ValueChecksum string `json:"value_checksum"`
		HeaderSeed    string `json:"header_seed"`
		DefaultShard  uint32 `json:"default_shard"`
		DefaultHome   uint32 `json:"default_home"`
	} `json:"vectors"`
	Geometry []struct {
		ShardCount, SlotsPerShard, KeyCapacity, ValueCapacity, ProbeWindow, ParticipantCapacity uint32
		SlotSize, ParticipantsOffset, ShardsOffset, ShardSize, TotalLen                         uint64
	} `json:"geometry"`
	LayoutFingerprint string `json:"layout_fingerprint"`
}

// readVectors decodes testdata/vectors.json into v and returns the raw bytes.
func readVectors(t *testing.T, v interface{}) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
	return b
}

func loadVectors(t *testing.T) vectorsFile {
	// The geometry entries use snake_case; map them through a generic decode.
	var v vectorsFile
	b := readVectors(t, &v)
	var raw struct {
		Geometry []map[string]uint64 `json:"geometry"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for i, g := range raw.Geometry {
		e := &v.Geometry[i]
		e.ShardCount, e.SlotsPerShard = uint32(g["shard_count"]), uint32(g["slots_per_shard"])
		e.KeyCapacity, e.ValueCapacity = uint32(g["key_capacity"]), uint32(g["value_capacity"])
		e.ProbeWindow, e.ParticipantCapacity = uint32(g["probe_window"]), uint32(g["participant_capacity"])
		e.SlotSize, e.ParticipantsOffset, e.ShardsOffset = g["slot_size"], g["participants_offset"], g["shards_offset"]
		e.ShardSize, e.TotalLen = g["shard_size"], g["total_len"]
	}
	return v
}

func TestHashVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	c := (&Cache{geo: DefaultGeometry}).withGeometry()
	for _, vec := range v.Vectors {
		in, err := hex.DecodeString(vec.InputHex)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []struct {
			seed uint64
			want string
		}{{KeySeed, vec.KeyHash}, {ValueSeed, vec.ValueChecksum}, {HeaderSeed, vec.HeaderSeed}} {
			if got := fmt.Sprintf("%016x", WCH64(in, k.seed)); got != k.want {
				t.Errorf("WCH64(%q, %#x) = %s, want %s", vec.InputHex, k.seed, got, k.want)
			}
		}
		// Streaming over words (as readers do) agrees with the byte form.
		buf := make([]byte, len(in))
		h := wchStart(ValueSeed, len(in))
		for i := 0; i < (len(in)+7)/8; i++ {
			h = wchWord(h, keyWord(in, i))
		}
		copy(buf, in)
		if wchEnd(h) != WCH64(buf, ValueSeed) {
			t.Errorf("word-wise hash differs for %q", vec.InputHex)
		}
		if len(in) == 0 {
			continue
		}
		_, s, home := c.keyPlace(in)
		if s != vec.DefaultShard || home != vec.DefaultHome {
			t.Errorf("place(%q) = %d/%d, want %d/%d", vec.InputHex, s, home, vec.DefaultShard, vec.DefaultHome)
		}
	}
}

func TestGeometryFigures(t *testing.T) {
	v := loadVectors(t)
	for _, g := range v.Geometry {
		geo := Geometry{g.ShardCount, g.SlotsPerShard, g.KeyCapacity, g.ValueCapacity, g.ProbeWindow, g.ParticipantCapacity}
		if err := geo.Validate(); err != nil {
			t.Fatal(err)
		}
		l := geo.Layout()
		if l.SlotSize != g.SlotSize || l.ParticipantsOffset != g.ParticipantsOffset || l.ShardsOffset != g.ShardsOffset ||
			l.ShardSize != g.ShardSize || l.TotalLen != g.TotalLen {
			t.Errorf("layout %+v for %+v, want %+v", l, geo, g)
		}
	}
	fp, _ := strconv.ParseUint(v.LayoutFingerprint, 16, 64)
	if fp != LayoutFingerprint {
		t.Errorf("fingerprint %x", fp)
	}
	// The fingerprint's bytes follow from the sizes (§3).
	want := uint64(CacheLine) | 8<<8 | 1<<16 | SlotHeaderSize/8<<24 | RecordHeaderSize/8<<32 |
		ShardHeaderSize/64<<40 | ParticipantSize/8<<48 | HeaderSize/512<<56
	if want != LayoutFingerprint {
		t.Errorf("derived fingerprint %x", want)
	}
	if l := DefaultGeometry.Layout(); l.RecordSize != 1088 || l.SlotSize != 2304 || l.TotalLen != 2371584 {
		t.Errorf("default layout %+v", l)
	}
}
