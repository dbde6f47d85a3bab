import Foundation
import WarmcheckScenario

/// A `compact` answer against the store directory it describes (PERSISTENCE.md §8, DRIVER.md
/// `compact`): the harness lists the directory just before the request and right after the
/// answer. Scenarios judge a compaction by what a later restore finds, so an answer whose counts
/// are wrong (`removed` never counted, a `snapshot` name that is not the file written) passed:
/// tools and operators read these numbers, nothing else does.
///
/// Judged only for a sequential compact that did not pause: then nothing else touches the
/// directory between the two listings (a parallel writer may start a new journal part, which
/// only adds a name and is not counted).
extension CaseRunner {
    /// The names in the case's store directory (empty when it does not exist yet).
    func storeListing() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: storeDir)) ?? [])
    }

    func checkCompaction(_ r: DriverResponse, before: Set<String>, role: String, at location: SourceLocation) {
        guard r.isOK else { return }
        let after = storeListing()
        let res = r.result
        let problems = res["problems"]?.array ?? []
        let removed = res["removed"]?.int.map(Int.init), covered = res["covered"]?.int.map(Int.init)
        let snapshot = res["snapshot"]?.string ?? "", base = res["base"]?.string ?? "", created = res["created"]?.bool
        let gone = before.subtracting(after)
        var wrong: [String] = []
        // A removal that failed is a problem and not counted; with no problem every doomed file went.
        if problems.isEmpty, let removed, removed != gone.count {
            wrong.append("`removed` is \(removed), but \(gone.count) file(s) left the store directory (\(gone.sorted().joined(separator: ", ")))")
        }
        if let removed, let covered, covered + (base.isEmpty ? 0 : 1) > removed, problems.isEmpty {
            wrong.append("`removed` is \(removed), fewer than the \(covered) covered journal(s)\(base.isEmpty ? "" : " and the base snapshot \(base)") it folded in")
        }
        if !snapshot.isEmpty && !(after.contains(snapshot) && !before.contains(snapshot)) {
            wrong.append("`snapshot` names \(snapshot), which is not a new file of the store directory")
        }
        if created == true && snapshot.isEmpty { wrong.append("`created` is true with no `snapshot` name") }
        if !base.isEmpty && !(before.contains(base) && !after.contains(base)) && problems.isEmpty {
            wrong.append("`base` names \(base), which was not an older snapshot removed by this compaction")
        }
        guard let first = wrong.first else { return }
        conformance("\(role)'s compact answer disagrees with the store directory at \(location): \(first)",
                    "PERSISTENCE.md §8 step 5 and DRIVER.md `compact`: the answer describes what the compaction did to the "
                        + "store directory. Listed just before the request and right after the answer:\n"
                        + wrong.map { "  \($0)" }.joined(separator: "\n"))
    }
}
