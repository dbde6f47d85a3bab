import Foundation
import XCTest

@testable import WarmcheckCore
import WarmcheckScenario

/// Real scenarios on the real fixtures, through the whole pipeline: the reference fixtures pass,
/// and each check of the harness fails a fixture that is wrong in the way that check is about.
/// The Go and Rust fixtures must be built first (scripts/test.sh does; scripts/build-fixtures.sh
/// alone builds them).
final class PipelineTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = try XCTUnwrap(Repo.root(), "run the tests from the checkout")
        for name in ["go", "rust"] {
            let exe = try XCTUnwrap(Repo.referenceFixture(name)).argv[0]
            guard FileManager.default.isExecutableFile(atPath: exe) else {
                throw XCTSkip("\(exe) is not built; run scripts/build-fixtures.sh (scripts/test.sh does it first)")
            }
        }
    }

    func scenario(_ name: String) throws -> Scenario {
        try ScenarioParser.parse(contentsOf: root.appendingPathComponent("scenarios/\(name).yaml"))
    }

    func options(_ specs: [FixtureSpec]) -> RunOptions {
        var o = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                           workDir: Repo.defaultWorkDir)
        o.timeout = 10
        return o
    }

    /// Runs every expansion of `scenario` over `specs`.
    func run(_ s: Scenario, _ specs: [FixtureSpec], extra: [String: [String]] = [:]) -> [CaseResult] {
        var o = options(specs)
        o.extraFixtureArgs = extra
        return expand(s, implementations: specs.map(\.name)).map { CaseRunner($0, options: o).run() }
    }

    var go: FixtureSpec { Repo.referenceFixture("go")! }
    var rust: FixtureSpec { Repo.referenceFixture("rust")! }

    /// The Go fixture behind a `sed` that rewrites its answers: a fixture that lies in one way.
    func lyingGo(_ name: String, _ sedScript: String, trace: Bool = true) -> FixtureSpec {
        let exe = go.argv[0]
        return FixtureSpec(name: name, argv: ["/bin/sh", "-c", "\(exe) serve\(trace ? " --trace" : "") | sed -u '\(sedScript)'"])
    }

    func testReferenceFixturesPassAcrossLanguages() throws {
        for name in ["basic-put-get", "refresh-while-reading", "lincheck-put-get-invalidate", "stats-counters"] {
            for r in run(try scenario(name), [go, rust]) {
                XCTAssertEqual(r.verdict, .pass, "\(r.name): \(r.reason)\n\(r.details)")
            }
        }
    }

    func testExpectationsCatchARefreshThatKeepsItsVersion() throws {
        let results = run(try scenario("explicit-versions"), [go], extra: ["go": ["--fault", "no_version_bump"]])
        let r = try XCTUnwrap(results.first)
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.reason.contains("version"), r.reason)
        XCTAssertTrue(r.details.contains("Steps that led there"), r.details)
        XCTAssertTrue(r.rerun.contains("--filter"), r.rerun)
    }

    func testInvariantsCatchAWrongKeyHash() throws {
        let r = try XCTUnwrap(run(try scenario("basic-put-get"), [go], extra: ["go": ["--fault", "wrong_hash"]]).first)
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.reason.contains("invariant") && r.reason.contains("key_hash"), r.reason)
    }

    func testCountersCatchAFixtureThatMiscountsInserts() throws {
        // The segment counts an insert; the fixture claims it refreshed: the counters disagree.
        let liar = lyingGo("go", #"s/"created":true/"created":false/g"#)
        let r = try XCTUnwrap(run(try scenario("basic-put-get"), [liar]).first)
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.details.contains("counters disagree") || r.reason.contains("created"), r.reason)
    }

    func testTransitionCheckerCatchesAnIllegalEvent() throws {
        // Reports a publish as a refresh_publish: WRITING → READY is not a row for that event.
        let liar = lyingGo("go", #"s/"event":"publish"/"event":"refresh_publish"/g"#)
        let r = try XCTUnwrap(run(try scenario("basic-put-get"), [liar]).first)
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.reason.contains("illegal transition"), r.reason)
        XCTAssertTrue(r.details.contains("refresh_publish"), r.details)
    }

    /// Drops every transition from the answers (the list holds flat objects, so `[^]]*` is the list).
    static let dropTransitions = #"s/"transitions":\[[^]]*\]/"transitions":[]/g"#

    func testCoverageAndSnapshotsCatchAFixtureThatPromisesTransitionsAndReportsNone() throws {
        // Its hello says trace: true, yet it reports nothing: the scenario's `covers` is never
        // reached, and the segment's state words show transitions nobody reported.
        let silent = lyingGo("go", Self.dropTransitions, trace: false)
        let r = try XCTUnwrap(run(try scenario("basic-put-get"), [silent]).first)
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.details.contains("never observed") || r.details.contains("snapshot"), r.details)
    }

    func testAFixtureWithoutTracingIsToldSoNotBlamedForIllegalTransitions() throws {
        // Says trace: false and reports nothing, as DRIVER.md allows: the case is judged on
        // everything else and its result says plainly what went unchecked.
        let untraced = lyingGo("go", #"s/"trace":true/"trace":false/; "# + Self.dropTransitions, trace: false)
        let r = try XCTUnwrap(run(try scenario("basic-put-get"), [untraced]).first)
        XCTAssertEqual(r.verdict, .pass, "\(r.reason)\n\(r.details)")
        XCTAssertEqual(r.notes.count, 1, "\(r.notes)")
        XCTAssertTrue(r.notes.first?.contains("transitions not reported by go") == true, "\(r.notes)")
    }

    func testLinearizabilityCatchesAReadOfAValueNeverWritten() throws {
        // The reader's parallel gets carry no expectation: only the linearizability check can
        // notice that the value it reports (hex 7a7a, "zz") was never written.
        let yaml = """
            name: lin-lie
            processes:
              writer: go
              reader: liar
            init:
              - writer: create
              - reader: open
              - writer: put k v1
            parallel:
              writer: [put k v2, put k v3]
              reader: [get k, get k, get k]
            """
        let s = try ScenarioParser.parse(yaml: yaml, file: "lin-lie.yaml")
        // It lies in its answers to gets, not in its `dump`: the dump cross-check would catch
        // that lie first (CaseRunner+Audit).
        let liar = lyingGo("liar", #"/"entries"/!{s/"value_hex":"7632"/"value_hex":"7a7a"/g; s/"value_hex":"7631"/"value_hex":"7a7a"/g; s/"value_hex":"7633"/"value_hex":"7a7a"/g}"#)
        let results = run(s, [go, liar])
        let r = try XCTUnwrap(results.first)
        XCTAssertEqual(r.verdict, .fail, r.details)
        XCTAssertTrue(r.reason.contains("not linearizable"), r.reason)
    }

    func testAHungFixtureIsAnErrorAndTheRunGoesOn() throws {
        let hang = FixtureSpec(name: "go", argv: ["/bin/sh", "-c", "read l; sleep 600"])
        var o = options([hang])
        o.timeout = 0.5
        let cases = expand(try scenario("basic-put-get"), implementations: ["go"])
        let start = Date()
        let r = CaseRunner(cases[0], options: o).run()
        XCTAssertEqual(r.verdict, .error)
        XCTAssertTrue(r.details.contains("did not answer"), r.details)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }
}
