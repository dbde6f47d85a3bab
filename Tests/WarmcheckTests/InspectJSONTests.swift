import Foundation
import XCTest
@testable import WarmcheckCore
@_spi(Harness) import Warmcache

/// `warmcheck inspect --json` is built from the harness's `JSON` value. Its field names and
/// nesting are pinned here, by name and against the inspector's report types' own Codable
/// encoding (what the command printed before), on a healthy segment and a refused one.
final class InspectJSONTests: XCTestCase {
    func segment(_ bytes: Int? = nil) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var data = try Data(contentsOf: root.appendingPathComponent("testdata/golden/1.0/segment.seg"))
        if let bytes { data = data.prefix(bytes) }
        let path = NSTemporaryDirectory() + "wc-inspect-json-\(getpid())-\(bytes ?? 0).seg"
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    func keys(_ j: JSON?) -> [String] { (j?.object ?? [:]).keys.sorted() }

    func testFieldNamesAndNestingArePinned() throws {
        let path = try segment()
        defer { unlink(path) }
        let r = InspectReport.make(path: path)
        let j = try JSON.parse(r.jsonText)
        XCTAssertEqual(j, r.json, "the text is the value")
        XCTAssertEqual(keys(j), ["header", "healthy", "occupancy", "participants", "path", "problems", "shards", "totals"])
        XCTAssertEqual(keys(j["header"]), [
            "created_at_ns", "creator_language", "creator_pid", "creator_start_time", "creator_uid", "event_seq",
            "features_compat", "features_incompat", "generation", "geometry", "header_checksum", "header_size", "is_ready",
            "layout_fingerprint", "magic", "participants_offset", "ready", "shard_size", "shards_offset", "sim_clock",
            "sim_clock_ns", "slot_size", "total_len", "version_clock", "version_major", "version_minor", "waiters",
        ])
        XCTAssertEqual(keys(j["header"]?["geometry"]),
                       ["key_capacity", "participant_capacity", "probe_window", "shard_count", "slots_per_shard", "value_capacity"])
        let counters = ["evictions", "expirations", "hits", "inserts", "invalidations", "misses", "reclaims", "refreshes", "stale_hits"]
        XCTAssertEqual(keys(j["totals"]), counters)
        let shard = try XCTUnwrap(j["shards"]?.array?.first)
        XCTAssertEqual(keys(shard), ["counters", "occupancy", "shard"])
        XCTAssertEqual(keys(shard["counters"]), counters)
        let participant = try XCTUnwrap(j["participants"]?.array?.first)
        XCTAssertEqual(keys(participant), ["alive", "epoch", "index", "language", "pid", "protocol_major", "protocol_minor",
                                           "registered_at_ns", "start_time", "uid"])
        XCTAssertEqual(j["header"]?["magic"], .int(0x484341434D524157))
        XCTAssertEqual(j["path"], .string(path))
        XCTAssertEqual(try Self.codable(r.report), j, "the same fields and values as the report types' Codable encoding")
    }

    /// A refused segment: the error is there, totals are left out (not null), the header as found.
    func testRefusedSegmentKeepsTheErrorAndLeavesOutWhatIsAbsent() throws {
        let path = try segment(5000)
        defer { unlink(path) }
        let r = InspectReport.make(path: path)
        XCTAssertEqual(r.exitStatus, 2)
        XCTAssertEqual(keys(r.json), ["error", "header", "healthy", "occupancy", "participants", "path", "problems", "shards"])
        XCTAssertEqual(keys(r.json["error"]), ["code", "message"])
        XCTAssertEqual(r.json["error"]?["code"], .string("truncated"))
        XCTAssertEqual(try Self.codable(r.report), r.json)
    }

    /// The reference the command used to print (JSONEncoder over the Warmcache types), read back.
    static func codable(_ report: InspectionReport) throws -> JSON {
        try JSON.parse(try JSONEncoder().encode(report))
    }
}
