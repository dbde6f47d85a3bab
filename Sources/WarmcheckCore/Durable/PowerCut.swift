#if canImport(Glibc)
import Glibc
#endif
import Foundation
import WarmcheckSegment

/// Crash tests of the durable store (docs/PERSISTENCE.md): a writer journals durable puts and
/// reports after each answer how many journal bytes `write` returned for and how many its last
/// fdatasync covered (`journal_state`); the sweep then simulates power cuts on that journal as
/// RocksDB's fault-injection file system does — bytes past the last sync are lost, except a random
/// part that reached the disk, which may end inside a record (a torn tail) — and every
/// implementation restores each cut image. Verdicts: the restored keys are exactly the complete
/// records that survived (a prefix, no hole, nothing torn applied), a torn or corrupt record is
/// reported, and under `always` no acknowledged put is ever lost. A cut also drops the journal's
/// name when the writer had not synced its directory since creating it (DirectoryEntryTrace).
public struct PowerCutSweep {
    public var writers: [FixtureSpec]
    public var restorers: [FixtureSpec]
    public var cuts: Int
    public var puts = 200
    public var policy = "always"
    public var seed: UInt64 = 1
    public var workDir: String
    public var timeout: Double = 20
    public var log: (String) -> Void = { _ in }
    /// Power cuts during compaction (CompactionCut.swift), after the journal cuts.
    public var compactionCuts = 100

    public init(writers: [FixtureSpec], restorers: [FixtureSpec], cuts: Int, workDir: String) {
        self.writers = writers
        self.restorers = restorers
        self.cuts = cuts
        self.workDir = workDir
    }

    /// Geometry of the sweep: every put fits (4 × 128 slots, window 16, for 200 keys).
    static let geometry: JSON = DriverArguments.geometry(shards: 4, slots: 128, keyCapacity: 16, valueCapacity: 32,
                                                         window: 16, participants: 8)

    public struct Failure: Sendable {
        public var writer: String, restorer: String, cut: String, problem: String
    }

    public struct Report: Sendable {
        public var cuts = 0
        public var tornCuts = 0
        public var corruptCuts = 0
        /// Acknowledged puts lost, summed over cuts, and the most lost by one cut.
        public var lostAcknowledged = 0
        public var maxLostAcknowledged = 0
        public var failures: [Failure] = []
        public var seconds = 0.0
        public var badInputCases = 0
        /// Compactions killed at a `snapshot.*` point and cut, and acknowledged puts they lost.
        public var compactionCuts = 0
        public var compactionLost = 0
    }

    struct Written {
        var path: String
        var data: [UInt8]
        var ends: [Int]  // journal length after each put's answer
        var synced: [Int]  // bytes the last fdatasync covered at each answer
        /// CLOCK_REALTIME when each put's answer arrived, and when the journal's name became
        /// durable (fsync(DIR) after its creation, DirectoryEntryTrace); nil: never, or not traced.
        var answeredAt: [UInt64] = []
        var nameDurableAt: UInt64?
        var traced = false

        /// A cut after answer `i` keeps the journal's directory entry (PERSISTENCE.md §6).
        func nameSurvives(cutAfter i: Int) -> Bool {
            guard traced, i >= 0 else { return true }
            return nameDurableAt.map { $0 <= answeredAt[i] } ?? false
        }
    }

    func start(_ spec: FixtureSpec) throws -> FixtureProcess {
        let fx = try FixtureProcess(spec: spec, timeout: timeout, scratchDir: workDir)
        do { _ = try fx.sayHello() } catch { fx.stop(grace: 0.2); throw error }
        return fx
    }

    func restoreArgs(_ seg: String, _ store: String) -> JSON {
        ["path": .string(seg), "geometry": Self.geometry, "store_dir": .string(store), "fsync": .string(policy),
         "fsync_interval_ms": 5]
    }

    /// One writer's journal: `puts` durable puts, the journal state after each answer.
    func write(_ spec: FixtureSpec, dir: String) throws -> Written {
        let seg = dir + "/seg", store = dir + "/store"
        let trace = dir + "/strace.txt"
        let traced = DirectoryEntryTrace.available
        if !traced { log("\(spec.name): \(DirectoryEntryTrace.strace) is missing or cannot trace here (ptrace denied): directory entries are not modelled (every journal keeps its name)") }
        let fx = try start(traced ? DirectoryEntryTrace.traced(spec, to: trace) : spec)
        defer { fx.stop(grace: 0.2) }
        let r = try fx.call("restore", restoreArgs(seg, store))
        guard r.isOK else { throw UsageError("\(spec.name) restore: \(r.summary) \(r.message ?? "")") }
        var ends: [Int] = [], synced: [Int] = [], answeredAt: [UInt64] = []
        var path = ""
        for i in 0..<puts {
            let p = try fx.call("put", ["key_hex": .string(Hex.encode(Array("k\(i)".utf8))),
                                        "value_hex": .string(Hex.encode(Array("value-\(i)".utf8))), "durable": true])
            answeredAt.append(RealtimeWindow.now())
            guard p.isOK, p.result["durable"]?.bool == true else { throw UsageError("\(spec.name) durable put \(i): \(p.summary)") }
            let s = try fx.call("journal_state")
            guard let w = s.result["written"]?.int, let y = s.result["synced"]?.int, let jp = s.result["path"]?.string else {
                throw UsageError("\(spec.name) journal_state: \(s.raw)")
            }
            ends.append(Int(w)); synced.append(Int(y)); path = jp
        }
        fx.crash()  // SIGKILL: nothing is flushed on the way out
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        unlink(seg)
        let name = (path as NSString).lastPathComponent
        var w = Written(path: name, data: data, ends: ends, synced: synced, answeredAt: answeredAt, traced: traced)
        if traced {
            guard let text = try? String(contentsOfFile: trace, encoding: .utf8), !text.isEmpty else {
                throw UsageError("\(spec.name): strace wrote no trace to \(trace)")
            }
            guard let at = DirectoryEntryTrace.namesDurable(trace: text, dir: (path as NSString).deletingLastPathComponent)[name] else {
                throw UsageError("\(spec.name): the strace trace shows no creation of the journal \(path)")
            }
            w.nameDurableAt = at
            unlink(trace)
        }
        return w
    }

    public func run() throws -> Report {
        let began = Date()
        var rep = Report()
        var rng = SplitMix64(seed: seed)
        let root = (workDir as NSString).appendingPathComponent("warmcheck-powercut-\(getpid())")
        // A stop signal removes the whole directory (Shutdown.isScratch: `warmcheck-GATE-PID`).
        Shutdown.watch(workDir: workDir)
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var procs: [String: FixtureProcess] = [:]
        defer { for p in procs.values { p.stop(grace: 0.2) } }
        for r in restorers { procs[r.name] = try start(r) }
        rep.badInputCases = try badInput(root: root, procs: procs, into: &rep)
        try intervalTimer(root: root, procs: procs, into: &rep)
        let perWriter = max(1, cuts / max(1, writers.count))
        var journals: [Written] = []
        for w in writers {
            let wdir = root + "/w-\(w.name)"
            try FileManager.default.createDirectory(atPath: wdir, withIntermediateDirectories: true)
            let j = try write(w, dir: wdir)
            journals.append(j)
            let store = wdir + "/store", seg = wdir + "/seg"
            let file = store + "/" + j.path
            for n in 0..<perWriter {
                // The cut falls after the answer of put `i` (or before the first answer, i = -1),
                // while put i+1 may be half written: on disk, the synced bytes plus any part of
                // what was written since, ending anywhere (inside a record: torn).
                let i = Int(rng.next() % UInt64(puts + 1)) - 1
                let synced = i >= 0 ? j.synced[i] : 0
                let inFlightEnd = i + 1 < puts ? j.ends[i + 1] : j.ends[puts - 1]
                var keep = synced + Int(rng.next() % UInt64(inFlightEnd - synced + 1))
                // No fsync(DIR) since the journal was created: the cut takes its name with it.
                let nameLost = !j.nameSurvives(cutAfter: i)
                if nameLost { keep = 0 }
                var image = Array(j.data[0..<keep])
                var complete = j.ends.filter { $0 <= keep }.count
                let corrupt = !nameLost && complete > 2 && rng.next() % 8 == 0
                if corrupt {
                    // A corrupt record in the middle: one flipped byte in record c.
                    let c = Int(rng.next() % UInt64(complete - 1))
                    let start = c == 0 ? 96 : j.ends[c - 1]
                    image[start + 8 + Int(rng.next() % UInt64(j.ends[c] - start - 8))] ^= 0x20
                    complete = c
                    rep.corruptCuts += 1
                }
                let torn = !nameLost && !j.ends.contains(keep) && keep != 96 && keep > 0
                if torn { rep.tornCuts += 1 }
                let acked = i + 1
                let restorer = restorers[n % restorers.count]
                let label = "\(w.name) journal cut at byte \(keep) of \(j.data.count) after \(acked) answered puts" + (corrupt ? ", record \(complete) corrupted" : "")
                    + (nameLost ? ", the journal's name lost (no fsync(DIR) after its creation before that answer, PERSISTENCE.md §6)" : "")
                try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
                if nameLost { unlink(file) } else { try Data(image).write(to: URL(fileURLWithPath: file)) }
                let fx = procs[restorer.name]!
                let (r, countsWrong) = try restoreCounted(fx, seg, store)
                var fail: String? = countsWrong
                if !r.isOK {
                    fail = "restore answered \(r.summary) \(r.message ?? "")"
                } else {
                    // The restored segment read by warmcheck's own decoder (PROTOCOL.md alone);
                    // one cut in 50 also by the restorer's `dump`, which costs ~30 ms a call.
                    var keys = try Self.restoredKeys(seg)
                    if n % 50 == 0 {
                        let d = try fx.call("dump")
                        let dumped = Set((d.result["entries"]?.array ?? []).compactMap { $0["key_hex"]?.string })
                        if dumped != keys { keys = dumped; fail = "the restorer's dump disagrees with warmcheck's decoder" }
                    }
                    let want = Set((0..<complete).map { Hex.encode(Array("k\($0)".utf8)) })
                    let problems = (r.result["problems"]?.array ?? []).compactMap { $0["code"]?.string }
                    if fail != nil {
                    } else if keys != want {
                        fail = "restored \(keys.count) keys, the \(complete) complete records are \(want.count) keys"
                            + (keys.isSubset(of: want) ? "" : " (restored a key that no complete record holds: a torn or corrupt record was applied)")
                    } else if (torn || corrupt) && problems.isEmpty {
                        fail = "a torn or corrupt record was not reported"
                    } else if !torn && !corrupt && keep >= 96 && !problems.isEmpty {
                        fail = "an intact journal was reported: \(problems)"
                    }
                    if !corrupt {
                        let lost = max(0, acked - complete)
                        rep.lostAcknowledged += lost
                        rep.maxLostAcknowledged = max(rep.maxLostAcknowledged, lost)
                        if policy == "always" && lost > 0 && fail == nil {
                            fail = "policy always lost \(lost) acknowledged durable puts"
                        }
                    }
                    _ = try fx.call("close")
                }
                unlink(seg)
                if let fail { rep.failures.append(Failure(writer: w.name, restorer: restorer.name, cut: label, problem: fail)) }
                rep.cuts += 1
                if n % 500 == 0 { log("\(w.name): \(n)/\(perWriter) cuts") }
            }
        }
        if compactionCuts > 0 && !journals.isEmpty {
            try runCompactionCuts(root: root, journals: journals, procs: &procs, into: &rep)
        }
        rep.seconds = Date().timeIntervalSince(began)
        return rep
    }

    /// Keys of the readable slots of the segment at `path` whose record passes its checksum.
    static func restoredKeys(_ path: String) throws -> Set<String> {
        let snap: SegmentSnapshot
        switch SegmentSnapshot.read(path: path, liveness: false) {
        case .success(let s): snap = s
        case .failure(let e): throw UsageError("the restored segment \(path) does not open: \(e)")
        }
        var keys = Set<String>()
        for s in 0..<snap.geometry.shardCount {
            for j in 0..<snap.geometry.slotsPerShard {
                guard snap.stateWord(s, j).state?.isReadable == true else { continue }
                let v = snap.slot(s, j)
                let r = v.activeRecord
                guard let k = v.key, r.computedChecksum == r.checksum else { continue }
                keys.insert(Hex.encode(k))
            }
        }
        return keys
    }

    /// Bad input (issue 9): a store holding a file that is not a journal, one of an unknown
    /// format version, a record longer than the file, a checksum mismatch with valid records
    /// after it, and snapshots of another geometry, truncated, and of an unknown format, newer
    /// than one good snapshot, next to one good journal. Every restorer must restore exactly the
    /// good records (the good snapshot's included) and report each bad file with its code.
    func badInput(root: String, procs: [String: FixtureProcess], into rep: inout Report) throws -> Int {
        let dir = root + "/bad", store = dir + "/store", seg = dir + "/seg"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        let g = StoreImage.geometryWords(shards: 4, slots: 128, key: 16, value: 32, window: 16, participants: 8)
        let other = StoreImage.geometryWords(shards: 4, slots: 64, key: 16, value: 32, window: 16, participants: 8)
        func rec(_ seq: UInt64, _ key: String) -> [UInt8] {
            StoreImage.record(seq: seq, order: 1000 + seq, version: seq, key: Array(key.utf8), value: Array("v".utf8))
        }
        func snapshot(_ g: [UInt64], _ key: String, major: UInt64 = 1) -> [UInt8] {
            StoreImage.header(magic: StoreImage.snapshotMagic, geometry: g, major: major)
                + StoreImage.record(seq: 1, order: 10, version: 1, key: Array(key.utf8), value: Array("v".utf8))
                + StoreImage.record(kind: 3, seq: 2, order: 10, version: 1, key: [], value: [])
        }
        var long = StoreImage.header(geometry: g) + rec(1, "long-ok")
        long += Array(rec(2, "long-cut").prefix(40))
        var flipped = StoreImage.header(geometry: g) + rec(1, "sum-ok") + rec(2, "sum-bad") + rec(3, "sum-after")
        flipped[96 + rec(1, "sum-ok").count + 84] ^= 1
        // A header whose every field is valid but whose checksum fails (a bit of created_at_ns,
        // offset 80): §9 makes the whole file unusable, so "hdr-bad" must not come back.
        var badHeader = StoreImage.header(geometry: g) + rec(1, "hdr-bad")
        badHeader[80] ^= 1
        let files: [(String, [UInt8])] = [
            ("journal-0000000000000001-0001-0000000000000001-0000.wcj", StoreImage.header(geometry: g) + rec(1, "good-1") + rec(2, "good-2")),
            ("journal-0000000000000001-0002-0000000000000001-0000.wcj", Array("this is not a journal, just some text that is long enough to pass the size check.............".utf8)),
            ("journal-0000000000000001-0003-0000000000000001-0000.wcj", StoreImage.header(geometry: g, major: 2) + rec(1, "future")),
            ("journal-0000000000000001-0004-0000000000000001-0000.wcj", long),
            ("journal-0000000000000001-0005-0000000000000001-0000.wcj", flipped),
            ("journal-0000000000000001-0006-0000000000000001-0000.wcj", badHeader),
            ("snapshot-0000000000000001.wcs", StoreImage.header(magic: StoreImage.snapshotMagic, geometry: other) + rec(1, "other-geo")
                + StoreImage.record(kind: 3, seq: 2, order: 2000, version: 1, key: [], value: [])),
            // Snapshots (PERSISTENCE.md §8): restore takes the newest valid one, so the three newer
            // bad ones (another geometry above, truncated, of an unknown format) are reported and
            // skipped, and snapshot 0 is used.
            ("snapshot-0000000000000000.wcs", snapshot(g, "snap-ok")),
            ("snapshot-0000000000000002.wcs", Array(snapshot(g, "snap-cut").dropLast(40))),
            ("snapshot-0000000000000003.wcs", snapshot(g, "snap-future", major: 2)),
        ]
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: store + "/" + name)) }
        let want = Set(["good-1", "good-2", "long-ok", "sum-ok", "snap-ok"].map { Hex.encode(Array($0.utf8)) })
        let wantCodes: Set<String> = ["not_a_journal", "unsupported_format", "bad_header_checksum", "torn_record", "bad_checksum", "other_geometry"]
        for (name, fx) in procs.sorted(by: { $0.key < $1.key }) {
            let (r, countsWrong) = try restoreCounted(fx, seg, store)
            var fail: String? = countsWrong
            if !r.isOK {
                fail = "restore answered \(r.summary) \(r.message ?? "")"
            } else {
                let d = try fx.call("dump")
                let keys = Set((d.result["entries"]?.array ?? []).compactMap { $0["key_hex"]?.string })
                let codes = Set((r.result["problems"]?.array ?? []).compactMap { $0["code"]?.string })
                if keys != want { fail = "restored keys \(keys.sorted()) instead of the five good records" }
                else if codes != wantCodes { fail = "reported \(codes.sorted()), expected \(wantCodes.sorted())" }
                _ = try fx.call("close")
            }
            unlink(seg)
            if let fail { rep.failures.append(Failure(writer: "crafted", restorer: name, cut: "bad-input store", problem: fail)) }
        }
        return procs.count
    }
}
