import Foundation
@_spi(Harness) import Warmcache
import WarmcheckSegment

/// The geometry a rebuild uses when the damaged segment's own header cannot be trusted: that of
/// the newest journal or snapshot of the store whose 96-byte header passes its checksum
/// (PERSISTENCE.md §4: every file copies the segment's three geometry words at offsets 16, 24,
/// 32, and its `created_at_ns` at 80). Restore accepts only files of that geometry (§7 step 4).
struct StoreGeometry: Equatable {
    var shards: Int, slots: Int, keyCapacity: Int, valueCapacity: Int, window: Int, participants: Int

    static func newest(in dir: String) throws -> StoreGeometry {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw UsageError("--store \(dir): not a readable directory")
        }
        var best: (at: UInt64, g: StoreGeometry)?
        for name in names.sorted() {
            // The header alone: a snapshot holds the whole working set.
            guard let b = StoreReading.head(of: (dir as NSString).appendingPathComponent(name), 96) else { continue }
            func word(_ off: Int) -> UInt64 { le64(b, off) }
            guard [StoreImage.journalMagic, StoreImage.snapshotMagic].contains(word(0)),
                  WCH64.hash(Array(b[0..<88]), seed: StoreImage.seed) == word(88) else { continue }
            let (sh, sz, lim) = (word(16), word(24), word(32))
            let g = StoreGeometry(shards: Int(sh & 0xFFFF_FFFF), slots: Int(sh >> 32), keyCapacity: Int(sz & 0xFFFF_FFFF),
                                  valueCapacity: Int(sz >> 32), window: Int(lim & 0xFFFF_FFFF), participants: Int(lim >> 32))
            if best == nil || word(80) > best!.at { best = (word(80), g) }
        }
        guard let g = best?.g else {
            throw UsageError("--store \(dir): no journal or snapshot with a valid header, so no geometry to rebuild with (PERSISTENCE.md §4)")
        }
        return g
    }
}
