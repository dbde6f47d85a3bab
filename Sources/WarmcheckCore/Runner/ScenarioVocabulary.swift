import WarmcheckScenario
import WarmcheckSegment

/// Holds the names a scenario uses to spec/vocabulary.json: a pause point or event the protocol
/// does not define (renamed, misspelt) is a parse error at its line, not a case that quietly
/// skips because no fixture offers it, nor a coverage requirement that is quietly dropped.
enum ScenarioVocabulary {
    static func errors(in scenarios: [Scenario]) -> [ScenarioError] {
        let vocabulary: Vocabulary
        switch Vocabulary.standard {
        case .success(let v): vocabulary = v
        case .failure(let e):
            return scenarios.prefix(1).map { ScenarioError(.badValue, $0.location, "cannot check pause points and events: \(e)") }
        }
        let points = Set(vocabulary.pausePoints), events = Set(vocabulary.events)
        var out: [ScenarioError] = []
        for s in scenarios {
            for o in s.allOperations {
                for (option, point) in [("pause_at", o.pauseAt), ("crash_at", o.crashAt)] {
                    guard let point, !points.contains(point), !(option == "pause_at" && point == "*") else { continue }
                    out.append(ScenarioError(.badValue, o.location,
                                             "\(option)=\(point): not a pause point of spec/vocabulary.json (PROTOCOL.md §17)"))
                }
            }
            for goal in s.race?.sometimes ?? [] {
                for p in goal where !points.contains(p.point) {
                    out.append(ScenarioError(.badValue, s.race!.location,
                                             "sometimes: \(p): \(p.point) is not a pause point of spec/vocabulary.json (PROTOCOL.md §17)"))
                }
            }
            for e in s.covers where !events.contains(e) {
                out.append(ScenarioError(.badValue, s.location, "covers: \(e) is not an event of spec/vocabulary.json (PROTOCOL.md §8.2)"))
            }
        }
        return out
    }
}
