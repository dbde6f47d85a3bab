package warmcache

import (
	"encoding/hex"
	"fmt"
	"testing"
	"unsafe"
)

// TestWCH64X4Vectors checks WCH64X4 (§2, FAST_CHECKSUM) against testdata/vectors.json, and the
// reader's copy loop (copyValueX4, four words a round then a tail) against the byte form for
// every length up to 200 bytes, with garbage in the padding of the last word (§13.1: masked).
func TestWCH64X4Vectors(t *testing.T) {
	var v struct {
		WCH64X4 struct {
			Vectors []struct {
				InputHex      string `json:"input_hex"`
				ValueChecksum string `json:"value_checksum"`
			} `json:"vectors"`
		} `json:"wch64x4"`
	}
	readVectors(t, &v)
	if len(v.WCH64X4.Vectors) < 10 {
		t.Fatalf("vectors.json has %d wch64x4 vectors", len(v.WCH64X4.Vectors))
	}
	for _, vec := range v.WCH64X4.Vectors {
		in, err := hex.DecodeString(vec.InputHex)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%016x", WCH64X4(in, ValueSeed)); got != vec.ValueChecksum {
			t.Errorf("WCH64X4(%d bytes %.16s…) = %s, want %s", len(in), vec.InputHex, got, vec.ValueChecksum)
		}
		if WCH64X4(in, ValueSeed) == WCH64(in, ValueSeed) {
			t.Errorf("WCH64X4 equals WCH64 for %q", vec.InputHex)
		}
	}
	mem := make([]uint64, 32)
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i*13 + 1)
	}
	c := &Cache{base: unsafe.Pointer(&mem[0])}
	for n := 0; n <= 200; n++ {
		for i := range mem {
			mem[i] = 0xA5A5A5A5A5A5A5A5 // padding garbage past n
		}
		b := (*[256]byte)(unsafe.Pointer(&mem[0]))
		copy(b[:n], src[:n])
		dst := make([]byte, n)
		if got, want := c.copyValueX4(0, dst), WCH64X4(src[:n], ValueSeed); got != want {
			t.Fatalf("copyValueX4 of %d bytes = %x, WCH64X4 = %x", n, got, want)
		}
		if string(dst) != string(src[:n]) {
			t.Fatalf("copyValueX4 of %d bytes copied %x", n, dst)
		}
	}
}

// TestWCH64X4DetectsOneWord: changing any one word of a value changes its WCH64X4 (the property
// §2 states), here for every word position of a 1 KiB value and a few bit patterns.
func TestWCH64X4DetectsOneWord(t *testing.T) {
	v := make([]byte, 1024)
	for i := range v {
		v[i] = byte(i)
	}
	base := WCH64X4(v, ValueSeed)
	for i := 0; i < len(v); i += 8 {
		for _, flip := range []byte{1, 0x80, 0xFF} {
			v[i+int(flip)%8] ^= flip
			if WCH64X4(v, ValueSeed) == base {
				t.Fatalf("flipping %#x at byte %d does not change WCH64X4", flip, i)
			}
			v[i+int(flip)%8] ^= flip
		}
	}
}
