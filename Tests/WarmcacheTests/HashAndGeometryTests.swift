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

    /// FastMod must agree with `%` for every divisor a geometry can have and beyond, at the
    /// edges of x and at random x: a wrong remainder puts keys in other shards and slots than
    /// the Go and Rust implementations look in.
    func testFastModAgreesWithDivision() {
        var rng = SystemRandomNumberGenerator()
        var divisors: [UInt32] = [1, 2, 3, 7, 16, 63, 64, 100, 511, 512, 1000, 65535, 65536, 1 << 31 - 1, 1 << 31, .max]
        for _ in 0..<200 { divisors.append(UInt32.random(in: 1...65536, using: &rng)) }
        for d in divisors {
            let f = FastMod(d)
            var xs: [UInt32] = [0, 1, d &- 1, d, d &+ 1, d &* 2 &- 1, .max, .max - 1, 1 << 31]
            for _ in 0..<2000 { xs.append(UInt32.random(in: 0...UInt32.max, using: &rng)) }
            for x in xs where f.rem(x) != x % d {
                XCTFail("FastMod(\(d)).rem(\(x)) = \(f.rem(x)), want \(x % d)")
                return
            }
        }
    }

    /// place and windowSlot (FastMod, one subtraction) give the §6 definitions for every hash
    /// tried and every window position.
    func testPlacementIsTheSpecDefinition() throws {
        for g in [Geometry.default, Geometry(shardCount: 3, slotsPerShard: 7, probeWindow: 7),
                  Geometry(shardCount: 1, slotsPerShard: 1, probeWindow: 1)] {
            let layout = SegmentLayout(validated: g)
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15
            for _ in 0..<5000 {
                h = h &* 6364136223846793005 &+ 1442695040888963407
                let (s, home) = layout.place(h)
                XCTAssertEqual(s, Int((h >> 32) % UInt64(g.shardCount)))
                XCTAssertEqual(home, Int((h & 0xFFFF_FFFF) % UInt64(g.slotsPerShard)))
                for k in 0..<layout.probeWindow {
                    XCTAssertEqual(layout.windowSlot(home, k), (home + k) % layout.slotsPerShard)
                }
            }
        }
    }

    /// loadWord's one-load tail equals the byte-by-byte zero-padded word, for every length and
    /// word position (one past the end too), and WCH64 of every length still equals the
    /// byte-wise definition.
    func testLoadWordTailAndHashOfEveryLength() {
        let bytes = [UInt8]((1...40).map { UInt8($0) })
        for n in 0...bytes.count {
            bytes[..<n].withUnsafeBytes { b in
                var i = 0
                while i <= n {
                    var want: UInt64 = 0
                    for j in 0..<8 where i + j < n { want |= UInt64(b[i + j]) << (8 * UInt64(j)) }
                    XCTAssertEqual(WCH64.loadWord(b, at: i), want, "word at \(i) of \(n) bytes")
                    i += 8
                }
                var h = WCH64.start(seed: Layout.KEY_SEED, length: n)
                var padded = Array(b) + [UInt8](repeating: 0, count: 8)
                for w in 0..<WCH64.wordCount(n) {
                    let word = padded[8 * w..<8 * w + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                    h = WCH64.absorb(h, word)
                }
                padded.removeAll()
                XCTAssertEqual(WCH64.hash(b, seed: Layout.KEY_SEED), WCH64.finish(h), "WCH64 of \(n) bytes")
            }
        }
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
