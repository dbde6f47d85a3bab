import Foundation
import WarmcheckScenario

/// Shrinks a failing race replay while the same violation still happens: first fewer
/// operations (delta debugging: halves, quarters, … single operations), then fewer context
/// switches. Each accepted step strictly shrinks (operations fewer, or fewer context switches),
/// and the number of runs is capped, so it always ends.
public struct Minimizer {
    public var options: RunOptions
    /// At most this many replays; each costs a fresh pair of processes and a segment.
    public var maxRuns: Int

    public init(options: RunOptions, maxRuns: Int = 80) {
        self.options = options
        self.maxRuns = maxRuns
    }

    public struct Outcome {
        public var replay: Replay
        public var runs: Int
        /// The race operations the minimized replay still runs, role by role.
        public var kept: [Replay.OpRef]
        /// How many race operations the original ran.
        public var total: Int
    }

    public func minimize(_ original: Replay) throws -> Outcome {
        let want = Replay.signature(original.reason)
        var best = original
        var runs = 0

        /// The choices the run actually made when it failed the same way, else nil.
        func reproduces(schedule: [Int], dropped: [Replay.OpRef]) throws -> [Int]? {
            guard runs < maxRuns else { return nil }
            runs += 1
            let (r, runner) = try original.run(options: options, schedule: schedule, dropped: dropped)
            guard r.verdict != .pass, Replay.signature(r.reason) == want else { return nil }
            return runner.scheduler?.choices ?? schedule
        }

        // Fewer operations, ddmin-style: try to drop chunks of half the operations, then of a
        // quarter, … down to single ones, keeping every removal that still fails (a race exported
        // from a stress run has thousands; one at a time would never get through them). Later
        // choices may no longer fit; the replay scheduler then falls back to the lowest runnable
        // role, and the choices actually made become the new schedule.
        let all = try raceOperations(original)
        var left = all
        var chunk = max(1, left.count / 2)
        while runs < maxRuns {
            var i = 0
            while i < left.count, runs < maxRuns {
                let piece = Array(left[i..<min(i + chunk, left.count)])
                if let made = try reproduces(schedule: best.schedule, dropped: best.droppedOps + piece) {
                    best.droppedOps += piece
                    best.schedule = made
                    left.removeSubrange(i..<min(i + chunk, left.count))
                } else {
                    i += chunk
                }
            }
            if chunk == 1 { break }
            chunk /= 2
        }

        // Fewer preemptions: make each context switch a "keep running the same role" choice.
        var i = 1
        while i < best.schedule.count, runs < maxRuns {
            defer { i += 1 }
            guard best.schedule[i] != best.schedule[i - 1] else { continue }
            var candidate = best.schedule
            candidate[i] = candidate[i - 1]
            // Accept only a strictly smaller count: the run may fall back to the old choice,
            // and accepting that would loop for ever.
            if let made = try reproduces(schedule: candidate, dropped: best.droppedOps),
               Replay.preemptions(made) < Replay.preemptions(best.schedule) {
                best.schedule = made
            }
        }
        return Outcome(replay: best, runs: runs, kept: left, total: all.count)
    }

    /// Every operation of the case's race block, role by role (indices of the original lists).
    func raceOperations(_ r: Replay) throws -> [Replay.OpRef] {
        let s = try ScenarioParser.parse(contentsOf: URL(fileURLWithPath: r.scenarioFile))
        guard let race = s.race else { return [] }
        return race.ops.flatMap { list in
            list.steps.enumerated().map { Replay.OpRef(role: list.role, index: $0.offset, text: $0.element.operation?.text ?? "?") }
        }
    }
}
