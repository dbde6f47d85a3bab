// Segment.swift — creating (§4.1), opening and validating (§4.2) a segment file, mapping it,
// and the security rules of §13. The `WarmCache` handle lives here; each operation family has
// its own file (Get, Put, Remove, Reclaim, Notify, ...).

import Atomics
import CWarmcacheShim

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Options for creating and opening a handle.
public struct WarmCacheOptions: Sendable {
    /// Create with mode 0660 instead of 0600 (§13).
    public var groupAccess: Bool
    /// Create with feature SIM_CLOCK and this start value of `sim_clock_ns` (§12).
    @_spi(Harness) public var simClockStartNs: UInt64?
    /// How long `open` polls a segment whose `ready` word is not yet set (§4.2 step 6).
    public var openTimeoutNs: UInt64
    /// Record every transition this handle makes (see `drainTransitions`).
    @_spi(Harness) public var trace: Bool
    /// Deliberate bugs to switch on (DRIVER.md "Fault switches"); empty outside `warmcheck selftest`.
    @_spi(Harness) public var faults: Faults
    /// The handle's initial pause hook (§17), so that points reached while opening (the
    /// registration sweep's `reclaim.before_cas`) are seen too. Change it later with
    /// `WarmCache.pauseHook`.
    @_spi(Harness) public var pauseHook: PauseHook?
    /// The version this handle speaks (ProtocolVersion.swift); default 1.1.
    public var protocolVersion: ProtocolVersion
    /// Create with feature FAST_CHECKSUM (1.1, §2): record checksums are WCH64X4 for the
    /// segment's life. Refused with unsupported_features when speaking 1.0.
    public var fastChecksum: Bool
    /// Write a future-version test image (tests only, FutureImage).
    public var future: FutureImage?

    /// Be a 1.0 participant as far as PROTOCOL.md §5.1 goes: sweep every slot at registration
    /// and never touch the claim hint (to measure what the lazy sweep saves, and to test fleets
    /// that mix 1.0 and 1.1 participants). A handle speaking 1.0 is one whatever this says
    /// (PROTOCOL.md §14: it registers exactly as a 1.0 build would).
    public var legacySweep: Bool

    /// The reader's size bound, geometry rule 9 (PROTOCOL.md §3, §13.2): a segment whose
    /// total_len is larger is refused with bad_geometry on the header alone. 0 means
    /// `WarmCacheOptions.defaultMaxTotalLen`; above 2^40 means 2^40.
    public var maxTotalLen: UInt64 = 0

    /// The size bound a reader accepts unless told otherwise (§13.2: 2^34 bytes, 16 GiB).
    public static let defaultMaxTotalLen: UInt64 = 1 << 34

    /// The rule 9 bound in force.
    var sizeBound: UInt64 { maxTotalLen == 0 ? Self.defaultMaxTotalLen : min(maxTotalLen, Geometry.maxTotalLen) }

    public init(groupAccess: Bool = false, openTimeoutNs: UInt64 = 2_000_000_000,
                protocolVersion: ProtocolVersion = .current, fastChecksum: Bool = false,
                legacySweep: Bool = false) {
        self.protocolVersion = protocolVersion
        self.fastChecksum = fastChecksum
        self.groupAccess = groupAccess
        self.simClockStartNs = nil
        self.openTimeoutNs = openTimeoutNs
        self.trace = false
        self.faults = []
        self.pauseHook = nil
        self.legacySweep = legacySweep
    }
}

// The conformance harness's hooks — fault switches, the pause hook and its points, the transition
// trace, the simulated clock — are SPI: only a file that says `@_spi(Harness) import Warmcache`
// sees them, so a service cannot switch a deliberate bug on by accident
// (scripts/check-public-surface.sh proves a plain import cannot name them).
@_spi(Harness)
extension WarmCacheOptions {
    /// These options with the harness hooks set; the defaults leave each hook off.
    public func harness(simClockStartNs: UInt64? = nil, trace: Bool = false, faults: Faults = [],
                        pauseHook: PauseHook? = nil) -> WarmCacheOptions {
        var o = self
        o.simClockStartNs = simClockStartNs
        o.trace = trace
        o.faults = faults
        o.pauseHook = pauseHook
        return o
    }
}

/// A participant's handle on one segment. Thread-safe for concurrent operations (threads of one
/// handle share its participant id); `close()` must not race with other calls on the handle.
public final class WarmCache: @unchecked Sendable {
    /// The segment file this handle maps.
    public let path: String
    /// The validated geometry and every offset (immutable header values only, §4.2).
    public let layout: SegmentLayout
    /// This handle's participant id (`index + 1`, §5).
    public internal(set) var participantId: UInt16 = 0
    /// Whether this handle created the segment (open_or_create).
    public let created: Bool

    let fd: Int32
    let mapping: Mapping
    let words: SharedWords
    let simClock: Bool
    /// The segment has FAST_CHECKSUM: record checksums are WCH64X4 (§2).
    let fastChecksum: Bool
    /// The version this handle speaks (writes into its participant entry and records).
    let speaks: ProtocolVersion
    let tracer: TraceRecorder
    /// Gets that found corruption (a checksum mismatch in a stable snapshot, an impossible
    /// length). Process-local statistics of this implementation (§15), never shared.
    let corruptCount = ManagedAtomic<UInt64>(0)
    /// Test hook: stop right after a claim (the slot stays WRITING/REFRESHING/INVALIDATED).
    var testStopAfterClaim = false
    /// The fault switches of this handle (fixed at open).
    @_spi(Harness) public let faults: Faults
    /// `WarmCacheOptions.legacySweep` (fixed at open).
    let legacySweep: Bool
    /// The pause hook (§17), nil outside a harness. Like tracing, set it while no other thread
    /// uses the handle: the hot paths read it without synchronisation.
    /// Both vars are unchecked for exclusivity: the dynamic check (swift_beginAccess, ~70
    /// instructions) ran on every get, and neither is written while the handle is in use (setting
    /// the hook, like closing the handle under its own operations, is the caller's to order).
    @exclusivity(unchecked) @_spi(Harness) public var pauseHook: PauseHook?
    /// After `close()` every operation answers `closed` (§15) without touching the unmapped
    /// segment: `fail(.closed)`, `UsageError.closed` or `Lookup.closed`, by the operation's type.
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// The durable store's journal (Durable/), nil until `attachStore`.
    var journal: Journal?

    /// The segment's geometry, from its header.
    public var geometry: Geometry { layout.geometry }

    init(path: String, opened: OpenedSegment, created: Bool, options: WarmCacheOptions) {
        self.path = path
        self.fd = opened.fd
        self.mapping = opened.mapping
        self.words = opened.mapping.words
        self.layout = opened.layout
        self.simClock = opened.featuresIncompat & Layout.FEATURE_SIM_CLOCK != 0
        self.fastChecksum = opened.featuresIncompat & Layout.FEATURE_FAST_CHECKSUM != 0
        self.speaks = options.protocolVersion
        self.tracer = TraceRecorder(enabled: options.trace)
        self.faults = options.faults
        // §14: a handle speaking 1.0 registers exactly as a 1.0 build would (§5: it sweeps
        // everything and never touches bytes 40..63), whatever the option says.
        self.legacySweep = options.legacySweep || options.protocolVersion.minor == 0
        self.pauseHook = options.pauseHook
        self.created = created
    }

    deinit { close() }

    /// Close the handle: unmap, close the descriptor (which releases the participant lock, §5).
    /// A second close is a no-op. No other thread may be inside an operation of the handle.
    public func close() {
        if isClosed { return }
        isClosed = true
        journal?.close()
        journal = nil
        mapping.unmap()
        _ = wc_close(fd)
    }

    // MARK: - Public constructors

    /// Create a new segment at `path` (§4.1). Fails with `exists` if `path` already exists.
    public static func create(path: String, geometry: Geometry, options: WarmCacheOptions = .init()) throws(SegmentError) -> WarmCache {
        let opened = try SegmentFile.create(path: path, geometry: geometry, options: options)
        let cache = WarmCache(path: path, opened: opened, created: true, options: options)
        try cache.register()
        return cache
    }

    /// Open an existing segment (§4.2), then register as a participant (§5).
    public static func open(path: String, options: WarmCacheOptions = .init()) throws(SegmentError) -> WarmCache {
        let opened = try SegmentFile.openChecked(path: path, writable: true, openTimeoutNs: options.openTimeoutNs,
                                                 knownIncompat: options.protocolVersion.knownIncompat,
                                                 maxTotalLen: options.sizeBound)
        let cache = WarmCache(path: path, opened: opened, created: false, options: options)
        try cache.register()
        return cache
    }

    /// Try to create; if the path exists (before or at the link step), open it (§4.1).
    /// `created` on the result says which happened.
    public static func openOrCreate(path: String, geometry: Geometry, options: WarmCacheOptions = .init()) throws(SegmentError) -> WarmCache {
        do {
            return try create(path: path, geometry: geometry, options: options)
        } catch {
            guard case .exists = error else { throw error }
        }
        return try open(path: path, options: options)
    }
}

/// A file that passed the checks of §4.2 (or was just created), mapped at its checked length.
struct OpenedSegment {
    let fd: Int32
    let mapping: Mapping
    let layout: SegmentLayout
    let featuresIncompat: UInt64
    let fileSize: Int64
}

/// Raw header words as found in a file (for inspection, even when the checks fail).
public struct RawHeader: Sendable {
    public var words: [UInt64]   // the 136 checksummed bytes plus ready..sim_clock, by offset/8
    func at(_ off: Int) -> UInt64 { off / 8 < words.count ? words[off / 8] : 0 }
}

enum SegmentFile {
    static func errno(_ r: Int32) -> Int32 { -r }

    // MARK: §4.2 opening

    /// Run the checks of §4.2 in order. `writable` false opens O_RDONLY and maps read-only
    /// (inspection). `headerSink` receives the raw header words once the first page is mapped.
    /// A Swift String with a NUL byte reaches C cut short at the NUL, naming another file:
    /// refuse it as the kernel would refuse the whole path (EINVAL), like Go and Rust do.
    static func refuseNUL(_ path: String, _ op: String) throws(SegmentError) {
        if path.utf8.contains(0) { throw .io(path: path, op: op, errno: EINVAL) }
    }

    static func openChecked(path: String, writable: Bool, openTimeoutNs: UInt64,
                            knownIncompat: UInt64 = Layout.KNOWN_INCOMPAT_FEATURES,
                            maxTotalLen: UInt64 = WarmCacheOptions.defaultMaxTotalLen,
                            headerSink: ((RawHeader) -> Void)? = nil) throws(SegmentError) -> OpenedSegment {
        try refuseNUL(path, "open")
        // 1. open with O_NOFOLLOW.
        let fd = wc_open_existing(path, writable ? 1 : 0)
        if fd < 0 {
            let e = -fd
            if e == wc_errno_eloop() { throw .symlink(path: path) }
            if e == wc_errno_enoent() { throw .notFound(path: path) }
            // Anything else — EISDIR for a directory included — is `io` with the errno's name
            // (§4.2 step 1), as in Go and Rust.
            throw .io(path: path, op: "open", errno: e)
        }
        var ok = false
        defer { if !ok { _ = wc_close(fd) } }

        // 2. fstat: regular file, owned by our euid.
        var st = wc_stat_t()
        let r = wc_fstat(fd, &st)
        if r < 0 { throw .io(path: path, op: "fstat", errno: -r) }
        if st.is_regular == 0 { throw .notRegularFile(path: path) }
        let euid = wc_geteuid()
        if st.uid != euid { throw .foreignOwner(path: path, uid: st.uid, euid: euid) }

        // 3. size ≥ one header page.
        if st.size < Int64(Layout.HEADER_SIZE) { throw .tooShort(path: path, size: st.size) }

        // 4..10 on the first page.
        let head: Mapping
        do { head = try Mapping(fd: fd, length: Layout.HEADER_SIZE, writable: false) } catch {
            throw .io(path: path, op: "mmap", errno: error.code)
        }
        defer { head.unmap() }
        let h = head.words
        if let sink = headerSink { sink(readRawHeader(h)) }
        let (layout, features) = try checkHeader(h, path: path, openTimeoutNs: openTimeoutNs, knownIncompat: knownIncompat,
                                                 maxTotalLen: maxTotalLen)

        // 11. the file must hold total_len bytes, all of them allocated: a hole is allocated on
        // first write, a SIGBUS on a full file system (§13.2).
        if st.size < Int64(layout.totalLen) {
            throw .truncated(path: path, declared: UInt64(layout.totalLen), actual: st.size)
        }
        if st.allocated < Int64(layout.totalLen) {
            throw .sparse(path: path, declared: UInt64(layout.totalLen), allocated: st.allocated)
        }

        // 12. map total_len bytes (never remapped because the header says so later, §13).
        let m: Mapping
        do { m = try Mapping(fd: fd, length: layout.totalLen, writable: writable) } catch {
            throw .io(path: path, op: "mmap", errno: error.code)
        }
        ok = true
        return OpenedSegment(fd: fd, mapping: m, layout: layout, featuresIncompat: features, fileSize: st.size)
    }

    static func readRawHeader(_ h: SharedWords) -> RawHeader {
        var w = [UInt64](repeating: 0, count: 72)  // offsets 0..575
        for i in 0..<72 where i * 8 != Layout.HDR_GENERATION { w[i] = h.loadRelaxed(i * 8) }
        w[Layout.HDR_GENERATION / 8] = UInt64(h.generationLoad())
        return RawHeader(words: w)
    }

    /// Steps 4–10 of §4.2 against a mapped header page.
    /// `knownIncompat`: the features_incompat bits of the version the reader speaks (a handle
    /// speaking 1.0 refuses FAST_CHECKSUM here, as a 1.0 build does).
    static func checkHeader(_ h: SharedWords, path: String, openTimeoutNs: UInt64,
                            knownIncompat: UInt64 = Layout.KNOWN_INCOMPAT_FEATURES,
                            maxTotalLen: UInt64 = WarmCacheOptions.defaultMaxTotalLen) throws(SegmentError) -> (SegmentLayout, UInt64) {
        // 4. magic.
        let magic = h.loadRelaxed(Layout.HDR_MAGIC)
        if magic != Layout.MAGIC { throw .badMagic(path: path, found: magic) }
        // 5. major version, before the checksum (a future major may lay out its header differently).
        let version = h.loadRelaxed(Layout.HDR_VERSION)
        let major = version & 0xFFFF
        if major != Layout.PROTOCOL_MAJOR { throw .unsupportedMajor(path: path, major: major) }
        // 6. ready, acquire: pairs with the creator's release store, so the immutable header
        // read below is complete. Poll up to the open timeout.
        var ready = h.loadAcquire(Layout.HDR_READY)
        if ready != Layout.READY {
            let (sum, overflow) = wc_monotonic_ns().addingReportingOverflow(openTimeoutNs)
            let deadline = overflow ? UInt64.max : sum
            while ready != Layout.READY && wc_monotonic_ns() < deadline {
                usleep(1000)
                ready = h.loadAcquire(Layout.HDR_READY)
            }
            if ready != Layout.READY { throw .notReady(path: path, found: ready) }
        }
        // 7. header checksum over bytes 0..135.
        let stored = h.loadRelaxed(Layout.HDR_HEADER_CHECKSUM)
        let computed = headerChecksum(h)
        if stored != computed { throw .badHeaderChecksum(path: path, stored: stored, computed: computed) }
        // 8. unknown incompatible features.
        let incompat = h.loadRelaxed(Layout.HDR_FEATURES_INCOMPAT)
        let unknown = incompat & ~knownIncompat
        if unknown != 0 { throw .unsupportedFeatures(path: path, unknownBits: unknown) }
        // 9. layout fingerprint.
        let fp = h.loadRelaxed(Layout.HDR_LAYOUT_FINGERPRINT)
        if fp != Layout.LAYOUT_FINGERPRINT { throw .layoutMismatch(path: path, found: fp) }
        // The header size in the version word is a fixed size of the layout too.
        let headerSize = version >> 32
        if headerSize != UInt64(Layout.HEADER_SIZE) { throw .headerSizeMismatch(path: path, found: headerSize) }
        // 10. geometry rules, in the table's order.
        let g = Geometry.unpack(shards: h.loadRelaxed(Layout.HDR_GEOMETRY_SHARDS),
                                sizes: h.loadRelaxed(Layout.HDR_GEOMETRY_SIZES),
                                limits: h.loadRelaxed(Layout.HDR_GEOMETRY_LIMITS))
        if let rule = g.limitViolation() { throw .badGeometry(path: path, rule: rule) }
        let derived: [(String, Int, UInt64)] = [
            ("slot_size", Layout.HDR_SLOT_SIZE, g.slotSize),
            ("participants_offset", Layout.HDR_PARTICIPANTS_OFFSET, g.participantsOffset),
            ("shards_offset", Layout.HDR_SHARDS_OFFSET, g.shardsOffset),
            ("shard_size", Layout.HDR_SHARD_SIZE, g.shardSize),
        ]
        for (name, off, want) in derived {
            let got = h.loadRelaxed(off)
            if got != want {
                throw .badGeometry(path: path, rule: "rule 7 violated: \(name) must equal its formula (\(name) = \(got), expected \(want))")
            }
        }
        let totalLen = h.loadRelaxed(Layout.HDR_TOTAL_LEN)
        guard let want = g.totalLenChecked, want == totalLen, totalLen <= Geometry.maxTotalLen else {
            throw .badGeometry(path: path, rule: "rule 8 violated: total_len must equal shards_offset + shard_count * shard_size and be <= 2^40 (total_len = \(totalLen), expected \(g.totalLenChecked.map(String.init) ?? "overflow"))")
        }
        // Still 10: rule 9, before the file's size is looked at (a 2^40-byte header on a small
        // file costs this comparison and nothing else).
        if totalLen > maxTotalLen {
            throw .badGeometry(path: path, rule: "rule 9 violated: total_len \(totalLen) exceeds max_total_len \(maxTotalLen), this reader's size bound")
        }
        return (SegmentLayout(validated: g), incompat)
    }

    /// `WCH64(bytes 0..135, HEADER_SEED)` over the 17 header words, loaded atomically.
    static func headerChecksum(_ h: SharedWords) -> UInt64 {
        var x = WCH64.start(seed: Layout.HEADER_SEED, length: Layout.HDR_CHECKSUMMED_BYTES)
        for i in 0..<(Layout.HDR_CHECKSUMMED_BYTES / 8) { x = WCH64.absorb(x, h.loadRelaxed(i * 8)) }
        return WCH64.finish(x)
    }

    // MARK: §4.1 creating

    /// PATH's private build name up to the pid (§4.1 step 1): the final name's last component
    /// cut to at most 191 bytes (never inside a UTF-8 sequence), then ".init.", so that a final
    /// name of up to 255 bytes (NAME_MAX) still has a temporary name that fits.
    static func initPrefix(_ path: String) -> String {
        let bytes = Array(path.utf8)
        let start = (bytes.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
        var n = bytes.count - start
        if n > 191 {
            n = 191
            while n > 0 && bytes[start + n] & 0xC0 == 0x80 { n -= 1 }  // do not split a UTF-8 sequence
        }
        return String(decoding: bytes[..<(start + n)], as: UTF8.self) + ".init."
    }

    /// §4.1 steps 1 and 2: the private file TMP, created exclusively, its mode applied with
    /// fchmod (the umask may have removed bits), under the creator's flock; then the sweep of dead
    /// creators' files. A sweeper (another creator of the same prefix) can take TMP's lock in the
    /// instant between open and flock and remove the name; the fstat after the flock sees that
    /// (st_nlink 0) and starts again with a new name, since a build under a removed name could
    /// never be linked. Once this creator holds the lock, no sweeper can take it.
    static func openTemp(_ path: String, mode: UInt32, at: (PausePoint) -> Void) throws(SegmentError) -> (String, Int32) {
        var attempt = 0
        while true {
            let tmp = Self.initPrefix(path) + "\(wc_getpid()).\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
            let fd = wc_open_create_excl(tmp, mode)
            if fd < 0 {
                if -fd == wc_errno_eexist() { continue }  // a random collision: draw another name
                if -fd == wc_errno_eloop() { throw .symlink(path: tmp) }
                if -fd == wc_errno_enoent() { throw .notFound(path: tmp) }
                throw .io(path: tmp, op: "open", errno: -fd)
            }
            func fail(_ op: String, _ r: Int32) -> SegmentError {
                _ = wc_unlink(tmp)
                _ = wc_close(fd)
                return .io(path: tmp, op: op, errno: -r)
            }
            var r = wc_fchmod(fd, mode)
            if r < 0 { throw fail("fchmod", r) }
            at(.createBeforeFlock)
            // 2. flock: "being built by a live creator".
            r = wc_flock(fd, wc_lock_ex())
            if r < 0 { throw fail("flock", r) }
            var st = wc_stat_t()
            r = wc_fstat(fd, &st)
            if r < 0 { throw fail("fstat", r) }
            if st.nlink == 0 {
                _ = wc_close(fd)
                attempt += 1
                if attempt >= createAttempts { throw .io(path: tmp, op: "open", errno: wc_errno_enoent()) }
                continue
            }
            removeStaleInit(path)
            return (tmp, fd)
        }
    }

    /// Bounds the restarts of openTemp: each one needs another creator's sweep to win the
    /// instant between this creator's open and its flock.
    static let createAttempts = 8

    /// The sweep of §4.1 step 2: removes every DIR + B + ".init." + pid + "." + random file (the
    /// cut prefix of PATH, initPrefix) whose flock(LOCK_EX|LOCK_NB) it can take, since a live
    /// creator holds its file's lock from step 2 until it removed the file. It unlinks while
    /// holding the lock, so that a creator that opened the file but has not locked it yet finds it
    /// unlinked (openTemp). A name that only begins with the prefix, such as the private file of
    /// a segment named B.init.x, is another segment's and is left. The caller's own TMP is locked
    /// by it, through another open file description, so the sweep cannot take it either. Every
    /// error leaves what it concerns as it is: the sweep never fails a create.
    static func removeStaleInit(_ path: String) {
        let bytes = Array(path.utf8)
        let slash = bytes.lastIndex(of: UInt8(ascii: "/"))
        let dir = slash.map { $0 == 0 ? "/" : String(decoding: bytes[..<$0], as: UTF8.self) } ?? "."
        let base = String(decoding: bytes[(slash.map { $0 + 1 } ?? 0)...], as: UTF8.self)
        let prefix = Array(initPrefix(base).utf8)
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name: [UInt8] = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { Array(String(cString: $0).utf8) }
            }
            guard name.starts(with: prefix), isInitSuffix(name[prefix.count...]) else { continue }
            let full = dir + "/" + String(decoding: name, as: UTF8.self)
            let fd = wc_open_existing(full, 0)
            if fd < 0 { continue }
            if wc_flock(fd, wc_lock_ex() | wc_lock_nb()) == 0 { _ = wc_unlink(full) }
            _ = wc_close(fd)
        }
    }

    /// Whether `s` is the "pid.random" that follows ".init." in a private name (§4.1 step 1):
    /// decimal digits, a dot, lowercase hexadecimal digits.
    static func isInitSuffix(_ s: ArraySlice<UInt8>) -> Bool {
        guard let dot = s.firstIndex(of: UInt8(ascii: ".")), dot > s.startIndex, dot < s.endIndex - 1 else { return false }
        let digit: (UInt8) -> Bool = { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return s[..<dot].allSatisfy(digit)
            && s[(dot + 1)...].allSatisfy { digit($0) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
    }

    /// `fill` (restore only, PERSISTENCE.md §7 step 6) installs entries into the private file
    /// before `ready`; `replace` publishes by `rename` over an unusable PATH instead of `linkat`.
    static func create(path: String, geometry g: Geometry, options: WarmCacheOptions,
                       fill: ((SharedWords, SegmentLayout) -> Void)? = nil, replace: Bool = false) throws(SegmentError) -> OpenedSegment {
        if options.fastChecksum && options.protocolVersion.knownIncompat & Layout.FEATURE_FAST_CHECKSUM == 0 {
            // FAST_CHECKSUM is not a 1.0 feature: a handle speaking 1.0 cannot create it.
            throw .unsupportedFeatures(path: path, unknownBits: Layout.FEATURE_FAST_CHECKSUM)
        }
        try refuseNUL(path, "create")
        if let rule = g.createViolation() { throw .badGeometry(path: path, rule: rule) }
        var lst = wc_stat_t()
        if !replace && wc_lstat(path, &lst) == 0 { throw .exists(path: path) }
        let layout = SegmentLayout(validated: g)
        let total = layout.totalLen

        // 1 and 2, and the sweep of dead creators' files (openTemp).
        let pid = wc_getpid()
        let mode: UInt32 = options.groupAccess ? 0o660 : 0o600
        // No handle exists before step 7: the hook is the one it will get.
        func at(_ p: PausePoint) {
            #if !WARMCACHE_NO_PAUSE_POINTS
            options.pauseHook?(p)
            #endif
        }
        let (tmp, fd) = try openTemp(path, mode: mode, at: at)
        var keepFd = false
        var linked = false
        defer {
            if !linked { _ = wc_unlink(tmp) }
            if !keepFd { _ = wc_close(fd) }
        }
        var r: Int32
        at(.createAfterOpenTemp)

        // 3. reserve the whole length now (a full tmpfs is an error now, never a SIGBUS later).
        r = wc_fallocate(fd, Int64(total))
        if r < 0 {
            if -r == wc_errno_enospc() { throw .noSpace(path: path, bytes: UInt64(total)) }
            if -r == wc_errno_eopnotsupp() {
                r = wc_ftruncate(fd, Int64(total))
                if r < 0 { throw .io(path: tmp, op: "ftruncate", errno: -r) }
                var off = 0
                while off < total {
                    r = wc_write_zero_byte(fd, Int64(off))
                    if r < 0 {
                        if -r == wc_errno_enospc() { throw .noSpace(path: path, bytes: UInt64(total)) }
                        throw .io(path: tmp, op: "pwrite", errno: -r)
                    }
                    off += 4096
                }
            } else {
                throw .io(path: tmp, op: "posix_fallocate", errno: -r)
            }
        }

        at(.createAfterSize)

        // 4. map and write the immutable header (lines 0–2); everything else is already zero.
        let m: Mapping
        do { m = try Mapping(fd: fd, length: total, writable: true) } catch {
            throw .io(path: tmp, op: "mmap", errno: error.code)
        }
        let w = m.words
        var features: UInt64 = (options.simClockStartNs != nil ? Layout.FEATURE_SIM_CLOCK : 0)
            | (options.fastChecksum ? Layout.FEATURE_FAST_CHECKSUM : 0)
        var version = Layout.PROTOCOL_MAJOR | (options.protocolVersion.minor << 16) | (UInt64(Layout.HEADER_SIZE) << 32)
        var compat: UInt64 = 0
        options.future?.apply(version: &version, incompat: &features, compat: &compat)
        let uid = UInt64(wc_geteuid())
        w.storeRelaxed(Layout.HDR_MAGIC, Layout.MAGIC)
        w.storeRelaxed(Layout.HDR_VERSION, version)
        w.storeRelaxed(Layout.HDR_FEATURES_INCOMPAT, features)
        w.storeRelaxed(Layout.HDR_FEATURES_COMPAT, compat)
        w.storeRelaxed(Layout.HDR_LAYOUT_FINGERPRINT, Layout.LAYOUT_FINGERPRINT)
        w.storeRelaxed(Layout.HDR_TOTAL_LEN, UInt64(total))
        w.storeRelaxed(Layout.HDR_GEOMETRY_SHARDS, g.packedShards)
        w.storeRelaxed(Layout.HDR_GEOMETRY_SIZES, g.packedSizes)
        w.storeRelaxed(Layout.HDR_GEOMETRY_LIMITS, g.packedLimits)
        w.storeRelaxed(Layout.HDR_SLOT_SIZE, g.slotSize)
        w.storeRelaxed(Layout.HDR_PARTICIPANTS_OFFSET, g.participantsOffset)
        w.storeRelaxed(Layout.HDR_SHARDS_OFFSET, g.shardsOffset)
        w.storeRelaxed(Layout.HDR_SHARD_SIZE, g.shardSize)
        w.storeRelaxed(Layout.HDR_CREATOR_PID, UInt64(UInt32(bitPattern: pid)))
        w.storeRelaxed(Layout.HDR_CREATOR_START_TIME, ProcessInfoLite.startTime)
        w.storeRelaxed(Layout.HDR_CREATOR_INFO, UInt64(Layout.LANG_SWIFT) | (uid << 32))
        w.storeRelaxed(Layout.HDR_CREATED_AT_NS, wc_realtime_ns())
        w.storeRelaxed(Layout.HDR_HEADER_CHECKSUM, headerChecksum(w))
        if let start = options.simClockStartNs { w.storeRelaxed(Layout.HDR_SIM_CLOCK_NS, start) }
        fill?(w, layout)
        at(.createAfterHeader)

        // 5. ready, release: the last write of initialisation; an opener's acquire load of
        // `ready` then sees the whole immutable header.
        w.storeRelease(Layout.HDR_READY, Layout.READY)
        if fill != nil { at(.restoreBeforePublish) }
        at(.createBeforeLink)

        // 6. link into place without following symlinks. EEXIST: another creator won.
        // A restore over an unusable file renames instead: one step that replaces it (a
        // process still mapping the old file keeps its inode).
        r = replace ? (rename(tmp, path) == 0 ? 0 : -Glibc.errno) : wc_linkat(tmp, path)
        if r < 0 {
            m.unmap()
            if -r == wc_errno_eexist() { throw .exists(path: path) }
            if -r == wc_errno_enoent() { throw .notFound(path: path) }
            throw .io(path: path, op: "linkat", errno: -r)
        }
        // Either way, remove TMP and release the flock (the descriptor stays open: it carries
        // the participant's OFD lock next).
        linked = true
        _ = wc_unlink(tmp)
        _ = wc_flock(fd, wc_lock_un())
        keepFd = true
        at(.createAfterLink)
        return OpenedSegment(fd: fd, mapping: m, layout: layout, featuresIncompat: features, fileSize: Int64(total))
    }
}
