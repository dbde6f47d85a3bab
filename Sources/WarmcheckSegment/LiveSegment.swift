import Atomics
#if canImport(Glibc)
import Glibc
#endif

// A segment read while its participants run: `warmcheck stats --watch`, `exporter`, `entries`.
//
// Unlike `SegmentSnapshot` (a pread copy taken while every fixture is idle), nothing here is
// quiet: any word may change between two loads. So the file is mapped read-only and shared
// (MAP_SHARED, PROT_READ: the same pages the participants map, and no way to write them), every
// word is loaded atomically with the ordering §10 names for a reader, and nothing is cached
// between calls: each `word` is a fresh load. The observer never registers (it is not a
// participant, §5), takes no lock, and writes nothing, not even `referenced`.
//
// swift-atomics gives the atomic loads, as it does to the Swift implementation; that is a
// library, not implementation code, so the decoder still shares nothing with any implementation.

/// Why a watched segment stopped being the one that was opened.
public enum LiveSegmentLoss: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at the path any more (unlinked, e.g. `rm` or a producer removing it).
    case deleted(path: String)
    /// The path names another file now (a new segment created under the same name).
    case replaced(path: String)
    /// The file became shorter than `total_len`: reading on would fault (SIGBUS).
    case truncated(path: String, size: UInt64, totalLen: Int)

    public var description: String {
        switch self {
        case .deleted(let p): return "segment \(p) was deleted while being read (no file at that path any more)"
        case .replaced(let p): return "segment \(p) was replaced while being read (the path names another file now)"
        case .truncated(let p, let s, let t): return "segment \(p) was truncated to \(s) bytes while being read (total_len is \(t))"
        }
    }
}

public final class LiveSegment: SegmentWords, @unchecked Sendable {
    public let path: String
    public let geometry: SpecGeometry
    // The descriptor stays open for the liveness probes (F_OFD_GETLK needs an open file) and to
    // tell whether the path still names this file. It holds no lock: an observer's descriptor
    // must never make a dead participant look alive.
    private let fd: Int32
    private let base: UnsafeMutableRawPointer
    private let dev: UInt64, ino: UInt64

    private init(path: String, geometry: SpecGeometry, fd: Int32, base: UnsafeMutableRawPointer, dev: UInt64, ino: UInt64) {
        self.path = path; self.geometry = geometry; self.fd = fd; self.base = base; self.dev = dev; self.ino = ino
    }

    /// Opens `path` with the checks of §4.2 (minus registration) and maps it read-only.
    /// `owner`: the uid the file must belong to, as for `SegmentSnapshot.read`.
    public static func open(path: String, owner: uid_t? = nil) -> Result<LiveSegment, OpenRefusal> {
        let fd: Int32
        switch SegmentSnapshot.openChecked(path: path) {
        case .success(let v): fd = v
        case .failure(let r): return .failure(r)
        }
        let g: SpecGeometry
        switch SegmentSnapshot.checkOpening(fd: fd, owner: owner) {
        case .success(let v): g = v
        case .failure(let r): close(fd); return .failure(r)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errno; close(fd); return .failure(.io(errno: e)) }
        let p = mmap(nil, g.totalLen, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { let e = errno; close(fd); return .failure(.io(errno: e)) }
        return .success(LiveSegment(path: path, geometry: g, fd: fd, base: p, dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)))
    }

    deinit {
        munmap(base, geometry.totalLen)
        close(fd)
    }

    @inline(__always)
    private func atomic(_ off: Int) -> UnsafeAtomic<UInt64> {
        precondition(off >= 0 && off + 8 <= geometry.totalLen && off & 7 == 0, "word at \(off) outside the mapping")
        // The mapping is PROT_READ: only loads are ever issued through this (a store would fault).
        return UnsafeAtomic<UInt64>(at: (base + off).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// A relaxed atomic load: counters, `referenced`, key and record words (§10 "advisory" and
    /// "ordered by the surrounding acquire load and fence").
    public func word(_ off: Int) -> UInt64 { atomic(off).load(ordering: .relaxed) }

    /// An acquire load: the first state load of a consistent read (§9.2, §10).
    public func wordAcquire(_ off: Int) -> UInt64 { atomic(off).load(ordering: .acquiring) }

    /// Probes the liveness lock now (§5): no answer is remembered, a participant may leave at any time.
    public func participantAlive(index i: Int) -> Bool {
        i >= 0 && i < geometry.participantCapacity && isLocked(fd, offset: geometry.participantOffset(i))
    }

    /// Nil while the path still names the mapped file at its full length. Called before every
    /// refresh: a deleted file stays readable through the mapping (the inode lives on), so without
    /// this a watcher would show a segment nobody can open any more as if it were live.
    public func loss() -> LiveSegmentLoss? {
        var own = stat()
        if fstat(fd, &own) == 0, UInt64(own.st_size) < UInt64(geometry.totalLen) {
            return .truncated(path: path, size: UInt64(own.st_size), totalLen: geometry.totalLen)
        }
        var st = stat()
        if lstat(path, &st) != 0 { return errno == ENOENT ? .deleted(path: path) : nil }
        if UInt64(st.st_dev) != dev || UInt64(st.st_ino) != ino { return .replaced(path: path) }
        return nil
    }
}

/// One slot read consistently while others write (§9.2's snapshot, for an observer).
public struct LiveEntry: Sendable, Equatable {
    public var shard: Int, slot: Int
    public var word: StateWordView
    /// The key, when `key_len` was in bounds.
    public var key: [UInt8]?
    /// `record[A]`'s header words, for the readable states (READY, REFRESHING, STALE).
    public var record: RecordView?
    /// Why the state word is impossible (§8.1), nil for a possible one; no record is read then.
    public var impossibility: Impossibility?
}

/// How a live slot read ended.
public enum LiveRead: Sendable, Equatable {
    case empty
    case entry(LiveEntry)
    /// The state word changed under every one of `READ_RETRIES` attempts.
    case contended(shard: Int, slot: Int)
}

extension LiveSegment {
    /// §9.2 `READ_RETRIES`: the observer gives up as a reader does.
    public static let readRetries = 8

    /// Reads slot `j` of shard `s`: state word (acquire), key and `record[A]` header words
    /// (relaxed), an acquire fence, the state word again (relaxed). The copy counts only if the
    /// two state words are equal; the observer is stricter than `snapshot_ok` (it needs no
    /// value, so retrying is cheap). The value bytes are not copied.
    public func read(shard s: Int, slot j: Int) -> LiveRead {
        let g = geometry
        let o = g.slotOffset(s, j)
        for _ in 0..<Self.readRetries {
            let s1 = StateWordView(raw: wordAcquire(o))
            if s1.state == .empty && s1.raw & SpecLayout.StateWord.reservedMask == 0 && s1.owner == 0 { return .empty }
            let keyLen = word(o + SpecLayout.Slot.keyLen)
            var key: [UInt8]?
            if keyLen >= 1 && keyLen <= UInt64(g.keyCapacity) {
                key = loadBytes(at: o + SpecLayout.Slot.key, count: Int(keyLen))
            }
            var rec: RecordView?
            let impossible = s1.impossibility(participantCapacity: g.participantCapacity)
            if let st = s1.state, st.isReadable, impossible == nil {
                rec = recordHeader(g.recordOffset(s, j, s1.active))
            }
            atomicMemoryFence(ordering: .acquiring)
            if word(o) == s1.raw {
                return .entry(LiveEntry(shard: s, slot: j, word: s1, key: key, record: rec, impossibility: impossible))
            }
        }
        return .contended(shard: s, slot: j)
    }

    /// `count` bytes at the 8-aligned `off`, loaded one word at a time (never a memcpy of shared bytes).
    public func loadBytes(at off: Int, count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        var i = 0
        while i < count {
            let w = word(off + i)
            for b in 0..<min(8, count - i) { out.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(b)))) }
            i += 8
        }
        return out
    }

    /// A record's header words (§7.2), without its value.
    func recordHeader(_ r: Int) -> RecordView {
        let info = word(r + SpecLayout.Record.valueInfo)
        return RecordView(version: word(r + SpecLayout.Record.version), valueLen: info & 0xFFFF_FFFF,
                          originTag: UInt32(truncatingIfNeeded: info >> 32), checksum: word(r + SpecLayout.Record.checksum),
                          expiresAtNs: word(r + SpecLayout.Record.expiresAtNs), staleUntilNs: word(r + SpecLayout.Record.staleUntilNs),
                          writtenAtNs: word(r + SpecLayout.Record.writtenAtNs),
                          writer: WriterView(word: word(r + SpecLayout.Record.writer), startTime: word(r + SpecLayout.Record.writerStartTime)),
                          value: nil, valuePaddingZero: true)
    }

    /// `now()` of §12 as a reader sees it: `sim_clock_ns` (acquire) under SIM_CLOCK, else CLOCK_REALTIME.
    public func now() -> UInt64 {
        if word(SpecLayout.Header.featuresIncompat) & SpecLayout.featureSimClock != 0 {
            return wordAcquire(SpecLayout.Header.simClockNs)
        }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
