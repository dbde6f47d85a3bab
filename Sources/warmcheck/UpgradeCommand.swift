import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckScenario

struct UpgradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "A randomized upgrade plan (versions, languages, order, rollbacks, traffic), printed in full, then run and checked.",
        discussion: """
            The plan is a scenario (docs/SCENARIOS.md) made from the seed alone: the same seed gives the same \
            plan. Release builds come from history like `warmcheck compat` (cached in .build/compat/). The plan \
            is written to --artifacts as upgrade-plan-seed-N.yaml; a failing run leaves its replay file there \
            too. Exit 0 pass, 1 failure, 2 harness or input error.
            """)

    @Option(help: "The plan's seed.")
    var seed: UInt64

    @Option(help: "Upgrades and rollbacks in the plan (each followed by traffic).")
    var events = 8

    @Flag(help: "Print the plan and exit.")
    var printOnly = false

    @Option(help: "Where the plan and, on failure, its replay file and picture go.")
    var artifacts: String = "warmcheck-artifacts"

    @Option(help: "A deliberate bug for a fixture of this checkout, NAME=FAULT (repeatable; see `--fault` of run).")
    var fault: [String] = []

    @Flag(help: "Do not build this checkout's fixtures first.")
    var noBuild = false

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    func validate() throws {
        try checkTimeout(timeout)
        guard (1...200).contains(events) else { throw ValidationError("--events must be 1…200, got \(events)") }
    }

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            guard let root = Repo.root() else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
            let releases = try Releases.load(root: root)
            let plan = UpgradePlan.make(seed: seed, releases: releases.entries.map(\.version), implementations: Repo.referenceNames,
                                        events: events)
            print("plan (seed \(seed)):\n" + plan.yaml)
            if printOnly { return }
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            let file = (artifacts as NSString).appendingPathComponent(plan.name + ".yaml")
            try writeOutput(plan.yaml, to: file)
            let scenario: Scenario
            do { scenario = try ScenarioParser.parse(yaml: plan.yaml, file: file) } catch {
                throw UsageError("the generated plan does not parse (a bug in warmcheck upgrade): \(error)")
            }
            let specs = try Repo.referenceNames.map(Repo.parseFixture)
            if !noBuild { try Repo.buildFixtures(for: specs) }
            var options = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                     workDir: Repo.defaultWorkDir)
            options.timeout = timeout
            options.seed = seed
            options.artifactsDir = artifacts
            options.rerunPrefix = "warmcheck run"
            for f in fault {
                let parts = f.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, options.fixtures[parts[0]] != nil else {
                    throw UsageError("--fault \(f): expected NAME=FAULT with NAME one of \(options.fixtures.keys.sorted())")
                }
                options.extraFixtureArgs[parts[0], default: []] += ["--fault", parts[1]]
            }
            try options.provideUpgradeTargets([scenario])
            Shutdown.watch(workDir: options.workDir)
            let cases = expand(scenario, implementations: Repo.referenceNames)
            guard !cases.isEmpty else { throw UsageError("the plan expands to no case") }
            let results = Suite(options: options).run(cases)
            for r in results {
                print("\(r.verdict.rawValue.uppercased())  \(r.name) (\(String(format: "%.2f", r.seconds)) s)\(r.reason.isEmpty ? "" : ": \(r.reason)")")
                if r.failsRun || r.verdict == .error {
                    print(r.details.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
                    print("rerun the plan: warmcheck upgrade --seed \(seed) --events \(events)")
                }
            }
            let bad = results.filter { $0.failsRun || $0.verdict == .error }
            // The pass criterion of an upgrade: misses it caused (a key present, neither removed,
            // evicted nor expired), counted by the runner; any is a failure of its case.
            let misses = results.compactMap { $0.stats["upgrade_misses"] }.reduce(0, +)
            print("upgrade misses: \(misses)")
            print("upgrade: plan seed \(seed): \(bad.isEmpty ? "pass" : "FAIL") (plan in \(file))")
            if results.contains(where: { $0.verdict == .error }) { throw ExitCode(Status.harnessError) }
            if !bad.isEmpty { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }
}
