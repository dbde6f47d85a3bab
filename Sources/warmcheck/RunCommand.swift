import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckScenario

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run scenarios against the implementations and check them against the protocol.",
        discussion: """
            With no PATH, runs every scenario in scenarios/ against the reference fixtures (building \
            them first if they are stale). Exit 0 all passed, 1 a conformance failure, 2 a harness or \
            input error. Scenario format: docs/SCENARIOS.md.
            """)

    @Argument(help: "Scenario files or directories (default: the checkout's scenarios/).")
    var paths: [String] = []

    @Option(help: "Only cases whose name matches this glob (* and ?); repeatable.")
    var filter: [String] = []

    @Option(name: .customLong("fixture"), help: "Implementation: go, rust, swift, or NAME=COMMAND (repeatable; default go, rust, swift).")
    var fixtures: [String] = []

    @Option(help: ArgumentHelp("Only cases in which implementation NAME plays at least one role (repeatable).",
                               discussion: "The reference fixtures join the run when --fixture names none of them, so that NAME meets them.",
                               valueName: "NAME"))
    var only: [String] = []

    @Option(help: ArgumentHelp("Run slice I of N of the cases (1 ≤ I ≤ N); default: Bazel's TEST_SHARD_INDEX/TEST_TOTAL_SHARDS. Combine shards' --json reports with `warmcheck merge`.",
                               valueName: "I/N"))
    var shard: String?

    @Option(help: "Seed of the run (recorded in reports and in the rerun command).")
    var seed: UInt64 = 1

    @Option(help: "Write every case, its duration and verdict as JSON to this file.")
    var json: String?

    @Option(help: "Write JUnit XML to this file.")
    var junit: String?

    @Option(name: .customLong("expected-failures"), help: "NAME=FILE: strict expected-failure list of implementation NAME (repeatable).")
    var expectedFailures: [String] = []

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    @Option(help: "Directory for segment files (default: /dev/shm when present).")
    var workDir: String?

    @Option(name: .customLong("fault"), help: "NAME=FAULT: run implementation NAME with a fault switch on (repeatable; see `warmcheck selftest`).")
    var faults: [String] = []

    @Option(help: "Where failing cases leave their replay files and HTML reports.")
    var artifacts: String = "warmcheck-artifacts"

    @OptionGroup var build: BuildOptions
    @OptionGroup var credentials: FixtureCredentialOptions

    @Flag(help: "Print every case, not only failures.")
    var verbose = false

    @Flag(help: "List the cases this run would run (name and scenario file), run nothing.")
    var list = false

    @Flag(help: "Only check the scenario files (syntax, names, expectations); start no fixture. Exit 0 clean, 2 problems.")
    var lint = false

    @Option(name: .customLong("write-expected-failures"),
            help: "Write every failed or errored case to FILE as an expected-failure list (format: docs/SCENARIOS.md).")
    var writeExpectedFailures: String?

    func validate() throws { try checkTimeout(timeout) }

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let code = try execute()
            if code != 0 { throw ExitCode(code) }
        } catch let e as UsageError {
            // A report asked for is written whatever happened: a CI system reading it must see
            // the run as errored, not find a stale file or none.
            writeInputErrorReports(e.description)
            throw fail(e.description)
        }
    }

    /// The reports for a run that could not start: one errored case naming the problem.
    func writeInputErrorReports(_ message: String) {
        guard json != nil || junit != nil else { return }
        let r = CaseResult(name: "warmcheck-input", scenario: "warmcheck-input", file: paths.first ?? "scenarios/",
                           assignment: [], verdict: .error, reason: message.split(separator: "\n").first.map(String.init) ?? message,
                           details: message, rerun: commandLine())
        if let json { try? writeOutput(JSONReport.render([r], seed: seed, fixtures: [:]).pretty + "\n", to: json) }
        if let junit { try? writeOutput(JUnitReport.render([r]), to: junit) }
    }

    func commandLine() -> String { (["warmcheck"] + CommandLine.arguments.dropFirst()).map(quote).joined(separator: " ") }

    func execute() throws -> Int32 {
        let loaded = Suite.load(paths: try Repo.scenarioPaths(paths))
        if !loaded.errors.isEmpty {
            for e in loaded.errors { FileHandle.standardError.write(Data("\(e)\n".utf8)) }
            throw UsageError("\(loaded.errors.count) problem(s) in the scenario files; nothing was run:\n"
                             + loaded.errors.prefix(20).map { "\($0)" }.joined(separator: "\n"))
        }
        if lint {
            let cases = expand(loaded.scenarios, implementations: Repo.referenceNames)
            print("lint: \(loaded.scenarios.count) scenario(s) parse cleanly; \(cases.count) case(s) over go, rust, swift")
            for n in Self.caselessNotes(loaded.scenarios, run: Repo.referenceNames) { print("  note: \(n)") }
            return Status.ok
        }
        let specs = try Repo.fixtureSpecs(fixtures, meeting: only)
        let shard = try Shard.resolve(flag: self.shard)
        let names = specs.map(\.name)
        for name in only where !names.contains(name) {
            throw UsageError("--only \(name): no such fixture in this run (\(names.joined(separator: ", ")))")
        }
        let all = expand(loaded.scenarios, implementations: names)
        let matching = involving(WarmcheckScenario.filter(all, patterns: filter), anyOf: only)
        let notes = Self.caselessNotes(loaded.scenarios, run: names)
        if matching.isEmpty {
            var why = "no case matches (scenarios: \(loaded.scenarios.count), fixtures: \(names), filters: \(filter)"
                + (only.isEmpty ? "" : ", only: \(only)") + ")"
            if !all.isEmpty && !(filter.isEmpty && only.isEmpty) { why += "; without the filters there are \(all.count) cases (see --list)" }
            if !notes.isEmpty { why += "\n" + notes.map { "  " + $0 }.joined(separator: "\n") }
            throw UsageError(why)
        }
        // A name that is no implementation at all is most likely a typo: say it even when other
        // scenarios make cases.
        let known = Set(names + Repo.referenceNames)
        for n in Self.caselessNotes(loaded.scenarios, run: names, onlyUnknown: known) {
            FileHandle.standardError.write(Data("warmcheck: note: \(n)\n".utf8))
        }
        let cases = shard.select(matching)
        if !shard.isWhole { print("shard \(shard): \(cases.count) of \(matching.count) cases") }
        if list {
            for c in cases { print("\(c.name)\t\(c.scenario.file)") }
            print("\(cases.count) case(s)")
            return Status.ok
        }
        if !build.noBuild { try Repo.buildFixtures(for: specs) }

        var options = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                 workDir: workDir ?? Repo.defaultWorkDir)
        // Builds that `upgrade:` steps switch roles to (release builds come from history, cached).
        try options.provideUpgradeTargets(cases.map(\.scenario))
        options.timeout = timeout
        options.seed = seed
        options.fixtureCredentials = try credentials.credentials()
        options.artifactsDir = artifacts
        Shutdown.watch(workDir: options.workDir)
        try applyFaults(to: &options)
        options.rerunPrefix = "warmcheck run" + (fixtures.isEmpty ? "" : fixtures.map { " --fixture \(quote($0))" }.joined())
            + faults.map { " --fault \(quote($0))" }.joined()
            + only.map { " --only \(quote($0))" }.joined()  // so that the same fixtures join the rerun
        var suite = Suite(options: options)
        for ef in expectedFailures {
            guard let eq = ef.firstIndex(of: "=") else { throw UsageError("--expected-failures \(ef): expected NAME=FILE") }
            try suite.expectedFailures.load(implementation: String(ef[..<eq]), path: String(ef[ef.index(after: eq)...]))
        }
        let tty = isatty(1) != 0
        let color = useColor(fd: 1)
        let start = Date()
        suite.progress = { i, n, name, result in
            guard let r = result else {
                if tty { print("\r\u{1B}[K[\(i + 1)/\(n)] \(name)", terminator: ""); fflush(nil) }
                return
            }
            if tty { print("\r\u{1B}[K", terminator: "") }
            if r.verdict == .pass || r.verdict == .skip || r.verdict == .expectedFailure {
                if verbose || !tty { print("\(Self.badge(r.verdict, color)) \(r.name) (\(String(format: "%.2f", r.seconds)) s\(r.stats["schedules"].map { ", \($0) schedules" } ?? "")\(r.stats["upgrade_misses"].map { ", \($0) upgrade misses" } ?? ""))\(r.reason.isEmpty ? "" : ": \(r.reason)")") }
                if verbose || !tty { for n in r.notes { print("      note: \(n)") } }
            } else {
                print("\(Self.badge(r.verdict, color)) \(r.name)\n")
                print(r.details.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
                print("    rerun: \(r.rerun)\n")
            }
            fflush(nil)
        }
        let results = suite.run(cases)
        let summary = RunSummary(results)
        if let json {
            let fx = Dictionary(specs.map { ($0.name, $0.argv) }, uniquingKeysWith: { a, _ in a })
            try writeOutput(JSONReport.render(results, seed: seed, fixtures: fx,
                                              shard: shard.json(totalItems: matching.count)).pretty + "\n", to: json)
        }
        if let junit { try writeOutput(JUnitReport.render(results), to: junit) }
        if let f = writeExpectedFailures {
            let text = ExpectedFailures.listing(results.filter { $0.verdict == .fail || $0.verdict == .error }, command: commandLine())
            try writeOutput(text, to: f)
        }
        let bad = results.filter { $0.failsRun || $0.verdict == .error }
        if !bad.isEmpty {
            print("\n\(bad.count) case(s) did not pass; rerun each with:")
            for r in bad.prefix(50) { print("  \(Self.badge(r.verdict, color)) \(r.name)\n      \(r.rerun)") }
            if bad.count > 50 { print("  … and \(bad.count - 50) more (see --json)") }
            if let f = writeExpectedFailures { print("expected-failure list of these cases: \(f)") }
        }
        print(String(format: "%d cases in %.1f s", results.count, Date().timeIntervalSince(start))
              + (summary.detailLine.isEmpty ? "" : "; " + summary.detailLine))
        // What the verdicts did not cover, once per kind, so that a TTY run says it too.
        for (note, n) in Dictionary(results.flatMap(\.notes).map { ($0, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) {
            print("note (\(n) case\(n == 1 ? "" : "s")): \(note)")
        }
        print(summary.line)
        if results.contains(where: { $0.failsRun }) { return Status.failed }
        return summary.errors > 0 ? Status.harnessError : Status.ok
    }

    /// `--fault NAME=FAULT`: refused before any case runs unless NAME is in the run and its
    /// fixture lists FAULT in its hello (the list is in the message).
    func applyFaults(to options: inout RunOptions) throws {
        var listed: [String: [String]] = [:]
        for f in faults {
            guard let eq = f.firstIndex(of: "="), let spec = options.fixtures[String(f[..<eq])] else {
                throw UsageError("--fault \(f): expected NAME=FAULT with NAME one of \(options.fixtures.keys.sorted())")
            }
            let name = String(f[..<eq]), fault = String(f[f.index(after: eq)...])
            if listed[name] == nil {
                do {
                    let fx = try FixtureProcess(spec: spec, timeout: options.timeout, scratchDir: options.workDir)
                    defer { fx.stop() }
                    listed[name] = (try fx.sayHello()["faults"]?.array ?? []).compactMap(\.string)
                } catch {
                    throw UsageError("--fault \(f): cannot ask fixture \(name) for its faults: \(error)")
                }
            }
            let known = listed[name] ?? []
            guard known.contains(fault) else {
                throw UsageError("--fault \(f): fixture \(name) has no fault \(fault); it lists "
                                 + (known.isEmpty ? "none" : known.joined(separator: ", ")))
            }
            options.extraFixtureArgs[name, default: []] += ["--fault", fault]
        }
    }

    /// Why a scenario makes no case in a run over `run`: each role whose allowed implementations
    /// are none of the run's, with the file and line of the role. `onlyUnknown`: only roles
    /// naming an implementation outside that set (a typo rather than a narrower run).
    static func caselessNotes(_ scenarios: [Scenario], run: [String], onlyUnknown known: Set<String>? = nil) -> [String] {
        var out: [String] = []
        for s in scenarios where expand(s, implementations: run).isEmpty {
            for p in s.processes where p.allowed.filter(run).isEmpty {
                guard case .only(let named) = p.allowed else { continue }
                if let known, named.allSatisfy(known.contains) { continue }
                let unknown = named.filter { !(known ?? Set(run)).contains($0) }
                out.append("\(p.location): scenario \(s.name) makes no case: role \(p.role) allows only \(named.joined(separator: ", "))"
                           + (unknown.isEmpty ? "" : " (\(unknown.joined(separator: ", ")) is not a fixture of this run)")
                           + "; this run has \(run.joined(separator: ", "))")
            }
        }
        return out
    }

    static func badge(_ v: CaseResult.Verdict, _ color: Bool) -> String {
        let (text, code): (String, String) = {
            switch v {
            case .pass: return ("PASS ", "32")
            case .fail: return ("FAIL ", "31")
            case .error: return ("ERROR", "35")
            case .skip: return ("SKIP ", "33")
            case .expectedFailure: return ("XFAIL", "33")
            case .unexpectedPass: return ("XPASS", "31")
            }
        }()
        return color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func quote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=".contains($0) } ? s : "'\(s)'"
    }
}
