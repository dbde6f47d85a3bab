// DurableFormat.swift — the durable store's bytes (docs/PERSISTENCE.md §3–§5): the order word of
// the segment header, the 96-byte file header and the records, encoded once here.
//
//  file header (96 bytes; journals and snapshots differ only in `magic`)
//  0       8        16        24       32       40                48      56            64          72     80           88
//  +-------+--------+---------+--------+--------+-----------------+-------+-------------+-----------+------+------------+-----------------+
//  | magic | format | g_shards| g_sizes|g_limits| seg_created_at  | writer| writer_start| participant| epoch| created_at | header_checksum |
//  +-------+--------+---------+--------+--------+-----------------+-------+-------------+-----------+------+------------+-----------------+
//  header_checksum = WCH64(bytes 0..87, JOURNAL_SEED)
//
//  record (record_len bytes, a multiple of 8)
//  0          4    5     6       8    16     24      32         40         48           56          64     72           80
//  +----------+----+-----+-------+----+------+-------+----------+----------+------------+-----------+------+------------+-----+-------+----------+
//  |record_len|kind|flags|key_len| seq| order|version|value_info|expires_at|stale_until |written_at |writer|writer_start| key | value | checksum |
//  +----------+----+-----+-------+----+------+-------+----------+----------+------------+-----------+------+------------+-----+-------+----------+
//  key and value zero-padded to 8; checksum = WCH64(bytes 0..record_len-8, JOURNAL_SEED)

extension Layout {
    /// Header line 11: the last durable order handed out (PERSISTENCE.md §3); outside the
    /// header checksum, in the range 1.0 readers accept whatever it holds.
    static let HDR_DURABLE_ORDER = 704
}

/// Constants of PERSISTENCE.md §4–§5, spelled as there.
public enum StoreFormat {
    public static let JOURNAL_MAGIC: UInt64 = 0x4C4E_524A_4D52_4157   // "WARMJRNL"
    public static let SNAPSHOT_MAGIC: UInt64 = 0x5041_4E53_4D52_4157  // "WARMSNAP"
    public static let JOURNAL_SEED: UInt64 = 0x574A_524E_4C53_4544    // "WJRNLSED"
    public static let MAJOR: UInt64 = 1
    public static let MINOR: UInt64 = 0
    public static let HEADER_SIZE = 96
    static let formatWord = MAJOR | (MINOR << 16) | (UInt64(HEADER_SIZE) << 32)
    /// Bytes of a record before its key.
    public static let RECORD_FIXED_SIZE = 80
    public static let RECORD_MIN_SIZE = RECORD_FIXED_SIZE + 8

    static let H_GEOMETRY_SHARDS = 16, H_GEOMETRY_SIZES = 24, H_GEOMETRY_LIMITS = 32
    static let H_SEGMENT_CREATED_AT = 40, H_WRITER = 48, H_WRITER_START_TIME = 56
    static let H_PARTICIPANT = 64, H_EPOCH = 72, H_CREATED_AT = 80, H_CHECKSUM = 88

    @inline(__always) static func pad8(_ n: Int) -> Int { (n + 7) & ~7 }
    /// §5's formula.
    static func recordLen(keyLen: Int, valueLen: Int) -> Int { RECORD_FIXED_SIZE + pad8(keyLen) + pad8(valueLen) + 8 }
}

/// A record's kind (§5).
public enum RecordKind: UInt8, Sendable {
    case put = 1
    /// An invalidation or eviction: a tombstone.
    case invalidate = 2
    /// The last record of a snapshot (§8).
    case end = 3
}

/// A decoded file header (§4).
public struct StoreHeader: Sendable, Equatable {
    public var magic: UInt64
    public var geometry: Geometry
    public var segmentCreatedAtNs: UInt64 = 0
    public var writer: UInt64 = 0
    public var writerStartTime: UInt64 = 0
    public var participant: UInt16 = 0
    public var epoch: UInt64 = 0
    public var createdAtNs: UInt64 = 0

    public init(magic: UInt64, geometry: Geometry) {
        self.magic = magic
        self.geometry = geometry
    }

    public var isSnapshot: Bool { magic == StoreFormat.SNAPSHOT_MAGIC }

    func encoded() -> [UInt8] {
        var b = ByteWriter(count: StoreFormat.HEADER_SIZE)
        b.put64(0, magic)
        b.put64(8, StoreFormat.formatWord)
        b.put64(StoreFormat.H_GEOMETRY_SHARDS, geometry.packedShards)
        b.put64(StoreFormat.H_GEOMETRY_SIZES, geometry.packedSizes)
        b.put64(StoreFormat.H_GEOMETRY_LIMITS, geometry.packedLimits)
        b.put64(StoreFormat.H_SEGMENT_CREATED_AT, segmentCreatedAtNs)
        b.put64(StoreFormat.H_WRITER, writer)
        b.put64(StoreFormat.H_WRITER_START_TIME, writerStartTime)
        b.put64(StoreFormat.H_PARTICIPANT, UInt64(participant))
        b.put64(StoreFormat.H_EPOCH, epoch)
        b.put64(StoreFormat.H_CREATED_AT, createdAtNs)
        b.sealChecksum(at: StoreFormat.H_CHECKSUM)
        return b.bytes
    }
}

/// One record (§5). `seq` is set by the journal when it appends.
public struct DurableRecord: Sendable, Equatable {
    public var kind: RecordKind
    public var seq: UInt64 = 0
    public var order: UInt64
    public var version: UInt64 = 0
    public var originTag: UInt32 = 0
    public var expiresAtNs: UInt64 = 0
    public var staleUntilNs: UInt64 = 0
    public var writtenAtNs: UInt64 = 0
    public var writer: UInt64 = 0
    public var writerStartTime: UInt64 = 0
    public var key: [UInt8]
    public var value: [UInt8] = []

    public init(kind: RecordKind, order: UInt64, key: [UInt8]) {
        self.kind = kind
        self.order = order
        self.key = key
    }

    func encoded() -> [UInt8] {
        let n = StoreFormat.recordLen(keyLen: key.count, valueLen: value.count)
        var b = ByteWriter(count: n)
        b.put32(0, UInt32(n))
        b.bytes[4] = kind.rawValue
        b.put16(6, UInt16(key.count))
        b.put64(8, seq)
        b.put64(16, order)
        b.put64(24, version)
        b.put64(32, UInt64(value.count) | (UInt64(originTag) << 32))
        b.put64(40, expiresAtNs)
        b.put64(48, staleUntilNs)
        b.put64(56, writtenAtNs)
        b.put64(64, writer)
        b.put64(72, writerStartTime)
        b.bytes.replaceSubrange(StoreFormat.RECORD_FIXED_SIZE..<(StoreFormat.RECORD_FIXED_SIZE + key.count), with: key)
        let vo = StoreFormat.RECORD_FIXED_SIZE + StoreFormat.pad8(key.count)
        b.bytes.replaceSubrange(vo..<(vo + value.count), with: value)
        b.sealChecksum(at: n - 8)
        return b.bytes
    }
}

/// Little-endian stores into a zeroed buffer.
struct ByteWriter {
    var bytes: [UInt8]
    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }
    mutating func put64(_ off: Int, _ v: UInt64) { for i in 0..<8 { bytes[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
    mutating func put32(_ off: Int, _ v: UInt32) { for i in 0..<4 { bytes[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
    mutating func put16(_ off: Int, _ v: UInt16) { bytes[off] = UInt8(v & 0xFF); bytes[off + 1] = UInt8(v >> 8) }
    /// WCH64 of the bytes before `off`, stored at `off`.
    mutating func sealChecksum(at off: Int) {
        let sum = bytes.withUnsafeBytes { WCH64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<off]), seed: StoreFormat.JOURNAL_SEED) }
        put64(off, sum)
    }
}
