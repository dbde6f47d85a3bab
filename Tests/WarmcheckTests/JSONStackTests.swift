import Foundation
import XCTest
import WarmcheckModel
import WarmcheckSegment
@testable import WarmcheckCore

/// Issue 11: every file the harness writes and reads goes through the one JSON stack
/// (WarmcheckJSON), so a 64-bit integer keeps its digits. Each test puts integers above 2^53
/// (where a Double, i.e. JSONSerialization or a lossy parser, rounds) and at 2^64 − 1 through one
/// writer/reader pair and asks for them back digit for digit.
final class JSONStackTests: XCTestCase {
    static let above53: UInt64 = (1 << 53) + 1
    static let big: UInt64 = (1 << 63) + 12_345
    static let max: UInt64 = .max

    func testHistoryFileKeepsU64Exactly() throws {
        let k = Array("k".utf8)
        let ops: [CacheOperation] = [
            CacheOperation(clientId: 0, input: .put(key: k, value: [1], version: Self.big, ttl: Self.above53), call: 10,
                           output: .ok(version: Self.big), returnAt: 20),
            CacheOperation(clientId: 1, input: .get(key: k), call: 15, output: .hit(value: [1], version: Self.max, stale: false), returnAt: 30),
        ]
        let file = HistoryFile(model: StressCheck.model(allowSilentRemoval: false, reason: ""), simClockNs: Self.above53,
                               clockAdvanced: false, provenance: .object(["seed": JSON(unsigned: Self.max)]),
                               clients: [.init(id: 0, implementation: "go", pid: 1, participant: 1, killed: false),
                                         .init(id: 1, implementation: "rust", pid: 2, participant: 2, killed: false)],
                               operations: ops, extras: [.init(), .init(writer: .init(pid: 4, language: "go", participant: 1, startTime: Self.big))])
        let text = file.render()
        XCTAssertTrue(text.contains("\"version\":\(Self.max)"), text)
        XCTAssertTrue(text.contains("\"ask_version\":\(Self.big)"), text)
        let back = try HistoryFile.parse(Array(text.utf8), name: "h")
        XCTAssertEqual(back.operations, ops)
        XCTAssertEqual(back.simClockNs, Self.above53)
        XCTAssertEqual(back.extras[1].writer?.startTime, Self.big)
        XCTAssertEqual(back.provenance["seed"], JSON(unsigned: Self.max))
        // One spelling: the writer's members come out in the documented order (docs/HISTORY.md).
        XCTAssertTrue(text.hasPrefix("{\"format\":\"warmcheck-history\",\"version\":2,\"model\":{"), text)
    }

    func testPorcupineExportKeepsU64AndOrder() throws {
        let op = CacheOperation(clientId: 3, input: .get(key: [0x61]), call: Self.above53, output: .hit(value: [2], version: Self.max, stale: true),
                                returnAt: Self.above53 + 2)
        let line = HistoryExport.json(op).serialized
        XCTAssertEqual(line, "{\"client_id\":3,\"input\":{\"op\":\"get\",\"key_hex\":\"61\"},\"call\":\(Self.above53),"
                       + "\"output\":{\"type\":\"hit\",\"value_hex\":\"02\",\"version\":\(Self.max),\"stale\":true},\"return\":\(Self.above53 + 2)}")
        let j = try JSON.parse(line)
        XCTAssertEqual(j["output"]?["version"]?.uint, Self.max)
        XCTAssertEqual(j["call"]?.uint, Self.above53)
        // An ordered object is the same value as the parsed one.
        XCTAssertEqual(j, HistoryExport.json(op))
    }

    func testStatsCountersKeepU64Exactly() throws {
        var c = ShardCounters()
        c.hits = Self.above53
        c.misses = Self.max
        c.reclaims = Self.big
        let j = try JSON.parse(StatsJSON.counters(c).serialized)
        XCTAssertEqual(j["hits"]?.uint, Self.above53)
        XCTAssertEqual(j["misses"]?.uint, Self.max)
        XCTAssertEqual(j["reclaims"]?.uint, Self.big)
        let p = ParticipantSummary(id: 1, alive: true, language: "go", languageCode: 1, protocolVersion: "1.1", pid: 7,
                                   startTime: Self.max, uid: 0, registeredAtNs: Self.above53, epoch: Self.big)
        let pj = try JSON.parse(p.json.serialized)
        XCTAssertEqual(pj["start_time"]?.uint, Self.max)
        XCTAssertEqual(pj["registered_at_ns"]?.uint, Self.above53)
        XCTAssertEqual(pj["epoch"]?.uint, Self.big)
    }

    func testStartupReportRoundTripsAndNamesTheBadField() throws {
        let row = StartupRow(row: "a", what: "warm", language: "go", entries: Self.above53, status: "measured", note: nil,
                             segmentBytes: Self.max, firstHit: StartupSummary(nanoseconds: [1_000_000, 3_000_000]), served99: nil, warm: nil)
        let report = StartupReport(command: "c", date: "d", loadBefore: "1", loadAfter: "2", cores: 2, coldCostNs: Self.big,
                                   rows: [row], targets: [StartupTarget(what: "t", language: "go", entries: 1, ratio: 1.5, goal: "≤ 2", met: true)])
        let text = report.json.pretty
        let back = try StartupReport(json: JSONField.parse(Data(text.utf8), source: "r.json"))
        XCTAssertEqual(back.coldCostNs, Self.big)
        XCTAssertEqual(back.rows[0].entries, Self.above53)
        XCTAssertEqual(back.rows[0].segmentBytes, Self.max)
        XCTAssertEqual(back.rows[0].firstHit?.p50, row.firstHit?.p50)
        XCTAssertNil(back.rows[0].served99)
        XCTAssertEqual(back.targets[0].ratio, 1.5)
        XCTAssertEqual(back.json, report.json)
        // A wrong field is named with its path; 2^64 is refused with the field named, not rounded.
        let bad = text.replacingOccurrences(of: "\"p50\": ", with: "\"p50\": \"x\", \"q\": ")
        XCTAssertThrowsError(try StartupReport(json: JSONField.parse(Data(bad.utf8), source: "r.json"))) { e in
            XCTAssertEqual("\(e)", "$.rows[0].firstHit.p50: expected a number, found \"x\"")
        }
        let huge = text.replacingOccurrences(of: "\(Self.big)", with: "18446744073709551616")
        XCTAssertThrowsError(try StartupReport(json: JSONField.parse(Data(huge.utf8), source: "r.json"))) { e in
            XCTAssertTrue("\(e)".hasPrefix("r.json: invalid JSON at byte"), "\(e)")
            XCTAssertTrue("\(e)".contains("in field \"coldCostNs\""), "\(e)")
        }
        let missing = text.replacingOccurrences(of: "\"cores\"", with: "\"kores\"")
        XCTAssertThrowsError(try StartupReport(json: JSONField.parse(Data(missing.utf8), source: "r.json"))) { e in
            XCTAssertEqual("\(e)", "$: missing field \"cores\"")
        }
    }

    func testConsumerLineIsExact() throws {
        let line = "{\"main_ns\":1764640000123456789,\"opened_ns\":1764640000123456790,\"first_hit_ns\":0,"
            + "\"served99_ns\":1764640000123456791,\"warm_ns\":9007199254740993,\"requests\":\(Self.max),\"hits\":\(Self.big)}"
        let m = try ConsumerLine(line: line)
        XCTAssertEqual(m.main_ns, 1_764_640_000_123_456_789)
        XCTAssertEqual(m.warm_ns, 9_007_199_254_740_993)
        XCTAssertEqual(m.requests, Self.max)
        XCTAssertEqual(m.hits, Self.big)
        XCTAssertThrowsError(try ConsumerLine(line: "{\"main_ns\":1.5}")) { e in
            XCTAssertEqual("\(e)", "$.main_ns: expected an integer in −2^63 … 2^63 − 1, found 1.5")
        }
    }

    func testKillHistoryRoundTrips() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jsonstack-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("kill-history.json").path
        var o = CaseOrdering(historyPath: path)
        XCTAssertTrue(o.counts.isEmpty && o.durations.isEmpty)
        let m = try XCTUnwrap(MutantGenerator.mutants(file: "put.go", text: "package p\nfunc putSlow(a int) bool { return a < 3 }\n",
                                                      language: .go).first)
        o.recordKill(m, by: "case-1")
        o.recordKill(m, by: "case-1")
        o.durations = ["case-1": 1.25, "case-2": 0.5]
        o.saveDurations()
        let back = CaseOrdering(historyPath: path)
        XCTAssertEqual(back.counts["put.go#" + m.function]?["case-1"], 2)
        XCTAssertEqual(back.counts, o.counts)
        XCTAssertEqual(back.durations, o.durations)
    }

    func testVocabularyReadsExactConstantsAndNamesTheField() throws {
        let url = try XCTUnwrap(Vocabulary.locate())
        let text = try String(contentsOf: url, encoding: .utf8)
        let v = try Vocabulary(json: JSONField.parse(Data(text.utf8), source: url.path))
        XCTAssertFalse(v.transitions.isEmpty)
        // A number constant above 2^53 (JSONDecoder went through Double for some of these).
        var j = try JSON.parse(text)
        guard case .object(var o) = j, case .object(var c)? = o["constants"] else { return XCTFail("no constants") }
        c["probe"] = JSON(unsigned: Self.above53)
        c["probe_hex"] = "0xffffffffffffffff"
        o["constants"] = .object(c)
        j = .object(o)
        let w = try Vocabulary(json: JSONField(j))
        XCTAssertEqual(w.constant("probe"), Self.above53)
        XCTAssertEqual(w.constant("probe_hex"), Self.max)
        guard case .array(var ts)? = o["transitions"], case .object(var t0) = ts[0] else { return XCTFail("no transitions") }
        t0["insert_lock"] = "yes"
        ts[0] = .object(t0)
        o["transitions"] = .array(ts)
        XCTAssertThrowsError(try Vocabulary(json: JSONField(.object(o)))) { e in
            XCTAssertEqual("\(e)", "$.transitions[0].insert_lock: expected true or false, found \"yes\"")
        }
    }

    func testOrderedObjectReadsLikeAnObject() throws {
        let o: JSON = .ordered([("b", 1), ("a", JSON(unsigned: Self.max))])
        XCTAssertEqual(o.serialized, "{\"b\":1,\"a\":\(Self.max)}")
        XCTAssertEqual(o["a"]?.uint, Self.max)
        XCTAssertEqual(o, ["a": JSON(unsigned: Self.max), "b": 1])
        XCTAssertNotEqual(o, ["a": JSON(unsigned: Self.max), "b": 2])
        XCTAssertEqual(try JSON.parse(o.pretty), o)
    }
}
