import XCTest
@testable import WarmcheckScenario

/// Every class of error, with the exact position it is reported at.
final class ScenarioErrorTests: XCTestCase {
    /// Parses `yaml` and returns the first error (the test fails if there is none).
    func firstError(_ yaml: String, file: String = "bad.yaml", line: UInt = #line) -> ScenarioError? {
        let r = ScenarioParser.parseCollectingErrors(yaml: yaml, file: file)
        XCTAssertNil(r.scenario, line: line)
        XCTAssertFalse(r.errors.isEmpty, "expected an error", line: line)
        return r.errors.first
    }

    func assertError(_ yaml: String, _ kind: ScenarioError.Kind, _ at: (Int, Int), contains text: String,
                     line: UInt = #line) {
        guard let e = firstError(yaml, line: line) else { return }
        XCTAssertEqual(e.kind, kind, e.description, line: line)
        XCTAssertEqual(e.line, at.0, e.description, line: line)
        XCTAssertEqual(e.column, at.1, e.description, line: line)
        XCTAssertTrue(e.message.contains(text), e.description, line: line)
        XCTAssertEqual(e.description, "bad.yaml:\(at.0):\(at.1): \(e.message)", line: line)
    }

    let head = "processes:\n  w: any\n  r: any\ninit:\n"   // steps start at line 5

    func testDescriptionFormat() {
        let e = ScenarioError(.invalid, SourceLocation(file: "scenarios/x.yaml", line: 3, column: 7), "boom")
        XCTAssertEqual(e.description, "scenarios/x.yaml:3:7: boom")
        XCTAssertEqual("\(e)", "scenarios/x.yaml:3:7: boom")
    }

    func testYamlSyntax() {
        assertError("processes: {w: any\ninit: []\n", .syntax, (2, 5), contains: "YAML")
    }

    func testDuplicateKey() {
        guard let e = firstError("processes: {w: any}\nprocesses: {r: any}\ninit: [{w: create}]\n") else { return }
        XCTAssertEqual(e.kind, .syntax)
        XCTAssertTrue(e.message.contains("duplicate key 'processes'"), e.description)
    }

    func testEmptyFileAndNonMapping() {
        assertError("", .missing, (1, 1), contains: "empty")
        assertError("- a\n- b\n", .wrongType, (1, 1), contains: "mapping")
    }

    func testMissingProcesses() {
        assertError("name: x\ninit:\n  - advance: 1s\n", .missing, (1, 1), contains: "missing `processes`")
    }

    func testMissingParts() {
        assertError("processes: {w: any}\n", .missing, (1, 1), contains: "at least one of `init`, `parallel`, `final`")
    }

    func testUnknownTopLevelKey() {
        assertError("processes: {w: any}\nint:\n  - w: create\nfinal: [{w: stats}]\n", .unknownKey, (2, 1), contains: "unknown key 'int'")
    }

    func testUnknownGeometryKey() {
        assertError("geometry: {shards: 1, slot: 4}\nprocesses: {w: any}\ninit: [{w: create}]\n",
                    .unknownKey, (1, 23), contains: "unknown geometry key 'slot'")
    }

    func testBadGeometryRule() {
        assertError("geometry: {shards: 1, slots: 4, window: 8}\nprocesses: {w: any}\ninit: [{w: create}]\n",
                    .invalid, (1, 11), contains: "window")
    }

    func testUnknownKeyInStep() {
        assertError(head + "  - w: get k\n    expcet: hit\n", .unknownKey, (6, 5), contains: "unknown key 'expcet'")
    }

    func testUnknownOperation() {
        assertError(head + "  - w: gett k1\n", .unknownOperation, (5, 8), contains: "unknown operation 'gett'")
    }

    func testUnknownOperationInParallelList() {
        assertError("processes: {w: any}\nparallel:\n  w: [get k, pot k v]\n", .unknownOperation, (3, 14),
                    contains: "unknown operation 'pot'")
    }

    func testRoleNotDeclared() {
        assertError(head + "  - w: create\n  - reader: open\n", .undeclaredRole, (6, 5), contains: "role 'reader' is not declared")
    }

    func testRoleNotDeclaredInParallelAndControlAndWriter() {
        assertError("processes: {w: any}\nparallel:\n  x: [get k]\n", .undeclaredRole, (3, 3), contains: "'x'")
        assertError("processes: {w: any}\ninit:\n  - restart: x\n", .undeclaredRole, (3, 14), contains: "'x'")
        assertError("processes: {w: any}\ninit:\n  - w: get k\n    expect: hit writer=x\n", .undeclaredRole, (4, 17),
                    contains: "'x'")
    }

    func testUpgradeStepNamesAKnownRoleAndOneTarget() {
        assertError("processes: {w: any}\ninit:\n  - upgrade: x to=rust@1.0\n", .undeclaredRole, (3, 14), contains: "role 'x' is not declared")
        assertError("processes: {w: any}\ninit:\n  - upgrade: w\n", .badArgument, (3, 14), contains: "to=IMPL[@VERSION]")
        assertError("processes: {w: any}\ninit:\n  - upgrade: w to=rust@\n", .badValue, (3, 16), contains: "bad upgrade target 'rust@'")
        assertError("processes: {w: any, r: any}\nparallel:\n  w:\n    - upgrade: r to=go\n", .badSequence, (4, 7),
                    contains: "may only upgrade its own role")
        let s = try? ScenarioParser.parse(yaml: "processes: {w: any}\ninit:\n  - upgrade: w to=go@1.0\n  - w: create\n", file: "u.yaml")
        XCTAssertEqual(s?.upgradeTargets, ["go@1.0"])
    }

    /// A parallel list takes the control steps the runner carries out on that role's thread
    /// (sleep, restart, upgrade, crash, start: each of the list's own role); `advance` moves the
    /// one clock of every role and is refused there with its file and line, never skipped.
    func testParallelListControlSteps() throws {
        assertError("processes: {w: any, r: any}\nparallel:\n  w:\n    - put k v\n    - advance: 1s\n", .badSequence, (5, 7),
                    contains: "`advance` is not allowed in a parallel list")
        assertError("processes: {w: any, r: any}\nparallel:\n  w:\n    - restart: r\n", .badSequence, (4, 7),
                    contains: "may only restart its own role")
        let s = try ScenarioParser.parse(yaml: "processes: {w: any}\nparallel:\n  w:\n    - put k v\n    - restart: w\n    - crash: w\n    - start: w\n    - sleep: 1ms\n", file: "p.yaml")
        XCTAssertEqual(s.parallel.first?.steps.count, 5)
    }

    func testBadDurations() {
        assertError(head + "  - w: put k v ttl=10x\n", .badDuration, (5, 16), contains: "bad duration '10x'")
        assertError(head + "  - advance: 5\n", .badDuration, (5, 14), contains: "bad duration '5'")
        assertError(head + "  - r: wait timeout=1.5s seen=0\n", .badDuration, (5, 13), contains: "1.5s")
        assertError("clock: soon\n" + head + "  - w: create\n", .badDuration, (1, 8), contains: "bad clock 'soon'")
    }

    func testBadValues() {
        assertError(head + "  - w: put k hex:0g\n", .badValue, (5, 14), contains: "hex")
        assertError(head + "  - w: put bytes:x v\n", .badValue, (5, 12), contains: "bad key")
        assertError(head + "  - w: get k\n    expect: hit value=hex:1\n", .badValue, (6, 17), contains: "odd")
    }

    func testExpectationNotApplicable() {
        assertError(head + "  - w: put k v\n    expect: ok hit\n", .notApplicable, (6, 16),
                    contains: "'hit' does not apply to put")
        assertError(head + "  - w: get k\n    expect: [hit, removed]\n", .notApplicable, (6, 19),
                    contains: "'removed' does not apply to get")
        assertError(head + "  - w: get k\n    expect: hits=1\n", .notApplicable, (6, 13), contains: "does not apply to get")
        assertError(head + "  - advance: 1s\n    expect: ok\n", .notApplicable, (6, 13), contains: "control step")
    }

    func testUnknownExpectation() {
        assertError(head + "  - w: get k\n    expect: hit fresh=1\n", .unknownExpectation, (6, 17),
                    contains: "unknown expectation 'fresh=1'")
        assertError(head + "  - w: put k v\n    expect: fail(nope)\n", .unknownExpectation, (6, 13),
                    contains: "unknown failure reason 'nope'")
        // The answer lists what would have been valid.
        assertError(head + "  - w: get k\n    expect: hitt\n", .unknownExpectation, (6, 13),
                    contains: "unknown expectation 'hitt' (expected one of: ok, fail, fail(REASON), unknown, hit, miss")
        assertError(head + "  - w: get k\n    expect: hit fresh=1\n", .unknownExpectation, (6, 17), contains: "not_created")
    }

    func testContradictoryExpectations() {
        assertError(head + "  - w: get k\n    expect: hit miss\n", .contradictoryExpectations, (6, 17), contains: "'miss'")
        assertError(head + "  - w: get k\n    expect: miss value=x\n", .contradictoryExpectations, (6, 18), contains: "value=x")
        assertError(head + "  - w: put k v\n    expect: fail created\n", .contradictoryExpectations, (6, 18), contains: "created")
        assertError(head + "  - w: get k\n    expect: stale fresh\n", .contradictoryExpectations, (6, 19), contains: "fresh")
    }

    func testBadArguments() {
        assertError(head + "  - w: put k\n", .badArgument, (5, 8), contains: "put needs KEY VALUE")
        assertError(head + "  - w: get k extra\n", .badArgument, (5, 14), contains: "too many arguments")
        assertError(head + "  - w: get k ttl=1s\n", .badArgument, (5, 14), contains: "unknown option 'ttl' for get")
        assertError(head + "  - w: put k v version=0\n", .badArgument, (5, 16), contains: "bad version")
        assertError(head + "  - w: put k v origin=1 origin=2\n", .badArgument, (5, 25), contains: "given twice")
        assertError(head + "  - w: put k v crash_at=put.nowhere\n", .badArgument, (5, 16), contains: "bad crash_at")
        assertError(head + "  - w: create group=yes\n", .badArgument, (5, 15), contains: "bad group")
    }

    func testQuotedScalarColumns() {
        assertError(head + "  - w: \"put k hex:0\"\n", .badValue, (5, 15), contains: "odd")
    }

    func testProcessesErrors() {
        assertError("processes: {expect: any}\ninit: [{advance: 1s}]\n", .invalid, (1, 13), contains: "reserved")
        assertError("processes: {w: [go, \"a b\"]}\ninit: [{advance: 1s}]\n", .invalid, (1, 21), contains: "bad implementation")
        assertError("processes: {w: go, r: rust}\nexpand: same\ninit: [{advance: 1s}]\n", .invalid, (2, 9),
                    contains: "no implementation is allowed for every role")
        assertError("processes: {w: any}\nexpand: triangle\ninit: [{advance: 1s}]\n", .invalid, (2, 9), contains: "triangle")
        assertError("processes: []\ninit: [{advance: 1s}]\n", .wrongType, (1, 12), contains: "mapping")
    }

    func testCoversAndName() {
        assertError("covers: [claim, explode]\nprocesses: {w: any}\ninit: [{w: create}]\n", .invalid, (1, 17),
                    contains: "unknown event 'explode'")
        assertError("name: \"a b\"\nprocesses: {w: any}\ninit: [{w: create}]\n", .invalid, (1, 7), contains: "bad scenario name")
    }

    func testSequenceErrors() {
        assertError(head + "  - check: {created_once: open_or_create}\n", .badSequence, (5, 5), contains: "only allowed in `final`")
        assertError("processes: {w: any}\nfinal:\n  - check: {created_once: open_or_create}\n", .badSequence, (3, 5),
                    contains: "parallel part has no open_or_create")
        assertError(head + "  - crash: r\n  - r: get k\n", .badSequence, (6, 5), contains: "crashed at line 5")
        assertError(head + "  - w: put k v crash_at=put.after_claim\n  - w: get k\n", .badSequence, (6, 5), contains: "start: w")
        assertError(head + "  - start: r\n", .badSequence, (5, 5), contains: "has not crashed")
        assertError(head + "  - r: wait timeout=1s\n", .badSequence, (5, 5), contains: "generation")
        assertError("processes: {w: any, r: any}\nparallel:\n  w: [{r: get k}]\n", .badSequence, (3, 8),
                    contains: "parallel list of 'w'")
    }

    func testAllErrorsOfAFileAreCollectedInOrder() {
        let r = ScenarioParser.parseCollectingErrors(yaml: head + "  - w: gett k\n  - x: get k\n  - w: put k v ttl=1y\n",
                                                     file: "bad.yaml")
        XCTAssertEqual(r.errors.map(\.line), [5, 6, 7])
        XCTAssertEqual(r.errors.map(\.kind), [.unknownOperation, .undeclaredRole, .badDuration])
        XCTAssertThrowsError(try ScenarioParser.parse(yaml: head + "  - w: gett k\n", file: "bad.yaml")) { e in
            XCTAssertEqual((e as? ScenarioError)?.description.hasPrefix("bad.yaml:5:8: unknown operation 'gett'"), true)
        }
    }
}
