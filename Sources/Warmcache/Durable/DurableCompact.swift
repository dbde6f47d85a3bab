// DurableCompact.swift — compaction (docs/PERSISTENCE.md §8): the journals no process appends to
// any more, and the newest valid snapshot, folded into a new snapshot; only once that
// snapshot's name is durable are the files it covers removed.
//
//   lock restore.lock ─ flock covered journals ─ write .tmp [snapshot.after_write] ─ fsync .tmp
//   [snapshot.before_rename] ─ rename ─ fsync(DIR) [snapshot.before_remove] ─ unlink each covered
//   file [snapshot.after_remove] ─ fsync(DIR) ─ unlock
//
// Before the rename only a .tmp exists, which nobody reads; after fsync(DIR) the snapshot holds
// every record of what it covers, so removing those files (or a power cut bringing some back)
// changes nothing a restore reads: a record read twice merges into itself.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a compaction did (§8), for the caller and the driver's `compact` answer.
public struct CompactReport: Sendable {
    /// A snapshot was written (its name in `snapshot`; "" when no journal could be covered).
    public var created = false
    public var snapshot = ""
    /// The older snapshot folded in, "" if none.
    public var base = ""
    /// Journals folded in and removed; journals left because a writer holds them.
    public var covered = 0, live = 0
    /// Records in the new snapshot (tombstones included), of which tombstones.
    public var records = 0, tombstones = 0
    /// Files removed: covered journals, older snapshots, dead compactors' .tmp files.
    public var removed = 0
    /// The end record's version and order.
    public var versionFloor: UInt64 = 0, orderFloor: UInt64 = 0
    /// What reading met (§9), and removals that failed (`io`).
    public var problems: [StoreProblem] = []
}

public enum StoreCompaction {
    /// Compact the store in `directory` for `geometry` (§8). Needs no handle; a handle's own
    /// live journal is not covered (`WarmCache.compact` ends it first). `pauseHook` is the
    /// harness's hook for the `snapshot.*` points.
    public static func compact(directory dir: String, geometry g: Geometry) throws(SegmentError) -> CompactReport {
        try run(dir, g, pause: { _ in })
    }

    @_spi(Harness) public static func compact(directory dir: String, geometry g: Geometry,
                                              pauseHook: PauseHook?) throws(SegmentError) -> CompactReport {
        try run(dir, g, pause: { p in
            #if !WARMCACHE_NO_PAUSE_POINTS
            pauseHook?(p)
            #endif
        })
    }

    static func run(_ dir: String, _ g: Geometry, pause: (PausePoint) -> Void) throws(SegmentError) -> CompactReport {
        var rep = CompactReport()
        if let rule = g.createViolation() { throw .badGeometry(path: dir, rule: rule) }
        // Step 1: restorers and other compactors wait; writers do not.
        let lockPath = dir + "/restore.lock"
        let lf = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if lf < 0 { throw .io(path: lockPath, op: "open", errno: errno) }
        defer { _ = Glibc.close(lf) }   // releases the flock
        while flock(lf, LOCK_EX) != 0 {
            if errno != EINTR { throw .io(path: lockPath, op: "flock", errno: errno) }
        }
        let snaps: [String], journals: [String]
        switch listStore(dir) {
        case .failure(let e): throw .io(path: dir, op: e.op, errno: e.errno)
        case .success(let l): (snaps, journals) = l
        }
        // Step 2: covered = the journals whose flock we can take (closed or dead writer), with a
        // valid header of g. The lock comes before the read: a writer flocks a new file before
        // writing its header, so a file read under our lock is finished or has no header yet.
        var held: [Int32] = []
        defer { for fd in held { _ = Glibc.close(fd) } }
        var m = StoreMerge()
        var coveredPaths: [String] = []
        for p in journals {
            let fd = open(p, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                rep.problems.append(StoreProblem(file: p, offset: 0, code: "io", detail: "open: \(SegmentError.errnoName(errno))", notAppliedBytes: 0))
                continue
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                _ = Glibc.close(fd)
                rep.live += 1
                continue
            }
            let f = StoreReader.read(path: p, want: g)
            guard f.usable else {
                // Another geometry, or not (yet) a journal: reported, never removed.
                rep.problems += f.problems
                _ = Glibc.close(fd)
                continue
            }
            held.append(fd)
            coveredPaths.append(p)
            m.take(f)
        }
        if coveredPaths.isEmpty { return rep }
        // Step 3: the base snapshot and the covered journals, merged as restore does, keeping
        // the tombstones and dropping nothing by expiry.
        let base = m.takeNewestSnapshot(snaps, geometry: g)
        if !base.isEmpty { rep.base = lastComponent(base) }
        rep.problems += m.problems
        let recs = m.result
        rep.records = recs.count
        rep.tombstones = recs.filter { $0.kind == .invalidate }.count
        rep.versionFloor = m.versionFloor
        rep.orderFloor = m.orderFloor
        let names = (try? listNames(dir).get()) ?? []
        let final = dir + "/snapshot-\(hexWidth16(nextSnapshotNumber(names))).wcs"
        let tmp = final + ".tmp.\(getpid())"
        var hdr = StoreHeader(magic: StoreFormat.SNAPSHOT_MAGIC, geometry: g)
        hdr.createdAtNs = wallClockNs()
        if let e = writeSnapshot(tmp, hdr, recs, end: (m.orderFloor, m.versionFloor), pause: pause) {
            unlink(tmp)
            throw .io(path: e.path, op: e.op, errno: e.errno)
        }
        // Step 4.
        pause(.snapshotBeforeRename)
        if rename(tmp, final) != 0 {
            let e = errno
            unlink(tmp)
            throw .io(path: final, op: "rename", errno: e)
        }
        if let e = fsyncDirectory(dir) { throw .io(path: dir, op: e.op, errno: e.errno) }
        rep.snapshot = lastComponent(final)
        rep.created = true
        pause(.snapshotBeforeRemove)
        // Step 5: only now is anything removed (every snapshot listed is older than ours).
        for p in coveredPaths + snaps + deadTemporaries(names).map({ dir + "/" + $0 }) {
            if unlink(p) != 0 && errno != ENOENT {
                rep.problems.append(StoreProblem(file: p, offset: 0, code: "io", detail: "unlink: \(SegmentError.errnoName(errno))", notAppliedBytes: 0))
                continue
            }
            rep.removed += 1
            pause(.snapshotAfterRemove)
        }
        rep.covered = coveredPaths.count
        if let e = fsyncDirectory(dir) { throw .io(path: dir, op: e.op, errno: e.errno) }
        return rep
    }

    /// The header, `recs` with seq 1, 2, …, and the end record, written and fsynced.
    static func writeSnapshot(_ path: String, _ hdr: StoreHeader, _ recs: [DurableRecord], end: (UInt64, UInt64),
                              pause: (PausePoint) -> Void) -> StoreIOError? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { return StoreIOError(op: "open", path: path, errno: errno) }
        defer { _ = Glibc.close(fd) }
        var buf = hdr.encoded()
        func flush() -> StoreIOError? {
            defer { buf.removeAll(keepingCapacity: true) }
            return writeAll(fd, buf, path: path)
        }
        for (i, r) in recs.enumerated() {
            var s = r
            s.seq = UInt64(i + 1)
            buf += s.encoded()
            if buf.count >= 1 << 20, let e = flush() { return e }
        }
        var e = DurableRecord(kind: .end, order: end.0, key: [])
        e.seq = UInt64(recs.count + 1)
        e.version = end.1
        buf += e.encoded()
        if let err = flush() { return err }
        pause(.snapshotAfterWrite)
        if fsync(fd) != 0 { return StoreIOError(op: "fsync", path: path, errno: errno) }
        return nil
    }

    /// One more than the highest snapshot number in `names`, .tmp names included (so that a
    /// crashed compactor's leftover never shares a final name).
    static func nextSnapshotNumber(_ names: [String]) -> UInt64 {
        var next: UInt64 = 1
        for n in names where n.hasPrefix("snapshot-") {
            let digits = n.dropFirst("snapshot-".count).prefix(16)
            if digits.count == 16, let v = UInt64(digits, radix: 16), v >= next, v < UInt64.max { next = v + 1 }
        }
        return next
    }

    /// The .tmp files of compactors no longer running (§8 allows removing them).
    static func deadTemporaries(_ names: [String]) -> [String] {
        names.filter { n in
            // snapshot-<16 hex>.wcs.tmp.<pid>
            let parts = n.split(separator: ".", omittingEmptySubsequences: false)
            guard n.hasPrefix("snapshot-"), parts.count == 4, parts[1] == "wcs", parts[2] == "tmp",
                  let pid = Int32(parts[3]), pid > 0 else { return false }
            return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
        }
    }

    static func lastComponent(_ p: String) -> String { String(p.split(separator: "/").last ?? "") }
}

extension WarmCache {
    /// End this handle's current journal part (so that its file can be covered, §8 step 1) and
    /// compact its store. Fails with `io` when the handle has no store.
    public func compact() throws(SegmentError) -> CompactReport {
        guard !isClosed else { throw .io(path: path, op: "compact (the handle is closed)", errno: EBADF) }
        guard let j = journal else { throw .io(path: path, op: "compact (the handle has no store)", errno: EINVAL) }
        j.endCurrentPart()
        let hook = pauseHook
        return try StoreCompaction.run(j.options.directory, geometry, pause: { p in
            #if !WARMCACHE_NO_PAUSE_POINTS
            hook?(p)
            #endif
        })
    }
}

/// `write` until every byte is out, continuing short writes.
func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) -> StoreIOError? {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 {
            if errno == EINTR { continue }
            return StoreIOError(op: "write", path: path, errno: errno)
        }
        done += n
    }
    return nil
}
