import ArgumentParser
import Foundation
import WarmcheckCore

struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Every implementation writes the documented sequence; every one reads every segment back.",
        discussion: "The sequence is described in docs/MATRIX.md. Exit 0 only if every cell passes.")

    @OptionGroup var reference: ReferenceFixtureOptions

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    @Option(help: "Directory for segment files (default: /dev/shm when present).")
    var workDir: String?

    @OptionGroup var build: BuildOptions

    @Flag(help: "Skip reading the committed golden images (testdata/golden/<version>/).")
    var noGolden = false

    @Option(help: "Write the segment produced by this fixture, and its expected view, into testdata/golden/<--golden-version>/.")
    var writeGolden: String?

    @Option(help: "The version whose image --write-golden writes (the fixture must speak it).")
    var goldenVersion: String?

    @Option(help: "With --write-golden: create the segment with this feature on (fast_checksum) and write it to testdata/golden/<version>/<feature>/.")
    var goldenFeature: String?

    @Option(help: "Replace the existing image of this version (refused without it: images are never overwritten by accident).")
    var regenerate: String?

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    func validate() throws { try checkTimeout(timeout) }

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let specs = try reference.specs()
            if !build.noBuild { try Repo.buildFixtures(for: specs) }
            let dir = workDir ?? Repo.defaultWorkDir
            Shutdown.watch(workDir: dir)
            var runner = MatrixRunner(fixtures: specs, workDir: dir)
            runner.timeout = timeout
            let isTTY = isatty(2) != 0
            runner.log = { msg in if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K… \(msg)".utf8)) } }
            if let w = writeGolden {
                guard let version = goldenVersion else { throw UsageError("--write-golden needs --golden-version VERSION (the directory under testdata/golden/)") }
                let d = try GoldenImage.write(version: version, feature: goldenFeature, with: try Repo.parseFixture(w), runner: runner,
                                              regenerate: regenerate)
                print("golden image of \(version) written to \(d) by \(w): write its README.md (how it was made) and commit it")
                return
            }
            if !noGolden { runner.golden = try GoldenImage.all() }
            let report = runner.run()
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print(report.table(), terminator: "")
            for c in report.cells where !c.pass {
                print("\n\(c.writer) → \(c.reader): \(c.problems.count) problem(s)")
                for p in c.problems.prefix(20) { print("  - \(p)") }
            }
            if !report.golden.isEmpty {
                let ok = report.golden.filter { $0.problems.isEmpty }.count
                for g in report.golden where !g.problems.isEmpty {
                    print("\ngolden \(g.image) image → \(g.reader): \(g.problems.count) problem(s)")
                    for p in g.problems.prefix(20) { print("  - \(p)") }
                }
                print("golden: \(ok)/\(report.golden.count) image readers agree with testdata/golden/<version>/expected.json")
            }
            if let json { try writeOutput(report.json().pretty + "\n", to: json) }
            print("matrix: \(report.passCount)/\(report.cells.count) cells pass")
            if !report.allPass { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }
}
