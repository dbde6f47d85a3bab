// WCH64, written from PROTOCOL.md §2 (the harness does not borrow an implementation's hash).

public enum SpecHash {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    public static let keySeed: UInt64 = 0x574B_4559_5345_4544
    public static let valueSeed: UInt64 = 0x5743_4B53_554D_3031
    public static let headerSeed: UInt64 = 0x5748_4541_4445_5253

    /// `WCH64(bytes, seed)`: 8-byte little-endian chunks, the last one zero-padded.
    public static func wch64<C: Collection>(_ bytes: C, seed: UInt64) -> UInt64 where C.Element == UInt8, C.Index == Int {
        var h = seed ^ (UInt64(bytes.count) &* p1)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            var w: UInt64 = 0
            for k in 0..<8 where i + k < bytes.endIndex { w |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            let x = h ^ (w &* p2)
            h = ((x << 31) | (x >> 33)) &* p1
            i += 8
        }
        return finish(h)
    }

    /// `WCH64X4(bytes, seed)` (§2, feature FAST_CHECKSUM): chunk i goes to lane i mod 4, each
    /// lane step is `rotl64(v ^ w, 31) * P1`, the lanes are summed rotated, then WCH64's finalizer.
    public static func wch64x4<C: Collection>(_ bytes: C, seed: UInt64) -> UInt64 where C.Element == UInt8, C.Index == Int {
        let s = seed ^ (UInt64(bytes.count) &* p1)
        var v: [UInt64] = [s, s ^ 0xC2B2_AE3D_27D4_EB4F, s ^ 0x8565_5C7A_4FA9_D69E, s ^ 0x4818_0AB7_777E_C1ED]
        var i = bytes.startIndex, k = 0
        while i < bytes.endIndex {
            var w: UInt64 = 0
            for b in 0..<8 where i + b < bytes.endIndex { w |= UInt64(bytes[i + b]) << (8 * UInt64(b)) }
            let x = v[k & 3] ^ w
            v[k & 3] = ((x << 31) | (x >> 33)) &* p1
            i += 8
            k += 1
        }
        func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
        return finish(rotl(v[0], 1) &+ rotl(v[1], 7) &+ rotl(v[2], 12) &+ rotl(v[3], 18))
    }

    /// WCH64's finalizer (§2), shared by WCH64X4.
    static func finish(_ h0: UInt64) -> UInt64 {
        var h = h0
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B93F_E53B_8B53
        h ^= h >> 33
        return h
    }

    /// The record checksum of a segment with (`fast`) or without FAST_CHECKSUM (§7.2).
    public static func valueChecksum<C: Collection>(_ value: C, fast: Bool) -> UInt64 where C.Element == UInt8, C.Index == Int {
        fast ? wch64x4(value, seed: valueSeed) : wch64(value, seed: valueSeed)
    }
}
