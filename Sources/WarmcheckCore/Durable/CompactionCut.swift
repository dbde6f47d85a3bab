#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Power cuts during compaction (docs/PERSISTENCE.md §8). Each cut lays out a store of every
/// writer's journal (in one cut in two over a snapshot an earlier compaction made of the first),
/// kills a compactor at one of the four `snapshot.*` points, and then does to the files what a
/// power cut at that instant may do, given what the compactor had made durable by then:
///
/// | killed at | durable by then | the cut |
/// | --- | --- | --- |
/// | `snapshot.after_write` | nothing of the `.tmp` | the `.tmp` keeps a random prefix, or goes |
/// | `snapshot.before_rename` | the `.tmp` (fsynced) | nothing lost |
/// | `snapshot.before_remove` | the rename (`fsync(DIR)`) | nothing lost |
/// | `snapshot.after_remove` | not the `unlink` just made | the removed file may come back |
///
/// Then another implementation restores: it must restore every acknowledged put and report
/// nothing; then it compacts with its own handle (which must write a snapshot, and remove the
/// dead compactor's `.tmp`), and a third restore from that snapshot alone must give the same keys.
extension PowerCutSweep {
    static let snapshotPoints = ["snapshot.after_write", "snapshot.before_rename", "snapshot.before_remove", "snapshot.after_remove"]

    func compactArgs(_ store: String) -> JSON {
        ["store_dir": .string(store), "geometry": Self.geometry]
    }

    func storeNames(_ store: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []).sorted()
    }

    func runCompactionCuts(root: String, journals: [Written], procs: inout [String: FixtureProcess], into rep: inout Report) throws {
        var rng = SplitMix64(seed: seed ^ 0xC0A1_E5CE)
        let dir = root + "/compaction", store = dir + "/store", seg = dir + "/seg"
        let want = Set((0..<puts).map { Hex.encode(Array("k\($0)".utf8)) })
        let fm = FileManager.default
        for n in 0..<compactionCuts {
            let point = Self.snapshotPoints[n % Self.snapshotPoints.count]
            let compactor = restorers[(n / Self.snapshotPoints.count) % restorers.count]
            let restorer = restorers[(n / Self.snapshotPoints.count + 1) % restorers.count]
            let overSnapshot = (n / (Self.snapshotPoints.count * restorers.count)) % 2 == 1
            var label = "compaction by \(compactor.name) killed at \(point)" + (overSnapshot ? " over a snapshot" : "")
            try? fm.removeItem(atPath: dir)
            try fm.createDirectory(atPath: store, withIntermediateDirectories: true)
            var fail: String?
            func write(_ j: Written) throws { try Data(j.data).write(to: URL(fileURLWithPath: store + "/" + j.path)) }
            try write(journals[0])
            if overSnapshot {
                let r = try procs[restorer.name]!.call("compact", compactArgs(store))
                if r.result["created"]?.bool != true { fail = "the base compaction wrote no snapshot: \(r.summary) \(r.raw)" }
            }
            for j in journals.dropFirst() { try write(j) }
            let before = Set(storeNames(store))
            let args: JSON = ["store_dir": .string(store), "geometry": Self.geometry, "crash_at": .string(point)]
            let victim = procs[compactor.name]!
            var died = false
            do { _ = try victim.call("compact", args) } catch is FixtureFailure { died = victim.diedOfSIGKILL }
            if !died && fail == nil { fail = "the compactor did not die at \(point)" }
            victim.stop(grace: 0.2)
            procs[compactor.name] = try start(compactor)
            // The cut.
            let after = storeNames(store)
            switch point {
            case "snapshot.after_write":
                for t in after where t.contains(".tmp.") {
                    let p = store + "/" + t
                    let size = (try? fm.attributesOfItem(atPath: p)[.size] as? Int) ?? 0
                    if rng.next() % 4 == 0 {
                        unlink(p)
                        label += ", .tmp lost"
                    } else {
                        let keep = Int(rng.next() % UInt64(size + 1))
                        truncate(p, off_t(keep))
                        label += ", .tmp cut to \(keep) of \(size) bytes"
                    }
                }
            case "snapshot.after_remove":
                for j in journals where before.contains(j.path) && !after.contains(j.path) && rng.next() % 2 == 0 {
                    try write(j)
                    label += ", the unlink of \(j.path) undone"
                }
            default: break
            }
            // Restore, compact again with the restorer's handle, restore from that alone.
            if fail == nil { fail = try restoreAll(procs[restorer.name]!, seg, store, want, &rep) }
            if fail == nil {
                let fx = procs[restorer.name]!
                // A kill after the last unlink may leave no journal to cover: then no snapshot.
                let coverable = storeNames(store).contains { $0.hasPrefix("journal-") }
                let c = try fx.call("compact", compactArgs(store))
                let left = storeNames(store).filter { $0.hasPrefix("journal-") || $0.contains(".tmp.") }
                if c.result["created"]?.bool != coverable {
                    fail = "the compaction after the cut answered created=\(c.result["created"]?.bool ?? false) with journals \(coverable ? "" : "not ")left to cover: \(c.summary)"
                } else if coverable && !left.isEmpty { fail = "the compaction after the cut left \(left)" }
                _ = try fx.call("close")
                unlink(seg)
            }
            if fail == nil { fail = try restoreAll(procs[compactor.name]!, seg, store, want, &rep) }
            if fail == nil { _ = try procs[compactor.name]!.call("close") }
            unlink(seg)
            if let fail { rep.failures.append(Failure(writer: "compaction", restorer: restorer.name, cut: label, problem: fail)) }
            rep.compactionCuts += 1
            if n % 100 == 0 { log("compaction: \(n)/\(compactionCuts) cuts") }
        }
    }

    /// Restores `seg` from `store` and checks that exactly `want` came back with nothing
    /// reported; the handle is left open (the caller closes it). Nil when all is well.
    func restoreAll(_ fx: FixtureProcess, _ seg: String, _ store: String, _ want: Set<String>, _ rep: inout Report) throws -> String? {
        unlink(seg)
        let (r, countsWrong) = try restoreCounted(fx, seg, store)
        guard r.isOK else { return "\(fx.spec.name) restore answered \(r.summary) \(r.message ?? "")" }
        if let countsWrong { return "\(fx.spec.name): \(countsWrong)" }
        let keys = try Self.restoredKeys(seg)
        let lost = want.subtracting(keys).count
        rep.compactionLost += lost
        let problems = (r.result["problems"]?.array ?? []).compactMap { $0["code"]?.string }
        if lost > 0 { return "\(fx.spec.name) restored \(keys.count) keys: \(lost) acknowledged durable puts lost" }
        if !keys.isSubset(of: want) { return "\(fx.spec.name) restored keys nobody wrote" }
        if !problems.isEmpty { return "\(fx.spec.name) reported \(problems) on a store a power cut left consistent" }
        return nil
    }
}
