import XCTest
@testable import WarmcheckScenario

/// The explicit expected-refusal form of `create` (docs/SCENARIOS.md "Refusals"): a geometry the
/// spec refuses reaches the fixture only as `fail(bad_geometry) rule=N` with the rule it breaks.
final class RefusalStepTests: XCTestCase {
    let head = "geometry: {shards: 2, slots: 8, key_capacity: 8, value_capacity: 8, window: 4, participants: 2}\nprocesses:\n  w: any\ninit:\n"

    func errors(_ steps: String) -> [ScenarioError] {
        ScenarioParser.parseCollectingErrors(yaml: head + steps, file: "r.yaml").errors
    }

    func testRefusedCreateParsesWithItsOverriddenGeometry() throws {
        let s = try ScenarioParser.parse(yaml: head + "  - w: create window=9\n    expect: fail(bad_geometry) rule=5\n", file: "r.yaml")
        let step = try XCTUnwrap(s.initSteps.first?.operation)
        XCTAssertEqual(step.expect, [.fail(reason: "bad_geometry"), .rule(5)])
        let g = step.geometry(over: s.geometry)
        XCTAssertEqual(g.window, 9)
        XCTAssertEqual(g.shards, 2, "fields not overridden come from the scenario's geometry")
        XCTAssertEqual(g.violation?.rule, 5)
    }

    func testInvalidStepGeometryMustExpectTheRefusal() {
        let e = errors("  - w: create shards=0\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e.first?.message.contains("breaks rule 1") == true, "\(e)")
        XCTAssertTrue(e.first?.message.contains("fail(bad_geometry) rule=1") == true, "\(e)")
        XCTAssertEqual(e.first?.line, 5)
    }

    func testTheRuleMustBeTheFirstOneBroken() {
        // window 0 and participants 0 break rules 5 and 6: rule 5 comes first in §3's table.
        let e = errors("  - w: create window=0 participants=0\n    expect: fail(bad_geometry) rule=6\n")
        XCTAssertTrue(e.first?.message.contains("breaks rule 5 of PROTOCOL.md §3 first") == true, "\(e)")
        let missing = errors("  - w: create key_capacity=12\n    expect: fail(bad_geometry)\n")
        XCTAssertTrue(missing.first?.message.contains("add `rule=3`") == true, "\(missing)")
    }

    func testRuleNeedsTheRefusalAndARealViolation() {
        let noFail = errors("  - w: create shards=0\n    expect: rule=1\n")
        XCTAssertTrue(noFail.contains { $0.message.contains("needs fail(bad_geometry)") }, "\(noFail)")
        let valid = errors("  - w: create\n    expect: fail(bad_geometry) rule=1\n")
        XCTAssertTrue(valid.first?.message.contains("breaks no rule") == true, "\(valid)")
        let onGet = errors("  - w: create\n  - w: get k\n    expect: rule=2\n")
        XCTAssertTrue(onGet.first?.message.contains("does not apply to get") == true, "\(onGet)")
        let range = errors("  - w: create shards=0\n    expect: fail(bad_geometry) rule=9\n")
        XCTAssertTrue(range.contains { $0.message.contains("rule=N with N a geometry rule 1…8") }, "\(range)")
    }

    func testRule8IsCheckedAndTopLevelGeometryStaysValid() {
        let g = Geometry(shards: 65536, slots: 65536, keyCapacity: 8, valueCapacity: 8, window: 1, participants: 1)
        XCTAssertEqual(g.violation?.rule, 8, "65536 × 65536 slots of 256 B exceed 2^40")
        XCTAssertNil(Geometry(shards: 65536, slots: 1, keyCapacity: 8, valueCapacity: 8, window: 1, participants: 1).violation)
        let top = ScenarioParser.parseCollectingErrors(
            yaml: "geometry: {shards: 0}\nprocesses:\n  w: any\ninit:\n  - w: create\n", file: "r.yaml").errors
        XCTAssertTrue(top.first?.message.contains("override the geometry on the step") == true, "\(top)")
    }

    func testGeometryOptionsBelongToCreateOnly() {
        let e = errors("  - w: create\n  - w: get k shards=3\n")
        XCTAssertTrue(e.first?.message.contains("unknown option 'shards' for get") == true, "\(e)")
    }
}
