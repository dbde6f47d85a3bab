package warmcache

import (
	"encoding/binary"
	"math/bits"
)

// §2 WCH64. One function hashes keys, values and the header; it works on 64-bit words so that
// a reader can hash what it copies out of shared memory word by word (wchStart/wchWord/wchEnd).
const (
	P1 uint64 = 0x9E3779B185EBCA87
	P2 uint64 = 0xC2B2AE3D27D4EB4F

	KeySeed    uint64 = 0x574B455953454544 // KEY_SEED
	ValueSeed  uint64 = 0x57434B53554D3031 // VALUE_SEED
	HeaderSeed uint64 = 0x5748454144455253 // HEADER_SEED
)

// WCH64 hashes b with seed as specified in §2.
func WCH64(b []byte, seed uint64) uint64 {
	h := wchStart(seed, len(b))
	n := len(b)
	i := 0
	for ; i+8 <= n; i += 8 {
		h = wchWord(h, binary.LittleEndian.Uint64(b[i:]))
	}
	if i < n {
		h = wchWord(h, keyWord(b, i/8))
	}
	return wchEnd(h)
}

func wchStart(seed uint64, n int) uint64 { return seed ^ (uint64(n) * P1) }

func wchWord(h, w uint64) uint64 { return bits.RotateLeft64(h^(w*P2), 31) * P1 }

func wchEnd(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	h *= 0xC4CEB93FE53B8B53
	h ^= h >> 33
	return h
}

// tailWord returns the last, short chunk (1..7 bytes) as a zero-padded little-endian word.
func tailWord(b []byte) uint64 {
	var w uint64
	for j := len(b) - 1; j >= 0; j-- {
		w = w<<8 | uint64(b[j])
	}
	return w
}

// keyWord returns word i (8 bytes, zero-padded) of key b. i must be < ceil(len(b)/8).
func keyWord(b []byte, i int) uint64 {
	off := i * 8
	if off+8 <= len(b) {
		return binary.LittleEndian.Uint64(b[off:])
	}
	if n := len(b); n >= 8 {
		// Short last chunk of a long key: load the last 8 bytes and shift the extra ones out.
		r := n - off
		return binary.LittleEndian.Uint64(b[n-8:]) >> (8 * uint(8-r))
	}
	return tailWord(b[off:])
}

// lowMask returns a mask of the low n bytes of a word (n in 1..8).
func lowMask(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return (uint64(1) << (8 * uint(n))) - 1
}
