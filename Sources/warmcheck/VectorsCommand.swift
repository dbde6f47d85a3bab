import ArgumentParser
import Foundation
import WarmcheckCore

struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Differential vectors of the ABI's pure functions through every library (libffi, in-process).",
        discussion: """
            Edge cases and seeded random inputs go through each library's C ABI (docs/ABI.md), each \
            library in its own worker process; any disagreement is shrunk and shown with every \
            library's answer. Also checks testdata/vectors.json and every library's layout constants \
            against the spec, and measures calls/s per library against a direct Swift call. \
            Exit 0 all agree, 1 disagreements or failed checks, 2 a library, manifest or worker problem.
            """)

    @OptionGroup var libs: LibraryOptions

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 1

    @Option(help: "Number of random inputs (besides the edge cases).")
    var random = 200_000

    @Option(help: "Vectors file to check (default: the checkout's testdata/vectors.json; \"none\" to skip).")
    var vectors: String?

    @Option(help: "Recorded cases to check (default: the checkout's testdata/abi-cases.json; \"none\" to skip).")
    var cases: String?

    @Flag(name: .customLong("extend-cases"), help: "After a run in which every library agrees on everything, add new agreed inputs (per function, the first with an answer not yet recorded: edge cases first) to the cases file with their answer. Refused when anything disagrees or fails.")
    var extendCases = false

    @Option(name: .customLong("extend-per-function"), help: "With --extend-cases: at most this many new cases per ABI function.")
    var extendPerFunction = 6

    @Option(name: .customLong("rate-rounds"), help: "Rounds of the calls/s measurement (the median is reported).")
    var rateRounds = 5

    @Option(name: .customLong("rate-calls"), help: "wch64 calls per library per round of the calls/s measurement.")
    var rateCalls = 40_000

    @Option(help: "Disagreements shown per function.")
    var show = 3

    @Option(name: .customLong("expect-divergent"), help: "An ABI function whose libraries are known to disagree (repeatable): its disagreements are shown as KNOWN and not counted as failures, and it fails if they all agree (so the list stays true).")
    var expectDivergent: [String] = []

    func run() throws {
        installFixtureCleanupOnSignals()
        let libraries = try libs.resolve()
        var file = vectors
        if file == nil, let root = Repo.root() { file = root.appendingPathComponent("testdata/vectors.json").path }
        if file == "none" { file = nil }
        var casesFile = cases
        if casesFile == nil, let root = Repo.root() { casesFile = root.appendingPathComponent("testdata/abi-cases.json").path }
        if casesFile == "none" { casesFile = nil }
        if extendCases && casesFile == nil { throw fail("--extend-cases needs a cases file (--cases)") }
        let pool: FFIPool
        do { pool = try FFIPool(libraries, executable: selfExecutable()) } catch { throw fail("\(error)") }
        defer { pool.stop() }
        let report: VectorsReport
        let runner = VectorsRunner(pool: pool)
        runner.rateRounds = rateRounds
        runner.callsPerRound = rateCalls
        do { report = try runner.run(seed: seed, random: random, vectorsFile: file, casesFile: casesFile) } catch {
            throw fail("\(error)")
        }
        var passed = report.passed, failed = report.failed
        for name in expectDivergent where !ABISpec.functions.contains(where: { $0.name == name }) {
            throw fail("--expect-divergent \(name): no such ABI function")
        }
        for (function, list) in report.disagreements.sorted(by: { $0.key < $1.key }) {
            let known = expectDivergent.contains(function)
            print("\(known ? "KNOWN" : "DISAGREE") \(function): \(list.count) inputs")
            for d in list.prefix(show) { print("  \(d.shown)") }
            if known { failed -= list.count; passed += list.count }
        }
        for name in expectDivergent where report.disagreements[name] == nil {
            print("FAIL --expect-divergent \(name): every library now agrees on it; remove it from the list")
            failed += 1
        }
        for f in report.failures { print("FAIL \(f)") }
        for r in report.rates {
            let how = r.mode == "batched" ? "through wc_batch" : "one ffi_call per call"
            let sorted = r.rounds.sorted()
            print(String(format: "rate %@ %@: %.0f calls/s %@ (wch64, 16-byte key; median of %d batches, min %.0f, max %.0f)", r.library, r.mode, r.median, how,
                         sorted.count, sorted.first ?? 0, sorted.last ?? 0))
        }
        print(String(format: "rate swift-direct: %.0f calls/s (WCH64.hash in this process, median of 4096-call samples over %d rounds)", report.directSwiftRate, rateRounds))
        if extendCases, let casesFile {
            if failed > 0 || !report.disagreements.isEmpty {
                print("FAIL --extend-cases: not extending \(casesFile) while anything disagrees or fails")
                failed += 1
            } else {
                do {
                    var f = try ABICaseFile.load(path: casesFile)
                    let n = f.extend(calls: report.agreed.map(\.call), answers: report.agreed.map(\.answer),
                                     perFunction: extendPerFunction, base: report.base)
                    try f.write(path: casesFile)
                    print("extended \(casesFile): \(n) new cases, \(f.cases.count) in all")
                } catch { throw fail("\(error)") }
            }
        }
        print("vectors: \(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(Status.failed) }
    }
}
