import Foundation
import WarmcheckScenario

/// `warmcheck selftest`: runs the suite against every deliberate bug (fault switch) of every
/// fixture and reports which case killed it. A harness that lets a known bug through proves
/// nothing, so every fault must be killed.
public struct MutationSelfTest {
    public struct Kill: Sendable {
        public var fixture: String
        public var fault: String
        /// The first case that failed with the fault on, or nil if it survived.
        public var killedBy: String?
        public var verdict: CaseResult.Verdict?
        public var reason: String
        public var seconds: Double
        public var casesRun: Int
        public var replay: String?
    }

    public var options: RunOptions
    public var cases: [ScenarioCase]
    public var progress: (String) -> Void = { _ in }
    /// Scenarios that killed each fault so far in this run, tried first against the next fixture.
    public var killerScenarios: [String: [String]] = [:]

    public init(options: RunOptions, cases: [ScenarioCase]) {
        self.options = options
        self.cases = cases
    }

    /// Runs every case with no fault switched on and keeps only those that pass: a case that
    /// already fails proves nothing when it fails again with a fault on, so it can never count
    /// as a kill. Returns the cases that did not pass, with their results.
    public mutating func keepPassingBaseline() -> [CaseResult] {
        var kept: [ScenarioCase] = []
        var dropped: [CaseResult] = []
        for c in cases {
            progress("baseline: \(c.name)")
            let r = Suite.runCase(c, options: options)
            if r.verdict == .pass { kept.append(c) } else { dropped.append(r) }
        }
        cases = kept
        return dropped
    }

    /// The faults each fixture lists in its hello.
    public func faults() throws -> [(fixture: String, faults: [String])] {
        var out: [(String, [String])] = []
        for (name, spec) in options.fixtures.sorted(by: { $0.key < $1.key }) {
            let fx = try FixtureProcess(spec: spec, timeout: options.timeout, scratchDir: options.workDir)
            defer { fx.stop() }
            let hello = try fx.sayHello()
            out.append((name, (hello["faults"]?.array ?? []).compactMap(\.string)))
        }
        return out
    }

    /// Runs the cases that involve `fixture` with `fault` switched on, stopping at the first kill.
    /// Cases where the faulty fixture plays a role come first in the order of the scenarios.
    public mutating func attack(fixture: String, fault: String, artifacts: String?) -> Kill {
        var opts = options
        opts.extraFixtureArgs[fixture] = ["--fault", fault]
        // Each fault gets its own directory: one case may kill several faults.
        opts.artifactsDir = artifacts.map { ($0 as NSString).appendingPathComponent("\(fixture)-\(fault)") }
        // The fixtures share fault names for the same bug, so a scenario that killed this fault in
        // one fixture goes first for the next (a stable partition: the order is otherwise the
        // scenarios'). Only the time to a kill changes, never whether a case can count as one.
        let first = Set(killerScenarios[fault] ?? [])
        let all = cases.filter { $0.implementations.contains(fixture) }
        let mine = all.filter { first.contains($0.scenario.name) } + all.filter { !first.contains($0.scenario.name) }
        let start = Date()
        var n = 0
        for c in mine {
            n += 1
            progress("\(fixture) --fault \(fault): \(c.name)")
            let r = Suite.runCase(c, options: opts)
            // A hang or crash caused by the fault is caught too (reported as a fixture error).
            if r.verdict == .fail || r.verdict == .error {
                killerScenarios[fault, default: []].append(c.scenario.name)
                let replay = opts.artifactsDir.map { ($0 as NSString).appendingPathComponent(Artifacts.safe(c.name) + ".replay.json") }
                return Kill(fixture: fixture, fault: fault, killedBy: c.name, verdict: r.verdict, reason: r.reason,
                            seconds: Date().timeIntervalSince(start), casesRun: n,
                            replay: replay.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil })
            }
        }
        return Kill(fixture: fixture, fault: fault, killedBy: nil, verdict: nil, reason: "survived \(n) cases",
                    seconds: Date().timeIntervalSince(start), casesRun: n, replay: nil)
    }
}
