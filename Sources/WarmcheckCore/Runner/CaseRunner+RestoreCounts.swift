import Foundation
import WarmcheckScenario

/// A `restore` answer's counts against the store it read (PERSISTENCE.md §7 steps 4–5, DRIVER.md
/// `restore`). Scenarios judge a restore by the entries a reader finds afterwards, so counts that
/// were wrong (`records` off by one, `tombstones` never counted, a floor short of the highest
/// version read) passed: operators and `warmcheck repair` read these numbers, nothing else did.
/// The harness reads the store itself (StoreReading, written from the spec) just before the
/// request and right after the answer.
///
/// Judged only for a sequential restore that did not pause or crash, answered `restored: true`,
/// and only when the store's journals and snapshots are byte-identical in the two readings (a
/// parallel writer appending meanwhile makes "what the restore read" unknowable); a file that
/// only appears after the answer (the restorer's or another writer's new journal) is left out.
extension CaseRunner {
    func checkRestoreCounts(_ r: DriverResponse, before: [String: [UInt8]], role: String, at location: SourceLocation) {
        guard r.isOK, r.result["restored"]?.bool == true else { return }
        let after = StoreReading.storeFiles(storeDir)
        guard before.allSatisfy({ after[$0.key] == $0.value }) else { return }
        // The restoring geometry: the three words of the segment the restore published (§3, 48..71).
        guard let seg = FileManager.default.contents(atPath: segmentPath), seg.count >= 72 else { return }
        let head = [UInt8](seg.prefix(72))
        let geometry = [48, 56, 64].map { StoreReading.word(head, $0) }
        let want = StoreReading.merge(before, geometry: geometry)
        let res = r.result
        func int(_ k: String) -> Int? { res[k]?.int.map(Int.init) }
        var wrong: [String] = []
        func same(_ field: String, _ expected: Int) {
            if let got = int(field), got != expected { wrong.append("`\(field)` is \(got), the store gives \(expected)") }
            else if int(field) == nil { wrong.append("`\(field)` is missing") }
        }
        same("files", want.files)
        same("records", want.records)
        same("tombstones", want.tombstones)
        for (field, expected) in [("version_floor", want.versionFloor), ("order_floor", want.orderFloor)] {
            if let got = res[field]?.uint, got != expected { wrong.append("`\(field)` is \(got), the store's highest is \(expected)") }
        }
        // Every surviving winner is installed, evicted for want of a slot, or expired at `now`;
        // only a winner with an expiry can be expired.
        if let installed = int("installed"), let evicted = int("evicted"), let expired = int("expired") {
            let live = want.winners - want.tombstones
            if installed + evicted + expired != live {
                wrong.append("`installed` \(installed) + `evicted` \(evicted) + `expired` \(expired) is not the \(live) key(s) whose winner is a put")
            }
            if expired > want.expiring { wrong.append("`expired` is \(expired), but only \(want.expiring) winner(s) carry an expiry") }
        }
        guard let first = wrong.first else { return }
        conformance("\(role)'s restore answer disagrees with the store it read at \(location): \(first)",
                    "PERSISTENCE.md §7 steps 4–5 and DRIVER.md `restore`: the counts describe the store the restore read "
                        + "(read by the harness from the spec just before the request and right after the answer, unchanged):\n"
                        + wrong.map { "  \($0)" }.joined(separator: "\n"))
    }
}
