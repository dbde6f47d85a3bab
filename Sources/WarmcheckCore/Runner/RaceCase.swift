import Foundation
import WarmcheckScenario

/// Runs a race case: one execution per schedule the strategy proposes, each on a fresh segment
/// with fresh processes, until one fails or the budget is spent. A race whose `sometimes` goals
/// were never reached fails: it explored nothing worth trusting.
public struct RaceCase {
    public let testCase: ScenarioCase
    public let options: RunOptions

    public init(_ c: ScenarioCase, options: RunOptions) {
        testCase = c
        self.options = options
    }

    /// The per-case seed: the run's seed mixed with the case name, so that cases differ but a
    /// rerun with the same `--seed` explores exactly the same schedules.
    var seed: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in testCase.name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h ^ options.seed
    }

    public func run() -> CaseResult {
        CPUPin.onOneCPU(explore)
    }

    func explore() -> CaseResult {
        let race = testCase.scenario.race!
        var sched = RecordingScheduler(makeScheduler(strategy: race.strategy, seed: seed, schedules: race.schedules,
                                                     depth: race.depth, preemptions: race.preemptions))
        var reached = Set<Int>()
        var notes: [String] = []
        var coverage = RaceCoverage()
        // `kills: N`: how many kills the schedules made and at which role@point, for the stats.
        var kills = 0
        var killPoints = Set<String>()
        var n = 0
        let start = Date()
        // Schedules share processes: starting and stopping two fixtures was three quarters of a
        // schedule's time. Each execution still gets a fresh segment, and a process is only
        // passed on after a clean execution that closed its segment (CaseRunner.cleanup).
        var processes: [String: RoleProcess] = [:]
        defer { RoleProcess.stopAll(processes.values) }
        while sched.newExecution() {
            n += 1
            let runner = CaseRunner(testCase, options: options)
            runner.scheduler = sched
            runner.reuse = processes
            runner.handOverProcesses = true
            var r = runner.run()
            processes = runner.reuse
            sched = runner.scheduler!
            reached.formUnion(runner.goalsReached)
            kills += runner.killsAt.count
            killPoints.formUnion(runner.killsAt)
            notes = r.notes
            coverage.add(runner.timeline, lanes: Dictionary(uniqueKeysWithValues: testCase.scenario.roles.map { (runner.lane($0), $0) }))
            if r.verdict != .pass {
                r.seconds = Date().timeIntervalSince(start)
                guard r.verdict == .fail else { return r }
                r.reason = "schedule \(n) of \(race.strategy): " + r.reason
                let replay = Replay(scenarioFile: testCase.scenario.file, caseName: testCase.name, seed: options.seed,
                                    strategy: race.strategy.rawValue, schedule: sched.choices, reason: r.reason,
                                    fixtures: options.fixtureCommands)
                Artifacts.save(failure: r, replay: replay, timeline: runner.markedTimeline, lanes: runner.laneNames,
                               options: options, into: &r)
                return r
            }
        }
        let missing = race.sometimes.indices.filter { !reached.contains($0) }
        var r = CaseResult(name: testCase.name, scenario: testCase.scenario.name, file: testCase.scenario.file,
                           assignment: testCase.assignments.map { (role: $0.role, impl: $0.implementation) },
                           verdict: .pass, reason: "", details: "", seconds: Date().timeIntervalSince(start),
                           rerun: "\(options.rerunPrefix) \(shellQuote(testCase.scenario.file)) --filter \(shellQuote(testCase.name)) --seed \(options.seed)")
        r.stats["schedules"] = n
        if race.kills > 0 {
            r.stats["kills"] = kills
            r.stats["kill_points"] = killPoints.count
        }
        r.notes = notes
        if let dfs = sched.inner as? DFSScheduler, dfs.exhausted { r.stats["exhaustive"] = 1 }
        if !missing.isEmpty {
            let goals = missing.map { race.sometimes[$0].map(\.description).joined(separator: " ") }
            r.verdict = .fail
            r.reason = "the race never reached \(goals.joined(separator: "; ")) in \(n) schedules"
            r.details = "The scenario says these interleavings must happen at least once (`sometimes`); none of the \(n) "
                + "schedules explored by \(race.strategy) reached them, so the race proved nothing about them. "
                + "Raise `schedules`, change the strategy, or check that the fixtures stop at those pause points.\n"
                + missing.map { coverage.closest(to: race.sometimes[$0]) }.joined(separator: "\n") + "\n" + coverage.summary
        }
        return r
    }
}

/// Where a race's processes stood, alone and together, over every schedule explored: what an
/// unreached `sometimes` goal is compared with, so that its failure says what did happen.
struct RaceCoverage {
    /// Each role's pause points reached.
    var points: [String: Set<String>] = [:]
    /// Every combination of positions held at one moment.
    var together: Set<Set<RacePosition>> = []

    /// Walks one execution's timeline (`lanes`: lane name → role).
    mutating func add(_ events: [Timeline.Event], lanes: [String: String]) {
        var at: [String: String] = [:]
        for e in events {
            guard let role = lanes[e.lane] else { continue }
            switch e.kind {
            case .pause:
                at[role] = e.label
                points[role, default: []].insert(e.label)
                together.insert(Set(at.map { RacePosition(role: $0.key, point: $0.value) }))
            case .resume, .returned, .died:
                at[role] = nil
            default:
                break
            }
        }
    }

    /// The reached combination that holds most of `goal`'s positions.
    func closest(to goal: [RacePosition]) -> String {
        let want = Set(goal)
        let best = together.max { a, b in
            let (x, y) = (a.intersection(want).count, b.intersection(want).count)
            return x != y ? x < y : a.count > b.count
        }
        let goalText = goal.map(\.description).joined(separator: " ")
        guard let best, !best.intersection(want).isEmpty else {
            return "Goal `\(goalText)`: none of its positions was ever reached."
        }
        let shown = best.map(\.description).sorted().joined(separator: " ")
        return "Goal `\(goalText)`: at most \(best.intersection(want).count) of its \(want.count) positions held together, e.g. `\(shown)`."
    }

    var summary: String {
        if points.isEmpty { return "No process stopped at any pause point in the race." }
        return "Pause points reached: " + points.keys.sorted().map { "\($0): \(points[$0]!.sorted().joined(separator: ", "))" }
            .joined(separator: "; ") + "."
    }
}
