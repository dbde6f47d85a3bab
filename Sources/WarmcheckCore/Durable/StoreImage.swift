import Foundation
@_spi(Harness) import Warmcache

/// Store files written from docs/PERSISTENCE.md §4–§5 alone (no implementation's code), to feed
/// restorers crafted journals and snapshots.
///
/// ```
///  header (96 bytes)   0 magic | 8 format | 16..39 geometry (3 words) | 40 segment_created_at_ns
///                     48 writer | 56 writer_start_time | 64 participant | 72 epoch
///                     80 created_at_ns | 88 header_checksum = WCH64(bytes 0..87, JOURNAL_SEED)
///  record              0 record_len u32 | 4 kind | 5 flags | 6 key_len u16 | 8 seq | 16 order
///                     24 version | 32 value_info | 40 expires | 48 stale_until | 56 written_at
///                     64 writer | 72 writer_start_time | 80 key, value (each padded to 8) | checksum
/// ```
public enum StoreImage {
    public static let journalMagic: UInt64 = 0x4C4E_524A_4D52_4157  // "WARMJRNL"
    public static let snapshotMagic: UInt64 = 0x5041_4E53_4D52_4157  // "WARMSNAP"
    public static let seed: UInt64 = 0x574A_524E_4C53_4544  // JOURNAL_SEED, "WJRNLSED"
    public static let headerSize = 96

    /// The three geometry words of PROTOCOL.md §3 (offsets 48, 56, 64).
    public static func geometryWords(shards: Int, slots: Int, key: Int, value: Int, window: Int, participants: Int) -> [UInt64] {
        [UInt64(shards) | UInt64(slots) << 32, UInt64(key) | UInt64(value) << 32, UInt64(window) | UInt64(participants) << 32]
    }

    static func put(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }

    public static func header(magic: UInt64 = journalMagic, geometry: [UInt64], major: UInt64 = 1) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: headerSize)
        put(&b, 0, magic)
        put(&b, 8, major | UInt64(headerSize) << 32)
        for (i, w) in geometry.enumerated() { put(&b, 16 + 8 * i, w) }
        put(&b, 64, 1)
        put(&b, 72, 1)
        put(&b, 88, WCH64.hash(Array(b[0..<88]), seed: seed))
        return b
    }

    static func pad8(_ n: Int) -> Int { (n + 7) & ~7 }

    public static func record(kind: UInt8 = 1, seq: UInt64, order: UInt64, version: UInt64, key: [UInt8], value: [UInt8]) -> [UInt8] {
        let n = 80 + pad8(key.count) + pad8(value.count) + 8
        var b = [UInt8](repeating: 0, count: n)
        for i in 0..<4 { b[i] = UInt8(truncatingIfNeeded: n >> (8 * i)) }
        b[4] = kind
        b[6] = UInt8(key.count & 0xFF)
        b[7] = UInt8(key.count >> 8)
        put(&b, 8, seq)
        put(&b, 16, order)
        put(&b, 24, version)
        put(&b, 32, UInt64(value.count))
        b.replaceSubrange(80..<80 + key.count, with: key)
        b.replaceSubrange(80 + pad8(key.count)..<80 + pad8(key.count) + value.count, with: value)
        put(&b, n - 8, WCH64.hash(Array(b[0..<n - 8]), seed: seed))
        return b
    }
}
