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
	// Walking the slice down lets the compiler drop the bounds check of every word.
	for d := b; len(d) >= 8; d = d[8:] {
		h = wchWord(h, binary.LittleEndian.Uint64(d))
	}
	if len(b)%8 != 0 {
		h = wchWord(h, lastWord(b))
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

// §2 WCH64X4, the record checksum of FAST_CHECKSUM segments (1.1). WCH64 is one dependent
// chain (xor, rotate, multiply: ~5 cycles a word); WCH64X4 deals the words round-robin to four
// independent lanes, so four chains run at once, and adds the lanes only at the end. Each lane
// step is a bijection of the lane for a fixed word and of the word for a fixed lane, and the
// final sum is a bijection of each lane, so a change of any one word always changes the sum.
const (
	LaneStart1 uint64 = 0xC2B2AE3D27D4EB4F // 1·P2: lane k starts at seed ^ n·P1 ^ k·P2
	LaneStart2 uint64 = 0x85655C7A4FA9D69E // 2·P2 mod 2^64
	LaneStart3 uint64 = 0x48180AB7777EC1ED // 3·P2 mod 2^64
)

// WCH64X4 hashes b with seed as specified in §2.
func WCH64X4(b []byte, seed uint64) uint64 {
	var l lanes
	l.start(seed, len(b))
	n := len(b)
	i := 0
	for ; i+32 <= n; i += 32 {
		q := b[i : i+32 : i+32]
		l.v0 = laneStep(l.v0, binary.LittleEndian.Uint64(q[0:]))
		l.v1 = laneStep(l.v1, binary.LittleEndian.Uint64(q[8:]))
		l.v2 = laneStep(l.v2, binary.LittleEndian.Uint64(q[16:]))
		l.v3 = laneStep(l.v3, binary.LittleEndian.Uint64(q[24:]))
	}
	for k := 0; i < n; i, k = i+8, k+1 {
		l.word(k, keyWord(b, i/8))
	}
	return l.end()
}

// lanes is the state of WCH64X4 between words (four u64 lanes).
type lanes struct{ v0, v1, v2, v3 uint64 }

func (l *lanes) start(seed uint64, n int) {
	s := seed ^ uint64(n)*P1
	l.v0, l.v1, l.v2, l.v3 = s, s^LaneStart1, s^LaneStart2, s^LaneStart3
}

// laneStep is one lane's step: rotl64(v ^ w, 31) * P1 (one multiply a word, not WCH64's two).
func laneStep(v, w uint64) uint64 { return bits.RotateLeft64(v^w, 31) * P1 }

// word feeds word k of a group of four (k = word index mod 4) to its lane.
func (l *lanes) word(k int, w uint64) {
	switch k & 3 {
	case 0:
		l.v0 = laneStep(l.v0, w)
	case 1:
		l.v1 = laneStep(l.v1, w)
	case 2:
		l.v2 = laneStep(l.v2, w)
	default:
		l.v3 = laneStep(l.v3, w)
	}
}

// end adds the rotated lanes and applies WCH64's finalizer.
func (l *lanes) end() uint64 {
	return wchEnd(bits.RotateLeft64(l.v0, 1) + bits.RotateLeft64(l.v1, 7) + bits.RotateLeft64(l.v2, 12) + bits.RotateLeft64(l.v3, 18))
}

// ValueChecksum is the checksum a record of a segment with (fast = FAST_CHECKSUM) or without
// that feature carries for value (§7.2).
func ValueChecksum(value []byte, fast bool) uint64 {
	if fast {
		return WCH64X4(value, ValueSeed)
	}
	return WCH64(value, ValueSeed)
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

// lastWord returns the last, short chunk of b (len(b) mod 8 ≠ 0) as a zero-padded
// little-endian word: from one 8-byte load shifted when b has 8 bytes or more.
func lastWord(b []byte) uint64 {
	n := len(b)
	if n >= 8 {
		return binary.LittleEndian.Uint64(b[n-8:]) >> (8 * uint(8-n%8))
	}
	return tailWord(b)
}

// lowMask returns a mask of the low n bytes of a word (n in 1..8).
func lowMask(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return (uint64(1) << (8 * uint(n))) - 1
}
