//! WCH64 (PROTOCOL.md §2): one word-oriented hash for keys, values and the header.
//!
//! It works on little-endian 64-bit words so that a reader can hash what it copies out of the
//! segment word by word ([`Wch64`]), without a second pass over the bytes.

/// First WCH64 multiplier (§2).
pub const P1: u64 = 0x9E3779B185EBCA87;
/// Second WCH64 multiplier (§2).
pub const P2: u64 = 0xC2B2AE3D27D4EB4F;

/// Seed of key hashes.
pub const KEY_SEED: u64 = 0x574B455953454544;
/// Seed of value checksums.
pub const VALUE_SEED: u64 = 0x57434B53554D3031;
/// Seed of the header checksum.
pub const HEADER_SEED: u64 = 0x5748454144455253;

/// Incremental WCH64 over 64-bit words. The byte length must be known up front because it is
/// mixed into the initial state.
#[derive(Clone, Copy, Debug)]
pub struct Wch64 {
    h: u64,
}

impl Wch64 {
    #[inline(always)]
    /// Starts a hash of `len` bytes with `seed`.
    pub fn new(len: usize, seed: u64) -> Self {
        Wch64 { h: seed ^ (len as u64).wrapping_mul(P1) }
    }

    /// Mixes one chunk, already read as a little-endian u64 (zero-padded if it was short).
    #[inline(always)]
    pub fn word(&mut self, w: u64) {
        self.h = (self.h ^ w.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1);
    }

    #[inline(always)]
    /// The final avalanche; the hash value.
    pub fn finish(self) -> u64 {
        let mut h = self.h;
        h ^= h >> 33;
        h = h.wrapping_mul(0xFF51AFD7ED558CCD);
        h ^= h >> 33;
        h = h.wrapping_mul(0xC4CEB93FE53B8B53);
        h ^= h >> 33;
        h
    }
}

/// WCH64X4 start constants: lane k starts at `seed ^ len·P1 ^ k·P2` (§2).
pub const LANE_START_1: u64 = 0xC2B2AE3D27D4EB4F;
/// Start of lane 2: `2·P2` (wrapping).
pub const LANE_START_2: u64 = 0x85655C7A4FA9D69E;
/// Start of lane 3: `3·P2` (wrapping).
pub const LANE_START_3: u64 = 0x48180AB7777EC1ED;

/// Incremental WCH64X4 (§2, feature `FAST_CHECKSUM`): the words go round-robin to four
/// independent lanes, so that four multiply chains overlap instead of one serial chain, with one
/// multiply a word instead of WCH64's two. Each lane step is a bijection of the lane for a fixed
/// word (and of the word for a fixed lane), and the final sum is a bijection of each lane, so a
/// change of any single word always changes the result.
#[derive(Clone, Copy, Debug)]
pub struct Wch64x4 {
    v: [u64; 4],
}

impl Wch64x4 {
    #[inline(always)]
    /// Starts a hash of `len` bytes with `seed`.
    pub fn new(len: usize, seed: u64) -> Self {
        let s = seed ^ (len as u64).wrapping_mul(P1);
        Wch64x4 { v: [s, s ^ LANE_START_1, s ^ LANE_START_2, s ^ LANE_START_3] }
    }

    #[inline(always)]
    fn step(v: u64, w: u64) -> u64 {
        (v ^ w).rotate_left(31).wrapping_mul(P1)
    }

    /// Mixes four consecutive words (word indices ≡ 0, 1, 2, 3 mod 4), one per lane.
    #[inline(always)]
    pub fn round(&mut self, w: [u64; 4]) {
        self.v = [
            Self::step(self.v[0], w[0]),
            Self::step(self.v[1], w[1]),
            Self::step(self.v[2], w[2]),
            Self::step(self.v[3], w[3]),
        ];
    }

    /// Mixes word number `i` of the input (its lane is `i mod 4`).
    #[inline(always)]
    pub fn word(&mut self, i: usize, w: u64) {
        // Constant indices only: one `self.v[i & 3]` kept the four lanes in memory (an array
        // indexed at run time cannot live in registers), putting a store and a reload into
        // every lane step of the main loop too.
        match i & 3 {
            0 => self.v[0] = Self::step(self.v[0], w),
            1 => self.v[1] = Self::step(self.v[1], w),
            2 => self.v[2] = Self::step(self.v[2], w),
            _ => self.v[3] = Self::step(self.v[3], w),
        }
    }

    #[inline(always)]
    /// Folds the four lanes and avalanches; the checksum value.
    pub fn finish(self) -> u64 {
        let [a, b, c, d] = self.v;
        let h = a
            .rotate_left(1)
            .wrapping_add(b.rotate_left(7))
            .wrapping_add(c.rotate_left(12))
            .wrapping_add(d.rotate_left(18));
        Wch64 { h }.finish()
    }
}

/// WCH64X4 of private bytes.
#[inline]
pub fn wch64x4(bytes: &[u8], seed: u64) -> u64 {
    let mut h = Wch64x4::new(bytes.len(), seed);
    let mut i = 0;
    for c in bytes.chunks_exact(32) {
        let w = |j: usize| u64::from_le_bytes(c[8 * j..8 * j + 8].try_into().unwrap());
        h.round([w(0), w(1), w(2), w(3)]);
        i += 4;
    }
    while i < words(bytes.len()) {
        h.word(i, chunk(bytes, i));
        i += 1;
    }
    h.finish()
}

/// The record checksum of `value` on a segment with (`fast`) or without `FAST_CHECKSUM` (§7.2).
#[inline]
pub fn value_checksum(value: &[u8], fast: bool) -> u64 {
    if fast {
        wch64x4(value, VALUE_SEED)
    } else {
        wch64(value, VALUE_SEED)
    }
}

/// Reads the `i`-th 8-byte chunk of `bytes` as a little-endian word, zero-padding a short tail.
#[inline(always)]
pub fn chunk(bytes: &[u8], i: usize) -> u64 {
    let start = i * 8;
    if start + 8 <= bytes.len() {
        u64::from_le_bytes(bytes[start..start + 8].try_into().unwrap())
    } else if start < bytes.len() {
        last_word(bytes)
    } else {
        0
    }
}

/// The last, short chunk of `bytes` (whose length is not a multiple of 8) as a zero-padded
/// little-endian word. A key of 8 bytes or more gives it with one load of its last 8 bytes,
/// shifted: the copy of a variable-length tail into a buffer that this replaced was a call to
/// `memcpy` on every get (callgrind: ~35 instructions of a 64-byte hit).
#[inline(always)]
pub fn last_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    debug_assert!(!n.is_multiple_of(8));
    if n >= 8 {
        u64::from_le_bytes(bytes[n - 8..].try_into().unwrap()) >> (8 * (8 - n % 8))
    } else {
        bytes.iter().enumerate().fold(0, |w, (j, &b)| w | (b as u64) << (8 * j))
    }
}

/// Number of 8-byte words that hold `len` bytes.
#[inline(always)]
pub const fn words(len: usize) -> usize {
    len.div_ceil(8)
}

/// WCH64 of private bytes.
#[inline]
pub fn wch64(bytes: &[u8], seed: u64) -> u64 {
    let mut h = Wch64::new(bytes.len(), seed);
    for c in bytes.chunks_exact(8) {
        h.word(u64::from_le_bytes(c.try_into().unwrap()));
    }
    if !bytes.len().is_multiple_of(8) {
        h.word(last_word(bytes));
    }
    h.finish()
}

/// WCH64 of a byte string given as little-endian words (the last one zero-padded).
#[inline]
pub fn wch64_words(words: &[u64], len: usize, seed: u64) -> u64 {
    let mut h = Wch64::new(len, seed);
    for &w in words {
        h.word(w);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `chunk` (and the `last_word` it uses for a short tail) is the zero-padded little-endian
    /// word of a byte-by-byte reading, for every length and every word index, one past the end too.
    #[test]
    fn chunk_is_the_zero_padded_word() {
        let bytes: Vec<u8> = (1u8..=40).collect();
        for n in 1..=bytes.len() {
            let b = &bytes[..n];
            for i in 0..=words(n) {
                let want = (0..8).fold(0u64, |w, j| w | (*b.get(8 * i + j).unwrap_or(&0) as u64) << (8 * j));
                assert_eq!(chunk(b, i), want, "word {i} of {n} bytes");
            }
        }
    }

    #[test]
    fn spec_table() {
        assert_eq!(wch64(b"", KEY_SEED), 0x301652d7fcec3de2);
        assert_eq!(wch64(b"abc", VALUE_SEED), 0x81d2222f4e83647f);
        let bytes: Vec<u8> = (0u8..64).collect();
        assert_eq!(wch64(&bytes, KEY_SEED), 0xf86bd55f1f8a1dc5);
        let ws: Vec<u64> = (0..8).map(|i| chunk(&bytes, i)).collect();
        assert_eq!(wch64_words(&ws, 64, VALUE_SEED), 0xcde6e411bb776119);
    }
}
