import Foundation
import WarmcheckScenario

/// A failing schedule, saved so that `warmcheck replay FILE` runs exactly it again.
/// Versioned JSON; the schedule is the list of role indices the scheduler picked, in order.
public struct Replay: Sendable {
    public static let format = "warmcheck-replay"
    public static let version: Int64 = 1

    public var scenarioFile: String
    public var caseName: String
    public var seed: UInt64
    public var strategy: String
    public var schedule: [Int]
    public var reason: String
    public var fixtures: [String: [String]]

    public var json: JSON {
        [
            "format": .string(Self.format), "version": .int(Self.version),
            "scenario_file": .string(scenarioFile), "case": .string(caseName), "seed": .string(String(seed)),
            "strategy": .string(strategy), "schedule": .array(schedule.map { .int(Int64($0)) }),
            "reason": .string(reason),
            "fixtures": .object(fixtures.mapValues { .array($0.map { .string($0) }) }),
        ]
    }

    public init(scenarioFile: String, caseName: String, seed: UInt64, strategy: String, schedule: [Int], reason: String,
                fixtures: [String: [String]]) {
        self.scenarioFile = scenarioFile
        self.caseName = caseName
        self.seed = seed
        self.strategy = strategy
        self.schedule = schedule
        self.reason = reason
        self.fixtures = fixtures
    }

    public static func load(_ path: String) throws -> Replay {
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
        let j: JSON
        do { j = try JSON.parse(data) } catch { throw UsageError("\(path): \(error)") }
        guard j["format"]?.string == format else { throw UsageError("\(path): not a warmcheck replay file") }
        guard j["version"]?.int == version else {
            throw UsageError("\(path): replay format version \(j["version"]?.serialized ?? "?"); this warmcheck reads \(version)")
        }
        guard let file = j["scenario_file"]?.string, let name = j["case"]?.string,
              let sched = j["schedule"]?.array?.compactMap({ $0.int.map(Int.init) })
        else { throw UsageError("\(path): missing scenario_file, case or schedule") }
        return Replay(scenarioFile: file, caseName: name, seed: j["seed"]?.uint ?? 1, strategy: j["strategy"]?.string ?? "?",
                      schedule: sched, reason: j["reason"]?.string ?? "",
                      fixtures: (j["fixtures"]?.object ?? [:]).mapValues { ($0.array ?? []).compactMap(\.string) })
    }

    /// Runs the saved schedule once; the result says whether it failed again.
    public func run(options: RunOptions, schedule override: [Int]? = nil) throws -> (CaseResult, CaseRunner) {
        let s = try ScenarioParser.parse(contentsOf: URL(fileURLWithPath: scenarioFile))
        guard let c = expand(s, implementations: Array(options.fixtures.keys)).first(where: { $0.name == caseName }) else {
            throw UsageError("case \(caseName) is not an expansion of \(scenarioFile) over \(options.fixtures.keys.sorted())")
        }
        let runner = CaseRunner(c, options: options)
        var sched = RecordingScheduler(ReplayScheduler(choices: override ?? schedule))
        _ = sched.newExecution()
        runner.scheduler = sched
        return (runner.run(), runner)
    }

    /// The violation's kind, stripped of pids and schedule numbers, to compare two failures.
    public static func signature(_ reason: String) -> String {
        var s = reason
        if let r = s.range(of: "schedule [0-9]+ of [a-z]+: ", options: .regularExpression) { s.removeSubrange(r) }
        return s.replacingOccurrences(of: "pid [0-9]+", with: "pid N", options: .regularExpression)
    }

    /// Fewer preemptions: greedily makes each context switch a "keep running the same role"
    /// choice and keeps the change while the same violation still happens.
    public func minimized(options: RunOptions) throws -> Replay {
        var best = schedule
        let want = Self.signature(reason)
        var i = 1
        while i < best.count {
            if best[i] != best[i - 1] {
                var candidate = best
                candidate[i] = best[i - 1]
                let (r, runner) = try run(options: options, schedule: candidate)
                if r.verdict == .fail, Self.signature(r.reason) == want {
                    best = runner.scheduler?.choices ?? candidate
                    continue
                }
            }
            i += 1
        }
        var out = self
        out.schedule = best
        return out
    }

    public var preemptions: Int { zip(schedule, schedule.dropFirst()).filter { $0 != $1 }.count }
}
