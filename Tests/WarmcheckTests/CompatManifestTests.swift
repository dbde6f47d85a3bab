import Foundation
import XCTest
@testable import WarmcheckCore
import WarmcheckScenario
import WarmcheckSegment

/// The compat gate's inputs: the releases file, the manifest and its errors (file:line), header
/// patches, and the resolution of baseline revisions.
final class CompatManifestTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let releases = try! Releases.parse("1.0 43cdc75fb8716ea5f6838bfc5a57da8fcfa71749\n1.1 " + String(repeating: "a", count: 40) + "\n", path: "R")
    let codes = try! Vocabulary.standard.get().openErrors

    func parse(_ text: String) throws -> CompatManifest {
        try CompatManifest.parse(text, path: "M", implementations: ["go", "rust", "swift"], releases: releases, openCodes: codes)
    }

    func assertError(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(fragment), "\(e) does not say \(fragment)", file: file, line: line)
        }
    }

    func testTheRepositoryFilesParseAndTheFirstReleaseIsTheRecordedCommit() throws {
        let r = try Releases.load(root: root)
        XCTAssertEqual(r.release(named: "1.0")?.commit, "43cdc75fb8716ea5f6838bfc5a57da8fcfa71749")
        XCTAssertEqual(r.release(named: "1.0")?.protocolMajor, 1)
        let text = try String(contentsOf: root.appendingPathComponent("compat/manifest.txt"), encoding: .utf8)
        let m = try CompatManifest.parse(text, path: "compat/manifest.txt", implementations: ["go", "rust", "swift"],
                                         releases: r, openCodes: codes)
        XCTAssertEqual(m.readers.count, 6)
        XCTAssertTrue(m.writers.contains { if case .image = $0.source { return true }; return false }, "the released image is a writer")
        // Every released version has its frozen image, and the manifest reads it.
        for rel in r.entries {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("testdata/golden/\(rel.version)/segment.seg").path),
                          "release \(rel.version) has no golden image")
            XCTAssertTrue(text.contains("image:testdata/golden/\(rel.version)"), "the manifest does not read the \(rel.version) image")
        }
    }

    func testReleasesErrorsNameFileAndLine() {
        XCTAssertThrowsError(try Releases.parse("# c\n1.0 43cdc75\n", path: "R")) { XCTAssertTrue("\($0)".contains("R:2"), "\($0)") }
        XCTAssertThrowsError(try Releases.parse("one " + String(repeating: "a", count: 40) + "\n", path: "R")) { XCTAssertTrue("\($0)".contains("R:1"), "\($0)") }
        let dup = "1.0 " + String(repeating: "a", count: 40) + "\n1.0 " + String(repeating: "b", count: 40) + "\n"
        XCTAssertThrowsError(try Releases.parse(dup, path: "R")) { XCTAssertTrue("\($0)".contains("R:2") && "\($0)".contains("R:1"), "\($0)") }
        XCTAssertEqual(Releases.protocolVersion("1.0.3")?.0, 1)
        XCTAssertNil(Releases.protocolVersion("1"))
        XCTAssertNil(Releases.protocolVersion("1.x"))
    }

    /// `create=` carries a JSON object, whose keys need double quotes: the manifest's own
    /// quoting used to strip them, so no `create=` line could be written at all.
    func testCreateTakesSingleQuotedJSON() throws {
        let m = try parse("writer fast go@head create='{\"fast_checksum\":true}'\nreader go@head\nexpect * * read\n")
        guard case .fixture(_, _, let create, _) = m.writers[0].source else { return XCTFail("not a fixture writer") }
        XCTAssertEqual(create["fast_checksum"], .bool(true))
        assertError("writer a go@head create={fast_checksum:true}\n", "M:1: create= must be a JSON object")
        assertError("writer a go@head create='{\"x\":1}\n", "M:1: unterminated quote")
        let text = try String(contentsOf: root.appendingPathComponent("compat/manifest.txt"), encoding: .utf8)
        let repo = try CompatManifest.parse(text, path: "compat/manifest.txt", implementations: ["go", "rust", "swift"],
                                            releases: try Releases.load(root: root), openCodes: codes)
        XCTAssertEqual(repo.writers.filter { w in
            if case .fixture(_, _, let c, _) = w.source { return c["fast_checksum"] == .bool(true) }
            return false
        }.count, 3, "the fast checksum is written by each head fixture")
    }

    func testManifestErrorsNameFileAndLine() {
        assertError("writer a go@head\nreader go@2.3\n", "M:2: unknown version \"2.3\"")
        assertError("writer a go@head\nreader java@head\n", "M:2: unknown implementation \"java\"")
        assertError("writer a go@head\nreader go@head\nexpect * * refuse nope\n", "M:3: \"nope\" is not an opening error code")
        assertError("writer a go@head\nwriter a rust@head\n", "M:2: writer a is already declared at M:1")
        assertError("writer a go@head patch=minr:1\n", "M:1: patch \"minr:1\"")
        assertError("writer a go@head patch=major:70000\n", "does not fit 16 bits")
        assertError("write a go@head\n", "M:1: \"write\"")
        assertError("writer a go@head args=\"--x\n", "M:1: unterminated quote")
        assertError("# nothing\n", "declares no writer")
    }

    func testExpectationsMatchNamesOrDescriptionsFirstMatchWins() throws {
        let m = try parse("""
            writer w go@head
            reader rust@1.0
            expect *+fast_checksum* *@1.0 refuse unsupported_features
            expect w * read
            """)
        XCTAssertEqual(m.expectation(writer: ["w", "go@1.1+sim_clock+fast_checksum"], reader: ["rust@1.0", "rust@1.0"])?.outcome,
                       .refuse("unsupported_features"))
        XCTAssertEqual(m.expectation(writer: ["w", "go@1.1+sim_clock+fast_checksum"], reader: ["rust@head", "rust@1.1"])?.outcome, .read)
        XCTAssertNil(m.expectation(writer: ["x", "go@1.0"], reader: ["rust@head", "rust@1.1"]), "an uncovered cell has no outcome")
        XCTAssertEqual(m.builds.map(\.description), ["go@head", "rust@1.0"])
    }

    func testHeaderPatchSetsVersionOrsBitsAndReseals() throws {
        let path = NSTemporaryDirectory() + "wc-patch-\(getpid()).seg"
        unlink(path)
        defer { unlink(path) }
        try CraftedSegment(geometry: RefusalCase.baseGeometry, features: 1).write(to: path)
        try HeaderPatch.apply([.init(field: .major, value: 2), .init(field: .minor, value: 9),
                               .init(field: .compat_bits, value: 1 << 63), .init(field: .incompat_bits, value: 1 << 5)], to: path)
        XCTAssertEqual(try HeaderPatch.read(path), .init(major: 2, minor: 9, incompat: 1 | 1 << 5, compat: 1 << 63))
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let sum = bytes[136..<144].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        XCTAssertEqual(sum, SpecHash.wch64(bytes[0..<136], seed: SpecHash.headerSeed), "the checksum is resealed")
        XCTAssertEqual(bytes[12], 0, "the header size field above the minor is untouched")
    }

    func testBaselineRevisionsResolveOrSayWhy() throws {
        let r = try Releases.load(root: root)
        XCTAssertEqual(try BaselineRevision.resolve("1.0", releases: r, root: root).commit, "43cdc75fb8716ea5f6838bfc5a57da8fcfa71749")
        XCTAssertEqual(try BaselineRevision.resolve("43cdc75", releases: r, root: root).release?.version, "1.0",
                       "a hash of a released commit is that release")
        XCTAssertThrowsError(try BaselineRevision.resolve("no-such-revision", releases: r, root: root)) {
            XCTAssertTrue("\($0)".contains("baseline no-such-revision"), "\($0)")
        }
        XCTAssertThrowsError(try BaselineRevision.resolve("--output=x", releases: r, root: root), "an option is no revision")
    }
}

/// `warmcheck upgrade --seed N`: the plan is a function of the seed and always a valid scenario.
final class UpgradePlanTests: XCTestCase {
    func testSamePlanFromSameSeedAndEveryPlanParses() throws {
        XCTAssertEqual(UpgradePlan.make(seed: 42, releases: ["1.0"], implementations: ["go", "rust", "swift"], events: 8).yaml,
                       UpgradePlan.make(seed: 42, releases: ["1.0"], implementations: ["go", "rust", "swift"], events: 8).yaml)
        XCTAssertNotEqual(UpgradePlan.make(seed: 1, releases: ["1.0"], implementations: ["go", "rust", "swift"], events: 8).yaml,
                          UpgradePlan.make(seed: 2, releases: ["1.0"], implementations: ["go", "rust", "swift"], events: 8).yaml)
        var rollbacks = 0
        for seed in UInt64(0)..<50 {
            let p = UpgradePlan.make(seed: seed, releases: ["1.0", "1.1"], implementations: ["go", "rust", "swift"], events: 10)
            let s = try ScenarioParser.parse(yaml: p.yaml, file: "plan-\(seed).yaml")
            XCTAssertFalse(s.upgradeTargets.isEmpty)
            XCTAssertTrue(s.upgradeTargets.allSatisfy { t in ["go", "rust", "swift"].contains(t.split(separator: "@")[0]) })
            if p.yaml.contains("# rollback") { rollbacks += 1 }
        }
        XCTAssertGreaterThan(rollbacks, 5, "plans roll back now and then")
    }
}
