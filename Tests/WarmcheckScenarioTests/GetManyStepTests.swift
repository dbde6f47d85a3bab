import XCTest
@testable import WarmcheckScenario

/// `get_many KEY…` (docs/SCENARIOS.md): keys in order with `range:` expanded, `found=N`, and
/// each get's place in the rotation of `via` (DRIVER.md "The get paths").
final class GetManyStepTests: XCTestCase {
    let head = "processes:\n  w: any\n  r: any\ninit:\n"   // steps start at line 5

    func testKeysAndRangesInOrder() throws {
        let s = try ScenarioParser.parse(yaml: head + """
          - w: create
          - r: "get_many a range:k:126:129 hex: a bytes:3"
            expect: ok found=2
        """, file: "t.yaml")
        let o = try XCTUnwrap(s.initSteps[1].operation)
        XCTAssertEqual(o.op, .getMany)
        XCTAssertEqual(o.keys, [Array("a".utf8), Array("k126".utf8), Array("k127".utf8), Array("k128".utf8), [], Array("a".utf8), [0, 1, 2]])
        XCTAssertEqual(o.expect, [.ok, .found(2)])
    }

    func testRefusals() {
        for (step, text) in [("r: get_many", "needs KEY"), ("r: get_many range:k:5:5", "bad key range"),
                             ("r: get_many range:k:0:5000", "bad key range"), ("r: get_many a overlap=true", "unknown option")] {
            let r = ScenarioParser.parseCollectingErrors(yaml: head + "  - w: create\n  - " + step + "\n", file: "bad.yaml")
            XCTAssertNil(r.scenario, step)
            XCTAssertTrue(r.errors.first?.message.contains(text) == true, "\(step): \(r.errors.first?.description ?? "no error")")
        }
        let r = ScenarioParser.parseCollectingErrors(yaml: head + "  - w: create\n  - r: get a\n    expect: found=1\n", file: "bad.yaml")
        XCTAssertTrue(r.errors.first?.message.contains("does not apply to get") == true, r.errors.first?.description ?? "no error")
    }

    /// The n-th get in file order, race operations included, and a replay that drops race
    /// operations keeps the parsed places (Replay.removing changes only `race`).
    func testGetOrdinalsAreFixedAtParse() throws {
        var s = try ScenarioParser.parse(yaml: head + """
          - w: create
          - r: get a
          - r: put a v
        race:
          ops:
            w: [get b, get c]
            r: [invalidate a]
        final:
          - r: get d
        """, file: "t.yaml")
        let gets = s.allOperations.filter { $0.op == .get }
        XCTAssertEqual(gets.map { s.getOrdinals[$0.location] }, [0, 1, 2, 3])
        s.race?.ops[0].steps.removeFirst()
        let d = try XCTUnwrap(s.finalSteps[0].operation)
        XCTAssertEqual(s.getOrdinals[d.location], 3, "the parsed place stays")
        XCTAssertEqual(s.countedGets[d.location], 2, "recounting would move it")
    }
}
