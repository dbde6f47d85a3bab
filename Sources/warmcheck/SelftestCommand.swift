import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckScenario

struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Mutation self-test: run the suite against every fault switch of every fixture.",
        discussion: """
            Exit 0 only if every fault is killed by some case. The last line reads `mutation score: K/N`. \
            A kill is a case that fails with the fault on and passes with none; that second run is made only \
            for the cases that failed with a fault on. --hints FILE (written by --write-hints) tries the case \
            that killed each fault last time first; without it, or when that case no longer kills, the cases run \
            in the order of the scenarios (docs/CONFORMANCE.md, "The self-test").
            """)

    @OptionGroup var reference: ReferenceFixtureOptions

    @Option(help: "Only these faults (repeatable; default: every fault each fixture lists).")
    var fault: [String] = []

    @Option(help: ArgumentHelp("Attack slice I of N of the (fixture, fault) pairs (1 ≤ I ≤ N); default: Bazel's TEST_SHARD_INDEX/TEST_TOTAL_SHARDS.",
                               valueName: "I/N"))
    var shard: String?

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    @Option(help: "Keep the failure report of each kill in this directory.")
    var artifacts: String?

    @Option(help: ArgumentHelp("Try first, for each fault, the case this file names (lines `FIXTURE FAULT CASE`); only the order changes.",
                               valueName: "FILE"))
    var hints: String?

    @Option(help: ArgumentHelp("Write the case that killed each fault to this file, in the format --hints reads.", valueName: "FILE"))
    var writeHints: String?

    @Option(help: "Seconds to wait for any one fixture response (10, not 15 as elsewhere: a fault that hangs a fixture is killed as soon as the hang is seen).")
    var timeout: Double = 10

    @OptionGroup var build: BuildOptions

    func validate() throws { try checkTimeout(timeout) }

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let specs = try reference.specs()
            let shard = try Shard.resolve(flag: self.shard)
            if !build.noBuild { try Repo.buildFixtures(for: specs) }
            guard let root = Repo.root() else { throw UsageError("cannot find the warmcache checkout") }
            let loaded = Suite.load(paths: [root.appendingPathComponent("scenarios").path])
            if !loaded.errors.isEmpty { throw UsageError("scenario files have errors; run `warmcheck run` to see them") }
            var options = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                     workDir: Repo.defaultWorkDir)
            options.timeout = timeout
            try options.provideUpgradeTargets(loaded.scenarios)
            Shutdown.watch(workDir: options.workDir)
            if let a = artifacts { try FileManager.default.createDirectory(atPath: a, withIntermediateDirectories: true) }
            var st = MutationSelfTest(options: options, cases: expand(loaded.scenarios, implementations: specs.map(\.name)))
            if let hints {
                guard let text = try? String(contentsOfFile: hints, encoding: .utf8) else { throw UsageError("cannot read --hints \(hints)") }
                st.hints = try MutationSelfTest.parseHints(text, file: hints)
            }
            let tty = isatty(1) != 0
            st.progress = { msg in if tty { print("\r\u{1B}[K… \(msg)", terminator: ""); fflush(nil) } }
            // The attacks, in one order on every machine, then this shard's slice of them; only
            // the cases that can attack this shard's fixtures are tried.
            let all = try st.faults(of: specs.map(\.name)).flatMap { fx, faults in
                faults.filter { fault.isEmpty || fault.contains($0) }.map { (fixture: fx, fault: $0) }
            }
            let attacks = shard.select(all)
            if !shard.isWhole {
                print("shard \(shard): \(attacks.count) of \(all.count) faults")
                st.cases = st.cases.filter { c in attacks.contains { c.implementations.contains($0.fixture) } }
            }
            var kills: [MutationSelfTest.Kill] = []
            for (fx, f) in attacks {
                let k = st.attack(fixture: fx, fault: f, artifacts: artifacts)
                kills.append(k)
                if tty { print("\r\u{1B}[K", terminator: "") }
                let time = String(format: "%.2f s", k.seconds)
                if let by = k.killedBy {
                    print("killed    \(fx) \(f) by \(by) after \(k.casesRun) case(s), \(time): \(k.reason)")
                } else {
                    print("SURVIVED  \(fx) \(f): no case failed in \(k.casesRun) case(s), \(time)")
                }
                fflush(nil)
            }
            let dropped = st.droppedFromBaseline
            print("baseline: \(st.baseline.count) case(s) that failed with a fault on were run with none; "
                + "\(dropped.count) of them did not pass and counted as no kill")
            for r in dropped.prefix(10) { print("  not a kill (fails with no fault): \(r.name): \(r.reason)") }
            if let writeHints { try writeOutput(MutationSelfTest.hintsText(kills), to: writeHints) }
            if let json {
                let j = JSON.array(kills.map { k in
                    .object([
                        "fixture": .string(k.fixture), "fault": .string(k.fault), "killed": .bool(k.killedBy != nil),
                        "killed_by": k.killedBy.map(JSON.string) ?? .null, "verdict": k.verdict.map { .string($0.rawValue) } ?? .null,
                        "reason": .string(k.reason), "seconds": .double(k.seconds), "cases_run": .int(Int64(k.casesRun)),
                        "artifact": k.replay.map(JSON.string) ?? .null,
                    ])
                })
                try writeOutput(j.pretty + "\n", to: json)
            }
            let killed = kills.filter { $0.killedBy != nil }.count
            print("mutation score: \(killed)/\(kills.count)")
            if kills.isEmpty && all.isEmpty { throw UsageError("no fixture lists any fault; nothing was tested") }
            if killed != kills.count { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }
}
