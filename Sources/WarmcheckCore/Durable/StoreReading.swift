import Foundation
import WarmcheckSegment
import WarmcheckJSON

/// The harness's own reading of a durable store, from docs/PERSISTENCE.md §4, §5, §7 steps 4–5
/// and §9 alone (no implementation's reader), so that a restore answer's counts can be compared
/// with what the store held. Only what the counts need is kept: per file whether it is usable,
/// and per applied record its kind, key, order, version and expiry.
struct StoreReading: Equatable {
    /// The counts §7 step 5 derives from the store (DRIVER.md `restore`), before installing:
    /// `files` usable files read, `records` records applied (a snapshot's `end` excluded),
    /// `winners` keys merged, of which `tombstones` are invalidations and `expiring` carry an
    /// expiry (only those can be counted `expired`, which depends on the restorer's `now`).
    var files = 0, records = 0, winners = 0, tombstones = 0, expiring = 0
    var versionFloor: UInt64 = 0, orderFloor: UInt64 = 0
    /// The winning record of each key (CaseRunner+RestoredEntries compares the segment with it).
    var winnerRecords: [[UInt8]: Record] = [:]

    struct Record: Equatable {
        var kind: UInt8, key: [UInt8], order: UInt64, version: UInt64, expires: UInt64
        /// The fields a put record repeats from the published record (§5), for the journal audit
        /// (CaseRunner+JournalAudit).
        var valueInfo: UInt64 = 0, staleUntil: UInt64 = 0, writtenAt: UInt64 = 0, writer: UInt64 = 0, writerStart: UInt64 = 0
        var value: [UInt8] = []
    }
    struct File { var snapshot: Bool, usable: Bool, complete: Bool, records: [Record], end: Record? }

    static func word(_ b: [UInt8], _ at: Int) -> UInt64 { le64(b, at) }

    /// §9: a header failure makes the file unusable; a record failure ends it (records before it
    /// are applied, none from it on). `geometry` is the restoring segment's three words.
    static func read(_ b: [UInt8], geometry: [UInt64]) -> File {
        var f = File(snapshot: false, usable: false, complete: false, records: [], end: nil)
        guard b.count >= StoreImage.headerSize else { return f }
        let magic = word(b, 0)
        guard magic == StoreImage.journalMagic || magic == StoreImage.snapshotMagic else { return f }
        let format = word(b, 8)
        guard format & 0xFFFF == 1, format >> 32 == UInt64(StoreImage.headerSize),
              SpecHash.wch64(b[0..<88], seed: StoreImage.seed) == word(b, 88),
              [word(b, 16), word(b, 24), word(b, 32)] == geometry else { return f }
        f.snapshot = magic == StoreImage.snapshotMagic
        f.usable = true
        let keyCapacity = Int(geometry[1] & 0xFFFF_FFFF), valueCapacity = Int(geometry[1] >> 32)
        func pad8(_ n: Int) -> Int { (n + 7) & ~7 }
        var off = StoreImage.headerSize, seq: UInt64 = 0
        while b.count - off >= 8 {
            let n = Int(word(b, off) & 0xFFFF_FFFF)
            guard n >= 88, n % 8 == 0, n <= b.count - off else { break }
            guard SpecHash.wch64(b[off..<off + n - 8], seed: StoreImage.seed) == word(b, off + n - 8) else { break }
            let kind = b[off + 4], flags = b[off + 5], keyLen = Int(b[off + 6]) | Int(b[off + 7]) << 8
            let valueLen = Int(word(b, off + 32) & 0xFFFF_FFFF)
            guard kind == 1 || kind == 2 || (kind == 3 && f.snapshot), flags == 0,
                  kind == 3 || (1...keyCapacity).contains(keyLen),
                  valueLen <= valueCapacity, kind == 1 || valueLen == 0,
                  n == 80 + pad8(keyLen) + pad8(valueLen) + 8, word(b, off + 8) == seq &+ 1 else { break }
            seq += 1
            let valueAt = off + 80 + pad8(keyLen)
            let r = Record(kind: kind, key: Array(b[off + 80..<off + 80 + keyLen]), order: word(b, off + 16),
                           version: word(b, off + 24), expires: word(b, off + 40),
                           valueInfo: word(b, off + 32), staleUntil: word(b, off + 48), writtenAt: word(b, off + 56),
                           writer: word(b, off + 64), writerStart: word(b, off + 72),
                           value: Array(b[valueAt..<valueAt + valueLen]))
            off += n
            if kind == 3 { f.complete = true; f.end = r; break }
            f.records.append(r)
        }
        return f
    }

    /// §7 steps 4–5 over the store's files (name → bytes): the newest valid, complete snapshot
    /// (older ones only if newer ones fail), then every journal; per key the highest order wins.
    static func merge(_ files: [String: [UInt8]], geometry: [UInt64]) -> StoreReading {
        var s = StoreReading()
        var winners: [[UInt8]: Record] = [:]
        func take(_ f: File) {
            s.files += 1
            for r in f.records + (f.end.map { [$0] } ?? []) {
                s.versionFloor = max(s.versionFloor, r.version)
                s.orderFloor = max(s.orderFloor, r.order)
            }
            for r in f.records {
                s.records += 1
                if let w = winners[r.key], w.order >= r.order { continue }
                winners[r.key] = r
            }
        }
        let names = files.keys.sorted()
        for name in names.filter({ $0.hasPrefix("snapshot-") && $0.hasSuffix(".wcs") }).reversed() {
            let f = read(files[name]!, geometry: geometry)
            if f.usable && f.complete { take(f); break }
        }
        for name in names.filter({ $0.hasPrefix("journal-") && $0.hasSuffix(".wcj") }) {
            let f = read(files[name]!, geometry: geometry)
            if f.usable { take(f) }
        }
        s.winners = winners.count
        s.winnerRecords = winners
        s.tombstones = winners.values.filter { $0.kind == 2 }.count
        s.expiring = winners.values.filter { $0.kind == 1 && $0.expires != 0 }.count
        return s
    }

    /// What a restore answer (DRIVER.md `restore`: the result object) says that this reading
    /// of the store it read contradicts; empty when it agrees.
    func disagreements(with res: JSON) -> [String] {
        func int(_ k: String) -> Int? { res[k]?.int.map(Int.init) }
        var wrong: [String] = []
        for (field, expected) in [("files", files), ("records", records), ("tombstones", tombstones)] {
            guard let got = int(field) else { wrong.append("`\(field)` is missing"); continue }
            if got != expected { wrong.append("`\(field)` is \(got), the store gives \(expected)") }
        }
        for (field, expected) in [("version_floor", versionFloor), ("order_floor", orderFloor)] {
            guard let got = res[field]?.uint else { wrong.append("`\(field)` is missing"); continue }
            if got != expected { wrong.append("`\(field)` is \(got), the store's highest is \(expected)") }
        }
        // Every winner that is a put is installed, evicted for want of a slot, or expired at the
        // restorer's `now` (which the harness does not know); only a winner with an expiry expires.
        if let installed = int("installed"), let evicted = int("evicted"), let expired = int("expired") {
            let live = winners - tombstones
            if installed + evicted + expired != live {
                wrong.append("`installed` \(installed) + `evicted` \(evicted) + `expired` \(expired) is not the \(live) key(s) whose winner is a put")
            }
            if expired > expiring { wrong.append("`expired` is \(expired), but only \(expiring) winner(s) carry an expiry") }
        } else {
            wrong.append("`installed`, `evicted` or `expired` is missing")
        }
        return wrong
    }

    /// The three geometry words (PROTOCOL.md §3, offsets 48, 56, 64) of the segment at `path`.
    static func segmentGeometry(_ path: String) -> [UInt64]? {
        guard let head = head(of: path, 72) else { return nil }
        return [48, 56, 64].map { word(head, $0) }
    }

    /// The first `count` bytes of the file at `path`, or nil if it is shorter or unreadable. Only
    /// these are read: a segment is megabytes to gigabytes, and its header is what is wanted.
    static func head(of path: String, _ count: Int) -> [UInt8]? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let d = try? h.read(upToCount: count), d.count == count else { return nil }
        return [UInt8](d)
    }

    /// The journals and snapshots of `dir` (§2's names), whole; empty when it does not exist.
    static func storeFiles(_ dir: String) -> [String: [UInt8]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [String: [UInt8]] = [:]
        for n in names where (n.hasPrefix("journal-") && n.hasSuffix(".wcj")) || (n.hasPrefix("snapshot-") && n.hasSuffix(".wcs")) {
            if let d = FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent(n)) { out[n] = [UInt8](d) }
        }
        return out
    }
}
