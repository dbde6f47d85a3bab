import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// The "agreement" cases of testdata/vectors.json (PROTOCOL.md §13.1): odd segments that every
/// implementation must answer the same way. The Go and Rust tests run the same cases.
final class AgreementTests: XCTestCase {
    private func n(_ v: Any?) -> UInt64 { (v as? String).flatMap { UInt64($0) } ?? 0 }

    /// A JSON scalar as text: strings as they are, booleans (NSNumber from JSONSerialization
    /// included) as true/false.
    private func text(_ v: Any?) -> String {
        if let s = v as? String { return s }
        if let b = v as? Bool { return b ? "true" : "false" }
        return v.map { "\($0)" } ?? "nil"
    }

    func testAgreementVectors() throws {
        let data = try Data(contentsOf: repoRoot.appendingPathComponent("testdata/vectors.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let a = try XCTUnwrap(root["agreement"] as? [String: Any])
        let g = try XCTUnwrap(a["geometry"] as? [String: Int])
        let dim = { (k: String) in UInt32(g[k]!) }
        let geo = Geometry(shardCount: dim("shard_count"), slotsPerShard: dim("slots_per_shard"),
                           keyCapacity: dim("key_capacity"), valueCapacity: dim("value_capacity"),
                           probeWindow: dim("probe_window"), participantCapacity: dim("participant_capacity"))
        let cases = try XCTUnwrap(a["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 9)
        for c in cases {
            let name = c["name"] as! String
            let p = tempPath("agreement\(name)")
            defer { removeFile(p) }
            var opts = WarmCacheOptions()
            opts.simClockStartNs = n(a["sim_clock_ns"])
            let cache = try WarmCache.create(path: p, geometry: geo, options: opts)
            defer { cache.close() }
            for (i, st) in (c["steps"] as! [[String: Any]]).enumerated() {
                try run(st, on: cache, path: p, at: "\(name) step \(i)")
            }
        }
    }

    /// One step; raw writes go through the file, which shares its pages with the mapping.
    private func run(_ st: [String: Any], on c: WarmCache, path p: String, at: String) throws {
        let ex = st["expect"] as? [String: Any] ?? [:]
        let off = st["offset"] as? Int ?? 0
        switch st["op"] as! String {
        case "set_word": patchWord(p, at: off, n(st["value"]))
        case "or_word": patchWord(p, at: off, readWord(p, at: off) | n(st["bits"]))
        case "copy":
            let (from, len) = (st["from"] as! Int, st["len"] as! Int)
            var buf = [UInt8]()
            for w in stride(from: 0, to: len, by: 8) {
                withUnsafeBytes(of: readWord(p, at: from + w).littleEndian) { buf += $0 }
            }
            patch(p, at: st["to"] as! Int, buf)
        case "set_clock": try c.setSimClock(n(st["now_ns"]))
        case "put":
            let o = PutOptions(ttlNs: n(st["ttl_ns"]), graceNs: n(st["grace_ns"]), version: n(st["version"]))
            let r = c.put(fromHexString(st["key_hex"] as! String), fromHexString(st["value_hex"] as! String), options: o)
            if let code = ex["fail"] as? String {
                XCTAssertEqual(r.failure?.code, code, at)
            } else {
                XCTAssertEqual(r.version.map { String($0) }, ex["version"] as? String, at)
            }
        case "get":
            var got: [String: Any] = ["hit": false]
            if let h = c.get(fromHexString(st["key_hex"] as! String)).hit {
                got = ["hit": true, "value_hex": h.value.map { String(format: "%02x", $0) }.joined(),
                       "version": String(h.version), "stale": h.stale, "refresh_requested": h.refreshRequested,
                       "expires_at_ns": String(h.expiresAt), "stale_until_ns": String(h.staleUntil)]
            }
            for (k, want) in ex {
                XCTAssertEqual(text(got[k]), text(want), "\(at): get field \(k) (\(got))")
            }
        case "dump":
            let d = try c.dump()
            XCTAssertEqual(d.entries.map(\.slot), ex["slots"] as! [Int], "\(at): dump entries (problems \(d.problems))")
            XCTAssertEqual(!d.problems.isEmpty, ex["problems"] as! Bool, "\(at): \(d.problems)")
        case let op: XCTFail("\(at): unknown op \(op)")
        }
    }
}
