// The journal tier of the libffi fuzzer (docs/ABI.md "Journals", "Fuzzing journals"): the
// mutator reaches every PERSISTENCE.md §9 code, the recorded cases hold in every library, and
// a planted decoder bug is found and shrunk to the one record that shows it.

import Foundation
import XCTest
@_spi(Harness) import Warmcache
@testable import WarmcheckCore

extension FFITests {
    var journalLibraries: [ABILibrary] { JournalFuzzRunner.withJournalDecoder(ABILibrary.references(root: root)).usable }

    func baseJournals() throws -> [[UInt8]] {
        try ["go", "rust"].map { [UInt8](try Data(contentsOf: root.appendingPathComponent("testdata/journals/\($0).wcj"))) }
    }

    /// All three libraries declare the decoder (Swift since its store); a library whose manifest
    /// lacks it is skipped by name, not loaded.
    func testJournalDecoderIsDeclaredByAllThreeAndALibraryWithoutItIsSkipped() throws {
        let refs = ABILibrary.references(root: root)
        let split = JournalFuzzRunner.withJournalDecoder(refs)
        XCTAssertEqual(split.usable.map(\.name).sorted(), ["go", "rust", "swift"])
        XCTAssertEqual(split.skipped, [])
        // The Swift manifest without decode_journal: a library of before the store.
        let swift = try XCTUnwrap(refs.first { $0.name == "swift" })
        var m = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: swift.manifest))) as? [String: Any])
        m["functions"] = (m["functions"] as? [[String: Any]] ?? []).filter { $0["function"] as? String != "decode_journal" }
        let older = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-no-journal-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: older) }
        try JSONSerialization.data(withJSONObject: m).write(to: older)
        let without = JournalFuzzRunner.withJournalDecoder([ABILibrary(name: "older", path: swift.path, manifest: older.path)])
        XCTAssertEqual(without.usable.count, 0)
        XCTAssertEqual(without.skipped, ["older"])
    }

    /// Mutants are a pure function of (seed, index), and over a few thousand of them the
    /// libraries' answers cover every code of §9 (a mutator stuck at bad_checksum would not).
    func testJournalMutantsAreReproducibleAndReachEveryCode() throws {
        let m = JournalMutator(journals: try baseJournals())
        var a: [UInt8] = [], b: [UInt8] = []
        for i in 0..<50 as Range<UInt64> {
            let (la, ga) = m.mutant(seed: 5, index: i, into: &a)
            let (lb, gb) = m.mutant(seed: 5, index: i, into: &b)
            XCTAssertEqual(Array(a[0..<la]), Array(b[0..<lb]))
            XCTAssertTrue(ga == gb)
        }
        let pool = try FFIPool([rust], executable: worker)
        defer { pool.stop() }
        try pool.setJournals(try baseJournals(), geometry: m.geometry)
        var seen = Set<UInt64>()
        for i in 0..<3000 as Range<UInt64> { seen.insert(try pool.fuzzJournalOne(seed: 5, index: i)[0][0]) }
        XCTAssertEqual(seen, Set(0..<UInt64(ABISpec.storeCodes.count)), "codes reached: \(seen.sorted().map { ABISpec.storeCode(Int64($0)) })")
    }

    func testCommittedJournalCasesHoldInEveryLibraryWithADecoder() throws {
        let cases = try JournalCases.load(path: root.appendingPathComponent("testdata/journal-cases.json").path)
        XCTAssertGreaterThanOrEqual(cases.cases.count, 30)
        XCTAssertEqual(Set(cases.cases.map { $0.expect[0] }), Set(0..<UInt64(ABISpec.storeCodes.count)), "every §9 code has a case")
        let pool = try FFIPool(journalLibraries, executable: worker)
        defer { pool.stop() }
        XCTAssertEqual(try cases.check(pool), [])
        // A changed answer fails: the same cases against a shim whose tombstones skip the checksum.
        let shim = try tombstoneShim()
        let bad = try FFIPool([shim], executable: worker)
        defer { bad.stop() }
        let failures = try cases.check(bad)
        XCTAssertEqual(failures.count, 1, "\(failures)")
        XCTAssertTrue(failures.first?.contains("tombstone") == true, "\(failures)")
    }

    /// A planted bug, as a decoder could have it: the Rust decoder's answer, except that a
    /// bad_checksum on a tombstone (kind 2) is reported as no problem at all.
    func tombstoneShim() throws -> ABILibrary {
        try forwardingShim("tombstone", patches: ["decode_journal":
            "  if (r == 7 && a5 && ((uint64_t *)a5)[0] + 5 <= a1 && ((uint8_t *)a0)[((uint64_t *)a5)[0] + 4] == 2) { r = 0; ((uint64_t *)a5)[0] = a1; }\n"])
    }

    /// The journal fuzzer finds the planted bug, and the shrinker cuts every mutant it shrinks
    /// down to the header and the one tombstone whose checksum is wrong.
    func testJournalFuzzFindsAPlantedDivergenceAndShrinksItToOneRecord() throws {
        let runner = JournalFuzzRunner(libraries: [rust, try tombstoneShim()], executable: worker, outDir: scratch + "/jfuzz")
        runner.maxShrunk = 2
        let report = try runner.run(bases: try baseJournals(), seed: 1, count: 3000)
        XCTAssertGreaterThan(report.disagreementCount, 0)
        XCTAssertEqual(report.findings.filter { $0.kind != "disagreement" }.count, 0)
        let shrunk = report.findings.compactMap(\.shrunk)
        XCTAssertEqual(shrunk.count, 2, "\(report.findings.map(\.detail))")
        for path in shrunk {
            let image = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path)))
            XCTAssertEqual(image.count, 96 + 96, path)   // header + one tombstone record (8-byte key, no value)
            XCTAssertEqual(image[96 + 4], 2, "the record left is a tombstone")
            let finding = try XCTUnwrap(report.findings.first { $0.shrunk == path })
            let answers = try runner.decode(image: image, geometry: finding.anyGeometry ? (0, 0, 0) : JournalMutator(journals: try baseJournals()).geometry)
            XCTAssertEqual(answers[0][0], 7, "rust: bad_checksum")
            XCTAssertNotEqual(answers[0], answers[1])
        }
    }
}
