#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest
import WarmcheckModel
import WarmcheckScenario
@_spi(Harness) import Warmcache

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
        XCTAssertEqual(race.strategy, .pct)
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
        // The race's fixtures run as uid 424242 under root (DRIVER.md "Fixture credentials"):
        // its segment goes in this directory, which they must be able to write.
        chmod(dir, 0o1777)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/race.yaml"
        try StressExport.scenario(run, name: "stress-race", command: "test", controlled: true).write(toFile: file, atomically: true, encoding: .utf8)
        let s = try ScenarioParser.parse(contentsOf: URL(fileURLWithPath: file))
        let c = try XCTUnwrap(expand(s, implementations: ["go"]).first)
        var ro = RunOptions(fixtures: ["go": go], workDir: dir)
        ro.extraFixtureArgs["go"] = ["--fault", "no_version_bump"]
        ro.artifactsDir = dir
        let r = RaceCase(c, options: ro).run()
        // Seed 7's forty operations on two keys write an existing key several times; with the
        // fault every such write keeps the old version, whatever the interleaving.
        XCTAssertEqual(r.verdict, .fail, r.reason + "\n" + r.details)
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

    /// `--kill-inside`: deaths land inside claims (insert locks and slot claims both), another
    /// implementation writes the key again, and the run passes; the same run against fixtures
    /// that never reclaim fails on the claims the dead left.
    func testKillInsideExercisesReclaimsAndCatchesNeverReclaim() throws {
        var o = try options(ops: 400, processes: 2)
        o.killInsidePPM = 30_000
        o.mix = try OperationMix.parse("get=30,put=50,refresh=10,invalidate=10")
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        let rep = StressCheck.evaluate(run)
        XCTAssertEqual(rep.verdict, .pass, rep.lines.joined(separator: "\n"))
        let k = try XCTUnwrap(rep.insideKills)
        XCTAssertGreaterThan(k.kills.count, 5)
        XCTAssertGreaterThan(k.withClaims, 0, k.lines.joined(separator: "\n"))
        XCTAssertTrue(k.kills.allSatisfy { $0.point != "?" && $0.writableNs != nil && $0.prober != nil })
        XCTAssertTrue(k.ok)
        assertCleanedUp(run)

        var bad = o
        bad.fixtures = o.fixtures.map { FixtureSpec(name: $0.name, argv: $0.argv + ["--fault", "never_reclaim"]) }
        let badRun = StressRunner.run(bad)
        XCTAssertNil(badRun.harnessError)
        let badRep = StressCheck.evaluate(badRun)
        XCTAssertEqual(badRep.verdict, .fail, badRep.lines.joined(separator: "\n"))
        XCTAssertFalse(try XCTUnwrap(badRep.insideKills).ok)
        assertCleanedUp(badRun)
    }

    /// An inconclusive search names its keys, says why (operations in flight at once, unknown
    /// outcomes) and what would make it conclusive.
    func testInconclusiveLinearizabilitySaysWhichKeysAndWhy() throws {
        var o = try options(ops: 300, processes: 3)
        o.keys = 2
        o.linearizabilityStates = 3
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        let rep = StressCheck.evaluate(run)
        XCTAssertEqual(rep.verdict, .error)
        let text = rep.lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("keys inconclusive:"), text)
        XCTAssertTrue(text.contains("in flight at once"), text)
        XCTAssertTrue(text.contains("fewer processes per key"), text)
        XCTAssertTrue(text.contains("; in time windows: "), text)
    }

    /// A key too long for one search's budget is decided in time windows, and the report says so
    /// per key. One process, so that every instant between its calls is a cut whatever the load
    /// (with two, a loaded machine can keep one of them in flight for hundreds of operations);
    /// TimeWindowTests covers concurrent windows.
    func testTimeWindowsDecideALongKeyTheBudgetCannotHold() throws {
        var o = try options(ops: 1500, processes: 1)
        o.keys = 1
        o.linearizabilityStates = 1000
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        let rep = StressCheck.evaluate(run)
        let text = rep.lines.joined(separator: "\n")
        let l = try XCTUnwrap(rep.linearizability)
        let w = try XCTUnwrap(l.partitions.first?.windows, text)
        XCTAssertTrue(w.unsplitVerdict?.isUnknown ?? false, text)
        XCTAssertEqual(l.verdict, .ok, text)
        XCTAssertGreaterThan(w.windows, 10, text)
        XCTAssertTrue(text.contains("checked in time windows"), text)
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

    /// Explicit evicts count in the evictions counter but are in the history: they must not turn
    /// silent removal on (which let a refresh that keeps the old version pass).
    func testExplicitEvictsDoNotAllowSilentRemoval() {
        var a = Accounting()
        a.note(op: "evict", nil, output: .removed(true))
        a.note(op: "evict", nil, output: .removed(true))
        var t = Counters()
        t.evictions = 2
        XCTAssertNil(a.silentRemovalReason(t))
        t.evictions = 3
        XCTAssertNotNil(a.silentRemovalReason(t))
        XCTAssertNil(a.silentRemovalReason(t, inFlight: 1))
        t.evictions = 2
        t.expirations = 1
        XCTAssertNotNil(a.silentRemovalReason(t))
        t.expirations = 0
        t.reclaims = 1
        XCTAssertNotNil(a.silentRemovalReason(t))
    }

    /// A Go fixture whose writes keep the old version, under a mix of puts and explicit evicts
    /// (no refresh): stress before this check passed it.
    func testNoVersionBumpFailsWithExplicitEvicts() throws {
        var o = try options(ops: 1500, processes: 2)
        let go = o.fixtures[0]
        o.fixtures = [FixtureSpec(name: "go", argv: go.argv + ["--fault", "no_version_bump"])]
        o.mix = try OperationMix.parse("get=60,put=30,evict=10")
        let run = StressRunner.run(o)
        XCTAssertNil(run.harnessError)
        let rep = StressCheck.evaluate(run)
        XCTAssertFalse(rep.allowSilentRemoval, rep.silentRemovalReason)
        XCTAssertEqual(rep.verdict, .fail, rep.lines.joined(separator: "\n"))
        XCTAssertTrue(rep.linearizability?.verdict.isIllegal == true)
        assertCleanedUp(run)
    }

    /// The history file round-trips, `check` would judge it as stress did, a tampered answer is
    /// found, and bad input names its line.
    func testHistoryFileRoundTripAndBadInput() throws {
        let k = Array("k1".utf8), k2 = Array("k2".utf8)
        let ops: [CacheOperation] = [
            CacheOperation(clientId: 0, input: .put(key: k, value: [1, 2], version: nil, ttl: 0), call: 10, output: .ok(version: 1), returnAt: 20),
            CacheOperation(clientId: 1, input: .get(key: k), call: 15, output: .hit(value: [1, 2], version: 1, stale: false), returnAt: 30),
            CacheOperation(clientId: 1, input: .put(key: k2, value: [1, 2], version: 9, ttl: 100), call: 31, output: .fail(.busy), returnAt: 32),
            CacheOperation(clientId: 0, input: .evict(key: k2), call: 40, output: .unknown, returnAt: nil),
            CacheOperation(clientId: 1, input: .refresh(key: k, value: [3], version: nil, ttl: 0), call: 41, output: .ok(version: 2), returnAt: 50),
        ]
        let model = StressCheck.model(allowSilentRemoval: true, reason: "because")
        let file = HistoryFile(model: model, simClockNs: 5, clockAdvanced: false, provenance: .object(["tool": "test"]),
                               clients: [.init(id: 0, implementation: "go", pid: 1, participant: 1, killed: false),
                                         .init(id: 1, implementation: "rust", pid: 2, participant: 2, killed: true)],
                               operations: ops, extras: ops.map { op in
                                   HistoryFile.Extra(created: true, refreshRequested: op.output.isHit ? false : nil,
                                                     writer: .init(pid: 4, language: "go", participant: 1, startTime: 9))
                               })
        let text = file.render()
        let back = try HistoryFile.parse(Array(text.utf8), name: "h")
        XCTAssertEqual(back.operations, ops)
        // Long values are written as a description; equal ones stay equal, different ones differ.
        let long = [UInt8](repeating: 7, count: 100), other = [UInt8](repeating: 7, count: 101)
        var longOps = ops
        longOps[0].input = .put(key: k, value: long, version: nil, ttl: 0)
        longOps[1].output = .hit(value: long, version: 1, stale: false)
        longOps[4].input = .refresh(key: k, value: other, version: nil, ttl: 0)
        var lf = file
        lf.operations = longOps
        let ltext = lf.render()
        XCTAssertFalse(ltext.contains(Hex.encode(long)))
        let lback = try HistoryFile.parse(Array(ltext.utf8), name: "h")
        XCTAssertEqual(lback.operations[1].output, .hit(value: try XCTUnwrap(lback.operations[0].input.value), version: 1, stale: false))
        XCTAssertNotEqual(lback.operations[0].input.value, lback.operations[4].input.value)
        XCTAssertTrue(checkLinearizability(lback.operations, model: lback.model).verdict.isOk)
        XCTAssertEqual(back.clients, file.clients)
        XCTAssertEqual(back.extras, file.extras)
        XCTAssertEqual(back.model.allowSilentRemoval, true)
        XCTAssertEqual(back.model.silentRemovalReason, "because")
        XCTAssertTrue(back.model.automaticVersionsAcrossKeys)
        XCTAssertTrue(checkLinearizability(back.operations, model: back.model).verdict.isOk)
        // A tampered answer: the refresh reports the version it replaced.
        let tampered = text.replacingOccurrences(of: "\"out\":\"ok\",\"version\":2", with: "\"out\":\"ok\",\"version\":1")
        XCTAssertNotEqual(tampered, text)
        let t = try HistoryFile.parse(Array(tampered.utf8), name: "h")
        XCTAssertTrue(checkLinearizability(t.operations, model: t.model).verdict.isIllegal)
        // Bad input: each error names the file and line.
        func error(_ s: String) -> String {
            do { _ = try HistoryFile.parse(Array(s.utf8), name: "h"); return "no error" } catch { return "\(error)" }
        }
        var lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(error("[\n{}\n]").contains("porcupine"))
        XCTAssertTrue(error("").contains("empty"))
        XCTAssertTrue(error(text.replacingOccurrences(of: "\"version\":2,", with: "\"version\":3,")).contains("version 3 is not supported"))
        let last = lines.count
        lines[last - 1] = lines[last - 1].replacingOccurrences(of: "\"k\":0", with: "\"k\":99")
        XCTAssertTrue(error(lines.joined(separator: "\n")).contains("h:\(last): refresh: \"k\" names key 99"), error(lines.joined(separator: "\n")))
        XCTAssertTrue(error(lines.dropLast().joined(separator: "\n")).contains("announces 5 operations"))
        XCTAssertTrue(error(text + "{\"op\":\"get\"\n").contains("h:\(last + 1): not JSON"))
    }

    /// Hot keys take the asked fraction of the operations, and contention counts overlapping
    /// mutations of one key and busy answers.
    func testHotKeysAndContention() throws {
        var o = StressOptions(fixtures: [FixtureSpec(name: "go", argv: ["go-fixture"])], workDir: "/tmp")
        o.keys = 100
        o.hotKeys = 2
        o.hotFraction = 0.8
        XCTAssertNoThrow(try o.validate())
        var rng = SplitMix64(seed: 3)
        let picks = (0..<10_000).map { _ in o.pickKey(rng.next(), rng.next()) }
        let hot = picks.filter { $0 < 2 }.count
        XCTAssertGreaterThan(hot, 7900)   // 80 % plus the uniform draws that land there
        XCTAssertLessThan(hot, 8300)
        XCTAssertEqual(Set(picks).count, 100)
        o.hotKeys = 101
        XCTAssertThrowsError(try o.validate())
        o.hotKeys = 0
        XCTAssertThrowsError(try o.validate())   // a fraction without hot keys
        let k = Array("k".utf8), j = Array("j".utf8)
        let c = Contention([
            CacheOperation(clientId: 0, input: .put(key: k, value: [1], version: nil), call: 0, output: .ok(version: 1), returnAt: 10),
            CacheOperation(clientId: 1, input: .refresh(key: k, value: [2], version: nil), call: 5, output: .fail(.busy), returnAt: 8),
            CacheOperation(clientId: 2, input: .put(key: k, value: [3], version: nil), call: 11, output: .ok(version: 2), returnAt: 12),
            CacheOperation(clientId: 2, input: .put(key: j, value: [3], version: nil), call: 0, output: .ok(version: 3), returnAt: 12),
            CacheOperation(clientId: 3, input: .get(key: k), call: 0, output: .miss, returnAt: 20),
        ])
        XCTAssertEqual(c.mutations, 4)
        XCTAssertEqual(c.overlapping, 2)
        XCTAssertEqual(c.busy, ["refresh": 1])
    }
}
