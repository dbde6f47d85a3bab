import Foundation
import XCTest

@testable import WarmcheckCore
import WarmcheckScenario

/// `--shard I/N`, Bazel's sharding variables and `warmcheck merge`: the shards of a run are
/// disjoint, cover it, and merge back into exactly the unsplit run.
final class ShardingTests: XCTestCase {
    func testShardsAreDisjointCoverTheListAndBalance() throws {
        let items = Array(0..<23)
        let shards = try (0..<4).map { try Shard(index: $0, count: 4).select(items) }
        XCTAssertEqual(shards.flatMap { $0 }.sorted(), items)
        XCTAssertEqual(Set(shards.flatMap { $0 }).count, items.count)
        XCTAssertLessThanOrEqual(shards.map(\.count).max()! - shards.map(\.count).min()!, 1)
        XCTAssertEqual(try Shard.parse("2/4").select(items), [1, 5, 9, 13, 17, 21])
        XCTAssertEqual(Shard.whole.select(items), items)
    }

    func testFlagsAndBazelVariables() throws {
        XCTAssertEqual(try Shard.parse("1/1"), .whole)
        for bad in ["0/4", "5/4", "1/0", "a/b", "1", "1/2/3", ""] {
            XCTAssertThrowsError(try Shard.parse(bad), bad)
        }
        let status = FileManager.default.temporaryDirectory.appendingPathComponent("shard-status-\(getpid())").path
        unlink(status)
        defer { unlink(status) }
        let env = ["TEST_TOTAL_SHARDS": "3", "TEST_SHARD_INDEX": "2", "TEST_SHARD_STATUS_FILE": status]
        XCTAssertEqual(try Shard.resolve(flag: nil, environment: env), try Shard(index: 2, count: 3))
        XCTAssertTrue(FileManager.default.fileExists(atPath: status), "Bazel is told that sharding is understood")
        XCTAssertEqual(try Shard.resolve(flag: "3/3", environment: env).description, "3/3")
        XCTAssertThrowsError(try Shard.resolve(flag: "1/3", environment: env), "a flag that contradicts Bazel is refused")
        XCTAssertThrowsError(try Shard.resolve(flag: nil, environment: ["TEST_TOTAL_SHARDS": "3", "TEST_SHARD_INDEX": "3"]))
        XCTAssertEqual(try Shard.resolve(flag: nil, environment: [:]), .whole)
    }

    func result(_ name: String, _ v: CaseResult.Verdict) -> CaseResult {
        CaseResult(name: name, scenario: String(name.prefix { $0 != "[" }), file: "s.yaml", assignment: [("w", "go")], verdict: v)
    }

    func report(_ rs: [CaseResult], shard: String, total: Int, seed: UInt64 = 1) throws -> JSON {
        JSONReport.render(rs, seed: seed, fixtures: ["go": ["go-fixture", "serve"]], shard: try Shard.parse(shard).json(totalItems: total))
    }

    func testMergeRefusesShardsThatDoNotAddUp() throws {
        let a = result("a[w=go]", .pass), b = result("b[w=go]", .fail), c = result("c[w=go]", .skip)
        let ok = ShardedRun.merge([("1", try report([a, c], shard: "1/2", total: 3)), ("2", try report([b], shard: "2/2", total: 3))])
        XCTAssertEqual(ok.problems, [])
        XCTAssertEqual(ok.results.map(\.name).sorted(), ["a[w=go]", "b[w=go]", "c[w=go]"])
        XCTAssertEqual(ok.exitStatus, 1, "a failing case fails the merged run")
        let missing = ShardedRun.merge([("1", try report([a, c], shard: "1/2", total: 3))])
        XCTAssertEqual(missing.problems, ["shard(s) 2/2 missing"])
        XCTAssertEqual(missing.exitStatus, 2)
        let twice = ShardedRun.merge([("1", try report([a], shard: "1/2", total: 2)), ("2", try report([a], shard: "2/2", total: 2))])
        XCTAssertTrue(twice.problems.contains("case a[w=go] is in 1 and in 2"), "\(twice.problems)")
        let seeds = ShardedRun.merge([("1", try report([a], shard: "1/2", total: 2)), ("2", try report([c], shard: "2/2", total: 2, seed: 9))])
        XCTAssertEqual(seeds.problems.count, 1)
        let short = ShardedRun.merge([("1", try report([a], shard: "1/2", total: 3)), ("2", try report([c], shard: "2/2", total: 3))])
        XCTAssertEqual(short.problems, ["the shards hold 2 cases, the run has 3"])
        XCTAssertEqual(ShardedRun.merge([("x", ["cases": 3])]).problems.count, 1)
    }

    func testSelftestShardsMergeIntoOneScore() throws {
        func kill(_ fx: String, _ fault: String, _ killed: Bool) -> JSON { ["fixture": .string(fx), "fault": .string(fault), "killed": .bool(killed)] }
        let m = ShardedSelftest.merge([("1", [kill("go", "a", true)]), ("2", [kill("rust", "a", true), kill("go", "b", false)])])
        XCTAssertEqual(m.problems, [])
        XCTAssertEqual(m.killed, 2)
        XCTAssertEqual(m.kills.count, 3)
        XCTAssertEqual(m.exitStatus, 1)
        let twice = ShardedSelftest.merge([("1", [kill("go", "a", true)]), ("2", [kill("go", "a", true)])])
        XCTAssertEqual(twice.problems, ["fault go a is in 1 and in 2"])
        XCTAssertEqual(twice.exitStatus, 2)
    }

    func testReportsRoundTripThroughJSON() throws {
        var r = result("a[w=go]", .expectedFailure)
        r.reason = "known"
        r.notes = ["transitions not reported by go"]
        r.stats = ["schedules": 4]
        r.seconds = 1.25
        let back = try XCTUnwrap(CaseResult(json: try XCTUnwrap(JSONReport.render([r], seed: 1, fixtures: [:])["cases"]?.array?.first)))
        XCTAssertEqual(back.name, r.name)
        XCTAssertEqual(back.verdict, .expectedFailure)
        XCTAssertEqual(back.notes, r.notes)
        XCTAssertEqual(back.stats, r.stats)
        XCTAssertEqual(back.seconds, 1.25)
    }

    /// A run of every verdict, with the bodies, notes and times JUnit carries, split 2, 3 and 4
    /// ways into `--junit` reports and merged: the same cases and totals as the unsplit report.
    func testJUnitShardsMergeIntoTheUnsplitReport() throws {
        var whole: [CaseResult] = []
        for (i, v) in [CaseResult.Verdict.pass, .fail, .skip, .error, .expectedFailure, .unexpectedPass, .pass].enumerated() {
            var r = result("\(i % 2 == 0 ? "a" : "b")\(i)[w=go]", v)
            // What JUnit carries: a reason unless passed, a body (details, rerun) on a failure or error.
            if v != .pass { r.reason = "why <\(i)> & \"so\"" }
            if [.fail, .error, .unexpectedPass].contains(v) {
                r.details = "line one\n\nline two"
                r.rerun = "warmcheck run --only '\(r.name)'"
            }
            r.seconds = Double(i) * 0.125
            if i == 1 { r.notes = ["transitions not reported by go", "second"] }
            whole.append(r)
        }
        let single = JUnitReport.render(whole)
        let byName = { (rs: [CaseResult]) in rs.sorted { $0.name < $1.name } }
        for n in 2...4 {
            let shards = try (1...n).map { i in
                let part = try Shard.parse("\(i)/\(n)").select(whole)
                return ("shard-\(i).xml", try JUnitReport.parse(Data(JUnitReport.render(part).utf8), file: "shard-\(i).xml"))
            }
            let m = ShardedRun.merge(junit: shards.reversed())
            XCTAssertEqual(m.problems, [], "\(n) shards")
            XCTAssertEqual(m.results.map(\.name).sorted(), whole.map(\.name).sorted(), "\(n) shards")
            XCTAssertEqual(RunSummary(m.results).line, RunSummary(whole).line, "\(n) shards")
            XCTAssertEqual(JUnitReport.render(byName(m.results)), JUnitReport.render(byName(whole)), "\(n) shards: the merged XML is the unsplit run's")
            XCTAssertEqual(m.exitStatus, 1, "a failing case fails the merged run")
        }
        let back = try JUnitReport.parse(Data(single.utf8), file: "all.xml")
        XCTAssertEqual(back.count, whole.count)
        for (r, b) in zip(byName(whole), byName(back)) {
            XCTAssertEqual([b.name, b.scenario, b.file, b.reason, b.details, b.rerun], [r.name, r.scenario, r.file, r.reason, r.details, r.rerun])
            XCTAssertEqual(b.verdict, r.verdict, r.name)
            XCTAssertEqual(b.notes, r.notes, r.name)
            XCTAssertEqual(b.seconds, r.seconds, r.name)
        }
        let first = try JUnitReport.parse(Data(JUnitReport.render(Array(whole.prefix(2))).utf8), file: "1.xml")
        let again = ShardedRun.merge(junit: [("1.xml", first), ("2.xml", first)])
        XCTAssertEqual(again.problems.count, 2, "\(again.problems)")
        XCTAssertEqual(again.exitStatus, 1)
        XCTAssertTrue(JUnitReport.looksLikeXML(Data(single.utf8)))
        XCTAssertFalse(JUnitReport.looksLikeXML(Data(JSONReport.render(whole, seed: 1, fixtures: [:]).serialized.utf8)))
    }

    /// A truncated or malformed JUnit report is refused with its file name, never half-read.
    func testTruncatedJUnitIsRefusedWithItsName() throws {
        let xml = JUnitReport.render([result("a[w=go]", .pass), result("b[w=go]", .fail)])
        let cut = String(xml.prefix(xml.count * 2 / 3))
        for (bad, what) in [(cut, "not well-formed XML"), ("<testsuites><testcase/></testsuites>", "without a name"),
                            ("<html/>", "not a JUnit report"),
                            ("<testsuites><testsuite name=\"s\"></testsuites>", "not well-formed XML"), ("<testsuites><testcase name=\"x\" time=\"soon\"/></testsuites>", "not a number")] {
            XCTAssertThrowsError(try JUnitReport.parse(Data(bad.utf8), file: "shard-2.xml"), what) { e in
                XCTAssertTrue("\(e)".hasPrefix("shard-2.xml: "), "\(e)")
                XCTAssertTrue("\(e)".contains(what), "\(e)")
            }
        }
    }

    /// The real thing on a small subset: four shards of real cases against the real fixtures,
    /// merged, hold exactly the cases of one unsplit run with the same verdicts.
    func testFourShardsOfARealRunMergeIntoTheUnsplitRun() throws {
        let root = try XCTUnwrap(Repo.root())
        let specs = try ["go", "rust"].map { try XCTUnwrap(Repo.referenceFixture($0)) }
        for s in specs where !FileManager.default.isExecutableFile(atPath: s.argv[0]) { throw XCTSkip("\(s.argv[0]) is not built") }
        let loaded = Suite.load(paths: ["basic-put-get", "empty-value", "invalidate-missing-key"].map {
            root.appendingPathComponent("scenarios/\($0).yaml").path
        })
        XCTAssertEqual(loaded.errors.count, 0)
        let cases = expand(loaded.scenarios, implementations: ["go", "rust"])
        XCTAssertGreaterThanOrEqual(cases.count, 8)
        var o = RunOptions(fixtures: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }), workDir: Repo.defaultWorkDir)
        o.timeout = 10
        let whole = Suite(options: o).run(cases)
        var reports: [(file: String, json: JSON)] = []
        for i in 1...4 {
            let shard = try Shard.parse("\(i)/4")
            let part = Suite(options: o).run(shard.select(cases))
            // Through the text of the report, as `warmcheck merge` reads it from a file.
            reports.append(("shard-\(i)", try JSON.parse(JSONReport.render(part, seed: 1, fixtures: [:], shard: shard.json(totalItems: cases.count)).serialized)))
        }
        let merged = ShardedRun.merge(reports.reversed())
        XCTAssertEqual(merged.problems, [])
        XCTAssertEqual(Set(merged.results.map(\.name)), Set(whole.map(\.name)))
        XCTAssertEqual(merged.results.count, whole.count)
        let verdicts = Dictionary(uniqueKeysWithValues: whole.map { ($0.name, $0.verdict) })
        for r in merged.results { XCTAssertEqual(r.verdict, verdicts[r.name], r.name) }
        XCTAssertEqual(merged.exitStatus, 0)
    }

    func testOnlySelectsEveryCaseAnImplementationPlaysARoleIn() throws {
        let yaml = """
            name: two-roles
            processes:
              writer: any
              reader: any
            init:
              - writer: create
              - reader: open
            """
        let s = try ScenarioParser.parse(yaml: yaml, file: "two.yaml")
        let all = expand(s, implementations: ["go", "rust", "mine"])
        let mine = involving(all, anyOf: ["mine"])
        XCTAssertEqual(mine.map(\.name), ["two-roles[writer=go,reader=mine]", "two-roles[writer=rust,reader=mine]",
                                          "two-roles[writer=mine,reader=go]", "two-roles[writer=mine,reader=rust]",
                                          "two-roles[writer=mine,reader=mine]"])
        XCTAssertEqual(involving(all, anyOf: []).count, all.count)
    }
}
