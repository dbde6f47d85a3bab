import Foundation
import XCTest

@testable import WarmcheckCore
import WarmcheckScenario

/// `warmcheck selftest`'s rules: a kill is a case that fails with the fault on and passes with
/// none (that second run is made only for a case that failed), and `--hints` changes the order
/// of the cases only.
final class SelfTestTests: XCTestCase {
    var root: URL!
    var scratch: String!

    override func setUpWithError() throws {
        (root, scratch) = try goFixtureScratch("selftest-tests")
    }

    override func tearDown() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    func selfTest(_ scenarios: [Scenario]) -> MutationSelfTest {
        var o = RunOptions(fixtures: ["go": Repo.referenceFixture("go")!], workDir: Repo.defaultWorkDir)
        o.timeout = 10
        return MutationSelfTest(options: o, cases: scenarios.flatMap { expand($0, implementations: ["go"]) })
    }

    func scenario(_ name: String) throws -> Scenario {
        try ScenarioParser.parse(contentsOf: root.appendingPathComponent("scenarios/\(name).yaml"))
    }

    /// A scenario that fails whatever the fixture does: it expects a miss right after a put.
    func alwaysFailing() throws -> Scenario {
        try ScenarioParser.parse(yaml: """
            name: selftest-always-fails
            description: fails with or without a fault
            processes:
              writer: any
            init:
              - writer: create
              - writer: put k v
              - writer: get k
                expect: miss
            """, file: scratch + "/selftest-always-fails.yaml")
    }

    func testACaseThatAlsoFailsWithoutTheFaultIsNoKill() throws {
        // The failing case comes first: it fails with the fault on, is then run with none, fails
        // again, and so does not count; the next case kills.
        var st = selfTest([try alwaysFailing(), try scenario("clock-refresh-is-referenced")])
        let artifacts = scratch + "/kills"
        let k = st.attack(fixture: "go", fault: "no_version_bump", artifacts: artifacts)
        XCTAssertEqual(k.killedBy, "clock-refresh-is-referenced[writer=go,reader=go]", k.reason)
        XCTAssertEqual(k.casesRun, 2)
        XCTAssertEqual(st.baseline.count, 2, "only the two cases that failed with the fault were run without it")
        XCTAssertEqual(st.droppedFromBaseline.map(\.name), ["selftest-always-fails[writer=go]"])
        // The non-kill's failure report was removed; the kill's stays.
        let left = try FileManager.default.contentsOfDirectory(atPath: artifacts + "/go-no_version_bump")
        XCTAssertFalse(left.contains { $0.hasPrefix("selftest-always-fails") }, "\(left)")
        XCTAssertTrue(left.contains { $0.hasPrefix("clock-refresh-is-referenced") }, "\(left)")
        // Known to fail without a fault, the case is not tried again against the next fault.
        XCTAssertFalse(st.order(fixture: "go", fault: "ignore_checksum").contains { $0.scenario.name == "selftest-always-fails" })
    }

    func testAFaultNoCaseKillsSurvivesEvenWhenTheOnlyFailureIsInTheBaseline() throws {
        var st = selfTest([try alwaysFailing()])
        let k = st.attack(fixture: "go", fault: "no_version_bump", artifacts: nil)
        XCTAssertNil(k.killedBy)
        XCTAssertEqual(k.casesRun, 1)
    }

    func testHintsChangeOnlyTheOrder() throws {
        let names = ["basic-put-get", "clock-refresh-is-referenced", "corrupt-value-is-a-miss"]
        var st = selfTest(try names.map(scenario))
        let plain = st.order(fixture: "go", fault: "ignore_checksum").map(\.name)
        let hinted = "corrupt-value-is-a-miss[writer=go,reader=go]"
        st.hints = try MutationSelfTest.parseHints("# comment\n\ngo ignore_checksum \(hinted)\n", file: "h")
        let ordered = st.order(fixture: "go", fault: "ignore_checksum").map(\.name)
        XCTAssertEqual(ordered.first, hinted)
        XCTAssertEqual(Set(ordered), Set(plain), "the same cases, in another order")
        // A hint for another fixture or fault, or naming a case that no longer exists, is no-op.
        XCTAssertEqual(st.order(fixture: "go", fault: "no_version_bump").map(\.name), plain)
        st.hints = try MutationSelfTest.parseHints("go ignore_checksum gone[writer=go]\n", file: "h")
        XCTAssertEqual(st.order(fixture: "go", fault: "ignore_checksum").map(\.name), plain)
    }

    func testHintsRoundTripAndBadLinesAreRefusedWithTheirPlace() throws {
        let kills = [
            MutationSelfTest.Kill(fixture: "go", fault: "a", killedBy: "x[w=go]", verdict: .fail, reason: "", seconds: 0, casesRun: 1),
            MutationSelfTest.Kill(fixture: "rust", fault: "b", killedBy: nil, verdict: nil, reason: "", seconds: 0, casesRun: 9),
        ]
        let h = try MutationSelfTest.parseHints(MutationSelfTest.hintsText(kills), file: "h")
        XCTAssertEqual(h, [MutationSelfTest.Attack(fixture: "go", fault: "a"): "x[w=go]"])
        XCTAssertThrowsError(try MutationSelfTest.parseHints("go a\n", file: "hints.txt")) { e in
            XCTAssertTrue("\(e)".contains("hints.txt:1"), "\(e)")
        }
    }
}
