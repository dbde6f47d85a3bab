package warmcache

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

var smallGeo = Geometry{ShardCount: 4, SlotsPerShard: 16, KeyCapacity: 32, ValueCapacity: 256, ProbeWindow: 4, ParticipantCapacity: 16}

func segPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "seg")
}

func mustCreate(t testing.TB, path string, g Geometry, o CreateOptions) *Cache {
	t.Helper()
	c, err := Create(path, g, o)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustOpen(t testing.TB, path string) *Cache {
	t.Helper()
	c, err := Open(path, OpenOptions{Timeout: -1})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustPut(t testing.TB, c *Cache, key, val string, o PutOptions) PutResult {
	t.Helper()
	r, err := c.Put([]byte(key), []byte(val), o)
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return r
}

func wantCode(t testing.TB, err error, code Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got nil", code)
	}
	if _, ok := err.(*Error); !ok {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if got := CodeOf(err); got != code {
		t.Fatalf("want %s, got %s (%v)", code, got, err)
	}
}

// patchFile rewrites words of a closed segment file; if fix is set the header checksum is
// recomputed afterwards so that the check under test is the one that fails.
func patchFile(t testing.TB, path string, fix bool, words map[int]uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off, v := range words {
		binary.LittleEndian.PutUint64(b[off:], v)
	}
	if fix {
		var ws [17]uint64
		for i := range ws {
			ws[i] = binary.LittleEndian.Uint64(b[i*8:])
		}
		binary.LittleEndian.PutUint64(b[OffHeaderChecksum:], headerChecksum(ws[:]))
	}
	if err := os.WriteFile(path, b, 0600); err != nil {
		t.Fatal(err)
	}
}

func readWord(t testing.TB, path string, off int) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b[off:])
}
