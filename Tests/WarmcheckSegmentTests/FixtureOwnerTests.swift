#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest
@testable import WarmcheckSegment

/// The observer's side of DRIVER.md "Fixture credentials": the snapshot accepts the uid it is
/// told the fixtures run under and nothing else, and a process's uid is read from /proc.
final class FixtureOwnerTests: XCTestCase {
    func testSnapshotAcceptsOnlyTheNamedOwner() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root to give the file to another uid")
        let path = NSTemporaryDirectory() + "wc-owner-\(getpid()).seg"
        defer { unlink(path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3])))
        XCTAssertEqual(chown(path, 424_242, 424_242), 0)
        // The owner check is §4.2 step 2; the next one (the size) answers once it passes.
        guard case .failure(.foreignOwner(uid: 424_242)) = SegmentSnapshot.read(path: path) else {
            return XCTFail("a file of uid 424242 was not refused as foreign to warmcheck's own uid")
        }
        guard case .failure(.tooShort) = SegmentSnapshot.read(path: path, owner: 424_242) else {
            return XCTFail("the named owner was not accepted")
        }
        guard case .failure(.foreignOwner(uid: 424_242)) = SegmentSnapshot.read(path: path, owner: 424_243) else {
            return XCTFail("another uid than the named owner was accepted")
        }
    }

    func testEffectiveUidIsReadFromProc() {
        XCTAssertEqual(ProcessIdentity.effectiveUid(pid: Int(getpid())), geteuid())
        XCTAssertNil(ProcessIdentity.effectiveUid(pid: 0))
    }
}
