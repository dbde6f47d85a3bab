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
        guard let geometry = StoreReading.segmentGeometry(segmentPath) else { return }
        let reading = StoreReading.merge(before, geometry: geometry)
        checkRestoredEntries(reading, role: role, at: location)
        let wrong = reading.disagreements(with: r.result)
        guard let first = wrong.first else { return }
        conformance("\(role)'s restore answer disagrees with the store it read at \(location): \(first)",
                    "PERSISTENCE.md §7 steps 4–5 and DRIVER.md `restore`: the counts describe the store the restore read "
                        + "(read by the harness from the spec just before the request and right after the answer, unchanged):\n"
                        + wrong.map { "  \($0)" }.joined(separator: "\n"))
    }
}
