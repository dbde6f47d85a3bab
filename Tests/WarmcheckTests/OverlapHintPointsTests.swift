import XCTest

@testable import WarmcheckCore

/// CaseRunner+Overlap judges the claim hint only when the paused operation stopped at one of the
/// points it lists as inside a write; a point missing from spec/vocabulary.json (renamed, say)
/// would silently turn that check into a skip, so the list must name only real pause points.
final class OverlapHintPointsTests: XCTestCase {
    func testInsideWritePointsArePausePointsOfTheVocabulary() throws {
        let known = Set(try HelloVocabulary.load().pausePoints)
        XCTAssertFalse(known.isEmpty)
        for point in CaseRunner.insideWritePoints.sorted() {
            XCTAssertTrue(known.contains(point), "\(point) is not a pause point of spec/vocabulary.json")
        }
    }
}
