// WCH64.swift — the protocol hash (PROTOCOL.md §2). Word-oriented so a reader can hash what it
// copies out of shared memory word by word.

public enum WCH64 {
    public static let P1: UInt64 = 0x9E3779B185EBCA87
    public static let P2: UInt64 = 0xC2B2AE3D27D4EB4F

    /// Initial state for an input of `length` bytes.
    @inline(__always)
    public static func start(seed: UInt64, length: Int) -> UInt64 {
        seed ^ (UInt64(truncatingIfNeeded: length) &* P1)
    }

    /// Absorb one little-endian 8-byte chunk (zero-padded if it is the last, short one).
    @inline(__always)
    public static func absorb(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let x = h ^ (w &* P2)
        return ((x << 31) | (x >> 33)) &* P1
    }

    @inline(__always)
    public static func finish(_ h0: UInt64) -> UInt64 {
        var h = h0
        h ^= h >> 33; h = h &* 0xFF51AFD7ED558CCD
        h ^= h >> 33; h = h &* 0xC4CEB93FE53B8B53
        h ^= h >> 33
        return h
    }

    /// WCH64 over raw bytes.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = start(seed: seed, length: bytes.count)
        let n = bytes.count
        var i = 0
        while i < n {
            h = absorb(h, loadWord(bytes, at: i))
            i += 8
        }
        return finish(h)
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// WCH64 over words already in little-endian order; `length` is the byte length.
    public static func hash(words: UnsafeBufferPointer<UInt64>, length: Int, seed: UInt64) -> UInt64 {
        var h = start(seed: seed, length: length)
        for w in words { h = absorb(h, w) }
        return finish(h)
    }

    /// The little-endian word starting at byte `i` of `bytes`, zero-padded past the end.
    @inline(__always)
    public static func loadWord(_ bytes: UnsafeRawBufferPointer, at i: Int) -> UInt64 {
        let n = bytes.count
        if i + 8 <= n {
            return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        }
        var w: UInt64 = 0
        var k = 0
        while i + k < n {
            w |= UInt64(bytes[i + k]) << (8 * UInt64(k))
            k += 1
        }
        return w
    }

    /// The mask of the low `n` bytes of a word (all ones for n ≥ 8): what of a last, partly
    /// used word belongs to the key or value.
    @inline(__always)
    public static func lowMask(_ n: Int) -> UInt64 { n >= 8 ? ~0 : (UInt64(1) << (8 * UInt64(n))) &- 1 }

    /// Number of 8-byte words that hold `length` bytes.
    @inline(__always)
    public static func wordCount(_ length: Int) -> Int { (length + 7) >> 3 }
}
