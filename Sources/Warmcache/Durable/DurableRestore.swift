// DurableRestore.swift — open, or rebuild the segment from the durable store through the
// never-half-built create path (docs/PERSISTENCE.md §7).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `openOrRestore` did (§7), for the caller and the driver's `restore` answer.
public struct RestoreReport: Sendable {
    /// This call rebuilt the segment from the store.
    public var restored = false
    /// The snapshot used, "" if none.
    public var snapshot = ""
    /// Usable files read, records read (their applied prefixes).
    public var files = 0, records = 0
    /// Entries in the new segment; keys whose winner is a tombstone; winners expired at the new
    /// segment's now; survivors a full window gave up.
    public var installed = 0, tombstones = 0, expired = 0, evicted = 0
    /// `version_clock` and `durable_order` of the new segment.
    public var versionFloor: UInt64 = 0, orderFloor: UInt64 = 0
    /// Every failure §9 reported, in reading order.
    public var problems: [StoreProblem] = []
}

extension WarmCache {
    /// How a process of a fleet with a durable store starts (§7): open `path`; if it is missing
    /// or unusable, rebuild it from `store.directory` with `geometry` (one restorer at a time,
    /// under `restore.lock`; concurrent starters end with one restored segment). The handle
    /// journals into the store afterwards. Errors are the open errors of PROTOCOL.md §15 (a
    /// store that cannot be read is `io`); a damaged record is a reported problem, never an error.
    /// This is the one entry point a repair that rebuilds from the store needs.
    public static func openOrRestore(path: String, geometry: Geometry, store: StoreOptions,
                                     options: WarmCacheOptions = .init()) throws(SegmentError) -> (WarmCache, RestoreReport) {
        var rep = RestoreReport()
        do { try makeStoreDirectory(store.directory) } catch { throw .io(path: error.path, op: error.op, errno: error.errno) }
        func attached(_ c: WarmCache) throws(SegmentError) -> (WarmCache, RestoreReport) {
            do { try c.attachStore(store) } catch {
                c.close()
                throw .io(path: error.path, op: error.op, errno: error.errno)
            }
            return (c, rep)
        }
        // Step 1.
        do { return try attached(try open(path: path, options: options)) } catch {
            guard isUnusable(error) else { throw error }
        }
        // Step 3: one restorer at a time; a starter that waited finds the segment restored.
        let lockPath = store.directory + "/restore.lock"
        let lf = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if lf < 0 { throw .io(path: lockPath, op: "open", errno: errno) }
        defer { _ = Glibc.close(lf) }   // releases the flock
        while flock(lf, LOCK_EX) != 0 {
            if errno != EINTR { throw .io(path: lockPath, op: "flock", errno: errno) }
        }
        var again = options
        again.openTimeoutNs = 0   // under the lock no segment is mid-restore: do not poll
        let firstError: SegmentError
        do { return try attached(try open(path: path, options: again)) } catch {
            guard isUnusable(error) else { throw error }
            firstError = error
        }
        // Steps 4–5.
        let now = options.simClockStartNs ?? wallClockNs()
        let survivors = StoreMerge.restoring(store.directory, geometry: geometry, now: now, report: &rep)
        // Steps 6–7.
        var replace = true
        if case .notFound = firstError { replace = false }
        var installed = RestoreReport()
        let fast = options.fastChecksum
        let opened: OpenedSegment
        do {
            opened = try SegmentFile.create(path: path, geometry: geometry, options: options, fill: { w, layout in
                installed = install(survivors, into: w, layout: layout, fastChecksum: fast,
                                    versionFloor: rep.versionFloor, orderFloor: rep.orderFloor)
            }, replace: replace)
        } catch {
            // A plain creator linked first (§7 step 7): use its segment.
            guard case .exists = error else { throw error }
            return try attached(try open(path: path, options: options))
        }
        rep.installed = installed.installed
        rep.evicted = installed.evicted
        rep.restored = true
        let c = WarmCache(path: path, opened: opened, created: true, options: options)
        try c.register()
        return try attached(c)
    }

    /// §7 step 2: the open errors after which the file is rebuilt. A newer major, unknown
    /// features, another layout or owner, a symlink, `io`, and rule 9 (only too large for this
    /// reader) are returned instead: such a file is never replaced.
    static func isUnusable(_ e: SegmentError) -> Bool {
        switch e {
        case .notFound, .tooShort, .badMagic, .notReady, .badHeaderChecksum, .truncated, .sparse: return true
        case .badGeometry(_, let rule): return !rule.hasPrefix("rule 9 ")
        default: return false
        }
    }
}

/// §7 step 6: the survivors, in increasing order, into the private file before `ready`.
/// Nobody else can see the file, so relaxed stores suffice: the release store of `ready`
/// publishes them. Returns the installed and evicted counts.
func install(_ rs: [DurableRecord], into w: SharedWords, layout: SegmentLayout, fastChecksum: Bool,
             versionFloor: UInt64, orderFloor: UInt64) -> RestoreReport {
    var rep = RestoreReport()
    // Per slot: whether an entry was installed there, and its order (a crafted record may
    // carry order 0, so "used" is its own array).
    var held = [UInt64](repeating: 0, count: layout.shardCount * layout.slotsPerShard)
    var used = [Bool](repeating: false, count: held.count)
    for r in rs {
        let h = WCH64.hash(r.key, seed: Layout.KEY_SEED)
        let (s, home) = layout.place(h)
        var slot = -1, lowest = home, lowOrder = UInt64.max
        for k in 0..<layout.probeWindow {
            let j = layout.windowSlot(home, k)
            let at = s * layout.slotsPerShard + j
            if !used[at] { slot = j; break }
            let o = held[at]
            if o < lowOrder { (lowest, lowOrder) = (j, o) }
        }
        if slot < 0 {
            // A full window gives up its lowest order (the journal still has it).
            slot = lowest
            rep.evicted += 1
            rep.installed -= 1
        }
        held[s * layout.slotsPerShard + slot] = r.order
        used[s * layout.slotsPerShard + slot] = true
        let so = layout.slotOffset(s, slot)
        w.storeRelaxed(so + Layout.SLOT_KEY_HASH, h)
        w.storeRelaxed(so + Layout.SLOT_KEY_LEN, UInt64(r.key.count))
        r.key.withUnsafeBytes { w.storeBytes(so + Layout.SLOT_KEY, $0) }
        w.storeRelaxed(so + Layout.SLOT_REFERENCED, 0)
        let rec = layout.recordOffset(so, 1)
        w.storeRelaxed(rec + Layout.REC_VERSION, r.version)
        w.storeRelaxed(rec + Layout.REC_VALUE_INFO, UInt64(r.value.count) | (UInt64(r.originTag) << 32))
        w.storeRelaxed(rec + Layout.REC_CHECKSUM, r.value.withUnsafeBytes { valueChecksum($0, fast: fastChecksum) })
        w.storeRelaxed(rec + Layout.REC_EXPIRES_AT_NS, r.expiresAtNs)
        w.storeRelaxed(rec + Layout.REC_STALE_UNTIL_NS, r.staleUntilNs)
        w.storeRelaxed(rec + Layout.REC_WRITTEN_AT_NS, r.writtenAtNs)
        w.storeRelaxed(rec + Layout.REC_WRITER, r.writer)
        w.storeRelaxed(rec + Layout.REC_WRITER_START_TIME, r.writerStartTime)
        r.value.withUnsafeBytes { w.storeBytes(rec + Layout.REC_VALUE, $0) }
        // READY, A = 1, owner 0, seq 2: as if claimed and published.
        w.storeRelaxed(so + Layout.SLOT_STATE, StateWord(.ready, active: 1, owner: 0, seq: 2).raw)
        rep.installed += 1
    }
    w.storeRelaxed(Layout.HDR_VERSION_CLOCK, versionFloor)
    w.storeRelaxed(Layout.HDR_DURABLE_ORDER, orderFloor)
    return rep
}
