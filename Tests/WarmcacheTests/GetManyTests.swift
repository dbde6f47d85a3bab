import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// The batched `get(_:into:)` against N single gets (docs/using/swift.md "Batched gets"): the same
/// batch on two identical segments gives the same results, values, counters and slot states.
final class GetManyTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { paths.forEach(removeFile); paths = [] }

    /// A segment with every case a batch must answer as N gets do: fresh hits, a stale entry (TTL
    /// passed, grace not: the first get makes T7), one expired past its grace, a key mid-insert
    /// (WRITING: not readable) and one mid-refresh (REFRESHING: its active record still served);
    /// the batch also asks absent, empty and over-long keys, and the stale key twice so that only
    /// the first may request the refresh. Returns the writer, a second handle and the batch.
    func segment(_ name: String) throws -> (WarmCache, WarmCache, [[UInt8]]) {
        let p = tempPath(name)
        paths.append(p)
        let a = try WarmCache.create(path: p, geometry: small, options: WarmCacheOptions().harness(simClockStartNs: 1_000, trace: false))
        for i in 0..<8 { XCTAssertTrue(a.put(bytes("hit\(i)"), bytes("value-\(i)")).isOK) }
        XCTAssertTrue(a.put(bytes("stale"), bytes("old"), options: PutOptions(ttlNs: 100, graceNs: 500)).isOK)
        XCTAssertTrue(a.put(bytes("expired"), bytes("gone"), options: PutOptions(ttlNs: 10)).isOK)
        for (key, kind) in [("writing", SlotStateKind.writing), ("refreshing", .refreshing)] {
            guard case .ok(_, _, let s, let j) = a.put(bytes(key), bytes("served")) else { XCTFail("put \(key)"); continue }
            let off = a.layout.slotOffset(s, j) + Layout.SLOT_STATE
            let w = StateWord(raw: readWord(p, at: off))
            patchWord(p, at: off, w.next(kind, active: w.active, owner: a.participantId).raw)
        }
        try a.setSimClock(1_200)
        let keys = ["hit0", "stale", "absent", "writing", "hit5", "expired", "stale", "refreshing"].map(bytes)
            + [[], [UInt8](repeating: 120, count: Int(small.keyCapacity) + 1), bytes("hit7"), bytes("hit0")]
        return (a, try WarmCache.open(path: p), keys)
    }

    func testBatchIsNGets() throws {
        let (a1, one, keys) = try segment("one")
        let (a2, many, _) = try segment("many")
        defer { [a1, one, a2, many].forEach { $0.close() } }
        var wantValues = [[UInt8]](repeating: [], count: keys.count)
        let want = keys.indices.map { one.get(keys[$0], into: &wantValues[$0]) }
        // Buffers that held something: a miss must leave its buffer empty, as the single get does.
        var gotValues = [[UInt8]](repeating: bytes("leftover"), count: keys.count)
        let got = many.get(keys, into: &gotValues)
        XCTAssertEqual(got, want)
        XCTAssertEqual(gotValues, wantValues)
        // Pin the cases, so that the comparison cannot pass on two equally wrong answers.
        XCTAssertEqual(got.map { $0 != nil }, [true, true, false, false, true, false, true, true, false, false, true, true])
        XCTAssertEqual(got[1]?.stale, true)
        XCTAssertEqual(got[1]?.refreshRequested, true)
        XCTAssertEqual(got[6]?.refreshRequested, false)
        XCTAssertEqual(gotValues[7], bytes("served"))
        XCTAssertEqual(try one.stats().totals, try many.stats().totals)
        let states = { (c: WarmCache) in try c.dump().entries.map { "\($0.shard)/\($0.slot) \($0.state) \($0.seq)" } }
        XCTAssertEqual(try states(a1), try states(a2))
    }

    func testLongBatchIsServedInChunks() throws {
        let p = tempPath()
        paths.append(p)
        let c = try WarmCache.create(path: p, geometry: Geometry(shardCount: 8, slotsPerShard: 128, keyCapacity: 16, valueCapacity: 32,
                                                                 probeWindow: 16, participantCapacity: 8))
        defer { c.close() }
        let n = 2 * WarmCache.maxGetBatch + 3
        let keys = (0..<n).map { bytes("key\($0)") }
        for i in 0..<n where i % 3 != 0 { XCTAssertTrue(c.put(keys[i], bytes("v\(i)")).isOK) }
        var values = [[UInt8]](repeating: [], count: n)
        let got = c.get(keys, into: &values)
        for i in 0..<n {
            XCTAssertEqual(got[i] != nil, i % 3 != 0, "key \(i)")
            XCTAssertEqual(values[i], i % 3 != 0 ? bytes("v\(i)") : [], "key \(i)")
        }
    }

    func testClosedHandleMissesEveryKey() throws {
        let p = tempPath()
        paths.append(p)
        let c = try WarmCache.create(path: p, geometry: small)
        XCTAssertTrue(c.put(bytes("a"), bytes("1")).isOK)
        c.close()
        var values = [bytes("x"), bytes("y")]
        XCTAssertEqual(c.get([bytes("a"), bytes("b")], into: &values), [nil, nil])
        XCTAssertEqual(values, [[], []])
    }
}
