#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Harness) import Warmcache
import WarmcheckSegment

/// A segment file the harness writes itself, header word by header word, from PROTOCOL.md §3, so
/// that refusal cases start from a file no implementation under test produced.
///
/// A fresh segment is its header page followed by zeros (§4.1 step 4: every byte but the
/// immutable header and `ready` is zero), so the image is only the 4096-byte header plus the
/// file's length; `write(to:)` allocates the rest (§4.1 step 3, so that readers, which refuse
/// holes with `sparse` since §4.2 step 11 says so, judge what the case changed), or leaves it a
/// hole when `sparse` is set. A sparse image keeps a crafted 2^40-byte geometry a few bytes on
/// disk.
///
/// Offsets come from Warmcache's `Layout` for now; they move to the spec-derived layout of the
/// WarmcheckSegment target once it lands (one source of offsets, independent of the code under test).
public struct CraftedSegment: Sendable {
    /// The first 4096 bytes as little-endian words.
    public var header: [UInt64]
    /// The length of the file written, in bytes (below 4096 the header is cut too).
    public var fileLength: UInt64
    /// Leave everything after the header a hole instead of allocating it (§13.2 "holes").
    public var sparse = false

    /// A valid, ready, empty segment of geometry `g` whose file is exactly `total_len` bytes.
    /// Derived words are computed with overflow checks; a geometry whose formulas overflow gets
    /// `UInt64.max` there (only rule cases use such geometries, and they fail before total_len).
    public init(geometry g: Warmcache.Geometry, features: UInt64 = 0) {
        header = [UInt64](repeating: 0, count: Layout.HEADER_SIZE / 8)
        fileLength = 0
        set(Layout.HDR_MAGIC, Layout.MAGIC)
        // The spec's newest version, not the library's constant: a refusal case must not move
        // with the Swift implementation it also judges.
        let newest = (try? Vocabulary.standard.get())?.protocol
        set(Layout.HDR_VERSION, Self.versionWord(major: UInt64(newest?.major ?? 1), minor: UInt64(newest?.minor ?? 1)))
        set(Layout.HDR_FEATURES_INCOMPAT, features)
        set(Layout.HDR_LAYOUT_FINGERPRINT, Layout.LAYOUT_FINGERPRINT)
        set(Layout.HDR_CREATOR_PID, UInt64(getpid()))
        set(Layout.HDR_CREATOR_INFO, UInt64(geteuid()) << 32)
        set(Layout.HDR_CREATED_AT_NS, 1_700_000_000_000_000_000)
        setGeometry(g)
        set(Layout.HDR_READY, Layout.READY)
        if features & Layout.FEATURE_SIM_CLOCK != 0 { set(Layout.HDR_SIM_CLOCK_NS, 1_000_000_000_000) }
        fileLength = word(Layout.HDR_TOTAL_LEN)
        seal()
    }

    public static func versionWord(major: UInt64, minor: UInt64, headerSize: UInt64 = UInt64(Layout.HEADER_SIZE)) -> UInt64 {
        major | (minor << 16) | (headerSize << 32)
    }

    public func word(_ offset: Int) -> UInt64 { header[offset / 8] }
    public mutating func set(_ offset: Int, _ v: UInt64) { header[offset / 8] = v }

    /// Stores the six geometry fields and every word derived from them (§3, §7).
    public mutating func setGeometry(_ g: Warmcache.Geometry) {
        set(Layout.HDR_GEOMETRY_SHARDS, g.packedShards)
        set(Layout.HDR_GEOMETRY_SIZES, g.packedSizes)
        set(Layout.HDR_GEOMETRY_LIMITS, g.packedLimits)
        set(Layout.HDR_SLOT_SIZE, g.slotSize)
        set(Layout.HDR_PARTICIPANTS_OFFSET, g.participantsOffset)
        set(Layout.HDR_SHARDS_OFFSET, g.shardsOffset)
        // Checked arithmetic: rule cases store fields far outside the limits, where Warmcache's
        // own derivations (which assume rules 1-6 hold) would trap.
        let (shardBytes, o1) = UInt64(g.slotsPerShard).multipliedReportingOverflow(by: g.slotSize)
        let shardSize = o1 ? UInt64.max : shardBytes + UInt64(Layout.SHARD_HEADER_SIZE)
        set(Layout.HDR_SHARD_SIZE, shardSize)
        let (all, o2) = UInt64(g.shardCount).multipliedReportingOverflow(by: shardSize)
        let (total, o3) = all.addingReportingOverflow(g.shardsOffset)
        set(Layout.HDR_TOTAL_LEN, o1 || o2 || o3 ? UInt64.max : total)
    }

    /// Recomputes `header_checksum` over bytes 0..135 (§3), so that a case changes only what it means to.
    public mutating func seal() {
        set(Layout.HDR_HEADER_CHECKSUM, Self.checksum(of: header))
    }

    static func checksum(of header: [UInt64]) -> UInt64 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Layout.HDR_CHECKSUMMED_BYTES)
        for i in 0..<(Layout.HDR_CHECKSUMMED_BYTES / 8) {
            withUnsafeBytes(of: header[i].littleEndian) { bytes.append(contentsOf: $0) }
        }
        return WCH64.hash(bytes, seed: Layout.HEADER_SEED)
    }

    /// Writes the file at `path` (which must not exist): the header, cut to `fileLength` if that
    /// is shorter, then a hole up to `fileLength`. Mode 0600, like a segment (§13).
    public func write(to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw UsageError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Layout.HEADER_SIZE)
        for w in header { withUnsafeBytes(of: w.littleEndian) { bytes.append(contentsOf: $0) } }
        let n = Int(min(UInt64(bytes.count), fileLength))
        if n > 0 {
            guard bytes.withUnsafeBytes({ pwrite(fd, $0.baseAddress, n, 0) }) == n else {
                throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
        guard fileLength <= UInt64(Int64.max), ftruncate(fd, off_t(fileLength)) == 0 else {
            throw UsageError("cannot size \(path) to \(fileLength) bytes: \(String(cString: strerror(errno)))")
        }
        // posix_fallocate returns the error instead of setting errno.
        if !sparse && fileLength > 0 {
            let e = posix_fallocate(fd, 0, off_t(fileLength))
            guard e == 0 else { throw UsageError("cannot allocate \(fileLength) bytes for \(path): \(String(cString: strerror(e)))") }
        }
    }
}
