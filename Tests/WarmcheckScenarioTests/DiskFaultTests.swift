import Foundation
import XCTest
@testable import WarmcheckScenario

/// `disk: {ROLE: FAULT}` (docs/SCENARIOS.md "A failing disk"): the faults are those of
/// spec/vocabulary.json's `disk_faults`, and only declared roles get one.
final class DiskFaultTests: XCTestCase {
    let head = "processes:\n  w: any\n  f: any\n"
    let steps = "init:\n  - w: restore\n  - f: put k v durable=true\n    expect: ok not_durable\n"

    func testDiskNamesARoleAndAFault() throws {
        let s = try ScenarioParser.parse(yaml: head + "disk:\n  f: sync_fails\n" + steps, file: "d.yaml")
        XCTAssertEqual(s.disks, ["f": .syncFails])
        XCTAssertEqual(s.initSteps.last?.operation?.expect, [.ok, .durable(false)])
    }

    func testUnknownRoleOrFaultIsRefused() {
        for (disk, says) in [("g: sync_fails", "not a role"), ("f: full", "bad disk fault")] {
            let e = ScenarioParser.parseCollectingErrors(yaml: head + "disk:\n  \(disk)\n" + steps, file: "d.yaml").errors
            XCTAssertTrue(e.contains { $0.message.contains(says) }, "\(disk): \(e)")
        }
    }

    func testStoreDiskStepNeedsTheStoreOnItsOwnFileSystem() throws {
        let s = try ScenarioParser.parse(yaml: head + steps + "  - store_disk: full\n  - store_disk: room\n", file: "d.yaml")
        XCTAssertTrue(s.fillsStoreDisk)
        XCTAssertFalse(try ScenarioParser.parse(yaml: head + steps, file: "d.yaml").fillsStoreDisk)
        let e = ScenarioParser.parseCollectingErrors(yaml: head + steps + "  - store_disk: empty\n", file: "d.yaml").errors
        XCTAssertTrue(e.contains { $0.message.contains("full or room") }, "\(e)")
    }

    func testFaultsAreTheVocabularysDiskFaults() throws {
        let root = try XCTUnwrap(ScenarioLibraryTests.repoRoot())
        let data = try Data(contentsOf: root.appendingPathComponent("spec/vocabulary.json"))
        let vocabulary = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let faults = try XCTUnwrap(vocabulary["disk_faults"] as? [String: [String]])
        XCTAssertEqual(Set(faults.keys), Set(DiskFault.allCases.map(\.rawValue)))
        XCTAssertEqual(faults["fdatasync_fails"], ["fdatasync"])
        XCTAssertEqual(faults["fallocate_unsupported"], ["fallocate"])
        XCTAssertEqual(faults["lock_fails"], ["fcntl(F_OFD_SETLK)"])
        XCTAssertEqual(Set(faults["sync_fails"] ?? []), ["fsync", "fdatasync", "sync_file_range", "syncfs", "msync"],
                       "the calls Sources/CWarmcacheShim/diskfault.c fails")
    }
}
