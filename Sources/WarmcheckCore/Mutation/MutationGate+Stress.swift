import Foundation

extension MutationGate {
    /// A short `warmcheck stress` of the mutated language alone: four of its processes publish
    /// at once, put-heavy, for a few seconds, judged by every stress check (linearizability,
    /// transitions, counters and the final generation, invariants). A scenario's parallel part
    /// has a handful of operations; some bugs need volume to show — a generation bump made a
    /// load and a store loses an increment only when two publishers bump within nanoseconds
    /// (Go `notify`, class 4 of docs/CONFORMANCE.md). Only the mutated language runs, so every
    /// failure is its own; an inconclusive or errored run is not a kill.
    public static let stress = MutationGate(name: "gate:stress", languages: ["go", "rust", "swift"],
                                            themes: ["put", "generation", "wait"]) { lang, fx, dir in
        guard let spec = fx[lang] else { return nil }
        var o = StressOptions(fixtures: [spec], workDir: dir)
        o.duration = 8
        o.processes = 4
        o.keys = 256
        o.seed = 7
        o.mix = OperationMix(weights: [(.put, 60), (.get, 20), (.invalidate, 10), (.refresh, 10)])
        o.linearizabilityTimeLimit = 60
        let rep = StressCheck.evaluate(StressRunner.run(o))
        guard rep.verdict == .fail else { return nil }
        let first = rep.counterProblems.first ?? rep.transitionViolations.first?.explanation ?? rep.invariantProblems.first
            ?? rep.lines.first { $0.contains("VIOLATED") } ?? "stress: FAIL"
        return "stress (\(lang) x4, 8 s, seed 7): \(first)"
    }
}
