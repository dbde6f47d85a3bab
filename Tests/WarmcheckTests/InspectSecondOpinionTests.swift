import Foundation
import XCTest
@testable import WarmcheckCore
import WarmcheckSegment

/// `warmcheck inspect` shows where the Swift inspector and warmcheck's decoder read one file
/// differently, and does not call such a file healthy.
final class InspectSecondOpinionTests: XCTestCase {
    func testDisagreementIsReportedAndNotHealthy() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var bytes = Array(try Data(contentsOf: root.appendingPathComponent("testdata/golden/1.0/segment.seg")))
        let path = NSTemporaryDirectory() + "wc-inspect-\(getpid()).seg"
        defer { unlink(path) }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        XCTAssertNil(InspectReport.make(path: path).disagreement)
        XCTAssertEqual(InspectReport.make(path: path).exitStatus, 0)
        // A non-zero byte after a value in its last word (§1) while the inspector (here: its
        // report on the undamaged file) saw nothing wrong.
        let healthy = InspectReport.make(path: path).report
        guard case .success(let snap) = SegmentSnapshot.read(path: path, liveness: false) else { return XCTFail("golden refused") }
        var damaged = false
        for s in 0..<snap.geometry.shardCount where !damaged {
            for j in 0..<snap.geometry.slotsPerShard where !damaged {
                let v = snap.slot(s, j)
                guard v.word.state?.isReadable == true, v.activeRecord.valueLen % 8 != 0 else { continue }
                bytes[snap.geometry.recordOffset(s, j, v.word.active) + SpecLayout.Record.value + Int(v.activeRecord.valueLen)] = 0xFF
                damaged = true
            }
        }
        XCTAssertTrue(damaged)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let d = InspectReport.secondOpinion(healthy, SegmentSnapshot.read(path: path, liveness: false))
        XCTAssertTrue(d?.contains("bytes after the value") == true, d ?? "nil")
        XCTAssertEqual(InspectReport(report: healthy, disagreement: d).exitStatus, 1)
        XCTAssertTrue(InspectReport(report: healthy, disagreement: d).text.contains("READERS DISAGREE"))
        // Refusals: the same code is agreement, a different one is not.
        let truncated = Array(bytes[0..<5000])
        FileManager.default.createFile(atPath: path, contents: Data(truncated))
        XCTAssertNil(InspectReport.make(path: path).disagreement)
        XCTAssertEqual(InspectReport.make(path: path).exitStatus, 2)
    }
}
