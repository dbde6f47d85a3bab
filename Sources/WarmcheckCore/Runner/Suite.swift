import Foundation
import WarmcheckScenario

/// Loads scenario files and runs their cases one after another (cases never overlap: on two
/// cores, concurrent cases would distort each other's races).
public struct Suite {
    public var options: RunOptions
    public var expectedFailures = ExpectedFailures()
    /// Called before each case (index, total, name) and after it (with its result).
    public var progress: (Int, Int, String, CaseResult?) -> Void = { _, _, _, _ in }

    public init(options: RunOptions) { self.options = options }

    /// Scenarios from files and directories; every parse error of every file is collected.
    public static func load(paths: [String]) -> (scenarios: [Scenario], errors: [ScenarioError]) {
        var scenarios: [Scenario] = []
        var errors: [ScenarioError] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                errors.append(ScenarioError(.syntax, SourceLocation(file: p, line: 1, column: 1), "no such file or directory"))
                continue
            }
            if isDir.boolValue {
                let lib = ScenarioLibrary.load(directory: URL(fileURLWithPath: p))
                scenarios += lib.scenarios
                errors += lib.errors
            } else {
                let r = ScenarioParser.parseCollectingErrors(contentsOf: URL(fileURLWithPath: p))
                errors += r.errors
                if let s = r.scenario { scenarios.append(s) }
            }
        }
        return (scenarios, errors)
    }

    public func run(_ cases: [ScenarioCase]) -> [CaseResult] {
        var results: [CaseResult] = []
        for (i, c) in cases.enumerated() {
            progress(i, cases.count, c.name, nil)
            let raw = Self.runCase(c, options: options)
            let r = expectedFailures.apply(raw)
            results.append(r)
            progress(i, cases.count, c.name, r)
        }
        return results
    }

    /// Runs one case of either kind: a race explores schedules, a scripted case runs once. A
    /// failing scripted case leaves a replay file (with no choices to replay) and a picture too,
    /// so every failure, race or not, is rerun by the same `warmcheck replay FILE`.
    public static func runCase(_ c: ScenarioCase, options: RunOptions) -> CaseResult {
        if c.scenario.race != nil { return RaceCase(c, options: options).run() }
        let runner = CaseRunner(c, options: options)
        var r = runner.run()
        if r.verdict == .fail || r.verdict == .error {
            let replay = Replay(scenarioFile: c.scenario.file, caseName: c.name, seed: options.seed, strategy: "script",
                                schedule: [], reason: r.reason, fixtures: options.fixtureCommands)
            Artifacts.save(failure: r, replay: replay, timeline: runner.markedTimeline, lanes: runner.laneNames,
                           options: options, into: &r)
        }
        return r
    }
}
