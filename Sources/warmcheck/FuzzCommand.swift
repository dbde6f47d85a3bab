import ArgumentParser
import Foundation
import WarmcheckCore

struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Differential fuzzing of segment images through every library's decoder (libffi, in-process).",
        discussion: """
            Structured mutants of a small segment image (headers, participant entries, shard \
            headers, slots, records, truncation) are decoded by each library's wc_decode_image in \
            its own worker. A crash, hang or disagreement is a finding: the mutant is saved in --out \
            with a one-line reproduction. Exit 0 no findings, 1 findings, 2 a library or manifest problem.
            """)

    @OptionGroup var libs: LibraryOptions

    @Option(help: "Seed of the mutants.")
    var seed: UInt64 = 1

    @Option(help: "Number of mutants.")
    var count: UInt64 = 100_000

    @Option(help: "First mutant index (with --count 1: reproduce one finding).")
    var first: UInt64 = 0

    @Option(help: "Base image (default: built by the Swift implementation, BaseImage.swift).")
    var base: String?

    @Option(help: "Decode this one image file in every library (with --now) and show each answer: the reproduction of a shrunk finding. Exit 1 if they disagree.")
    var decode: String?

    @Option(help: "With --decode: the reader's clock (ns).")
    var now: UInt64 = 0

    @Option(help: "Disagreements shrunk to a smallest image on which the libraries still disagree.")
    var shrink = 5

    @Option(help: "Directory for findings.")
    var out = "warmcheck-fuzz"

    @Option(help: "Findings shown.")
    var show = 10

    @Flag(help: "Fuzz durable-store journals (docs/PERSISTENCE.md) through every library's wc_decode_journal instead of segment images; libraries without one are skipped.")
    var journals = false

    @Option(name: .customLong("journal"), help: "With --journals: a base journal written by an implementation (repeatable; default testdata/journals/*.wcj).")
    var journalBases: [String] = []

    @Option(name: .customLong("decode-journal"), help: "Decode this one journal file in every library with a journal decoder and show each answer (the reproduction of a journal finding). Exit 1 if they disagree.")
    var decodeJournal: String?

    @Flag(name: .customLong("any-geometry"), help: "With --decode-journal: decode against no restoring geometry (any valid one), as the finding says.")
    var anyGeometry = false

    @Flag(name: .customLong("known-disagreements"), help: "Count disagreements as passed (shown, still saved): for CI while the reference implementations are known to disagree; crashes and hangs still fail.")
    var knownDisagreements = false

    func run() throws {
        installFixtureCleanupOnSignals()
        let libraries = try libs.resolve()
        if journals || decodeJournal != nil { return try runJournals(libraries) }
        let image: [UInt8]
        if let base {
            guard let d = FileManager.default.contents(atPath: base) else { throw fail("cannot read --base \(base)") }
            image = [UInt8](d)
        } else {
            do { image = try BaseImage.build() } catch { throw fail("cannot build the base image: \(error)") }
        }
        let runner = FuzzRunner(libraries: libraries, executable: selfExecutable(), outDir: out)
        runner.maxShrunk = shrink
        if let decode {
            guard let d = FileManager.default.contents(atPath: decode) else { throw fail("cannot read --decode \(decode)") }
            let answers: [[UInt64]]
            do { answers = try runner.decode(image: [UInt8](d), now: now) } catch { throw fail("\(error)") }
            for (lib, a) in zip(libraries, answers) {
                print("\(lib.name): \(ABISpec.openCode(Int64(bitPattern: a[0]))) " + a.dropFirst().map { "0x" + String($0, radix: 16) }.joined(separator: " "))
            }
            let agree = answers.allSatisfy { $0 == answers[0] }
            print(agree ? "decode: every library agrees" : "decode: the libraries disagree")
            if !agree { throw ExitCode(Status.failed) }
            return
        }
        let report: FuzzReport
        do { report = try runner.run(base: image, seed: seed, count: count, first: first) } catch { throw fail("\(error)") }
        let libArgs = libs.libraries.isEmpty ? "" : zip(libs.libraries, libs.manifests).map { " --library \($0) --manifest \($1)" }.joined()
        for f in report.findings.prefix(show) {
            print("\(f.kind.uppercased()) mutant \(f.index): \(f.detail)")
            print("  saved \(f.saved ?? "-"); reproduce: warmcheck fuzz\(libArgs) --base \(out)/base.img --seed \(seed) --first \(f.index) --count 1")
            if let shrunk = f.shrunk {
                print("  shrunk \(shrunk); reproduce: warmcheck fuzz\(libArgs) --decode \(shrunk) --now \(f.now)")
            }
        }
        let failed = summarize(report, unit: "images")
        print(String(format: "fuzz: %llu passed, %llu failed (%llu images, %.1f s)", report.images - failed, failed, report.images, report.wallSeconds))
        if failed > 0 { throw ExitCode(Status.failed) }
    }

    /// Prints each library's rate and the known disagreements; returns the mutants counted failed.
    func summarize(_ report: FuzzReport, unit: String) -> UInt64 {
        for (name, s) in report.workerSeconds {
            print(String(format: "rate %@: %.0f %@/s (%.2f s in the worker)", name, s > 0 ? Double(report.images) / s : 0, unit, s))
        }
        let broken = UInt64(report.findings.filter { $0.kind != "disagreement" }.count)
        if knownDisagreements && report.disagreementCount > 0 {
            print("KNOWN \(report.disagreementCount) disagreements (--known-disagreements)")
        }
        return knownDisagreements ? broken : report.images - report.agreed
    }

    func loadJournals() throws -> [[UInt8]] {
        var paths = journalBases
        if paths.isEmpty {
            guard let root = Repo.root() else { throw fail("--journals: no --journal given and no warmcache checkout to take testdata/journals from") }
            let dir = root.appendingPathComponent("testdata/journals")
            paths = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".wcj") }.sorted()
                .map { dir.appendingPathComponent($0).path }
        }
        guard !paths.isEmpty else { throw fail("--journals: no base journals (testdata/journals/*.wcj or --journal FILE)") }
        return try paths.map { p in
            guard let d = FileManager.default.contents(atPath: p) else { throw fail("cannot read --journal \(p)") }
            guard d.count >= JournalMutator.headerSize else { throw fail("--journal \(p): \(d.count) bytes, shorter than a journal header") }
            return [UInt8](d)
        }
    }

    func runJournals(_ all: [ABILibrary]) throws {
        let (libraries, skipped) = JournalFuzzRunner.withJournalDecoder(all)
        for name in skipped { print("skipped \(name): its manifest declares no decode_journal (no durable store)") }
        guard libraries.count >= 2 || (libraries.count == 1 && !libs.libraries.isEmpty) else {
            throw fail("--journals: fewer than two libraries with a journal decoder (\(libraries.map(\.name).joined(separator: ", ")))")
        }
        let bases = try loadJournals()
        let runner = JournalFuzzRunner(libraries: libraries, executable: selfExecutable(), outDir: out)
        runner.maxShrunk = shrink
        let libArgs = libs.libraries.isEmpty ? "" : zip(libs.libraries, libs.manifests).map { " --library \($0) --manifest \($1)" }.joined()
        if let decodeJournal {
            guard let d = FileManager.default.contents(atPath: decodeJournal) else { throw fail("cannot read --decode-journal \(decodeJournal)") }
            let answers: [[UInt64]]
            let g = anyGeometry ? (0, 0, 0) : JournalMutator(journals: bases).geometry
            do { answers = try runner.decode(image: [UInt8](d), geometry: g) } catch { throw fail("\(error)") }
            print(JournalFuzzRunner.shown(libraries.map(\.name), answers).replacingOccurrences(of: "; ", with: "\n"))
            let agree = answers.allSatisfy { $0 == answers[0] }
            print(agree ? "decode: every library agrees" : "decode: the libraries disagree")
            if !agree { throw ExitCode(Status.failed) }
            return
        }
        var caseFailures: [String] = []
        if let root = Repo.root() {
            let path = root.appendingPathComponent("testdata/journal-cases.json").path
            do {
                let cases = try JournalCases.load(path: path)
                let pool = try FFIPool(libraries, executable: selfExecutable())
                defer { pool.stop() }
                caseFailures = try cases.check(pool)
                for f in caseFailures { print("FAIL journal case: \(f)") }
                print("journal cases: \(cases.cases.count * libraries.count - caseFailures.count) passed, \(caseFailures.count) failed (testdata/journal-cases.json)")
            } catch { throw fail("journal cases: \(error)") }
        }
        let report: FuzzReport
        do { report = try runner.run(bases: bases, seed: seed, count: count, first: first) } catch { throw fail("\(error)") }
        let baseArgs = journalBases.map { " --journal \($0)" }.joined()
        for f in report.findings.prefix(show) {
            print("\(f.kind.uppercased()) journal mutant \(f.index): \(f.detail)")
            print("  saved \(f.saved ?? "-"); reproduce: warmcheck fuzz --journals\(libArgs)\(baseArgs) --seed \(seed) --first \(f.index) --count 1")
            if let shrunk = f.shrunk {
                print("  shrunk \(shrunk); reproduce: warmcheck fuzz\(libArgs)\(baseArgs) --decode-journal \(shrunk)\(f.anyGeometry ? " --any-geometry" : "")")
            }
        }
        let failed = summarize(report, unit: "journals")
        print(String(format: "fuzz journals: %llu passed, %llu failed (%llu journals from %d bases, %.1f s)",
                     report.images - failed, failed, report.images, bases.count, report.wallSeconds))
        if failed > 0 || !caseFailures.isEmpty { throw ExitCode(Status.failed) }
    }
}
