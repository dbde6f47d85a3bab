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
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B93F_E53B_8B53
        h ^= h >> 33
        return h
    }
}
