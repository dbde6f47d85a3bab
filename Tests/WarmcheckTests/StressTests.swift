#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest
import WarmcheckModel
import WarmcheckScenario

@testable import WarmcheckCore

/// `warmcheck stress`: short runs against the reference fixtures (skipped when they are not
/// built), the exports, and the checking step on a mutated history. Nothing here depends on
/// timing: the runs are bounded by operation counts, never by the clock.
final class StressTests: XCTestCase {
    func fixtures() throws -> [FixtureSpec] {
        guard let go = Repo.referenceFixture("go"), FileManager.default.isExecutableFile(atPath: go.argv[0]) else {
            throw XCTSkip("the Go fixture is not built (.build/fixtures/warmcache-go-fixture); run scripts/build-fixtures.sh")
        }
        var out = [go]
        if let rust = Repo.referenceFixture("rust"), FileManager.default.isExecutableFile(atPath: rust.argv[0]) { out.append(rust) }
        return out
    }

    func options(ops: Int, processes: Int) throws -> StressOptions {
        var o = StressOptions(fixtures: try fixtures(), workDir: NSTemporaryDirectory())
        o.operations = ops
        o.processes = processes
        o.keys = 16
        o.seed = 7
        return o
    }

    func assertCleanedUp(_ run: StressRun, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.segmentPath), "segment left behind", file: file, line: line)
        for p in run.processes {
            XCTAssertNotEqual(kill(p.pid, 0), 0, "process \(p.pid) still running", file: file, line: line)
        }
    }

    func testShortStressPassesAndExports() throws {
        let o = try options(ops: 400, processes: 3)
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        XCTAssertEqual(run.history.count, 400)
        XCTAssertEqual(Set(run.history.map(\.clientId)), [0, 1, 2])
        let rep = StressCheck.evaluate(run)
        XCTAssertEqual(rep.verdict, .pass, rep.lines.joined(separator: "\n"))
        XCTAssertEqual(rep.exitCode, 0)
        XCTAssertTrue(rep.linearizability?.verdict.isOk == true)
        XCTAssertGreaterThan(rep.transitionsChecked, 0)
        assertCleanedUp(run)

        // The history in porcupine's Operation shape.
        let exported = try JSON.parse(HistoryExport.porcupineJSON(run.history))
        let ops = try XCTUnwrap(exported.array)
        XCTAssertEqual(ops.count, 400)
        for op in ops {
            for k in ["client_id", "input", "call", "output", "return"] { XCTAssertNotNil(op[k], "missing \(k)") }
        }

        // The step log: one JSON object per operation.
        let lines = StressExport.stepLog(run).split(separator: "\n")
        XCTAssertEqual(lines.count, 400)
        let first = try JSON.parse(String(lines[0]))
        for k in ["process", "implementation", "op", "args", "call_ns", "return_ns", "outcome"] { XCTAssertNotNil(first[k], "missing \(k)") }

        // The replay scenario parses, has one role per process, and every operation once.
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("stress-test-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("steps.jsonl.yaml")
        try StressExport.scenario(run, name: "stress-replay", command: "warmcheck stress --ops 400").write(to: url, atomically: true, encoding: .utf8)
        let sc = try ScenarioParser.parse(contentsOf: url)
        XCTAssertEqual(sc.roles.count, 3)
        XCTAssertEqual(sc.parallel.reduce(0) { $0 + $1.steps.count }, 400)
        XCTAssertEqual(sc.initSteps.count, 3)

        // The controlled twin: the same operations per role, in a race block the scheduler drives.
        let raceURL = dir.appendingPathComponent("steps.jsonl.race.yaml")
        try StressExport.scenario(run, name: "stress-race", command: "warmcheck stress --ops 400", controlled: true)
            .write(to: raceURL, atomically: true, encoding: .utf8)
        let rc = try ScenarioParser.parse(contentsOf: raceURL)
        let race = try XCTUnwrap(rc.race)
        XCTAssertTrue(rc.parallel.isEmpty)
        XCTAssertEqual(race.strategy, "pct")
        for list in sc.parallel {
            let twin = try XCTUnwrap(race.ops.first { $0.role == list.role })
            XCTAssertEqual(twin.steps.compactMap(\.operation?.text), list.steps.compactMap(\.operation?.text), list.role)
        }
    }

    /// The final counters are checked against the answers: a fixture that calls every insert a
    /// refresh (its answers rewritten by sed; the segment still counts inserts) fails the run,
    /// while linearizability, which does not model `created`, has nothing to say.
    func testCountersCatchAFixtureThatMiscountsInserts() throws {
        guard let go = Repo.referenceFixture("go"), FileManager.default.isExecutableFile(atPath: go.argv[0]) else {
            throw XCTSkip("the Go fixture is not built")
        }
        let liar = FixtureSpec(name: "liar", argv: ["/bin/sh", "-c", "\(go.argv[0]) serve --trace | sed -u 's/\"created\":true/\"created\":false/g'"])
        var o = try options(ops: 300, processes: 2)
        o.fixtures = [liar]
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        let rep = StressCheck.evaluate(run)
        XCTAssertTrue(rep.linearizability?.verdict.isOk == true)
        XCTAssertEqual(rep.verdict, .fail, rep.lines.joined(separator: "\n"))
        XCTAssertTrue(rep.counterProblems.contains { $0.hasPrefix("inserts = ") }, "\(rep.counterProblems)")
        XCTAssertTrue(rep.lines.contains { $0.hasPrefix("Counters: DISAGREE") })
    }

    /// A stress run narrowed to a controlled replay: the exported race, run against a fixture
    /// whose refresh keeps the old version, fails, and the minimizer keeps only a few operations.
    func testStressRaceExportNarrowsAFailureToAFewOperations() throws {
        guard let go = Repo.referenceFixture("go"), FileManager.default.isExecutableFile(atPath: go.argv[0]) else {
            throw XCTSkip("the Go fixture is not built")
        }
        var o = try options(ops: 40, processes: 2)
        o.fixtures = [go]
        o.keys = 2
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        let dir = NSTemporaryDirectory() + "stress-race-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/race.yaml"
        try StressExport.scenario(run, name: "stress-race", command: "test", controlled: true).write(toFile: file, atomically: true, encoding: .utf8)
        let s = try ScenarioParser.parse(contentsOf: URL(fileURLWithPath: file))
        let c = try XCTUnwrap(expand(s, implementations: ["go"]).first)
        var ro = RunOptions(fixtures: ["go": go], workDir: o.workDir)
        ro.extraFixtureArgs["go"] = ["--fault", "no_version_bump"]
        ro.artifactsDir = dir
        let r = RaceCase(c, options: ro).run()
        // Seed 7's forty operations on two keys write an existing key several times; with the
        // fault every such write keeps the old version, whatever the interleaving.
        XCTAssertEqual(r.verdict, .fail, r.reason)
        let replay = try Replay.load(dir + "/" + Artifacts.safe(c.name) + ".replay.json")
        ro.artifactsDir = nil
        let m = try Minimizer(options: ro).minimize(replay)
        XCTAssertEqual(m.total, run.steps.count)
        XCTAssertLessThanOrEqual(m.kept.count, 4, "\(m.kept.map(\.text))")
        let (again, _) = try m.replay.run(options: ro)
        XCTAssertEqual(Replay.signature(again.reason), Replay.signature(replay.reason))
    }

    func testKillRunPassesWithUnknownOutcomes() throws {
        var o = try options(ops: 1000, processes: 3)
        o.killEvery = 50
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        XCTAssertEqual(run.kills, 20)
        XCTAssertEqual(run.processes.count, 3 + 20)
        // A kill lands before the answer often enough (about 40% here) that 20 kills without
        // one are not a realistic outcome.
        XCTAssertTrue(run.history.contains { $0.output == .unknown && $0.return == UInt64.max })
        let rep = StressCheck.evaluate(run)
        XCTAssertEqual(rep.verdict, .pass, rep.lines.joined(separator: "\n"))
        assertCleanedUp(run)
    }

    func testReadOfAValueNeverWrittenIsIllegal() throws {
        let run = StressRunner.run(try options(ops: 300, processes: 2))
        XCTAssertNil(run.harnessError)
        var history = run.history
        XCTAssertTrue(StressCheck.linearizability(history, allowSilentRemoval: false).verdict.isOk)
        let i = try XCTUnwrap(history.firstIndex { if case .hit = $0.output { return true }; return false })
        guard case .hit(_, let version, let stale) = history[i].output else { return XCTFail() }
        history[i].output = .hit(value: Array("never written".utf8), version: version, stale: stale)
        let report = StressCheck.linearizability(history, allowSilentRemoval: false)
        guard case .illegal(let f) = report.verdict else { return XCTFail("expected illegal, got \(report.verdict)") }
        XCTAssertEqual(f.key, history[i].input.key)
        XCTAssertFalse(f.explanation.isEmpty)
    }

    /// The same check without any fixture: a synthetic two-client history.
    func testSyntheticMutatedHistoryIsIllegal() {
        let k = Array("k1".utf8)
        var h: [CacheOperation] = [
            CacheOperation(clientId: 0, input: .put(key: k, value: [1], version: nil), call: 10, output: .ok(version: 1), returnAt: 20),
            CacheOperation(clientId: 1, input: .get(key: k), call: 15, output: .hit(value: [1], version: 1, stale: false), returnAt: 30),
            CacheOperation(clientId: 1, input: .get(key: k), call: 40, output: .unknown, returnAt: nil),
        ]
        XCTAssertTrue(StressCheck.linearizability(h, allowSilentRemoval: false).verdict.isOk)
        h[1].output = .hit(value: [9], version: 1, stale: false)
        XCTAssertTrue(StressCheck.linearizability(h, allowSilentRemoval: true).verdict.isIllegal)
    }

    func testOptionParsing() throws {
        XCTAssertEqual(try StressOptions.parseDuration("30s"), 30)
        XCTAssertEqual(try StressOptions.parseDuration("500ms"), 0.5, accuracy: 1e-9)
        XCTAssertEqual(try StressOptions.parseDuration("2m"), 120)
        XCTAssertThrowsError(try StressOptions.parseDuration("soon"))
        XCTAssertEqual(try StressOptions.parseValueSize("8-32"), 8...32)
        XCTAssertEqual(try StressOptions.parseValueSize("16"), 16...16)
        XCTAssertThrowsError(try StressOptions.parseValueSize("32-8"))
        let mix = try OperationMix.parse("get=70,put=20,refresh=5,invalidate=5")
        XCTAssertEqual(mix, .default)
        XCTAssertThrowsError(try OperationMix.parse("get=1,frob=2"))
        XCTAssertThrowsError(try OperationMix.parse("get=0"))
        var a = SplitMix64.forProcess(seed: 1, index: 0), b = SplitMix64.forProcess(seed: 1, index: 0)
        var c = SplitMix64.forProcess(seed: 1, index: 1)
        let xs = (0..<4).map { _ in a.next() }
        XCTAssertEqual(xs, (0..<4).map { _ in b.next() })
        XCTAssertNotEqual(xs, (0..<4).map { _ in c.next() })
        // The geometry leaves room for every key and the largest value.
        var o = StressOptions(fixtures: [], workDir: "/tmp")
        o.keys = 1000
        o.valueSize = 1...100
        let g = StressRunner.geometry(for: o)
        XCTAssertGreaterThanOrEqual(Int(g.shardCount * g.slotsPerShard), 8000)
        XCTAssertGreaterThanOrEqual(g.valueCapacity, 100)
        XCTAssertNil(g.createViolation())
    }
}
