#if canImport(Glibc)
import Glibc
#endif

// A copy of a segment file taken with pread, decoded on demand.
//
// The harness takes it between steps, when every fixture is idle, paused inside a hook or dead:
// nobody writes then, and pread reads the same page cache the fixtures map, so the copy is the
// segment as it is (the harness never maps it and so can never disturb it). The opening checks
// are those of §4.2, in order, minus registration: an observer is not a participant.

public struct SegmentSnapshot: SegmentWords, Sendable {
    public let path: String
    public let geometry: SpecGeometry
    /// Byte 0 … total_len − 1 of the file.
    let bytes: [UInt8]
    /// Participant index → whether its liveness lock (§5) was held when the copy was taken.
    public let alive: [Bool]

    /// Reads and checks the file at `path`. `liveness: false` skips the lock probes (tests of
    /// crafted files that no process holds). `maxTotalLen`: the size bound of geometry rule 9
    /// (§13.2), which also bounds the memory of the copy. `owner`: the uid the file must belong
    /// to (§4.2 step 2 has it be the opener's, so nil means warmcheck's own euid); a scenario run
    /// as root passes the uid its fixtures run under, whose files these are.
    public static func read(path: String, liveness: Bool = true,
                            maxTotalLen: UInt64 = SpecLayout.defaultMaxTotalLen,
                            owner: uid_t? = nil) -> Result<SegmentSnapshot, OpenRefusal> {
        let fd: Int32
        switch openChecked(path: path) {
        case .success(let v): fd = v
        case .failure(let r): return .failure(r)
        }
        defer { close(fd) }
        let g: SpecGeometry
        switch checkOpening(fd: fd, maxTotalLen: maxTotalLen, owner: owner) {
        case .success(let v): g = v
        case .failure(let r): return .failure(r)
        }
        guard let all = preadAll(fd, count: g.totalLen, at: 0) else { return .failure(.io(errno: errno)) }
        let alive = liveness ? (0..<g.participantCapacity).map { isLocked(fd, offset: g.participantOffset($0)) } : []
        return .success(SegmentSnapshot(bytes: all, geometry: g, alive: alive, path: path))
    }

    /// Opens `path` read-only, refusing a symlink (§4.2 step 1).
    static func openChecked(path: String) -> Result<Int32, OpenRefusal> {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { return .success(fd) }
        switch errno {
        case ELOOP: return .failure(.symlink)
        case ENOENT: return .failure(.notFound)
        default: return .failure(.io(errno: errno))
        }
    }

    /// The opening checks of §4.2 on an open file, in order, up to and including truncation.
    /// The header page is read with pread: lines 0–2 are immutable once `ready` is set, and a
    /// `ready` torn by the copy can only fail the check, never pass a wrong one.
    static func checkOpening(fd: Int32, maxTotalLen: UInt64 = SpecLayout.defaultMaxTotalLen,
                             owner: uid_t? = nil) -> Result<SpecGeometry, OpenRefusal> {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.io(errno: errno)) }
        guard st.st_mode & S_IFMT == S_IFREG else { return .failure(.notRegularFile) }
        guard st.st_uid == (owner ?? geteuid()) else { return .failure(.foreignOwner(uid: st.st_uid)) }
        let size = UInt64(st.st_size)
        guard size >= UInt64(SpecLayout.headerSize) else { return .failure(.tooShort(size: size)) }
        guard let head = preadAll(fd, count: SpecLayout.headerSize, at: 0) else { return .failure(.io(errno: errno)) }
        let w = { (off: Int) in le64(head, off) }
        guard w(SpecLayout.Header.magic) == SpecLayout.magic else { return .failure(.badMagic(found: w(SpecLayout.Header.magic))) }
        let major = w(SpecLayout.Header.version) & 0xFFFF
        guard major == SpecLayout.protocolMajor else { return .failure(.unsupportedMajor(found: major)) }
        guard w(SpecLayout.Header.ready) == SpecLayout.readyValue else { return .failure(.notReady(found: w(SpecLayout.Header.ready))) }
        let sum = SpecHash.wch64(head[0..<SpecLayout.Header.checksummedBytes], seed: SpecHash.headerSeed)
        guard sum == w(SpecLayout.Header.headerChecksum) else {
            return .failure(.badHeaderChecksum(stored: w(SpecLayout.Header.headerChecksum), computed: sum))
        }
        let unknown = w(SpecLayout.Header.featuresIncompat) & ~SpecLayout.knownIncompatFeatures
        guard unknown == 0 else { return .failure(.unsupportedFeatures(bits: unknown)) }
        guard w(SpecLayout.Header.layoutFingerprint) == SpecLayout.layoutFingerprint else {
            return .failure(.layoutMismatch(found: w(SpecLayout.Header.layoutFingerprint)))
        }
        let g: SpecGeometry
        switch SpecGeometry.validate(header: w) {
        case .success(let v): g = v
        case .failure(let rule): return .failure(.badGeometry(rule))
        }
        guard UInt64(g.totalLen) <= maxTotalLen else { return .failure(.badGeometry(.sizeBound(totalLen: UInt64(g.totalLen), bound: maxTotalLen))) }
        guard size >= UInt64(g.totalLen) else { return .failure(.truncated(declared: UInt64(g.totalLen), actual: size)) }
        // st_blocks counts 512-byte units whatever the file system's block size.
        let allocated = UInt64(max(0, st.st_blocks)) * 512
        guard allocated >= UInt64(g.totalLen) else { return .failure(.sparse(declared: UInt64(g.totalLen), allocated: allocated)) }
        return .success(g)
    }

    /// A snapshot of bytes already in memory (tests craft segments this way).
    public init(bytes: [UInt8], geometry: SpecGeometry, alive: [Bool], path: String = "<memory>") {
        self.bytes = bytes
        self.geometry = geometry
        self.alive = alive
        self.path = path
    }

    public func word(_ off: Int) -> UInt64 { le64(bytes, off) }

    public func participantAlive(index i: Int) -> Bool { i >= 0 && i < alive.count && alive[i] }

    public func isAlive(participant id: Int) -> Bool { participantAlive(index: id - 1) }
}

/// The little-endian word at `off` (§1). One unaligned load: this runs for every slot after
/// every step, in debug builds too.
public func le64(_ b: [UInt8], _ off: Int) -> UInt64 {
    precondition(off >= 0 && off + 8 <= b.count, "word at \(off) outside \(b.count) bytes")
    return UInt64(littleEndian: b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: off, as: UInt64.self) })
}

func preadAll(_ fd: Int32, count: Int, at offset: Int) -> [UInt8]? {
    var ok = true
    // Uninitialised: every byte is overwritten by pread, and a segment is megabytes.
    let buf = [UInt8](unsafeUninitializedCapacity: count) { p, initialized in
        var done = 0
        while done < count {
            let n = pread(fd, p.baseAddress! + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { ok = false; break }
            done += n
        }
        initialized = ok ? count : 0
    }
    return ok ? buf : nil
}

/// Linux `F_OFD_GETLK` (fcntl.h, _GNU_SOURCE): Glibc does not export it to Swift.
let F_OFD_GETLK_LINUX: Int32 = 36

/// Whether someone holds the write lock on `offset` (§5 "Is owner o alive?"). Our own open file
/// description holds no lock, so every participant's lock conflicts with the probe.
func isLocked(_ fd: Int32, offset: Int) -> Bool {
    var fl = flock()
    fl.l_type = Int16(F_WRLCK)
    fl.l_whence = Int16(SEEK_SET)
    fl.l_start = off_t(offset)
    fl.l_len = 1
    fl.l_pid = 0
    guard fcntl(fd, F_OFD_GETLK_LINUX, &fl) == 0 else { return true } // unknown: "alive" is the safe answer
    return fl.l_type != Int16(F_UNLCK)
}
