import Foundation
import WarmcheckScenario

/// A failing case, saved so that `warmcheck replay FILE` runs exactly it again.
///
/// Versioned JSON. `schedule` is the list of role indices the scheduler picked, in order (empty
/// for a scripted case, which has no choices to make). `fixtures` are the full commands,
/// fault switches included, so the file reproduces without the flags of the run that found it.
/// `dropped_ops` (version 2) names race operations that minimization removed from the scenario's
/// race block; each carries its text so that an edited scenario is refused, not silently replayed.
public struct Replay: Sendable {
    public static let format = "warmcheck-replay"
    public static let version: Int64 = 2
    /// What `strategy` may say: a race strategy, or `script` for a scripted case.
    public static let strategies = RaceStrategy.allCases.map(\.rawValue) + ["script"]

    /// One operation of a race block, by role and position in that role's list.
    public struct OpRef: Sendable, Hashable {
        public var role: String
        public var index: Int
        public var text: String
    }

    public var scenarioFile: String
    public var caseName: String
    public var seed: UInt64
    public var strategy: String
    public var schedule: [Int]
    public var reason: String
    public var fixtures: [String: [String]]
    public var droppedOps: [OpRef] = []

    public var json: JSON {
        [
            "format": .string(Self.format), "version": .int(Self.version),
            "scenario_file": .string(scenarioFile), "case": .string(caseName), "seed": .string(String(seed)),
            "strategy": .string(strategy), "schedule": .array(schedule.map { .int(Int64($0)) }),
            "reason": .string(reason),
            "fixtures": .object(fixtures.mapValues { .array($0.map { .string($0) }) }),
            "dropped_ops": .array(droppedOps.map {
                ["role": .string($0.role), "index": .int(Int64($0.index)), "text": .string($0.text)]
            }),
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
        // Version 1 files are version 2 files without dropped operations.
        guard let v = j["version"]?.int, (1...version).contains(v) else {
            throw UsageError("\(path): replay format version \(j["version"]?.serialized ?? "?"); this warmcheck reads 1 to \(version)")
        }
        guard let file = j["scenario_file"]?.string, let name = j["case"]?.string,
              let sched = j["schedule"]?.array?.compactMap({ $0.int.map(Int.init) })
        else { throw UsageError("\(path): missing scenario_file, case or schedule") }
        // A seed or strategy that is there but means nothing is refused, never defaulted.
        var seed: UInt64 = 1
        if let js = j["seed"] {
            guard let s = js.uint else {
                throw UsageError("\(path): seed \(js.serialized) is not a whole number 0…\(UInt64.max)")
            }
            seed = s
        }
        let strategy = j["strategy"]?.string ?? "script"
        guard strategies.contains(strategy) else {
            throw UsageError("\(path): strategy \(j["strategy"]!.serialized) is not one of \(strategies.joined(separator: ", "))")
        }
        var r = Replay(scenarioFile: file, caseName: name, seed: seed, strategy: strategy,
                       schedule: sched, reason: j["reason"]?.string ?? "",
                       fixtures: (j["fixtures"]?.object ?? [:]).mapValues { ($0.array ?? []).compactMap(\.string) })
        for (n, d) in (j["dropped_ops"]?.array ?? []).enumerated() {
            guard let role = d["role"]?.string, let index = d["index"]?.int, let text = d["text"]?.string else {
                throw UsageError("\(path): dropped_ops[\(n)] needs role, index and text")
            }
            r.droppedOps.append(OpRef(role: role, index: Int(index), text: text))
        }
        return r
    }

    /// Runs the saved case once; the result says whether it failed again. `schedule` and
    /// `dropped` override the file's (minimization tries variations this way).
    public func run(options: RunOptions, schedule override: [Int]? = nil, dropped: [OpRef]? = nil) throws -> (CaseResult, CaseRunner) {
        let s = try scenario()
        guard var c = expand(s, implementations: Array(options.fixtures.keys)).first(where: { $0.name == caseName }) else {
            throw UsageError("case \(caseName) is not an expansion of \(scenarioFile) over \(options.fixtures.keys.sorted())")
        }
        c.scenario.race = try Self.removing(dropped ?? droppedOps, from: c.scenario.race, file: scenarioFile)
        let runner = CaseRunner(c, options: options)
        guard c.scenario.race != nil else { return (runner.run(), runner) }
        var sched = RecordingScheduler(ReplayScheduler(choices: override ?? schedule))
        _ = sched.newExecution()
        runner.scheduler = sched
        // On one CPU, as the exploration that found it ran (RaceCase).
        return (CPUPin.onOneCPU(runner.run), runner)
    }

    /// Why this case's verdict may depend on timing, or nil when the replay controls every
    /// choice: a `parallel:` block's interleaving is left to the operating system (a race's
    /// is the saved schedule), and a real clock moves on its own.
    public func timingDependence() throws -> String? {
        let s = try scenario()
        var why: [String] = []
        if !s.parallel.isEmpty { why.append("its `parallel:` steps interleave as the operating system schedules them") }
        if case .real = s.clock { why.append("it runs on the real clock") }
        return why.isEmpty ? nil : why.joined(separator: ", and ")
    }

    /// The saved case's scenario, parsed under the very name the failing run gave its file: the
    /// failure's reason quotes step locations (`FILE:LINE:COLUMN`), and a file the run named by a
    /// relative path (`warmcheck upgrade` writes its plan so) must be quoted the same way again,
    /// or no rerun would ever match the saved reason.
    func scenario() throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: scenarioFile), let text = String(data: data, encoding: .utf8) else {
            throw UsageError("cannot read the scenario file \(scenarioFile)")
        }
        return try ScenarioParser.parse(yaml: text, file: scenarioFile)
    }

    /// The race block without the dropped operations (highest index first, so indices hold).
    static func removing(_ dropped: [OpRef], from race: RaceBlock?, file: String) throws -> RaceBlock? {
        guard !dropped.isEmpty else { return race }
        guard var race else { throw UsageError("\(file): the replay drops race operations but the scenario has no race block") }
        for d in dropped.sorted(by: { ($0.role, $1.index) < ($1.role, $0.index) }) {
            guard let l = race.ops.firstIndex(where: { $0.role == d.role }), d.index < race.ops[l].steps.count,
                  race.ops[l].steps[d.index].operation?.text == d.text
            else {
                throw UsageError("\(file): the race operation `\(d.text)` of \(d.role) the replay drops is not there any more (the scenario changed)")
            }
            race.ops[l].steps.remove(at: d.index)
        }
        return race
    }

    /// The violation's kind, stripped of pids and schedule numbers, to compare two failures.
    public static func signature(_ reason: String) -> String {
        var s = reason
        if let r = s.range(of: "schedule [0-9]+ of [a-z]+: ", options: .regularExpression) { s.removeSubrange(r) }
        return s.replacingOccurrences(of: "pid [0-9]+", with: "pid N", options: .regularExpression)
    }

    public var preemptions: Int { Self.preemptions(schedule) }

    /// Context switches in a schedule: consecutive choices of different roles.
    public static func preemptions(_ s: [Int]) -> Int { zip(s, s.dropFirst()).filter { $0 != $1 }.count }
}
