import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

final class HashAndGeometryTests: XCTestCase {
    func loadVectors() throws -> [String: Any] {
        let data = try Data(contentsOf: repoRoot.appendingPathComponent("testdata/vectors.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testWCH64Vectors() throws {
        let v = try loadVectors()
        let vectors = try XCTUnwrap(v["vectors"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(vectors.count, 8)
        let layout = SegmentLayout(validated: .default)
        for vec in vectors {
            let input = fromHexString(vec["input_hex"] as! String)
            let kh = WCH64.hash(input, seed: Layout.KEY_SEED)
            XCTAssertEqual(String(format: "%016llx", kh), vec["key_hash"] as? String, "key hash of \(input.count) bytes")
            XCTAssertEqual(String(format: "%016llx", WCH64.hash(input, seed: Layout.VALUE_SEED)),
                           vec["value_checksum"] as? String)
            XCTAssertEqual(String(format: "%016llx", WCH64.hash(input, seed: Layout.HEADER_SEED)),
                           vec["header_seed"] as? String)
            let (s, home) = layout.place(kh)
            XCTAssertEqual(s, vec["default_shard"] as? Int)
            XCTAssertEqual(home, vec["default_home"] as? Int)
        }
    }

    func testSpecTableVectors() {
        XCTAssertEqual(WCH64.hash([], seed: Layout.KEY_SEED), 0x301652d7fcec3de2)
        XCTAssertEqual(WCH64.hash(bytes("warmcache"), seed: Layout.VALUE_SEED), 0xd0a0e1ea3a69b896)
        XCTAssertEqual(WCH64.hash(Array(0..<64), seed: Layout.KEY_SEED), 0xf86bd55f1f8a1dc5)
    }

    func testGeometryFigures() throws {
        let v = try loadVectors()
        let geos = try XCTUnwrap(v["geometry"] as? [[String: Any]])
        for g in geos {
            func u(_ k: String) -> UInt32 { UInt32(g[k] as! Int) }
            let geo = Geometry(shardCount: u("shard_count"), slotsPerShard: u("slots_per_shard"),
                               keyCapacity: u("key_capacity"), valueCapacity: u("value_capacity"),
                               probeWindow: u("probe_window"), participantCapacity: u("participant_capacity"))
            XCTAssertNil(geo.createViolation())
            XCTAssertEqual(geo.slotSize, UInt64(g["slot_size"] as! Int))
            XCTAssertEqual(geo.participantsOffset, UInt64(g["participants_offset"] as! Int))
            XCTAssertEqual(geo.shardsOffset, UInt64(g["shards_offset"] as! Int))
            XCTAssertEqual(geo.shardSize, UInt64(g["shard_size"] as! Int))
            XCTAssertEqual(geo.totalLen, UInt64(g["total_len"] as! Int))
        }
        XCTAssertEqual(String(format: "%016llx", Layout.LAYOUT_FINGERPRINT), v["layout_fingerprint"] as? String)
        XCTAssertEqual(Geometry.default.recordSize, 1088)
        XCTAssertEqual(Geometry.default.slotSize, 2304)
    }

    func testGeometryRulesInOrder() {
        var g = Geometry.default
        g.shardCount = 0; g.probeWindow = 0
        XCTAssertTrue(g.limitViolation()!.hasPrefix("rule 1"))
        g.shardCount = 1
        XCTAssertTrue(g.limitViolation()!.hasPrefix("rule 5"))
        g.probeWindow = 65
        XCTAssertTrue(g.limitViolation()!.hasPrefix("rule 5"))
        g = .default; g.keyCapacity = 12
        XCTAssertTrue(g.limitViolation()!.hasPrefix("rule 3"))
        g = .default; g.shardCount = 65536; g.slotsPerShard = 65536
        XCTAssertTrue(g.createViolation()!.hasPrefix("rule 8"))
    }

    func testStateWord() {
        let w = StateWord(.refreshing, active: 1, owner: 7, seq: 0xFFFF_FFFF)
        XCTAssertEqual(w.kind, .refreshing)
        XCTAssertEqual(w.active, 1)
        XCTAssertEqual(w.owner, 7)
        XCTAssertEqual(w.next(.ready).seq, 0)
        XCTAssertEqual(w.next(.ready).active, 1)
        XCTAssertNil(StateWord(raw: 9).validKind(participantCapacity: 16))
        XCTAssertNil(StateWord(.writing, active: 0, owner: 0, seq: 1).validKind(participantCapacity: 16))
        XCTAssertNil(StateWord(.ready, active: 0, owner: 3, seq: 1).validKind(participantCapacity: 16))
        XCTAssertNil(StateWord(.writing, active: 0, owner: 17, seq: 1).validKind(participantCapacity: 16))
        XCTAssertNil(StateWord(raw: StateWord(.ready, active: 0, owner: 0, seq: 1).raw | 0x200).validKind(participantCapacity: 16))
    }
}
