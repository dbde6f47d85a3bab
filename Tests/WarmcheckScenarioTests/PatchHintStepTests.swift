import XCTest
@testable import WarmcheckScenario

/// `patch_hint:` (docs/SCENARIOS.md "Control steps"): a dead participant's claim_hint as the
/// scenario wants its successor to meet it.
final class PatchHintStepTests: XCTestCase {
    let head = "processes:\n  v: any\n  k: any\ninit:\n"   // steps start at line 5

    func assertError(_ yaml: String, _ kind: ScenarioError.Kind, _ at: (Int, Int), contains text: String,
                     line: UInt = #line) {
        let r = ScenarioParser.parseCollectingErrors(yaml: yaml, file: "bad.yaml")
        XCTAssertNil(r.scenario, line: line)
        guard let e = r.errors.first else { return XCTFail("expected an error", line: line) }
        XCTAssertEqual(e.kind, kind, e.description, line: line)
        XCTAssertEqual(e.line, at.0, e.description, line: line)
        XCTAssertEqual(e.column, at.1, e.description, line: line)
        XCTAssertTrue(e.message.contains(text), e.description, line: line)
    }

    func testFieldsAndDefaults() throws {
        let s = try ScenarioParser.parse(yaml: head + "  - patch_hint: v\n  - patch_hint: v shard=3 home=slots_per_shard\n"
                                         + "  - patch_hint: v in_flight=0x2 shard=shard_count home=5 reserved=1 wide\n", file: "t.yaml")
        XCTAssertEqual(s.initSteps[0].control?.kind, .patchHint(role: "v", hint: HintPatch()))
        var h = HintPatch()
        h.shard = .value(3)
        h.home = .slotsPerShard
        XCTAssertEqual(s.initSteps[1].control?.kind, .patchHint(role: "v", hint: h))
        h = HintPatch()
        h.inFlight = 2
        h.shard = .shardCount
        h.home = .value(5)
        h.reserved = 1
        h.wide = true
        XCTAssertEqual(s.initSteps[2].control?.kind, .patchHint(role: "v", hint: h))
    }

    func testErrors() {
        assertError(head + "  - patch_hint: x\n", .undeclaredRole, (5, 17), contains: "not declared")
        assertError(head + "  - patch_hint: v epoch=1\n", .badArgument, (5, 19), contains: "bad hint field 'epoch=1'")
        assertError(head + "  - patch_hint: v home=65536\n", .badValue, (5, 19), contains: "home is a number up to 65535 or slots_per_shard")
        assertError(head + "  - patch_hint: v shard=slots_per_shard\n", .badValue, (5, 19), contains: "or shard_count")
        assertError(head + "  - patch_hint: v reserved=0x8000\n", .badValue, (5, 19), contains: "up to 32767")
        assertError(head + "  - patch_hint: [v]\n", .wrongType, (5, 17), contains: "takes a role")
        assertError("processes: {v: any}\nparallel:\n  v:\n    - patch_hint: v\n", .badSequence, (4, 7),
                    contains: "`patch_hint` is not allowed in a parallel list")
        assertError("processes: {patch_hint: any}\ninit: [{advance: 1s}]\n", .invalid, (1, 13), contains: "reserved")
    }
}
