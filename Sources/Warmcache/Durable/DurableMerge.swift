// DurableMerge.swift — reading a whole store and merging it (docs/PERSISTENCE.md §7 steps 4–5):
// per key the record of the highest order, the floors over every record read.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct StoreMerge {
    private(set) var winners: [[UInt8]: DurableRecord] = [:]
    private(set) var files = 0, records = 0
    private(set) var versionFloor: UInt64 = 0, orderFloor: UInt64 = 0
    private(set) var problems: [StoreProblem] = []

    /// Merge the applied prefix of `f` (nothing of a file whose header failed).
    mutating func take(_ f: StoreFile) {
        problems += f.problems
        guard f.usable else { return }
        files += 1
        for r in f.records {
            records += 1
            raise(r.version, r.order)
            // Two records of one order are one write read twice (a snapshot and a journal it
            // covered): keeping the first is keeping either.
            if let w = winners[r.key], w.order >= r.order { continue }
            winners[r.key] = r
        }
        if let e = f.end { raise(e.version, e.order) }
    }

    mutating func raise(_ version: UInt64, _ order: UInt64) {
        versionFloor = max(versionFloor, version)
        orderFloor = max(orderFloor, order)
    }

    /// The newest snapshot of `snaps` (sorted) that is valid, complete and of `geometry`; the
    /// others tried before it are reported (§8: an incomplete one is skipped for the older one).
    mutating func takeNewestSnapshot(_ snaps: [String], geometry: Geometry) -> String {
        for p in snaps.reversed() {
            let f = StoreReader.read(path: p, want: geometry)
            if f.usable && f.complete {
                take(f)
                return p
            }
            problems += f.problems
        }
        return ""
    }

    /// Every winner, tombstones included, in increasing order.
    var result: [DurableRecord] { winners.values.sorted { $0.order < $1.order } }

    /// §7 steps 4–5 over `dir`: the survivors to install, in increasing order, with the counts,
    /// floors and problems in `report`.
    static func restoring(_ dir: String, geometry: Geometry, now: UInt64, report: inout RestoreReport) -> [DurableRecord] {
        var m = StoreMerge()
        let (snaps, journals): ([String], [String])
        switch listStore(dir) {
        case .failure(let e):
            report.problems = [StoreProblem(file: dir, offset: 0, code: "io", detail: e.message, notAppliedBytes: 0)]
            return []
        case .success(let lists): (snaps, journals) = lists
        }
        let snap = m.takeNewestSnapshot(snaps, geometry: geometry)
        if !snap.isEmpty { report.snapshot = String(snap.split(separator: "/").last ?? "") }
        for j in journals { m.take(StoreReader.read(path: j, want: geometry)) }
        report.files = m.files
        report.records = m.records
        report.versionFloor = m.versionFloor
        report.orderFloor = m.orderFloor
        report.problems = m.problems
        var out: [DurableRecord] = []
        for r in m.result {
            if r.kind == .invalidate {
                report.tombstones += 1
            } else if expired(r, at: now) {
                report.expired += 1
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// PROTOCOL.md §12's miss rule applied to a record.
    static func expired(_ r: DurableRecord, at now: UInt64) -> Bool {
        if r.expiresAtNs == 0 { return false }
        return now >= (r.staleUntilNs == 0 ? r.expiresAtNs : r.staleUntilNs)
    }
}

/// The snapshots and journals of `dir` (§2), full paths, each sorted by name (the fixed widths
/// make that numeric order). Other names are ignored.
func listStore(_ dir: String) -> Result<([String], [String]), StoreIOError> {
    listNames(dir).map { names in
        (names.filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(".wcs") }.sorted().map { dir + "/" + $0 },
         names.filter { $0.hasPrefix("journal-") && $0.hasSuffix(".wcj") }.sorted().map { dir + "/" + $0 })
    }
}

/// Every name in `dir` but `.` and `..`.
func listNames(_ dir: String) -> Result<[String], StoreIOError> {
    guard let d = opendir(dir) else { return .failure(StoreIOError(op: "opendir", path: dir, errno: errno)) }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafePointer(to: e.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return .success(names)
}
