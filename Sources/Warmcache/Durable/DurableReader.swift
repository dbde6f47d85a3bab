// DurableReader.swift — strict reading of a journal or snapshot (docs/PERSISTENCE.md §9).
// Nothing read is trusted: every length is checked against the bytes present before it is
// used, and no record at or after the first failure is returned.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One failure of §9: the file, the byte offset, one of §9's codes (or `io`), and how many bytes
/// from the offset on were not applied.
public struct StoreProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var offset: Int
    public var code: String
    public var detail: String
    public var notAppliedBytes: Int

    public var description: String { "\(code) at byte \(offset) of \(file): \(detail)" }
}

/// A file as §9 reads it: the header, the applied prefix of records, the problems met.
public struct StoreFile: Sendable {
    public var path: String
    public var header: StoreHeader?
    /// The records before the first failure (a snapshot's `end` record is not among them).
    public var records: [DurableRecord] = []
    public var problems: [StoreProblem] = []
    /// A snapshot that ended with its `end` record.
    public var complete = false
    public var end: DurableRecord?

    /// False when the header failed: nothing of the file is applied.
    public var usable: Bool { header != nil }
}

public enum StoreReader {
    /// Read `path` (§9). `want` is the restoring geometry; nil accepts any geometry that passes
    /// PROTOCOL.md §3's rules. An unreadable file is one problem of code `io`.
    public static func read(path: String, want: Geometry?) -> StoreFile {
        switch readWholeFile(path) {
        case .success(let data): return decode(data, path: path, want: want)
        case .failure(let e):
            return StoreFile(path: path, problems: [StoreProblem(file: path, offset: 0, code: "io", detail: "read: \(e.message)", notAppliedBytes: 0)])
        }
    }

    /// §9 over bytes already in memory (the C ABI's and the tests' entry point).
    public static func decode(_ data: [UInt8], path: String = "image", want: Geometry?) -> StoreFile {
        data.withUnsafeBytes { decode($0, path: path, want: want) }
    }

    static func decode(_ d: UnsafeRawBufferPointer, path: String, want: Geometry?) -> StoreFile {
        var f = StoreFile(path: path)
        func bad(_ off: Int, _ code: String, _ detail: String) {
            f.problems.append(StoreProblem(file: path, offset: off, code: code, detail: detail, notAppliedBytes: d.count - off))
        }
        func u64(_ o: Int) -> UInt64 { d.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian }
        func sum(_ from: Int, _ to: Int) -> UInt64 {
            WCH64.hash(UnsafeRawBufferPointer(rebasing: d[from..<to]), seed: StoreFormat.JOURNAL_SEED)
        }
        if d.count < StoreFormat.HEADER_SIZE {
            bad(0, "not_a_journal", "\(d.count) bytes, shorter than the \(StoreFormat.HEADER_SIZE)-byte header")
            return f
        }
        let magic = u64(0)
        guard magic == StoreFormat.JOURNAL_MAGIC || magic == StoreFormat.SNAPSHOT_MAGIC else {
            bad(0, "not_a_journal", "magic \(hex(magic)) is neither WARMJRNL nor WARMSNAP")
            return f
        }
        let fw = u64(8)
        guard fw & 0xFFFF == StoreFormat.MAJOR, fw >> 32 == UInt64(StoreFormat.HEADER_SIZE) else {
            bad(8, "unsupported_format", "format word \(hex(fw)): major \(fw & 0xFFFF), header size \(fw >> 32) (this reader: major 1, 96)")
            return f
        }
        let storedSum = u64(StoreFormat.H_CHECKSUM), computedSum = sum(0, StoreFormat.H_CHECKSUM)
        guard storedSum == computedSum else {
            bad(StoreFormat.H_CHECKSUM, "bad_header_checksum", "stored \(hex(storedSum)), computed \(hex(computedSum))")
            return f
        }
        let g = Geometry.unpack(shards: u64(StoreFormat.H_GEOMETRY_SHARDS), sizes: u64(StoreFormat.H_GEOMETRY_SIZES),
                                limits: u64(StoreFormat.H_GEOMETRY_LIMITS))
        if let rule = g.createViolation() {
            bad(StoreFormat.H_GEOMETRY_SHARDS, "other_geometry", "the file's geometry is invalid: \(rule)")
            return f
        }
        if let want, g != want {
            bad(StoreFormat.H_GEOMETRY_SHARDS, "other_geometry", "the file's geometry \(g) is not the restoring \(want)")
            return f
        }
        var h = StoreHeader(magic: magic, geometry: g)
        h.segmentCreatedAtNs = u64(StoreFormat.H_SEGMENT_CREATED_AT)
        h.writer = u64(StoreFormat.H_WRITER)
        h.writerStartTime = u64(StoreFormat.H_WRITER_START_TIME)
        h.participant = UInt16(truncatingIfNeeded: u64(StoreFormat.H_PARTICIPANT))
        h.epoch = u64(StoreFormat.H_EPOCH)
        h.createdAtNs = u64(StoreFormat.H_CREATED_AT)
        f.header = h
        let snapshot = h.isSnapshot
        var off = StoreFormat.HEADER_SIZE
        var seq: UInt64 = 0
        while off < d.count {
            let left = d.count - off
            if left < 8 {
                bad(off, "torn_record", "\(left) bytes left, fewer than a record's first word")
                return f
            }
            let n = Int(d.loadUnaligned(fromByteOffset: off, as: UInt32.self).littleEndian)
            if n < StoreFormat.RECORD_MIN_SIZE || n % 8 != 0 {
                bad(off, "bad_record", "record_len \(n) (a record is at least \(StoreFormat.RECORD_MIN_SIZE) bytes, a multiple of 8)")
                return f
            }
            if n > left {
                bad(off, "torn_record", "record_len \(n) runs past the end of the file (\(left) bytes left)")
                return f
            }
            let stored = u64(off + n - 8), computed = sum(off, off + n - 8)
            if stored != computed {
                bad(off, "bad_checksum", "stored \(hex(stored)), computed \(hex(computed))")
                return f
            }
            let kindByte = d[off + 4], flags = d[off + 5]
            let keyLen = Int(d.loadUnaligned(fromByteOffset: off + 6, as: UInt16.self).littleEndian)
            let vi = u64(off + 32)
            let valueLen = Int(UInt32(truncatingIfNeeded: vi))
            guard let kind = RecordKind(rawValue: kindByte), kind != .end || snapshot else {
                bad(off, "bad_record", "kind \(kindByte) is not a record kind of this file")
                return f
            }
            if flags != 0 {
                bad(off, "bad_record", "flags \(hex(UInt64(flags))), zero in format 1.0")
                return f
            }
            if kind != .end && (keyLen == 0 || keyLen > Int(g.keyCapacity)) {
                bad(off, "bad_record", "key_len \(keyLen) outside 1..\(g.keyCapacity)")
                return f
            }
            if valueLen > Int(g.valueCapacity) || (kind != .put && valueLen != 0) {
                bad(off, "bad_record", "value length \(valueLen) (value_capacity \(g.valueCapacity), kind \(kindByte))")
                return f
            }
            let formula = StoreFormat.recordLen(keyLen: keyLen, valueLen: valueLen)
            if n != formula {
                bad(off, "bad_record", "record_len \(n), the formula gives \(formula)")
                return f
            }
            let ko = off + StoreFormat.RECORD_FIXED_SIZE, vo = ko + StoreFormat.pad8(keyLen)
            var r = DurableRecord(kind: kind, order: u64(off + 16), key: Array(d[ko..<(ko + keyLen)]))
            r.seq = u64(off + 8)
            r.version = u64(off + 24)
            r.originTag = UInt32(truncatingIfNeeded: vi >> 32)
            r.expiresAtNs = u64(off + 40)
            r.staleUntilNs = u64(off + 48)
            r.writtenAtNs = u64(off + 56)
            r.writer = u64(off + 64)
            r.writerStartTime = u64(off + 72)
            r.value = Array(d[vo..<(vo + valueLen)])
            if r.seq != seq &+ 1 {
                bad(off, "seq_gap", "seq \(r.seq) after \(seq)")
                return f
            }
            seq = r.seq
            off += n
            if kind == .end {
                f.complete = true
                f.end = r
                if off != d.count { bad(off, "bad_record", "\(d.count - off) bytes after the end record") }
                return f
            }
            f.records.append(r)
        }
        if snapshot && !f.complete { bad(off, "no_end", "the snapshot's records stop before an end record") }
        return f
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}

/// The whole of a regular file, or the errno of the first failing call.
func readWholeFile(_ path: String) -> Result<[UInt8], StoreIOError> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return .failure(StoreIOError(op: "open", path: path, errno: errno)) }
    defer { _ = Glibc.close(fd) }
    var st = stat()
    if fstat(fd, &st) != 0 { return .failure(StoreIOError(op: "fstat", path: path, errno: errno)) }
    var out = [UInt8](repeating: 0, count: Int(st.st_size))
    var got = 0
    while got < out.count {
        let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(StoreIOError(op: "read", path: path, errno: errno))
        }
        if n == 0 { break }   // the file shrank under us: what was read is what there is
        got += n
    }
    if got < out.count { out.removeLast(out.count - got) }
    return .success(out)
}

/// A failed system call of the store, with the file and errno.
public struct StoreIOError: Error, Sendable, CustomStringConvertible {
    public var op: String
    public var path: String
    public var errno: Int32
    public var message: String { "\(path): \(op) failed: \(SegmentError.errnoName(errno))" }
    public var description: String { message }
}
