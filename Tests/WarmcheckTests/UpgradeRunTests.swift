import Foundation
import XCTest

@testable import WarmcheckCore
import WarmcheckScenario

/// The runner's side of upgrades on the Go fixture: a process replaced inside a parallel list
/// (`restart:` there used to be skipped in silence), the count of misses an upgrade caused
/// (shown to work with a planted bug: an upgraded process that recreates the segment), and the
/// replay of a failing case whose scenario was named by a relative path (`warmcheck upgrade`
/// names its plan so; its replays used to report "reproduced 0/N").
final class UpgradeRunTests: XCTestCase {
    var scratch: String!

    override func setUpWithError() throws {
        (_, scratch) = try goFixtureScratch("upgrade-run-tests")
    }

    override func tearDown() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    var go: FixtureSpec { Repo.referenceFixture("go")! }

    static let geometry = "{shards: 4, slots: 16, key_capacity: 32, value_capacity: 256, window: 4, participants: 16}"

    /// The planted bug: the Go fixture behind a filter that turns every `open` into "remove the
    /// file, then `create` a new segment at its path", as an upgraded build that recreates the
    /// segment instead of joining it would.
    var recreator: FixtureSpec {
        let geometry = #"{"key_capacity":32,"participant_capacity":16,"probe_window":4,"shard_count":4,"slots_per_shard":16,"value_capacity":256}"#
        let script = #"""
            while IFS= read -r l; do
              case "$l" in
              *'"op":"open"'*)
                p=${l#*\"path\":\"}; p=${p%%\"*}; rm -f "$p"
                l=$(printf '%s' "$l" | sed 's/"op":"open"/"op":"create"/; s/"args":{/"args":{"geometry":GEOMETRY,/') ;;
              esac
              printf '%s\n' "$l"
            done | exec FIXTURE serve
            """#.replacingOccurrences(of: "GEOMETRY", with: geometry).replacingOccurrences(of: "FIXTURE", with: go.argv[0])
        return FixtureSpec(name: "recreator", argv: ["/bin/sh", "-c", script])
    }

    func options(_ extra: [FixtureSpec] = []) -> RunOptions {
        var fixtures = ["go": go]
        for f in extra { fixtures[f.name] = f }
        var o = RunOptions(fixtures: fixtures, workDir: Repo.defaultWorkDir)
        o.timeout = 10
        o.artifactsDir = scratch
        return o
    }

    func run(_ yaml: String, file: String = "t.yaml", _ o: RunOptions) throws -> (CaseResult, CaseRunner) {
        let s = try ScenarioParser.parse(yaml: yaml, file: file)
        let c = try XCTUnwrap(expand(s, implementations: ["go"]).first)
        let runner = CaseRunner(c, options: o)
        return (runner.run(), runner)
    }

    /// `restart:` of a list's own role runs on that role's thread: a new process opens the
    /// segment and the list's later operations go to it.
    func testRestartInAParallelListReplacesTheProcess() throws {
        let yaml = """
            name: restart-in-parallel
            geometry: \(Self.geometry)
            processes: {writer: go, reader: go}
            init:
              - writer: create
              - reader: open
              - writer: put k1 v1
                expect: ok created
            parallel:
              reader:
                - get k1
                - restart: reader
                - get k1
              writer:
                - put k2 v2
            final:
              - reader: get k2
                expect: hit value=v2
            """
        let (r, runner) = try run(yaml, options())
        XCTAssertEqual(r.verdict, .pass, r.reason + "\n" + r.details)
        XCTAssertEqual(runner.roles["reader"]?.pids.count, 2, "the restart started a second process")
        XCTAssertTrue(runner.log.lines.contains { $0.contains("restart reader (go): new pid") }, runner.log.render())
    }

    /// An upgraded consumer that recreates the segment misses the three keys the producer wrote:
    /// counted exactly, named, and the case fails; the same plan with a faithful upgrade counts 0.
    func testMissesCausedByAnUpgradeAreCountedAndFailTheCase() throws {
        func yaml(_ target: String) -> String {
            """
            name: upgrade-misses
            geometry: \(Self.geometry)
            processes: {producer: go, consumer: go}
            init:
              - producer: create
              - consumer: open
              - producer: put k1 a1
              - producer: put k2 a2
              - producer: put k3 a3
            parallel:
              consumer:
                - upgrade: consumer to=\(target)
                - get k1
                - get k2
                - get k3
            """
        }
        let (bad, _) = try run(yaml("recreator"), options([recreator]))
        XCTAssertEqual(bad.stats["upgrade_misses"], 3, bad.details)
        XCTAssertEqual(bad.verdict, .fail)
        XCTAssertTrue(bad.details.contains("3 misses caused by the upgrade"), bad.details)
        XCTAssertTrue(bad.details.contains("get k1 by consumer; get k2 by consumer; get k3 by consumer"), bad.details)

        let (good, _) = try run(yaml("go"), options())
        XCTAssertEqual(good.verdict, .pass, good.reason + "\n" + good.details)
        XCTAssertEqual(good.stats["upgrade_misses"], 0)
        // A case without upgrade steps carries no count at all.
        let (plain, _) = try run("processes: {w: go}\ngeometry: \(Self.geometry)\ninit:\n  - w: create\n", options())
        XCTAssertNil(plain.stats["upgrade_misses"])
    }

    /// A failing case whose scenario file was named relatively (as `warmcheck upgrade` names
    /// its plan) reproduces on replay: the rerun quotes the step locations the same way. The
    /// failure is one whose reason names its step: the decoder's invariant check after a put by a
    /// fixture that hashes keys with the wrong seed.
    func testReplayOfARelativelyNamedScenarioReproduces() throws {
        let absolute = scratch + "/plan.yaml"
        try """
            name: relative
            geometry: \(Self.geometry)
            processes: {w: go}
            init:
              - w: create
              - w: put k v
            """.write(toFile: absolute, atomically: true, encoding: .utf8)
        let cwd = FileManager.default.currentDirectoryPath
        let relative = String(repeating: "../", count: cwd.split(separator: "/").count) + absolute.drop { $0 == "/" }
        XCTAssertTrue(FileManager.default.fileExists(atPath: relative), relative)
        let s = try ScenarioParser.parse(yaml: try String(contentsOfFile: absolute, encoding: .utf8), file: relative)
        let c = try XCTUnwrap(expand(s, implementations: ["go"]).first)
        var o = options()
        o.extraFixtureArgs["go"] = ["--fault", "wrong_hash"]
        let r = Suite.runCase(c, options: o)
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertTrue(r.reason.contains(relative), r.reason)
        let path = scratch + "/" + Artifacts.safe(c.name) + ".replay.json"
        let replay = try Replay.load(path)
        // Options from the file alone, as `warmcheck replay` builds them (the fault travels in it).
        let fromFile = RunOptions(fixtures: replay.fixtures.mapValues { FixtureSpec(name: "go", argv: $0) }, workDir: Repo.defaultWorkDir)
        let (again, _) = try replay.run(options: fromFile)
        XCTAssertEqual(again.verdict, .fail)
        XCTAssertEqual(Replay.signature(again.reason), Replay.signature(replay.reason))
    }
}
