import XCTest
@testable import WarmcheckScenario

/// The namespace operations of a scenario (docs/SCENARIOS.md "Namespaces", PROTOCOL.md §18).
final class NamespaceStepTests: XCTestCase {
    let head = "processes:\n  w: any\n  r: any\ninit:\n"

    func testNamespaceStepsParse() throws {
        let s = try ScenarioParser.parse(yaml: head + """
          - w: ns_stage ns=3
            expect: ok ns_version=1
          - w: ns_put k v ns=3
            expect: ok created ns_version=1
          - r: ns_get k ns=3
            expect: hit value=v ns_version=1 not_pinned
          - w: ns_reclaim
            expect: ok reclaimed=0 kept=1,2
          - w: ns_reclaim
            expect: kept=
          - r: ns_unpin
        """, file: "t.yaml")
        let steps = s.initSteps.compactMap(\.operation)
        XCTAssertEqual(steps.map(\.op), [.nsStage, .nsPut, .nsGet, .nsReclaim, .nsReclaim, .nsUnpin])
        XCTAssertEqual(steps[0].namespace, 3)
        XCTAssertEqual(steps[3].namespace, 0, "ns defaults to namespace 0")
        XCTAssertEqual(steps[1].key, Array("k".utf8))
        XCTAssertEqual(steps[1].value, Array("v".utf8))
        XCTAssertEqual(steps[2].expect, [.hit, .value(Array("v".utf8)), .nsVersion(1), .pinned(false)])
        XCTAssertEqual(steps[3].expect, [.ok, .reclaimed(0), .kept([1, 2])])
        XCTAssertEqual(steps[4].expect, [.kept([])])
        XCTAssertTrue(steps.allSatisfy(\.op.isNamespaceOperation))
    }

    func testWrongUsesAreRefusedWithTheirPlace() {
        func firstError(_ steps: String) -> String {
            ScenarioParser.parseCollectingErrors(yaml: head + steps, file: "t.yaml").errors.first?.description ?? "no error"
        }
        XCTAssertTrue(firstError("  - w: ns_put k ns=0\n").contains("ns_put needs KEY VALUE"))
        XCTAssertTrue(firstError("  - w: ns_unpin ns=0\n").contains("unknown option 'ns' for ns_unpin"))
        XCTAssertTrue(firstError("  - w: ns_put k v\n    expect: pinned\n").contains("does not apply to ns_put"))
        XCTAssertTrue(firstError("  - w: ns_reclaim\n    expect: kept=1,x\n").contains("kept=V,V"))
        XCTAssertTrue(firstError("  - w: ns_get k\n    expect: hit miss\n").contains("contradicts"))
        XCTAssertTrue(firstError("  - w: ns_stage ns=x\n").contains("bad ns"))
    }
}
