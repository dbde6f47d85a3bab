import Foundation
import XCTest
@testable import WarmcheckScenario

final class ScenarioLibraryTests: XCTestCase {
    /// The repository root: the first ancestor of this file with a `scenarios/` folder and `Package.swift`.
    static func repoRoot() -> URL? {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while url.path != "/" {
            let fm = FileManager.default
            if fm.fileExists(atPath: url.appendingPathComponent("scenarios").path),
               fm.fileExists(atPath: url.appendingPathComponent("docs/SCENARIOS.md").path) {
                return url
            }
            url.deleteLastPathComponent()
        }
        return nil
    }

    func testEveryScenarioInTheRepositoryParses() throws {
        let root = try XCTUnwrap(Self.repoRoot(), "repository root not found from \(#filePath)")
        let lib = ScenarioLibrary.load(directory: root.appendingPathComponent("scenarios"))
        XCTAssertEqual(lib.errors.map(\.description), [])
        XCTAssertGreaterThanOrEqual(lib.scenarios.count, 32)
        XCTAssertEqual(lib.scenarios.count, lib.files.count)
        for s in lib.scenarios {
            XCTAssertFalse(s.description.isEmpty, "\(s.name) has no description")
            XCTAssertEqual(s.name + ".yaml", URL(fileURLWithPath: s.file).lastPathComponent, "name differs from file name")
        }
        // Together the scenarios cover every event reachable through the driver (abort is not).
        let covered = Set(lib.scenarios.flatMap(\.covers))
        XCTAssertEqual(Set(Scenario.knownEvents).subtracting(covered), ["abort"])
        // Every case name is unique across the library.
        let cases = lib.cases(implementations: ["go", "rust", "swift"])
        XCTAssertEqual(Set(cases.map(\.name)).count, cases.count)
        XCTAssertGreaterThan(cases.count, lib.scenarios.count)
    }

    func testLoadCollectsAllErrorsAcrossFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenlib-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("b-good.yaml", "description: fine\nprocesses: {w: any}\ninit: [{w: create}]\n")
        try write("a-bad.yaml", "processes: {w: any}\ninit:\n  - w: gett\n  - x: get k\n")
        try write("c-bad.yaml", "init: [{advance: 1x}]\n")
        try write("d-dup.yaml", "name: b-good\nprocesses: {w: any}\ninit: [{w: create}]\n")
        try write("notes.txt", "not a scenario")
        let lib = ScenarioLibrary.load(directory: dir)
        XCTAssertEqual(lib.files.map(\.lastPathComponent), ["a-bad.yaml", "b-good.yaml", "c-bad.yaml", "d-dup.yaml"])
        XCTAssertEqual(lib.scenarios.map(\.name), ["b-good"])
        XCTAssertEqual(lib.errors.map(\.kind), [.unknownOperation, .undeclaredRole, .missing, .badDuration, .duplicateName])
        XCTAssertTrue(lib.errors[0].description.hasSuffix("a-bad.yaml:3:8: unknown operation 'gett' (expected one of: create, open, open_or_create, close, get, put, refresh, invalidate, evict, stats, generation, wait, restore, resume, ns_stage, ns_put, ns_flip, ns_rollback, ns_pin, ns_unpin, ns_get, ns_reclaim, ns_state, compact, repair, get_many, participants)"),
                      lib.errors[0].description)
        XCTAssertNotNil(lib.scenario(named: "b-good"))
    }

    func testMissingDirectory() {
        let lib = ScenarioLibrary.load(directory: URL(fileURLWithPath: "/nonexistent/scenarios"))
        XCTAssertEqual(lib.errors.count, 1)
        XCTAssertTrue(lib.scenarios.isEmpty)
    }
}
