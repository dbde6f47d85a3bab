import Foundation
import XCTest

@testable import WarmcheckCore
import WarmcheckScenario

/// Race blocks on the real fixtures: the reference implementations pass every explored schedule,
/// a reader with a known bug is caught, its replay fails the same way every time, and the
/// minimizer removes what the failure does not need.
final class RaceTests: XCTestCase {
    var root: URL!
    var scratch: String!

    override func setUpWithError() throws {
        (root, scratch) = try goFixtureScratch("race-tests")
    }

    override func tearDown() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    var go: FixtureSpec { Repo.referenceFixture("go")! }

    func options(fault: String? = nil) -> RunOptions {
        var o = RunOptions(fixtures: ["go": go],
                           workDir: Repo.defaultWorkDir)
        o.timeout = 10
        o.artifactsDir = scratch
        if let fault { o.extraFixtureArgs["go"] = ["--fault", fault] }
        return o
    }

    func onlyCase(_ s: Scenario) throws -> ScenarioCase {
        try XCTUnwrap(expand(s, implementations: ["go"]).first)
    }

    func scenario(_ name: String) throws -> Scenario {
        try ScenarioParser.parse(contentsOf: root.appendingPathComponent("scenarios/\(name).yaml"))
    }

    func testReferenceFixtureExploresEveryScheduleAndReachesTheGoals() throws {
        for name in ["race-read-vs-slot-reuse", "race-two-inserts-one-shard"] {
            let r = RaceCase(try onlyCase(try scenario(name)), options: options()).run()
            XCTAssertEqual(r.verdict, .pass, "\(name): \(r.reason)\n\(r.details)")
            // Depth-first search within its preemption bound ran out of schedules before its budget.
            XCTAssertEqual(r.stats["exhaustive"], 1, name)
            XCTAssertGreaterThan(r.stats["schedules"] ?? 0, 1, name)
        }
    }

    /// An unreached `sometimes` goal says what the race did reach: the combination closest to
    /// the goal and every role's pause points.
    func testUnreachedGoalSaysWhatWasReached() throws {
        var s = try scenario("race-refresh-vs-read")
        s.race!.schedules = 5
        // A refresh never stops at put.after_claim: half of this goal can hold, never all.
        s.race!.sometimes = [[RacePosition(role: "reader", point: "get.between_seq_reads"), RacePosition(role: "writer", point: "put.after_claim")]]
        let r = RaceCase(try onlyCase(s), options: options()).run()
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.details.contains("at most 1 of its 2 positions held together"), r.details)
        XCTAssertTrue(r.details.contains("reader@get.between_seq_reads"), r.details)
        XCTAssertTrue(r.details.contains("writer: ") && r.details.contains("refresh.after_payload"), r.details)
    }

    /// `kills: 1`: killing a role where it stands is a scheduler choice. The schedules kill at
    /// many different points and pass (the killed operations' outcomes unknown); a writer that
    /// never reclaims fails, and the saved schedule, kill included, fails again on replay.
    func testKillsAreSchedulerChoicesAndNeverReclaimFails() throws {
        guard let rust = Repo.referenceFixture("rust"), FileManager.default.isExecutableFile(atPath: rust.argv[0]) else {
            throw XCTSkip("the Rust fixture is not built")
        }
        let s = try scenario("race-kill-inside-writers")
        XCTAssertEqual(s.race?.kills, 1)
        let c = try XCTUnwrap(expand(s, implementations: ["go", "rust"]).first { $0.name.contains("w1=go,w2=go") })
        var o = options()
        o.fixtures["rust"] = rust
        let r = RaceCase(c, options: o).run()
        XCTAssertEqual(r.verdict, .pass, "\(r.reason)\n\(r.details)")
        XCTAssertGreaterThan(r.stats["kills"] ?? 0, 10)
        XCTAssertGreaterThanOrEqual(r.stats["kill_points"] ?? 0, 4)

        o.extraFixtureArgs["go"] = ["--fault", "never_reclaim"]
        let bad = RaceCase(c, options: o).run()
        XCTAssertEqual(bad.verdict, .fail, bad.reason)
        let path = try XCTUnwrap(bad.rerun.components(separatedBy: " ").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'")) })
        let replay = try Replay.load(path)
        XCTAssertTrue(replay.schedule.contains { $0 >= 3 }, "the schedule records the kill choice: \(replay.schedule)")
        XCTAssertEqual(Replay.signature(try replay.run(options: o).0.reason), Replay.signature(replay.reason))
    }

    /// PCT in a real race: the scenario's goal is reached and the schedules pass.
    func testPCTScenarioReachesItsGoal() throws {
        let r = RaceCase(try onlyCase(try scenario("race-invalidate-vs-read")), options: options()).run()
        XCTAssertEqual(r.verdict, .pass, "\(r.reason)\n\(r.details)")
    }

    func testSkippedSecondLoadIsCaughtAndItsReplayFailsTheSameWayEveryTime() throws {
        let r = RaceCase(try onlyCase(try scenario("race-read-vs-slot-reuse")), options: options(fault: "skip_second_seq_check")).run()
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.reason.contains("not linearizable"), r.reason)
        let path = try XCTUnwrap(r.rerun.components(separatedBy: " ").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'")) })
        XCTAssertTrue(path.hasSuffix(".replay.json"), r.rerun)

        let replay = try Replay.load(path)
        XCTAssertEqual(replay.fixtures["go"]?.suffix(2), ["--fault", "skip_second_seq_check"], "the fault must travel with the file")
        XCTAssertFalse(replay.schedule.isEmpty)
        // Replay with options built from the file alone, as `warmcheck replay` does.
        var o = RunOptions(fixtures: ["go": FixtureSpec(name: "go", argv: replay.fixtures["go"]!)], workDir: options().workDir)
        o.timeout = 10
        for _ in 0..<10 {
            let (again, _) = try replay.run(options: o)
            XCTAssertEqual(again.verdict, .fail)
            XCTAssertEqual(Replay.signature(again.reason), Replay.signature(replay.reason))
        }
        // The same schedule without the fault passes: the replay reproduces the bug, not an accident.
        var clean = o
        clean.fixtures["go"] = go
        XCTAssertEqual(try replay.run(options: clean).0.verdict, .pass)

        let html = try String(contentsOfFile: path.replacingOccurrences(of: ".replay.json", with: ".html"), encoding: .utf8)
        XCTAssertTrue(html.contains("violation-marker"), "the report must mark the violating event")
    }

    func testMinimizerDropsAnOperationTheFailureDoesNotNeed() throws {
        // The slot-reuse race plus a read of an unrelated key that plays no part in the bug.
        var text = try String(contentsOf: root.appendingPathComponent("scenarios/race-read-vs-slot-reuse.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "reader: [get k]", with: "reader: [get k, get other]")
        XCTAssertTrue(text.contains("get other"))
        let file = (scratch as NSString).appendingPathComponent("padded.yaml")
        try text.write(toFile: file, atomically: true, encoding: .utf8)

        let r = RaceCase(try onlyCase(try ScenarioParser.parse(contentsOf: URL(fileURLWithPath: file))),
                         options: options(fault: "skip_second_seq_check")).run()
        XCTAssertEqual(r.verdict, .fail, r.details)
        let replay = try Replay.load((scratch as NSString).appendingPathComponent(Artifacts.safe(r.name) + ".replay.json"))
        var o = options(fault: "skip_second_seq_check")
        o.artifactsDir = nil
        let m = try Minimizer(options: o).minimize(replay)
        XCTAssertTrue(m.replay.droppedOps.contains { $0.text == "get other" && $0.role == "reader" }, "\(m.replay.droppedOps)")
        XCTAssertLessThanOrEqual(m.replay.preemptions, replay.preemptions)
        XCTAssertLessThanOrEqual(m.runs, Minimizer(options: o).maxRuns)
        // The minimized file round-trips and still fails the same way.
        let path = (scratch as NSString).appendingPathComponent("min.replay.json")
        try (m.replay.json.pretty + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (again, _) = try Replay.load(path).run(options: o)
        XCTAssertEqual(again.verdict, .fail)
        XCTAssertEqual(Replay.signature(again.reason), Replay.signature(replay.reason))
    }

    func testAReplayOfAnEditedScenarioIsRefused() throws {
        let file = (scratch as NSString).appendingPathComponent("r.yaml")
        try String(contentsOf: root.appendingPathComponent("scenarios/race-read-vs-slot-reuse.yaml"), encoding: .utf8)
            .write(toFile: file, atomically: true, encoding: .utf8)
        var replay = Replay(scenarioFile: file, caseName: "race-read-vs-slot-reuse[writer=go,reader=go]", seed: 1,
                            strategy: "dfs", schedule: [1, 0], reason: "x", fixtures: ["go": go.argv])
        replay.droppedOps = [.init(role: "reader", index: 0, text: "get something-else")]
        XCTAssertThrowsError(try replay.run(options: options())) { e in
            XCTAssertTrue("\(e)".contains("not there any more"), "\(e)")
        }
    }
}
