import Foundation
import WarmcheckScenario
import WarmcheckSegment

/// The `generation` word against the transitions that were reported (PROTOCOL.md §11): it moves
/// by exactly one for each publish T2, T5, T9 and each slot reclaim T12–T14, and by nothing else.
/// Waiters only ever test "changed", so a publisher that bumps twice, or bumps on a claim, on
/// T6/T7, or loses a bump to a racing non-atomic increment, answers every `wait` correctly;
/// only a count of the word between two snapshots sees it.
struct GenerationBaseline {
    var generation: UInt32
    var createdAtNs: UInt64
}

extension CaseRunner {
    /// The events of §11 that bump `generation`, once each (T2, T5, T9, T12–T14).
    static let generationBumpingEvents: Set<String> = ["publish", "refresh_publish", "clear", "reclaim"]

    /// Operations whose answer does not describe the segment the previous snapshot read: a
    /// create or a restore may have made a new one, and a resumed operation's bumps before its
    /// pause were already in the previous snapshot.
    static let generationUnjudgedOps: Set<WarmcheckScenario.Operation> = [.create, .restore, .resume]

    /// Judges the generation delta since the previous snapshot when everything that ran in
    /// between is known: one sequential operation that answered, or a parallel part of plain
    /// operations that all answered (a race, a control step, a death or a paused operation: not
    /// judged). Then takes this snapshot as the next baseline when it can be one.
    func checkGeneration(_ q: AuditQueue, after step: Step?, snap: SegmentSnapshot, settled: Bool, where_: String) {
        let base = generationBaseline
        generationBaseline = settled ? GenerationBaseline(generation: snap.header.generation, createdAtNs: snap.header.createdAtNs) : nil
        guard settled, let base, base.createdAtNs == snap.header.createdAtNs, untraced.isEmpty, judgeable(step, answers: q.items.count) else { return }
        let reported = q.items.reduce(0) { n, item in n + item.transitions.filter { Self.generationBumpingEvents.contains($0.event) }.count }
        let moved = Int(snap.header.generation &- base.generation)
        guard moved != reported else { return }
        conformance("generation moved by \(moved) \(where_), \(reported) publishing transition(s) were reported",
                    "PROTOCOL.md §11: `generation` is bumped once for every T2, T5, T9 and T12–T14 and for nothing else. "
                        + "Between the previous snapshot (generation \(base.generation)) and this one \(where_) (generation "
                        + "\(snap.header.generation)) the fixtures reported \(reported) such transition(s) in their answers.")
    }

    private func judgeable(_ step: Step?, answers: Int) -> Bool {
        if let step {
            guard case .operation(let o) = step else { return false }
            return answers == 1 && !Self.generationUnjudgedOps.contains(o.op)
        }
        // The parallel part (a race block's snapshot comes after kills and schedules: not judged).
        guard scenario.race == nil else { return false }
        let steps = scenario.parallel.flatMap(\.steps)
        lock.lock()
        let answered = parallelResults.filter { $0.response != nil }.count
        lock.unlock()
        return steps.allSatisfy { $0.control == nil && !Self.generationUnjudgedOps.contains($0.operation?.op ?? .resume) }
            && answered == steps.count && answers == steps.count
    }
}
