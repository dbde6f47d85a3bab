package warmcache

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// TestJournalCases decodes every journal of testdata/journal-cases.json with this package's
// §9 reader and checks the answer the Go and Rust decoders agreed on through the C ABI
// (docs/ABI.md "Journals"): the code, where reading stopped, the records accepted, the
// tombstones among them, the file's kind and a snapshot's end record. (The ABI's digest of
// the records is checked by `warmcheck fuzz --journals`.)
func TestJournalCases(t *testing.T) {
	data, err := os.ReadFile("../../testdata/journal-cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Geometry []string `json:"geometry"`
		Cases    []struct {
			Name        string `json:"name"`
			AnyGeometry bool   `json:"any_geometry"`
			ImageHex    string `json:"image_hex"`
			Expect      struct {
				Code       string `json:"code"`
				Offset     int64  `json:"offset"`
				Records    int    `json:"records"`
				Tombstones int    `json:"tombstones"`
				Kind       int    `json:"kind"`
				Complete   int    `json:"complete"`
				EndOrder   string `json:"end_order"`
				EndVersion string `json:"end_version"`
			} `json:"expect"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 30 {
		t.Fatalf("%d cases, expected the 30 or more make-cases.py writes", len(doc.Cases))
	}
	var w [3]uint64
	for i, s := range doc.Geometry {
		if w[i], err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	restoring := geometryFromWords(w[0], w[1], w[2])
	for _, c := range doc.Cases {
		image, err := hex.DecodeString(c.ImageHex)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		want := &restoring
		if c.AnyGeometry {
			want = nil
		}
		f := DecodeStoreImage(image, want)
		code, offset := "ok", int64(len(image))
		if len(f.Problems) > 0 {
			code, offset = f.Problems[0].Code, f.Problems[0].Offset
			if !f.Usable {
				offset = 0
			}
		}
		tomb := 0
		for _, r := range f.Records {
			if r.Kind == RecordKindDelete {
				tomb++
			}
		}
		kind := 0
		if f.Usable {
			kind = 1
			if f.Header.Magic == SnapshotMagic {
				kind = 2
			}
		}
		complete, endOrder, endVersion := 0, "0", "0"
		if f.Complete {
			complete, endOrder, endVersion = 1, strconv.FormatUint(f.End.Order, 10), strconv.FormatUint(f.End.Version, 10)
		}
		e := c.Expect
		if code != e.Code || offset != e.Offset || len(f.Records) != e.Records || tomb != e.Tombstones || kind != e.Kind ||
			complete != e.Complete || endOrder != e.EndOrder || endVersion != e.EndVersion {
			t.Errorf("%s: got %s at %d, %d records (%d tombstones), kind %d, complete %d, end %s/%s; agreed %+v",
				c.Name, code, offset, len(f.Records), tomb, kind, complete, endOrder, endVersion, e)
		}
	}
}
