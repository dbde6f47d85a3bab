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
    /// Full words first, then the zero-padded last one (`loadWord`): every key is hashed on
    /// every get, and a test for the tail in each step cost a compare and branch per word.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let n = bytes.count
        var h = start(seed: seed, length: n)
        let full = n >> 3
        var i = 0
        while i < full {
            h = absorb(h, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)))
            i &+= 1
        }
        if full &* 8 < n { h = absorb(h, loadWord(bytes, at: full &* 8)) }
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
        if n >= 8 && i < n {
            // A short last word of an input of 8 bytes or more: one load of the input's last 8
            // bytes, shifted down, instead of a bounds-checked loop per byte (that loop was
            // ~60 instructions of a 64 B get: the key is hashed and compared through here).
            let last = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
            return last >> (8 * UInt64(i + 8 - n))
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

/// WCH64X4 (§2, feature FAST_CHECKSUM), the record checksum of 1.1's fast segments: the words go
/// round-robin to four independent lanes, so four multiply chains overlap instead of WCH64's one
/// serial chain, with one multiply a word instead of two. Each lane step is a bijection of the
/// lane for a fixed word (and of the word for a fixed lane), and the final sum is a bijection of
/// each lane, so a change of any single word always changes the result.
public struct WCH64X4: Sendable {
    public static let L1: UInt64 = 0xC2B2AE3D27D4EB4F  // lane k starts at seed ^ len·P1 ^ k·P2
    public static let L2: UInt64 = 0x85655C7A4FA9D69E
    public static let L3: UInt64 = 0x48180AB7777EC1ED

    public var v0, v1, v2, v3: UInt64

    @inline(__always)
    public init(seed: UInt64, length: Int) {
        let s = WCH64.start(seed: seed, length: length)
        v0 = s; v1 = s ^ Self.L1; v2 = s ^ Self.L2; v3 = s ^ Self.L3
    }

    @inline(__always)
    static func step(_ v: UInt64, _ w: UInt64) -> UInt64 {
        let x = v ^ w
        return ((x << 31) | (x >> 33)) &* WCH64.P1
    }

    /// Four consecutive words (indices ≡ 0, 1, 2, 3 mod 4), one per lane.
    @inline(__always)
    public mutating func round(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) {
        v0 = Self.step(v0, a); v1 = Self.step(v1, b); v2 = Self.step(v2, c); v3 = Self.step(v3, d)
    }

    /// Word number `i` of the input (its lane is `i mod 4`).
    @inline(__always)
    public mutating func word(_ i: Int, _ w: UInt64) {
        switch i & 3 {
        case 0: v0 = Self.step(v0, w)
        case 1: v1 = Self.step(v1, w)
        case 2: v2 = Self.step(v2, w)
        default: v3 = Self.step(v3, w)
        }
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always)
    public func finish() -> UInt64 {
        WCH64.finish(Self.rotl(v0, 1) &+ Self.rotl(v1, 7) &+ Self.rotl(v2, 12) &+ Self.rotl(v3, 18))
    }

    /// WCH64X4 over raw bytes.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = WCH64X4(seed: seed, length: bytes.count)
        for i in 0..<WCH64.wordCount(bytes.count) { h.word(i, WCH64.loadWord(bytes, at: i * 8)) }
        return h.finish()
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }
}

/// The record checksum of `value` on a segment with (`fast`) or without FAST_CHECKSUM (§7.2).
@inline(__always)
public func valueChecksum(_ value: UnsafeRawBufferPointer, fast: Bool) -> UInt64 {
    fast ? WCH64X4.hash(value, seed: Layout.VALUE_SEED) : WCH64.hash(value, seed: Layout.VALUE_SEED)
}
