import Foundation
import WarmcheckSegment
import Yams

/// The `race:` block.
extension Parser {
    /// `race: {strategy, schedules, depth, preemptions, ops: {ROLE: [ops]}, sometimes: ["r@p r@p", …]}`.
    func parseRace(_ node: Node) -> RaceBlock? {
        guard let m = node.mapping else {
            error(.wrongType, loc(node), "`race` must be a mapping (strategy, schedules, ops, sometimes, …)")
            return nil
        }
        var strategy = RaceStrategy.random
        var schedules = 100, depth = 2, preemptions = 2, kills = 0
        var ops: [ParallelList] = []
        var sometimes: [[RacePosition]] = []
        let known = ["strategy", "schedules", "depth", "preemptions", "ops", "sometimes", "kills"]
        for (k, v) in m {
            guard let key = k.scalar?.string, known.contains(key) else {
                error(.unknownKey, loc(k), "unknown key '\(k.scalar?.string ?? "?")' in race (expected one of: \(known.joined(separator: ", ")))")
                continue
            }
            switch key {
            case "strategy":
                guard let s = v.scalar.flatMap({ RaceStrategy(rawValue: $0.string) }) else {
                    error(.invalid, loc(v), "race strategy must be one of \(RaceStrategy.allCases.map(\.rawValue).joined(separator: ", "))"
                          + ", not '\(v.scalar?.string ?? "?")'")
                    continue
                }
                strategy = s
            case "kills":
                guard let n = v.scalar.flatMap({ Int($0.string) }), (0...8).contains(n) else {
                    error(.invalid, loc(v), "race kills must be a whole number 0…8 (SIGKILLs per schedule)")
                    continue
                }
                kills = n
            case "schedules", "depth", "preemptions":
                guard let n = v.scalar.flatMap({ Int($0.string) }), n >= (key == "preemptions" ? 0 : 1), n <= 1_000_000 else {
                    error(.invalid, loc(v), "race \(key) must be a whole number (\(key == "preemptions" ? "0" : "1")…1000000)")
                    continue
                }
                if key == "schedules" { schedules = n } else if key == "depth" { depth = n } else { preemptions = n }
            case "ops":
                ops = parseParallel(v)
                for list in ops {
                    for st in list.steps where st.operation == nil {
                        error(.invalid, st.location, "race ops are operations only (no control steps)")
                    }
                }
            default:  // sometimes
                guard let seq = v.sequence else {
                    error(.wrongType, loc(v), "`sometimes` must be a list of goals like \"reader@get.between_seq_reads writer@refresh.after_payload\"")
                    continue
                }
                for g in seq {
                    guard let text = g.scalar?.string else { error(.wrongType, loc(g), "a goal is a string of ROLE@POINT"); continue }
                    var goal: [RacePosition] = []
                    for tok in text.split(separator: " ") {
                        let parts = tok.split(separator: "@", maxSplits: 1).map(String.init)
                        guard parts.count == 2, roles.contains(parts[0]), ScenarioParser.pausePoints.contains(parts[1]) else {
                            error(.invalid, loc(g), "bad goal '\(tok)': ROLE@POINT with a declared role and a pause point of PROTOCOL.md §17")
                            continue
                        }
                        goal.append(RacePosition(role: parts[0], point: parts[1]))
                    }
                    if !goal.isEmpty { sometimes.append(goal) }
                }
            }
        }
        if ops.isEmpty { error(.missing, loc(node), "a race needs `ops`: the operations that race, per role") }
        var race = RaceBlock(strategy: strategy, schedules: schedules, depth: depth, preemptions: preemptions, ops: ops,
                             sometimes: sometimes, location: loc(node))
        race.kills = kills
        return race
    }
}
