import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckScenario

struct MutateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mutate",
        abstract: "Source-level mutation testing: mutate the implementations' protocol code and run the suite against each mutant.",
        discussion: """
            Each mutant is applied to a private copy of its implementation (.build/mutate/<lang>/), \
            built, and run against the scenario cases that involve it until one fails. Verdicts: \
            killed, survived, did-not-build, timed-out. The last line reads \
            `mutation score: K/N (E equivalent)`. See docs/CONFORMANCE.md.
            """)

    @Option(help: "Only this language: go, rust or swift (repeatable; default all three).")
    var lang: [String] = []

    @Option(help: "Only files matching this glob, relative to the checkout (* and ?; repeatable).")
    var file: [String] = []

    @Option(name: .customLong("operator"), help: "Only this operator (repeatable; see --list-operators).")
    var operators: [String] = []

    @Option(help: "Run a reproducible sample of N mutants (chosen by --seed).")
    var sample: Int?

    @Flag(name: .customLong("per-language"), help: "--sample N takes N mutants of each language (in rank order).")
    var perLanguage = false

    @Option(help: "Seed of the sample.")
    var seed: UInt64 = 1

    @Option(help: "Run shard i of n (1-based), after sampling: every mutant is in exactly one shard.")
    var shard: String?

    @Option(help: "Seconds to wait for any one fixture response; a mutant that hangs past it is timed-out.")
    var timeout: Double = 10

    @Option(help: "Write every mutant and its verdict as JSON to this file.")
    var json: String?

    @Option(help: "Write the survivors with their diffs to this text file (default survivors.txt in --work-dir, .build/mutate).")
    var report: String?

    @Option(help: "Equivalence list (default mutation/equivalent.txt).")
    var equivalent: String?

    @Flag(help: "Leave the mutants the equivalence list names out before sampling (each costs a whole pass of the suite, since nothing kills it). They are left out of the score either way; only a run without this flag checks that a listed mutant still survives.")
    var skipEquivalent = false

    @Option(name: .customLong("min-score"), help: "Exit 1 when the score (percent) is below this.")
    var minScore: Double?

    @Option(name: .customLong("survivors-of"), help: "Only the mutants that survived in this earlier --json file (to see what new scenarios kill).")
    var survivorsOf: String?

    @Option(name: .customLong("killed-of"), help: "Only the mutants killed (or timed out) in this earlier --json file (to recheck kills).")
    var killedOf: String?

    @Option(name: .customLong("work-dir"), help: "Where the private copies live (default .build/mutate); one run at a time per directory.")
    var workDir: String?

    @Flag(help: "List the selected mutants (id, key, diff) and run nothing.")
    var list = false

    @Flag(name: .customLong("no-gates"), help: "Run only the scenario cases, not the other gates (refusals, crashsweep, powercut: MutationGate).")
    var noGates = false

    @Flag(name: .customLong("only-gates"), help: "Run only the gates, no scenario case (to see quickly what the gates kill of an earlier run's survivors).")
    var onlyGates = false

    @Flag(name: .customLong("gates-last"), help: "Try the gates only after every scenario case, so that a gate's kill shows a mutant the cases alone miss (the score with and without the gates from one run).")
    var gatesLast = false

    @Flag(name: .customLong("lazy-baseline"), help: "Do not run the suite unmutated first; run a case unmutated only when it fails with a mutant, and count it as the killer only if it then passes (for small samples: CI's).")
    var lazyBaseline = false

    @Flag(name: .customLong("list-operators"), help: "List the operators and exit.")
    var listOperators = false

    @OptionGroup var build: BuildOptions
    @OptionGroup var credentials: FixtureCredentialOptions

    func run() throws {
        MutationRunner.installRestoreOnSignals()
        do {
            let code = try execute()
            if code != 0 { throw ExitCode(code) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }

    func selection(root: URL, equivalent eq: EquivalenceList) throws -> [Mutant] {
        let langs = try lang.isEmpty ? MutationLanguage.allCases : lang.map { l in
            guard let v = MutationLanguage(rawValue: l) else { throw UsageError("--lang \(l): expected go, rust or swift") }
            return v
        }
        for o in operators where MutationOperator(rawValue: o) == nil {
            throw UsageError("--operator \(o): no such operator (\(MutationOperator.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var all: [Mutant] = []
        for l in langs {
            for f in MutationTargets.files(root: root, language: l) where file.isEmpty || file.contains(where: { MutationTargets.glob($0, f) }) {
                guard let text = try? String(contentsOf: root.appendingPathComponent(f), encoding: .utf8) else { throw UsageError("\(f): cannot read") }
                all += MutantGenerator.mutants(file: f, text: text, language: l)
                    .filter { operators.isEmpty || operators.contains($0.op) }
            }
        }
        for (flag, path, verdicts) in [("--survivors-of", survivorsOf, ["survived"]), ("--killed-of", killedOf, ["killed", "timed-out"])] {
            guard let path else { continue }
            guard let d = FileManager.default.contents(atPath: path) else { throw UsageError("\(flag) \(path): cannot read the file") }
            var keys = Set<String>()
            do {
                for m in try JSONField.parse(d, source: path).field("mutants").array where verdicts.contains(try m.field("verdict").string) {
                    keys.insert(try m.field("key").string)
                }
            } catch {
                throw UsageError("\(flag) \(path): not the --json file of a mutation run (\(error))")
            }
            // A key whose file changed since the run (an identical statement added above it
            // renumbers its N) names no mutant now, or another one: say so rather than run less.
            let scanned = Set(all.map(\.file))
            let missing = keys.subtracting(all.map(\.key)).filter { k in scanned.contains(where: { k.hasPrefix($0 + ":") }) }.sorted()
            if !missing.isEmpty {
                FileHandle.standardError.write(Data(("\(flag): \(missing.count) key(s) name no mutant of today's sources (their file changed since \(path)); "
                    + "not run: \(missing.joined(separator: ", "))\n").utf8))
            }
            all = all.filter { keys.contains($0.key) }
        }
        // Listed mutants leave before the draw, so that a small sample is all mutants that can
        // die (each listed one would cost a whole pass and prove nothing).
        if skipEquivalent { all = all.filter { eq.entries[$0.key] == nil } }
        if let n = sample {
            guard n > 0 else { throw UsageError("--sample \(n): expected a positive count") }
            all = perLanguage ? MutantSampling.samplePerLanguage(all, n: n, seed: seed) : MutantSampling.sample(all, n: n, seed: seed)
        }
        if let s = shard {
            let (i, n) = try MutantSampling.parseShard(s)
            all = MutantSampling.shard(all, index: i, of: n)
        }
        return all
    }

    var selectionText: String { CommandLine.arguments.dropFirst().joined(separator: " ") }

    func execute() throws -> Int32 {
        if listOperators {
            for o in MutationOperator.allCases { print(o.rawValue) }
            return Status.ok
        }
        guard let root = Repo.root() else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
        let eqPath = equivalent ?? root.appendingPathComponent("mutation/equivalent.txt").path
        let eq = try EquivalenceList.load(path: eqPath)
        let mutants = try selection(root: root, equivalent: eq)
        if list {
            for m in mutants {
                print("\(m.id)  \(m.key)  [\(m.function)]\(eq.entries[m.key] != nil ? "  (listed as equivalent)" : "")\n\(m.diff)")
            }
            print("\(mutants.count) mutant(s)")
            // With nothing filtered out, an entry that names no mutant is stale (its code changed).
            if lang.isEmpty && file.isEmpty && operators.isEmpty && sample == nil && shard == nil && survivorsOf == nil && killedOf == nil {
                let keys = Set(mutants.map(\.key))
                for e in eq.entries.values.sorted(by: { $0.line < $1.line }) where !keys.contains(e.key) {
                    print("\(eqPath):\(e.line): \(e.key) names no mutant of today's sources (stale entry)")
                }
            }
            return Status.ok
        }
        if mutants.isEmpty { throw UsageError("no mutant matches the selection") }
        if onlyGates && noGates { throw UsageError("--only-gates and --no-gates leave nothing to run") }
        if skipEquivalent && mutants.isEmpty { throw UsageError("every selected mutant is listed as equivalent; nothing to run") }

        if !build.noBuild { try Repo.buildFixtures() }
        let specs = try Repo.referenceNames.map(Repo.parseFixture)
        let loaded = Suite.load(paths: [root.appendingPathComponent("scenarios").path])
        if !loaded.errors.isEmpty { throw UsageError("scenario files have errors; run `warmcheck run` to see them") }
        var options = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                 workDir: Repo.defaultWorkDir)
        options.timeout = timeout
        try options.provideUpgradeTargets(loaded.scenarios)
        options.fixtureCredentials = try credentials.credentials()
        let langs = Set(mutants.map(\.language))
        var runner = MutationRunner(root: root, options: options, cases: onlyGates ? [] : expand(loaded.scenarios, implementations: specs.map(\.name)),
                                    gates: noGates ? [] : MutationGate.all, languages: langs, workRoot: workDir.map { URL(fileURLWithPath: $0) })
        runner.lazyBaseline = lazyBaseline
        runner.gatesLast = gatesLast
        let tty = isatty(1) != 0
        runner.progress = { msg in if tty { print("\r\u{1B}[K… \(msg.prefix(150))", terminator: ""); fflush(nil) } }
        let clear = { if tty { print("\r\u{1B}[K", terminator: "") } }
        let started = Date()
        try runner.prepare()
        let dropped = runner.baseline()
        clear()
        if lazyBaseline {
            print("baseline: lazy (\(runner.cases.count) case(s) and \(runner.gates.count) gate(s); each run unmutated only when it fails with a mutant)")
        } else {
            print("baseline: \(runner.cases.count) case(s) and \(runner.gates.count) gate(s) pass with the unmutated copies "
                  + "(\(langs.map(\.rawValue).sorted().joined(separator: ", "))); \(dropped.count) do not and cannot count as kills")
        }
        for r in dropped.prefix(10) { print("  not in the baseline: \(r.name): \(r.reason)") }
        print("\(mutants.count) mutant(s)" + (sample.map { " (sample \($0), seed \(seed))" } ?? "") + (shard.map { ", shard \($0)" } ?? "")
              + (skipEquivalent ? "; mutants listed as equivalent were left out before the draw (--skip-equivalent)" : ""))
        var outcomes: [MutationOutcome] = []
        let report = { MutationReport(outcomes) }
        for m in mutants {
            var o = try runner.run(m)
            o.equivalent = o.verdict == .survived && eq.entries[m.key] != nil
            outcomes.append(o)
            clear()
            print(report().line(o))
            // The JSON file is rewritten after every mutant, so an interrupted run keeps what it did.
            if let json { try writeOutput(report().json(seed: sample == nil ? nil : seed, selection: selectionText).pretty + "\n", to: json) }
            if o.verdict == .survived && !o.equivalent {
                print(m.diff.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
            }
            fflush(nil)
        }
        let r = report()
        print("")
        print(r.summary(), terminator: "")
        print(String(format: "%d mutant(s) in %.0f s (median %.1f s per mutant)", outcomes.count, Date().timeIntervalSince(started), r.medianSeconds))
        // Beside the private copies (--work-dir), which exist by now; .build/mutate may not (a
        // fresh checkout whose only run used another --work-dir).
        let workRoot = workDir.map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent(".build/mutate")
        let reportPath = self.report ?? workRoot.appendingPathComponent("survivors.txt").path
        if self.report == nil { try? FileManager.default.createDirectory(at: workRoot, withIntermediateDirectories: true) }
        try writeOutput(r.survivorsText(), to: reportPath)
        print("survivors: \(reportPath)")
        if let json {
            try writeOutput(r.json(seed: sample == nil ? nil : seed, selection: selectionText).pretty + "\n", to: json)
        }
        try eq.refuseKilled(outcomes)
        // For test counters: killed mutants pass; survivors fail, except that with --min-score
        // a score at or above the threshold is a passing gate and its survivors are not failures.
        let below = minScore.map { r.percent < $0 } ?? false
        let failures = minScore == nil || below ? r.survivors.count : 0
        if let min = minScore {
            print("mutation gate: " + String(format: "%.1f%%", r.percent) + (below ? " is below" : " meets") + " --min-score " + String(format: "%.1f%%", min))
        }
        print("mutate: \(r.killed) passed, \(failures) failed")
        print(r.scoreLine)
        return below ? Status.failed : Status.ok
    }
}
