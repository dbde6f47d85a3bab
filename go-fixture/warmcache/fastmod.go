package warmcache

import "math/bits"

// fastMod is x mod d for a fixed 32-bit d without a division (Lemire's fastmod, exact for every
// 32-bit x and d; the Rust implementation's FastMod). Every operation computes its key's shard
// and home slot (§6): two 32-bit DIVs were ~20–40 cycles of latency on each get.
type fastMod struct {
	d uint64
	m uint64
}

func newFastMod(d uint32) fastMod {
	// For d = 1 this wraps to 0, which gives 0 = x mod 1.
	return fastMod{d: uint64(d), m: ^uint64(0)/uint64(d) + 1}
}

func (f fastMod) rem(x uint32) uint32 {
	hi, _ := bits.Mul64(f.m*uint64(x), f.d)
	return uint32(hi)
}
