// The base image of the fuzzer and of the image vectors: a small segment written by the Swift
// implementation with entries at the edges (key lengths 1, 7, 8, 9 and capacity, an empty and a
// full value, a refreshed entry, a removed one, expiring ones), then normalised (pids, times and
// participant entries fixed) so that the same seed gives the same mutants on every run.

import Foundation
@_spi(Harness) import Warmcache

public enum BaseImage {
    public static let geometry = Geometry(shardCount: 1, slotsPerShard: 8, keyCapacity: 16, valueCapacity: 32,
                                          probeWindow: 4, participantCapacity: 2)
    public static let clockStart: UInt64 = 1_000_000

    /// Keys the image holds (or held), for the image vectors' gets.
    public static let keys: [[UInt8]] = ["a", "key-7ch", "8bytekey", "nine-char", "sixteen-byte-key", "gone", "absent"].map { Array($0.utf8) }

    public static func build(workDir: String = Repo.defaultWorkDir) throws -> [UInt8] {
        let path = "\(workDir)/warmcheck-ffi-base-\(getpid()).wc"
        unlink(path)
        defer { unlink(path) }
        let cache = try WarmCache.create(path: path, geometry: geometry, options: WarmCacheOptions().harness(simClockStartNs: clockStart))
        let puts: [(Int, Int, UInt64, UInt64)] = [(0, 0, 0, 0), (1, 7, 1000, 500), (2, 8, 2000, 0), (3, 9, 0, 0),
                                                  (4, 32, 100, 100_000), (5, 1, 0, 0)]
        for (k, vlen, ttl, grace) in puts {
            let value = (0..<vlen).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ k) }
            _ = cache.put(keys[k], value, options: PutOptions(ttlNs: ttl, graceNs: grace, originTag: UInt32(k)))
        }
        _ = cache.put(keys[3], Array("refreshed".utf8))
        _ = cache.invalidate(keys[5])
        cache.close()
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ManifestError("cannot read the base image \(path)")
        }
        return normalise([UInt8](data))
    }

    static func normalise(_ image: [UInt8]) -> [UInt8] {
        var b = image
        b.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            func store(_ off: Int, _ v: UInt64) { p.storeBytes(of: v, toByteOffset: off, as: UInt64.self) }
            store(Layout.HDR_CREATOR_PID, 4242)
            store(Layout.HDR_CREATOR_START_TIME, 0)
            store(Layout.HDR_CREATOR_INFO, UInt64(Layout.LANG_SWIFT))
            store(Layout.HDR_CREATED_AT_NS, clockStart)
            store(Layout.HDR_HEADER_CHECKSUM, WCH64.hash(UnsafeRawBufferPointer(start: p, count: Layout.HDR_CHECKSUMMED_BYTES), seed: Layout.HEADER_SEED))
            let g = geometry
            for off in stride(from: Int(g.participantsOffset), to: Int(g.participantsOffset) + Int(g.participantCapacity) * 64, by: 8) {
                store(off, 0)
            }
            for s in 0..<Int(g.shardCount) {
                for j in 0..<Int(g.slotsPerShard) {
                    store(ImageMutator.slotOffset(g, s, j) + Layout.SLOT_CLAIMED_AT_NS, 0)
                    for a in 0..<2 {
                        let rec = ImageMutator.recordOffset(g, s, j, a)
                        let w = p.load(fromByteOffset: rec + Layout.REC_WRITER, as: UInt64.self)
                        store(rec + Layout.REC_WRITER, w & ~0xFFFF_FFFF | (w == 0 ? 0 : 4242))
                        store(rec + Layout.REC_WRITER_START_TIME, 0)
                    }
                }
            }
        }
        return b
    }
}
