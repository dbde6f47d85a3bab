import Foundation
import XCTest

@testable import WarmcheckCore
import WarmcheckScenario

/// The checkout and run options with the Go and Rust reference fixtures (skips when unbuilt).
func goAndRustOptions() throws -> (URL, RunOptions) {
    let root = try XCTUnwrap(Repo.root())
    for name in ["go", "rust"] {
        let exe = try XCTUnwrap(Repo.referenceFixture(name)).argv[0]
        guard FileManager.default.isExecutableFile(atPath: exe) else { throw XCTSkip("\(exe) is not built") }
    }
    let specs = try ["go", "rust"].map(Repo.parseFixture)
    var options = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }), workDir: Repo.defaultWorkDir)
    options.timeout = 10
    return (root, options)
}

/// End to end on the real Go implementation: a mutant is applied to a private copy, built and
/// killed by a real scenario, and the copy is restored afterwards.
final class MutationRunnerTests: XCTestCase {
    func testARealGoMutantIsKilledAndTheCopyRestored() throws {
        let (root, options) = try goAndRustOptions()
        let f = "go-fixture/warmcache/put.go"
        let text = try String(contentsOf: root.appendingPathComponent(f), encoding: .utf8)
        // The insert path forgets to write the record before publishing it.
        let m = try XCTUnwrap(MutantGenerator.mutants(file: f, text: text, language: .go).first {
            $0.op == "drop-stmt" && $0.function == "insertPath" && $0.before.contains("c.writeRecord(rec, v, value, o)")
        }, "the drop of the insert path's writeRecord")
        let scenario = try ScenarioParser.parse(contentsOf: root.appendingPathComponent("scenarios/basic-put-get.yaml"))
        let work = root.appendingPathComponent(".build/mutate-test")
        var runner = MutationRunner(root: root, options: options, cases: expand(scenario, implementations: ["go", "rust"]),
                                    gates: [], languages: [.go], workRoot: work)
        try runner.prepare()
        XCTAssertEqual(runner.baseline().map(\.name), [], "the unmutated copy passes")
        let o = try runner.run(m)
        XCTAssertEqual(o.verdict, .killed, o.reason)
        XCTAssertTrue(o.killer?.hasPrefix("basic-put-get[") ?? false)
        let copy = try XCTUnwrap(runner.workspaces[.go]?.copyPath(of: f))
        XCTAssertEqual(try String(contentsOf: copy, encoding: .utf8), text, "the copy is restored")
        // The checkout itself is never written.
        XCTAssertEqual(try String(contentsOf: root.appendingPathComponent(f), encoding: .utf8), text)
    }
}

/// A mutant that no scenario case can see, since no case hands a fixture a bad file, is killed by
/// the refusal gate (MutationGate), with the baseline run lazily: only for the gate that failed.
final class MutationGateTests: XCTestCase {
    func testADroppedHeaderCheckIsKilledByTheRefusalGate() throws {
        let (root, options) = try goAndRustOptions()
        let f = "go-fixture/warmcache/segment.go"
        let text = try String(contentsOf: root.appendingPathComponent(f), encoding: .utf8)
        // checkHeader forgets the magic check (§4.2 step 4).
        let m = try XCTUnwrap(MutantGenerator.mutants(file: f, text: text, language: .go).first {
            $0.op == "drop-check" && $0.function == "checkHeader" && $0.before.contains("CodeBadMagic")
        }, "the drop of checkHeader's magic check")
        var runner = MutationRunner(root: root, options: options, cases: [], gates: [.refusals], languages: [.go],
                                    workRoot: root.appendingPathComponent(".build/mutate-test"))
        runner.lazyBaseline = true
        try runner.prepare()
        XCTAssertEqual(runner.baseline().map(\.name), [], "a lazy baseline runs nothing up front")
        let o = try runner.run(m)
        XCTAssertEqual(o.verdict, .killed, o.reason)
        XCTAssertEqual(o.killer, "gate:refusals")
        XCTAssertTrue(runner.passesUnmutated.contains("gate:refusals go"), "the killer was checked unmutated")
    }
}

/// The case order puts earlier killers of the same function first, then cases about what the
/// function is named after, then the fastest.
final class MutationCaseOrderingTests: XCTestCase {
    func testKillersOfTheSameFunctionComeFirstThenMatchingOperationsThenTheFastest() throws {
        let root = try XCTUnwrap(Repo.root())
        let cases = try ["basic-put-get", "wait-times-out", "refresh-while-reading", "stats-counters"].flatMap { name in
            expand(try ScenarioParser.parse(contentsOf: root.appendingPathComponent("scenarios/\(name).yaml")), implementations: ["go"])
        }
        let text = try String(contentsOf: root.appendingPathComponent("go-fixture/warmcache/put.go"), encoding: .utf8)
        let ms = MutantGenerator.mutants(file: "go-fixture/warmcache/put.go", text: text, language: .go)
        let refresh = try XCTUnwrap(ms.first { $0.function == "refreshPath" })
        let other = try XCTUnwrap(ms.first { $0.function == "chooseVersion" })
        var ordering = CaseOrdering(historyPath: nil)
        for (i, c) in cases.enumerated() { ordering.durations[c.name] = Double(10 - i) } // the last is fastest
        // Nothing learned yet: scenarios that refresh come first for a refresh mutant, and among
        // equals the faster one; basic-put-get (put only, and the slowest) comes last.
        let first = ordering.order(cases, for: refresh).map(\.scenario.name)
        XCTAssertEqual(Array(first.prefix(2)), ["stats-counters", "refresh-while-reading"])
        XCTAssertEqual(Array(first.suffix(2)), ["wait-times-out", "basic-put-get"])
        // A kill of a refreshPath mutant by wait-times-out puts it first for the next one there.
        ordering.recordKill(refresh, by: cases[1].name)
        XCTAssertEqual(ordering.order(cases, for: refresh).first?.name, cases[1].name)
        // Another function of the same file: the file's killer still leads.
        XCTAssertEqual(ordering.order(cases, for: other).first?.name, cases[1].name)
    }
}

final class MutationWorkspaceTests: XCTestCase {
    /// Two runs on one copy would build each other's mutants into the binary under test.
    func testASecondRunOnTheSameCopyIsRefused() throws {
        let root = try XCTUnwrap(Repo.root())
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("mutate-lock-\(getpid())")
        defer { try? FileManager.default.removeItem(at: work) }
        let a = MutationWorkspace(language: .go, root: root, workRoot: work)
        try a.lock()
        let b = MutationWorkspace(language: .go, root: root, workRoot: work)
        XCTAssertThrowsError(try b.lock()) { e in XCTAssertTrue(String(describing: e).contains("another `warmcheck mutate`")) }
        // Another language's copy is independent.
        XCTAssertNoThrow(try MutationWorkspace(language: .rust, root: root, workRoot: work).lock())
    }
}
