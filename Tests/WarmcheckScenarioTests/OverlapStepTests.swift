import XCTest
@testable import WarmcheckScenario

/// `overlap=true` (docs/SCENARIOS.md "Two operations of one handle"): a step run beside its
/// role's paused operation, and the sequences the parser refuses.
final class OverlapStepTests: XCTestCase {
    let head = "processes:\n  w: any\n  r: any\ninit:\n"   // steps start at line 5

    func assertError(_ yaml: String, _ kind: ScenarioError.Kind, line at: Int, contains text: String, line: UInt = #line) {
        let r = ScenarioParser.parseCollectingErrors(yaml: yaml, file: "bad.yaml")
        XCTAssertNil(r.scenario, line: line)
        guard let e = r.errors.first else { return XCTFail("expected an error", line: line) }
        XCTAssertEqual(e.kind, kind, e.description, line: line)
        XCTAssertEqual(e.line, at, e.description, line: line)
        XCTAssertTrue(e.message.contains(text), e.description, line: line)
    }

    func testOverlapsBesideAPauseParse() throws {
        let s = try ScenarioParser.parse(yaml: head + """
          - w: create
          - w: put a v1 pause_at=put.after_payload
            expect: paused
          - w: put j v2 overlap=true
            expect: ok created
          - w: invalidate j overlap=true
            expect: removed
          - w: get a overlap=true
            expect: miss
          - w: resume
            expect: ok created
          - w: refresh a v3 pause_at=refresh.after_payload
            expect: paused
          - w: put b v4 overlap=true
          - crash: w
        """, file: "t.yaml")
        let b = try XCTUnwrap(s.initSteps[2].operation)
        XCTAssertTrue(b.overlap)
        XCTAssertEqual(b.options["overlap"], .bool(true))
        XCTAssertNil(b.pauseAt)
        XCTAssertFalse(try XCTUnwrap(s.initSteps[1].operation).overlap)
        XCTAssertTrue(try XCTUnwrap(s.initSteps[4].operation).overlap)
    }

    func testOverlapNeedsAPausedOperationOfItsRole() {
        assertError(head + "  - w: create\n  - w: put j v overlap=true\n", .badSequence, line: 6,
                    contains: "role 'w' has no paused operation to overlap")
        assertError(head + "  - w: put a v pause_at=put.after_payload\n    expect: paused\n  - r: put j v overlap=true\n  - w: resume\n",
                    .badSequence, line: 7, contains: "role 'r' has no paused operation to overlap")
        assertError(head + "  - w: put a v pause_at=put.after_payload\n    expect: paused\n  - w: resume\n  - w: put j v overlap=true\n",
                    .badSequence, line: 8, contains: "no paused operation to overlap")
    }

    func testThePausedStepMustExpectPaused() {
        assertError(head + "  - w: put a v pause_at=put.after_payload\n  - w: put j v overlap=true\n  - w: resume\n",
                    .badSequence, line: 6, contains: "which does not expect `paused`")
    }

    func testOverlapWithAPauseOrACrashOfItsOwn() {
        assertError(head + "  - w: put a v pause_at=put.after_payload\n    expect: paused\n  - w: put j v overlap=true pause_at=put.after_key\n  - w: resume\n",
                    .badArgument, line: 7, contains: "overlap cannot be combined with pause_at or crash_at")
        assertError(head + "  - w: put a v pause_at=put.after_payload\n    expect: paused\n  - w: put j v crash_at=put.after_key overlap=true\n  - w: resume\n",
                    .badArgument, line: 7, contains: "overlap cannot be combined with pause_at or crash_at")
    }

    func testOverlapOnlyOnOperationsOfOneKey() {
        assertError(head + "  - w: put a v pause_at=put.after_payload\n    expect: paused\n  - w: stats overlap=true\n  - w: resume\n",
                    .badArgument, line: 7, contains: "unknown option 'overlap' for stats")
        assertError(head + "  - w: put j v overlap=yes\n", .badArgument, line: 5, contains: "bad overlap 'yes': true or false")
    }

    func testOverlapInAParallelList() {
        assertError("processes: {w: any}\nparallel:\n  w: [put k v overlap=true]\n", .badSequence, line: 3,
                    contains: "overlap is not allowed in a parallel list")
    }
}
