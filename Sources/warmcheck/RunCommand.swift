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

    @Flag(help: "Do not build the reference fixtures first.")
    var noBuild = false

    @Flag(help: "Print every case, not only failures.")
    var verbose = false

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let code = try execute()
            if code != 0 { throw ExitCode(code) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }

    func execute() throws -> Int32 {
        let specs = try Repo.fixtureSpecs(fixtures, meeting: only)
        let shard = try Shard.resolve(flag: self.shard)
        if !noBuild && specs.contains(where: { ["go", "rust"].contains($0.name) }) { try Repo.buildFixtures() }
        let scenarioPaths = try Repo.scenarioPaths(paths)
        let loaded = Suite.load(paths: scenarioPaths)
        if !loaded.errors.isEmpty {
            for e in loaded.errors { FileHandle.standardError.write(Data("\(e)\n".utf8)) }
            throw UsageError("\(loaded.errors.count) problem(s) in the scenario files; nothing was run")
        }
        for name in only where !specs.contains(where: { $0.name == name }) {
            throw UsageError("--only \(name): no such fixture in this run (\(specs.map(\.name).joined(separator: ", ")))")
        }
        let matching = involving(WarmcheckScenario.filter(expand(loaded.scenarios, implementations: specs.map(\.name)), patterns: filter),
                                 anyOf: only)
        if matching.isEmpty {
            throw UsageError("no case matches (scenarios: \(loaded.scenarios.count), filters: \(filter)\(only.isEmpty ? "" : ", only: \(only)"))")
        }
        let cases = shard.select(matching)
        if !shard.isWhole { print("shard \(shard): \(cases.count) of \(matching.count) cases") }

        var options = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                 workDir: workDir ?? Repo.defaultWorkDir)
        options.timeout = timeout
        options.seed = seed
        options.artifactsDir = artifacts
        for f in faults {
            guard let eq = f.firstIndex(of: "="), options.fixtures[String(f[..<eq])] != nil else {
                throw UsageError("--fault \(f): expected NAME=FAULT with NAME one of \(options.fixtures.keys.sorted())")
            }
            options.extraFixtureArgs[String(f[..<eq]), default: []] += ["--fault", String(f[f.index(after: eq)...])]
        }
        options.rerunPrefix = "warmcheck run" + (fixtures.isEmpty ? "" : fixtures.map { " --fixture \(quote($0))" }.joined())
            + faults.map { " --fault \(quote($0))" }.joined()
            + only.map { " --only \(quote($0))" }.joined()  // so that the same fixtures join the rerun
        var suite = Suite(options: options)
        for ef in expectedFailures {
            guard let eq = ef.firstIndex(of: "=") else { throw UsageError("--expected-failures \(ef): expected NAME=FILE") }
            try suite.expectedFailures.load(implementation: String(ef[..<eq]), path: String(ef[ef.index(after: eq)...]))
        }
        let tty = isatty(1) != 0
        let start = Date()
        suite.progress = { i, n, name, result in
            guard let r = result else {
                if tty { print("\r\u{1B}[K[\(i + 1)/\(n)] \(name)", terminator: ""); fflush(nil) }
                return
            }
            if tty { print("\r\u{1B}[K", terminator: "") }
            if r.verdict == .pass || r.verdict == .skip || r.verdict == .expectedFailure {
                if verbose || !tty { print("\(Self.badge(r.verdict, tty)) \(r.name) (\(String(format: "%.2f", r.seconds)) s\(r.stats["schedules"].map { ", \($0) schedules" } ?? ""))\(r.reason.isEmpty ? "" : ": \(r.reason)")") }
                if verbose || !tty { for n in r.notes { print("      note: \(n)") } }
            } else {
                print("\(Self.badge(r.verdict, tty)) \(r.name)\n")
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

    static func badge(_ v: CaseResult.Verdict, _ tty: Bool) -> String {
        let (text, color): (String, String) = {
            switch v {
            case .pass: return ("PASS ", "32")
            case .fail: return ("FAIL ", "31")
            case .error: return ("ERROR", "35")
            case .skip: return ("SKIP ", "33")
            case .expectedFailure: return ("XFAIL", "33")
            case .unexpectedPass: return ("XPASS", "31")
            }
        }()
        return tty ? "\u{1B}[\(color)m\(text)\u{1B}[0m" : text
    }

    func quote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=".contains($0) } ? s : "'\(s)'"
    }
}
