import WarmcheckSegment

/// The `generation` word of a stress run's final segment against the transitions the answers
/// reported (PROTOCOL.md §11): it is bumped exactly once for every T2, T5, T9 and T12–T14, so
/// on the fresh segment a stress run creates (generation 0) its final value is their count.
///
/// Why in stress and not only in the scenario runner (`CaseRunner+Generation.swift`): a bump
/// that is a load and a store instead of one fetch-add loses an increment only when two
/// publishers bump within nanoseconds of each other. A scenario's parallel part has a handful
/// of operations; a stress run has tens of thousands of publishes from several processes at
/// once, which is the volume such a lost update needs to show.
extension StressCheck {
    /// nil when the run's final generation agrees with its answers or cannot be judged: a
    /// process killed mid-call may have bumped without answering, an untraced implementation
    /// reports no transitions, a harness error leaves operations unanswered.
    static func generationDisagreement(_ run: StressRun) -> String? {
        guard run.kills == 0, run.harnessError == nil, run.untraced.isEmpty,
              case .success(let snap)? = run.decoded else { return nil }
        let reported = run.transitions.filter { CaseRunner.generationBumpingEvents.contains($0.transition.eventName) }.count
        // The segment was created by the run, with generation 0; the word is a wrapping u32.
        guard snap.header.generation != UInt32(truncatingIfNeeded: reported) else { return nil }
        let moved = Int(snap.header.generation)
        return "generation is \(moved) in the final segment, but the answers reported \(reported) publishing transition(s) "
            + "(T2, T5, T9, T12–T14; PROTOCOL.md §11: one bump each, and nothing else bumps): "
            + (moved < reported ? "\(reported - moved) bump(s) lost — a non-atomic increment racing another publisher?"
                                : "\(moved - reported) bump(s) too many")
    }
}
