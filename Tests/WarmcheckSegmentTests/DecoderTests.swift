import Foundation
import XCTest
@testable import WarmcheckSegment

/// The harness's own decoder against the spec's vectors and the golden image (written by Rust).
final class DecoderTests: XCTestCase {
    func testWCH64MatchesTheSpecVectors() throws {
        let data = try Data(contentsOf: repoRoot.appendingPathComponent("testdata/vectors.json"))
        let vectors = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["vectors"] as! [[String: Any]]
        XCTAssertGreaterThan(vectors.count, 5)
        for v in vectors {
            let input = hexBytes(v["input_hex"] as! String)
            XCTAssertEqual(String(SpecHash.wch64(input, seed: SpecHash.keySeed), radix: 16).leftPad(16), v["key_hash"] as? String)
            XCTAssertEqual(String(SpecHash.wch64(input, seed: SpecHash.valueSeed), radix: 16).leftPad(16), v["value_checksum"] as? String)
            XCTAssertEqual(String(SpecHash.wch64(input, seed: SpecHash.headerSeed), radix: 16).leftPad(16), v["header_seed"] as? String)
        }
    }

    func testGeometryFormulasOfSection16() throws {
        let s = try snapshot(try golden())
        XCTAssertEqual(s.geometry.shardCount, 4)
        XCTAssertEqual(s.geometry.slotsPerShard, 16)
        XCTAssertEqual(s.geometry.totalLen, 58368)
        XCTAssertEqual(s.geometry.slotSize, (64 + 32 + 2 * (64 + 256) + 63) / 64 * 64)
    }

    func testGoldenImageDecodesToItsExpectedEntries() throws {
        let s = try snapshot(try golden())
        XCTAssertEqual(s.problems, [])
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: repoRoot.appendingPathComponent("testdata/golden/1.0/expected.json"))) as! [String: Any]
        let want = expected["entries"] as! [[String: Any]]
        var got: [[UInt8]: RecordView] = [:]
        for sh in 0..<s.geometry.shardCount {
            for j in 0..<s.geometry.slotsPerShard {
                let v = s.slot(sh, j)
                if v.word.state?.isReadable == true { got[v.key!] = v.activeRecord }
            }
        }
        XCTAssertEqual(got.count, want.count)
        for e in want {
            let r = try XCTUnwrap(got[hexBytes(e["key_hex"] as! String)], "\(e["key_hex"]!)")
            XCTAssertEqual(r.value, hexBytes(e["value_hex"] as! String))
            XCTAssertEqual(r.version, (e["version"] as! NSNumber).uint64Value)
            XCTAssertEqual(UInt64(r.originTag), (e["origin_tag"] as! NSNumber).uint64Value)
            XCTAssertEqual(r.expiresAtNs, (e["expires_at_ns"] as! NSNumber).uint64Value)
            XCTAssertEqual(r.staleUntilNs, (e["stale_until_ns"] as! NSNumber).uint64Value)
            XCTAssertEqual(r.writtenAtNs, (e["written_at_ns"] as! NSNumber).uint64Value)
            XCTAssertEqual(r.writer.language, 2, "written by Rust")
            XCTAssertEqual(r.writer.participantLow8, 1)
        }
    }

    /// The 1.1 image through the harness's own decoder: no problem, the namespace table its
    /// expected view names (testdata/golden/1.1/README.md), and exactly the namespace entries its
    /// dump lists, each parsed back to (ns, version, user key) from the spec's prefix.
    func testGoldenImageOfOnePointOneDecodesItsNamespaceTable() throws {
        let dir = repoRoot.appendingPathComponent("testdata/golden/1.1")
        let s = try snapshot(Array(try Data(contentsOf: dir.appendingPathComponent("segment.seg"))))
        XCTAssertEqual(s.problems, [])
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json"))) as! [String: Any]
        var used = Set<Int>()
        for t in expected["namespaces"] as! [[String: Any]] {
            let ns = t["ns"] as! Int
            used.insert(ns)
            let v = s.namespace(ns)
            XCTAssertEqual([v.current, v.previous, v.last], ["current", "previous", "last"].map { UInt64(t[$0] as! Int) }, "namespace \(ns)")
            XCTAssertEqual(v.stager, 0, "namespace \(ns)")
        }
        XCTAssertTrue(s.namespaces.filter { !used.contains($0.ns) }.allSatisfy(\.isEmpty), "the unused namespaces stay zero")
        var inSlots: [String] = []
        for sh in 0..<s.geometry.shardCount {
            for j in 0..<s.geometry.slotsPerShard {
                let v = s.slot(sh, j)
                if v.word.state?.isReadable == true, let k = v.key, let p = SpecNamespace.parse(k) {
                    inSlots.append("\(p.ns)/\(p.version)/\(String(decoding: p.user, as: UTF8.self))")
                }
            }
        }
        XCTAssertEqual(inSlots.sorted(), ["0/1/item/a1", "0/1/item/b1", "0/2/item/a1", "0/2/item/c1", "1/1/x1"])
    }
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
