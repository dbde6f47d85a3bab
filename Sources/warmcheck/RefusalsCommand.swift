import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckScenario

struct RefusalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refusals",
        abstract: "Crafted bad segment files: every implementation must refuse each with the exact code PROTOCOL.md names.",
        discussion: "One file per check of PROTOCOL.md §4.2 and per geometry rule at and past its boundary, plus files "
            + "the spec says readers must accept. Each goes to every fixture's `open` and to warmcheck's `inspect`. "
            + "Exit 0 only if every case passes.")

    @OptionGroup var reference: ReferenceFixtureOptions

    @Option(name: .customLong("case"), help: "Only cases whose name matches this glob (repeatable).")
    var caseGlobs: [String] = []

    @Flag(help: "Also run the heavy cases (a sparse 2^40-byte legal segment; see docs/REFUSALS.md).")
    var heavy = false

    @Flag(help: "Print the cases and the answer each requires, and exit.")
    var list = false

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    @Option(help: "Directory for the crafted files (default: /dev/shm when present).")
    var workDir: String?

    @Option(help: "Milliseconds a fixture's open polls a ready word that is not READY (passed as --timeout-ms).")
    var openTimeoutMs = 100

    @OptionGroup var build: BuildOptions

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 20

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            var cases = RefusalCatalog.cases + (heavy ? RefusalCatalog.heavy : [])
            if !caseGlobs.isEmpty {
                let filters = caseGlobs.map(CaseFilter.init)
                cases = cases.filter { c in filters.contains { $0.matches(c.name) } }
                if cases.isEmpty { throw UsageError("--case \(caseGlobs.joined(separator: " ")): no crafted case matches") }
            }
            if list {
                print(RefusalReport.manifest(cases), terminator: "")
                return
            }
            let specs = try reference.specs()
            if !build.noBuild && specs.contains(where: { ["go", "rust"].contains($0.name) }) { try Repo.buildFixtures() }
            var gate = RefusalGate(fixtures: specs, cases: cases, workDir: workDir ?? Repo.defaultWorkDir)
            gate.timeout = timeout
            gate.openTimeoutMs = openTimeoutMs
            let isTTY = isatty(2) != 0
            gate.log = { msg in if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K… \(msg)".utf8)) } }
            let report = try gate.run()
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print(report.table(), terminator: "")
            if let json { try writeOutput(report.json().pretty + "\n", to: json) }
            let known = report.knownFailureCases
            // The count scripts/test.sh reads (a known failure counts as skipped), then the verdict line.
            print("refusals: \(report.passCount) passed, \(report.failCount) failed, \(known) skipped")
            print("refusals: \(report.passCount)/\(report.countedCases) cases pass" + (known > 0 ? " (\(known) with known failures)" : ""))
            if !report.allPass { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        } catch let e as FixtureFailure {
            throw fail(e.description)
        }
    }
}
