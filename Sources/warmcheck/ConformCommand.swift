import ArgumentParser
import Foundation
import WarmcheckCore

struct ConformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conform",
        abstract: "Everything that applies to one implementation, in one report.",
        discussion: """
            Runs, for implementation NAME=COMMAND: its hello against the vocabulary of \
            spec/vocabulary.json and docs/DRIVER.md; the interop matrix with it as writer and as \
            reader of every reference implementation, and the golden v1 image; every scenario case \
            and race in which it plays a role; a short stress run against the references. Prints \
            what passed, failed and was skipped (with the reason), and each failure's rerun command. \
            The path to a first report is docs/IMPLEMENTING.md. Exit 0 all applicable checks \
            passed, 1 a conformance failure, 2 a harness or input error.
            """)

    @Argument(help: "The implementation: NAME=COMMAND (as for --fixture), or go, rust, swift.")
    var implementation: String

    @Option(name: .customLong("against"), help: "Reference implementations it meets (repeatable; default go, rust, swift).")
    var references: [String] = []

    @Option(help: "Scenario files or directories (default: the checkout's scenarios/).")
    var scenarios: [String] = []

    @Option(help: "Only scenario cases whose name matches this glob (repeatable).")
    var filter: [String] = []

    @Option(name: .customLong("stress-ops"), help: "Operations of the stress part (0 leaves it out).")
    var stressOps = 2000

    @Option(help: "Seed of the scenarios' races and of stress.")
    var seed: UInt64 = 1

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    @Option(help: "Directory for segment files (default: /dev/shm when present).")
    var workDir: String?

    @Option(help: "Where failing cases leave their replay files and HTML reports.")
    var artifacts: String = "warmcheck-artifacts"

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @OptionGroup var build: BuildOptions
    @OptionGroup var credentials: FixtureCredentialOptions

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let target = try Repo.parseFixture(implementation)
            var refs = try (references.isEmpty ? Repo.referenceNames : references).map(Repo.parseFixture)
            refs.removeAll { $0.name == target.name }
            if refs.isEmpty { throw UsageError("--against: no reference implementation left to meet \(target.name)") }
            if !build.noBuild && (refs + [target]).contains(where: { ["go", "rust"].contains($0.name) }) { try Repo.buildFixtures() }
            let paths = try Repo.scenarioPaths(scenarios)
            var c = Conformance(target: target, references: refs, scenarioPaths: paths, workDir: workDir ?? Repo.defaultWorkDir)
            c.timeout = timeout
            c.seed = seed
            c.fixtureCredentials = try credentials.credentials()
            c.stressOperations = stressOps
            c.filter = filter
            c.artifactsDir = artifacts
            c.vocabulary = try HelloVocabulary.load()
            c.rerunPrefix = "warmcheck run" + (refs + [target]).map { " --fixture \(Conformance.fixtureArg($0))" }.joined()
            let tty = isatty(1) != 0
            c.progress = { msg in if tty { print("\r\u{1B}[K… \(msg)", terminator: ""); fflush(nil) } }
            let report = try c.run()
            if tty { print("\r\u{1B}[K", terminator: "") }
            print(report.render(), terminator: "")
            if let json { try writeOutput(report.json().pretty + "\n", to: json) }
            let status = report.exitStatus
            if status != 0 { throw ExitCode(status) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }
}
