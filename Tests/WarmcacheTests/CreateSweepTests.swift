import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// PROTOCOL.md §4.1 steps 1 and 2 as Swift implements them: the cut of the private name and the
/// sweep of dead creators' files.
final class CreateSweepTests: XCTestCase {
    /// A dead creator's private file (its flock free) is removed; a live creator's (flock held)
    /// and other segments' files are left, even one whose name begins with the same bytes (the
    /// private file of a segment named B.init.7).
    func testCreateSweepsDeadInit() throws {
        let p = tempPath()
        let dead = p + ".init.4194305.ab12", live = p + ".init.4194306.cd34"
        let others = [p + ".init.7.init.4194305.ab12", p + "x.init.4194305.ab12"]
        let all = [dead, live] + others
        for f in all { XCTAssertTrue(FileManager.default.createFile(atPath: f, contents: Data("x".utf8))) }
        defer { for f in all + [p] { unlink(f) } }
        let held = open(live, O_RDONLY)
        defer { close(held) }
        XCTAssertEqual(flock(held, LOCK_EX), 0)
        let c = try WarmCache.create(path: p, geometry: small)
        defer { c.close() }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead), "the dead creator's file is still there")
        for f in [live] + others { XCTAssertTrue(FileManager.default.fileExists(atPath: f), "\(f) must be left") }
    }

    func testInitPrefixCut() {
        func cut(_ name: String) -> Int { SegmentFile.initPrefix(name).utf8.count - ".init.".utf8.count }
        for (n, want) in [(190, 190), (191, 191), (192, 191), (255, 191)] {
            XCTAssertEqual(cut(String(repeating: "n", count: n)), want, "\(n) bytes")
        }
        XCTAssertEqual(cut(String(repeating: "n", count: 190) + "é"), 190, "a 2-byte character across byte 191 goes whole")
        XCTAssertEqual(cut(String(repeating: "n", count: 191) + "é"), 191, "a lead byte at 191 is not part of the cut")
    }
}
