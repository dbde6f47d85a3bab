import Foundation
import WarmcheckScenario

/// `warmcheck conform NAME=COMMAND`: everything that applies to one implementation, in the order
/// a new implementer meets it (docs/IMPLEMENTING.md) — its hello against the vocabulary, the
/// interop matrix with it as writer and as reader, every scenario and race it takes part in, and
/// a short stress run against the reference implementations — in one report.
public struct Conformance {
    public var target: FixtureSpec
    /// The implementations the target meets (normally go, rust, swift).
    public var references: [FixtureSpec]
    public var scenarioPaths: [String]
    public var workDir: String
    public var timeout: Double = 15
    public var seed: UInt64 = 1
    /// The uid and gid of the scenario cases' fixtures (RunOptions.fixtureCredentials).
    public var fixtureCredentials: FixtureCredentials? = FixtureCredentials.whenRoot
    /// Stress operations overall; 0 leaves stress out (and the report says so).
    public var stressOperations = 2000
    /// Only scenario cases matching these globs (empty: all that involve the target).
    public var filter: [String] = []
    public var artifactsDir: String?
    public var vocabulary = HelloVocabulary()
    /// The command line of the reference fixtures as the user named them, for rerun commands.
    public var rerunPrefix = "warmcheck run"
    public var progress: (String) -> Void = { _ in }

    public init(target: FixtureSpec, references: [FixtureSpec], scenarioPaths: [String], workDir: String) {
        self.target = target
        self.references = references
        self.scenarioPaths = scenarioPaths
        self.workDir = workDir
    }

    public func run() throws -> ConformanceReport {
        var rep = ConformanceReport(implementation: target.name, command: target.argv)
        let loaded = Suite.load(paths: scenarioPaths)
        if !loaded.errors.isEmpty {
            throw UsageError("\(loaded.errors.count) problem(s) in the scenario files, first: \(loaded.errors[0])")
        }

        // 1. hello: everything else depends on a fixture that starts and says who it is.
        progress("hello")
        let hello: Hello
        do {
            let fx = try FixtureProcess(spec: target, timeout: timeout, scratchDir: workDir)
            defer { fx.stop() }
            let raw = try fx.sayHello()
            hello = Hello(raw, fallbackName: target.name)
            rep.hello = raw
            let problems = hello.problems(raw: raw, vocabulary: vocabulary)
            rep.add(.init(part: .hello, name: "hello", verdict: problems.isEmpty ? .pass : .fail,
                          reason: problems.joined(separator: "; "),
                          notes: ["checked against \(vocabulary.source)"]))
            if !hello.reportsTransitions {
                rep.add(.init(part: .hello, name: "transitions", verdict: .skip,
                              reason: "transitions not reported (hello.trace is not true): the state machine, segment snapshots and `covers` go unchecked in every case"))
            }
        } catch {
            rep.add(.init(part: .hello, name: "hello", verdict: .error, reason: "\(error)"))
            rep.skipRest("the fixture did not answer hello")
            return rep
        }

        // 2. The matrix, with the target as writer and as reader, and the golden image.
        progress("matrix")
        var matrix = MatrixRunner(fixtures: references + [target], workDir: workDir)
        matrix.timeout = timeout
        matrix.focus = target.name
        matrix.golden = try GoldenImage.all()
        let m = matrix.run()
        for c in m.cells {
            rep.add(.init(part: .matrix, name: "\(c.writer) → \(c.reader)", verdict: c.pass ? .pass : .fail,
                          reason: c.problems.prefix(3).joined(separator: "; ") + (c.problems.count > 3 ? " (+\(c.problems.count - 3) more)" : ""),
                          rerun: "warmcheck matrix" + ([target] + references).map { " --fixture \(Self.fixtureArg($0))" }.joined()))
        }
        for g in m.golden {
            rep.add(.init(part: .matrix, name: "golden \(g.image) image → \(g.reader)", verdict: g.problems.isEmpty ? .pass : .fail,
                          reason: g.problems.prefix(3).joined(separator: "; ")))
        }

        // 3. Every scenario case and race in which the target plays a role.
        var options = RunOptions(fixtures: Dictionary((references + [target]).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                 workDir: workDir)
        options.timeout = timeout
        options.seed = seed
        options.fixtureCredentials = fixtureCredentials
        options.artifactsDir = artifactsDir
        options.rerunPrefix = rerunPrefix
        try options.provideUpgradeTargets(loaded.scenarios)
        let names = references.map(\.name) + [target.name]
        let cases = involving(filterCases(expand(loaded.scenarios, implementations: names), patterns: filter), anyOf: [target.name])
        var suite = Suite(options: options)
        suite.progress = { i, n, name, r in if r == nil { progress("[\(i + 1)/\(n)] \(name)") } }
        for r in suite.run(cases) {
            let race = loaded.scenarios.first { $0.name == r.scenario }?.race != nil
            let v: ConformanceReport.Check.Verdict
            switch r.verdict {
            case .pass, .expectedFailure: v = .pass
            case .fail, .unexpectedPass: v = .fail
            case .skip: v = .skip
            case .error: v = .error
            }
            rep.add(.init(part: race ? .race : .scenario, name: r.name, verdict: v, reason: r.reason, rerun: r.rerun, notes: r.notes))
        }
        if cases.isEmpty {
            rep.add(.init(part: .scenario, name: "scenarios", verdict: .skip,
                          reason: "no scenario case has a role \(target.name) may play (check `processes:` lists in the scenarios)"))
        }

        // 4. Stress: free-running processes of the target and the references on one segment.
        let stressOps = ["get", "put", "refresh", "invalidate"].filter { !hello.operations.contains($0) }
        if stressOperations <= 0 {
            rep.add(.init(part: .stress, name: "stress", verdict: .skip, reason: "left out (--stress-ops 0)"))
        } else if !stressOps.isEmpty {
            rep.add(.init(part: .stress, name: "stress", verdict: .skip,
                          reason: "\(target.name) lacks \(stressOps.joined(separator: ", ")), which stress issues"))
        } else {
            progress("stress")
            var so = StressOptions(fixtures: [target] + references, workDir: workDir)
            so.operations = stressOperations
            so.processes = references.count + 2  // the target twice: it also meets itself
            so.seed = seed
            so.timeout = timeout
            so.linearizabilityTimeLimit = 120
            let run = StressRunner.run(so)
            let sr = StressCheck.evaluate(run)
            let v: ConformanceReport.Check.Verdict = sr.verdict == .pass ? .pass : sr.verdict == .fail ? .fail : .error
            let command = "warmcheck stress --ops \(stressOperations) --processes \(so.processes) --seed \(seed)"
                + so.fixtures.map { " --fixture \(Self.fixtureArg($0))" }.joined()
            rep.add(.init(part: .stress, name: "stress (\(run.history.count) operations, \(so.processes) processes)", verdict: v,
                          reason: v == .pass ? "" : (sr.harnessError ?? sr.lines.first { !$0.contains(": ok") } ?? ""),
                          rerun: command, notes: run.untraced.isEmpty ? [] : ["transitions not reported by \(run.untraced.sorted().joined(separator: ", "))"]))
        }
        return rep
    }

    /// How a fixture is named on a command line: a reference by its name, any other as NAME=COMMAND.
    public static func fixtureArg(_ s: FixtureSpec) -> String {
        if Repo.referenceNames.contains(s.name), Repo.referenceFixture(s.name) == s { return s.name }
        return shellQuote("\(s.name)=\(s.argv.map(shellQuote).joined(separator: " "))")
    }
}

/// What `warmcheck conform` found, one check per line, grouped by part.
public struct ConformanceReport: Sendable {
    public struct Check: Sendable {
        public enum Part: String, Sendable, CaseIterable { case hello, matrix, scenario, race, stress }
        public enum Verdict: String, Sendable { case pass, fail, skip, error }
        public var part: Part
        public var name: String
        public var verdict: Verdict
        /// Why it failed or was skipped (empty on a plain pass).
        public var reason: String = ""
        public var rerun: String = ""
        public var notes: [String] = []
    }

    public var implementation: String
    public var command: [String]
    public var hello: JSON = .null
    public private(set) var checks: [Check] = []

    public init(implementation: String, command: [String]) {
        self.implementation = implementation
        self.command = command
    }

    mutating func add(_ c: Check) { checks.append(c) }

    /// After a fatal first step, every later part is reported as skipped, with the reason.
    mutating func skipRest(_ why: String) {
        for p in Check.Part.allCases where p != .hello {
            add(.init(part: p, name: p.rawValue, verdict: .skip, reason: why))
        }
    }

    public func count(_ v: Check.Verdict, in part: Check.Part? = nil) -> Int {
        checks.filter { $0.verdict == v && (part == nil || $0.part == part) }.count
    }

    /// 0 everything applicable passed, 1 a conformance failure, 2 only harness errors.
    public var exitStatus: Int32 {
        if count(.fail) > 0 { return 1 }
        return count(.error) > 0 ? 2 : 0
    }

    /// The one report a person reads: a line per part, then every failure with its rerun
    /// command, every skip with its reason, every note; the last line is the total.
    public func render() -> String {
        var out = "conform \(implementation): \(command.joined(separator: " "))\n"
        if let impl = hello["implementation"]?.string {
            out += "  \(impl), language \(hello["language"]?.string ?? "?") (code \(hello["language_code"]?.serialized ?? "undeclared"))\n"
        }
        out += "\n"
        for p in Check.Part.allCases {
            let n = checks.filter { $0.part == p }.count
            guard n > 0 else { continue }
            let pad = p.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            out += "  \(pad) \(count(.pass, in: p)) passed, \(count(.fail, in: p)) failed, \(count(.error, in: p)) errors, \(count(.skip, in: p)) skipped\n"
        }
        let bad = checks.filter { $0.verdict == .fail || $0.verdict == .error }
        if !bad.isEmpty {
            out += "\nFailed:\n"
            for c in bad {
                out += "  \(c.verdict == .fail ? "FAIL " : "ERROR") [\(c.part.rawValue)] \(c.name): \(c.reason)\n"
                if !c.rerun.isEmpty { out += "        rerun: \(c.rerun)\n" }
            }
        }
        let skipped = checks.filter { $0.verdict == .skip }
        if !skipped.isEmpty {
            out += "\nSkipped (and why):\n"
            for c in skipped { out += "  SKIP  [\(c.part.rawValue)] \(c.name): \(c.reason)\n" }
        }
        let notes = Dictionary(grouping: checks.flatMap { c in c.notes.map { ($0, c) } }, by: \.0)
        if !notes.isEmpty {
            out += "\nNotes:\n"
            for (n, cs) in notes.sorted(by: { $0.key < $1.key }) {
                out += "  \(n)\(cs.count > 1 ? " (\(cs.count) checks)" : "")\n"
            }
        }
        out += "\nconform: \(count(.pass)) passed, \(count(.fail) + count(.error)) failed, \(count(.skip)) skipped\n"
        return out
    }

    public func json() -> JSON {
        .object([
            "implementation": .string(implementation), "command": .array(command.map { .string($0) }), "hello": hello,
            "summary": .object(["passed": .int(Int64(count(.pass))), "failed": .int(Int64(count(.fail))),
                                "errors": .int(Int64(count(.error))), "skipped": .int(Int64(count(.skip)))]),
            "checks": .array(checks.map { c in
                .object(["part": .string(c.part.rawValue), "name": .string(c.name), "verdict": .string(c.verdict.rawValue),
                         "reason": .string(c.reason), "rerun": .string(c.rerun), "notes": .array(c.notes.map { .string($0) })])
            }),
        ])
    }
}
