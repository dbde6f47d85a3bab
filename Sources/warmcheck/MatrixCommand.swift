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

    @Flag(help: "Skip reading the committed golden image (testdata/golden).")
    var noGolden = false

    @Option(help: "Write the segment produced by this fixture, and its expected view, into testdata/golden/.")
    var writeGolden: String?

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
                try GoldenImage.write(with: try Repo.parseFixture(w), runner: runner)
                print("golden image written to testdata/golden/ by \(w)")
                return
            }
            if !noGolden, let g = try GoldenImage.load() { runner.golden = g }
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
                    print("\ngolden image → \(g.reader): \(g.problems.count) problem(s)")
                    for p in g.problems.prefix(20) { print("  - \(p)") }
                }
                print("golden: \(ok)/\(report.golden.count) readers agree with testdata/golden/expected.json")
            }
            if let json { try writeOutput(report.json().pretty + "\n", to: json) }
            print("matrix: \(report.passCount)/\(report.cells.count) cells pass")
            if !report.allPass { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }
}
