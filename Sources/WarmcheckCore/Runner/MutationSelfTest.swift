import Foundation
import WarmcheckScenario

/// `warmcheck selftest`: runs the suite against every deliberate bug (fault switch) of every
/// fixture and reports which case killed it. A harness that lets a known bug through proves
/// nothing, so every fault must be killed.
///
/// A kill is a case that fails with the fault switched on and passes with no fault: a case that
/// already fails proves nothing when it fails again. The run without a fault (the baseline) is
/// made only for a case that just failed with a fault on, once per case, instead of for every
/// case up front: the verdict of a kill is the same, and the baseline shrinks from the whole
/// suite to the few cases that kill something.
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
    /// The case that killed a (fixture, fault) in an earlier run (`--hints`), tried first. Only
    /// the order changes: the case must still fail with the fault and pass without it.
    public var hints: [Attack: String] = [:]
    /// Each case's result with no fault on, for the cases that failed with one (by case name).
    public private(set) var baseline: [String: CaseResult] = [:]

    public struct Attack: Hashable, Sendable {
        public var fixture: String
        public var fault: String
        public init(fixture: String, fault: String) {
            self.fixture = fixture
            self.fault = fault
        }
    }

    public init(options: RunOptions, cases: [ScenarioCase]) {
        self.options = options
        self.cases = cases
    }

    /// The cases whose run without a fault did not pass (so none of them counted as a kill).
    public var droppedFromBaseline: [CaseResult] {
        baseline.values.filter { $0.verdict != .pass }.sorted { $0.name < $1.name }
    }

    /// Whether the case passes with no fault switched on (run once per case, then remembered).
    mutating func passesWithoutFault(_ c: ScenarioCase) -> Bool {
        if baseline[c.name] == nil {
            progress("baseline: \(c.name)")
            baseline[c.name] = Suite.runCase(c, options: options)
        }
        return baseline[c.name]!.verdict == .pass
    }

    /// The faults each of `fixtures` lists in its hello. Only the fixtures under test are
    /// attacked: `options.fixtures` also holds the release builds that upgrade scenarios switch
    /// roles to (go@1.0 …), which no case runs as its own implementation, so attacking them would
    /// count every fault as a survivor.
    public func faults(of fixtures: [String]) throws -> [(fixture: String, faults: [String])] {
        var out: [(String, [String])] = []
        for name in fixtures.sorted() {
            guard let spec = options.fixtures[name] else { continue }
            let fx = try FixtureProcess(spec: spec, timeout: options.timeout, scratchDir: options.workDir)
            defer { fx.stop() }
            let hello = try fx.sayHello()
            out.append((name, (hello["faults"]?.array ?? []).compactMap(\.string)))
        }
        return out
    }

    /// The order in which `attack` tries the cases that involve `fixture`: the hinted case, then
    /// the scenarios that killed the same fault in another fixture of this run (the fixtures
    /// share fault names for the same bug), then the rest in the order of the scenarios. A case
    /// already known to fail without a fault is left out.
    func order(fixture: String, fault: String) -> [ScenarioCase] {
        let first = Set(killerScenarios[fault] ?? [])
        let all = cases.filter { c in c.implementations.contains(fixture) && baseline[c.name].map { $0.verdict == .pass } ?? true }
        var mine = all.filter { first.contains($0.scenario.name) } + all.filter { !first.contains($0.scenario.name) }
        if let h = hints[Attack(fixture: fixture, fault: fault)], let i = mine.firstIndex(where: { $0.name == h }) {
            mine.insert(mine.remove(at: i), at: 0)
        }
        return mine
    }

    /// Runs the cases that involve `fixture` with `fault` switched on, stopping at the first kill.
    public mutating func attack(fixture: String, fault: String, artifacts: String?) -> Kill {
        var opts = options
        opts.extraFixtureArgs[fixture] = ["--fault", fault]
        // Each fault gets its own directory: one case may kill several faults.
        opts.artifactsDir = artifacts.map { ($0 as NSString).appendingPathComponent("\(fixture)-\(fault)") }
        let start = Date()
        var n = 0
        for c in order(fixture: fixture, fault: fault) {
            n += 1
            progress("\(fixture) --fault \(fault): \(c.name)")
            let r = Suite.runCase(c, options: opts)
            // A hang or crash caused by the fault is caught too (reported as a fixture error).
            guard r.verdict == .fail || r.verdict == .error else { continue }
            let saved = opts.artifactsDir.map { ($0 as NSString).appendingPathComponent(Artifacts.safe(c.name)) }
            guard passesWithoutFault(c) else {
                // Not a kill: its failure report would read like one.
                if let saved { for ext in [".replay.json", ".min.replay.json", ".html"] { try? FileManager.default.removeItem(atPath: saved + ext) } }
                continue
            }
            killerScenarios[fault, default: []].append(c.scenario.name)
            let replay = saved.map { $0 + ".replay.json" }
            return Kill(fixture: fixture, fault: fault, killedBy: c.name, verdict: r.verdict, reason: r.reason,
                        seconds: Date().timeIntervalSince(start), casesRun: n,
                        replay: replay.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil })
        }
        return Kill(fixture: fixture, fault: fault, killedBy: nil, verdict: nil, reason: "survived \(n) cases",
                    seconds: Date().timeIntervalSince(start), casesRun: n, replay: nil)
    }

    /// Reads `--hints`: one `FIXTURE FAULT CASE` per line (a line starting with `#` is a
    /// comment), as `hintsText` writes them. A case name that no longer exists is not found, and
    /// that attack runs in the usual order.
    public static func parseHints(_ text: String, file: String) throws -> [Attack: String] {
        var out: [Attack: String] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if words.isEmpty || line.hasPrefix("#") { continue }
            guard words.count == 3 else {
                throw UsageError("\(file):\(i + 1): expected `FIXTURE FAULT CASE`, got \(words.count) word(s): \(line)")
            }
            out[Attack(fixture: words[0], fault: words[1])] = words[2]
        }
        return out
    }

    /// The kills of a run as `--hints` reads them.
    public static func hintsText(_ kills: [Kill]) -> String {
        "# warmcheck selftest --write-hints: the case that killed each fault (FIXTURE FAULT CASE), tried first by --hints\n"
            + kills.compactMap { k in k.killedBy.map { "\(k.fixture) \(k.fault) \($0)\n" } }.joined()
    }
}
