import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

final class CacheTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { paths.forEach(removeFile); paths = [] }

    func make(_ g: Geometry = small, sim: UInt64? = nil, name: String = #function) throws -> (WarmCache, String) {
        let p = tempPath(name)
        paths.append(p)
        let c = try WarmCache.create(path: p, geometry: g, options: WarmCacheOptions().harness(simClockStartNs: sim, trace: true))
        return (c, p)
    }

    func testCreateOpenRoundTrip() throws {
        let (a, p) = try make()
        defer { a.close() }
        XCTAssertEqual(a.participantId, 1)
        XCTAssertTrue(a.created)
        XCTAssertEqual(a.put(bytes("user:42"), bytes("alice")), .ok(version: 1, created: true, shard: a.get(bytes("user:42")).hit?.shard ?? -1, slot: a.get(bytes("user:42")).hit?.slot ?? -1))
        let b = try WarmCache.open(path: p)
        defer { b.close() }
        XCTAssertEqual(b.participantId, 2)
        XCTAssertEqual(b.geometry, small)
        let hit = try XCTUnwrap(b.get(bytes("user:42")).hit)
        XCTAssertEqual(hit.value, bytes("alice"))
        XCTAssertEqual(hit.version, 1)
        XCTAssertEqual(hit.provenance.language, Layout.LANG_SWIFT)
        XCTAssertEqual(hit.provenance.participant, 1)
        XCTAssertEqual(hit.provenance.pid, UInt32(getpid()))
        XCTAssertEqual(hit.provenance.protocolMajor, 1)
        XCTAssertThrowsError(try WarmCache.create(path: p, geometry: small)) { e in
            XCTAssertEqual((e as? SegmentError)?.code, "exists")
        }
        let c = try WarmCache.openOrCreate(path: p, geometry: small)
        XCTAssertFalse(c.created)
        XCTAssertEqual(c.participantId, 3)
        c.close()
        // Mode 0600 and no leftover .init. files.
        var st = stat()
        XCTAssertEqual(stat(p, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        let dir = (p as NSString).deletingLastPathComponent
        let base = (p as NSString).lastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(base + ".init.") }
        XCTAssertEqual(leftovers, [])
        let parts = try a.participants()
        XCTAssertEqual(parts.filter(\.alive).map(\.index), [0, 1])
        XCTAssertEqual(parts.count, 3)
    }

    func testPutGetRefresh() throws {
        let (c, _) = try make()
        defer { c.close() }
        XCTAssertEqual(c.get(bytes("k")), .miss)
        guard case .ok(let v1, true, _, _) = c.put(bytes("k"), bytes("v1"), options: PutOptions(originTag: 9)) else { return XCTFail() }
        guard case .ok(let v2, false, _, _) = c.put(bytes("k"), bytes("v2")) else { return XCTFail() }
        XCTAssertGreaterThan(v2, v1)
        XCTAssertEqual(c.get(bytes("k")).value, bytes("v2"))
        guard case .ok(let v3, false, _, _) = c.refresh(bytes("k"), Array(repeating: 7, count: 256)) else { return XCTFail() }
        XCTAssertGreaterThan(v3, v2)
        XCTAssertEqual(c.get(bytes("k")).value, Array(repeating: 7, count: 256))
        XCTAssertEqual(c.refresh(bytes("nope"), bytes("x")), .fail(.notFound))
        XCTAssertEqual(c.put(bytes("k"), Array(repeating: 0, count: 257)), .fail(.tooLarge))
        XCTAssertEqual(c.put(Array(repeating: 1, count: 33), bytes("x")), .fail(.tooLarge))
        XCTAssertEqual(c.put([], bytes("x")), .fail(.tooLarge))
        // Empty value is allowed.
        XCTAssertTrue(c.put(bytes("empty"), []).isOK)
        XCTAssertEqual(c.get(bytes("empty")).value, [])
        let s = try c.stats()
        XCTAssertEqual(s.totals.inserts, 2)
        XCTAssertEqual(s.totals.refreshes, 2)
        XCTAssertEqual(s.occupancy["READY"], 2)
        let t = c.drainTransitions().map(\.event)
        XCTAssertEqual(Array(t.prefix(4)), ["claim", "publish", "refresh_claim", "refresh_publish"])
        let d = try c.dump()
        XCTAssertEqual(d.problems, [])
        XCTAssertEqual(Set(d.entries.map(\.key)), [bytes("k"), bytes("empty")])
    }

    // MARK: get(_:into:)

    func testGetIntoMatchesGet() throws {
        let (c, _) = try make(sim: 1_000)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), bytes("value"), options: PutOptions(ttlNs: 100, graceNs: 50, originTag: 7)).isOK)
        XCTAssertTrue(c.put(bytes("empty"), []).isOK)
        XCTAssertTrue(c.put(bytes("odd"), bytes("thirteen-byte")).isOK)   // a partial last word
        XCTAssertTrue(c.put(bytes("full"), (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 7) }).isOK)
        var buf: [UInt8] = []
        for key in ["k", "empty", "odd", "full", "k"] {
            let hit = try XCTUnwrap(c.get(bytes(key)).hit, key)
            let info = try XCTUnwrap(c.get(bytes(key), into: &buf), key)
            XCTAssertEqual(info, hit.info, key)
            XCTAssertEqual(buf, hit.value, key)
            XCTAssertEqual(Hit(value: buf, info: info), hit, key)
        }
        XCTAssertEqual(buf, bytes("value"))
        let fresh = try XCTUnwrap(c.get(bytes("k"), into: &buf))
        XCTAssertEqual(fresh.originTag, 7)
        XCTAssertEqual(fresh.expiresAt, 1_100)
        XCTAssertEqual(fresh.staleUntil, 1_150)
        XCTAssertEqual(fresh.writtenAt, 1_000)
        XCTAssertEqual(fresh.provenance.participant, 1)
        XCTAssertFalse(fresh.stale)
        // Expiry (§12) goes through the same path: get(into:) can be the reader whose T7 asks for
        // the refresh, and a later plain get sees STALE without being asked.
        try c.setSimClock(1_100)
        let stale = try XCTUnwrap(c.get(bytes("k"), into: &buf))
        XCTAssertTrue(stale.stale)
        XCTAssertTrue(stale.refreshRequested)
        XCTAssertEqual(buf, bytes("value"))
        let hit = try XCTUnwrap(c.get(bytes("k")).hit)
        XCTAssertTrue(hit.stale)
        XCTAssertFalse(hit.refreshRequested)
        XCTAssertEqual(c.get(bytes("k"), into: &buf), hit.info)
        try c.setSimClock(1_150)
        XCTAssertEqual(c.get(bytes("k")), .miss)
        XCTAssertNil(c.get(bytes("k"), into: &buf))
        XCTAssertEqual(buf, [])
        // Both count the same way.
        let t = try c.stats().totals
        XCTAssertEqual(t.hits, 10 + 1)
        XCTAssertEqual(t.staleHits, 3)
        XCTAssertEqual(t.misses, 2)
    }

    func testGetIntoReusesBuffer() throws {
        let (c, _) = try make()
        defer { c.close() }
        let sizes = [256, 256, 64, 13, 0, 200, 1, 256]
        let values = sizes.enumerated().map { i, n in (0..<n).map { UInt8(truncatingIfNeeded: $0 &+ i) } }
        for (i, v) in values.enumerated() { XCTAssertTrue(c.put(bytes("s\(i)"), v).isOK) }
        var buf: [UInt8] = []
        XCTAssertNotNil(c.get(bytes("s0"), into: &buf))
        XCTAssertEqual(buf, values[0])
        let capacity = buf.capacity
        let base = buf.withUnsafeBufferPointer { $0.baseAddress }
        // Hits of equal or smaller size, in any order, stay in the first buffer.
        for (i, v) in values.enumerated() {
            XCTAssertNotNil(c.get(bytes("s\(i)"), into: &buf), "s\(i)")
            XCTAssertEqual(buf, v, "s\(i)")
            XCTAssertEqual(buf.capacity, capacity, "s\(i)")
            XCTAssertEqual(buf.withUnsafeBufferPointer { $0.baseAddress }, base, "s\(i)")
        }
        // A buffer the caller reserved up front is used from the first hit.
        var reserved: [UInt8] = []
        reserved.reserveCapacity(256)
        let reservedBase = reserved.withUnsafeBufferPointer { $0.baseAddress }
        let reservedCapacity = reserved.capacity
        for i in [2, 0, 3] {
            XCTAssertNotNil(c.get(bytes("s\(i)"), into: &reserved))
            XCTAssertEqual(reserved, values[i])
            XCTAssertEqual(reserved.withUnsafeBufferPointer { $0.baseAddress }, reservedBase)
            XCTAssertEqual(reserved.capacity, reservedCapacity)
        }
        // Value semantics hold: a copy the caller kept is not overwritten (the buffer is shared,
        // so this hit copies on write instead of reusing it).
        let kept = buf
        XCTAssertNotNil(c.get(bytes("s2"), into: &buf))
        XCTAssertEqual(kept, values[7])
        XCTAssertEqual(buf, values[2])
        // A buffer too small grows to hold the value.
        var tiny: [UInt8] = [1, 2, 3]
        XCTAssertNotNil(c.get(bytes("s5"), into: &tiny))
        XCTAssertEqual(tiny, values[5])
    }

    func testGetIntoMissEmptiesBuffer() throws {
        let (c, p) = try make()
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), Array(repeating: 5, count: 100)).isOK)
        var buf: [UInt8] = []
        XCTAssertNotNil(c.get(bytes("k"), into: &buf))
        let capacity = buf.capacity
        let misses = try c.stats().totals.misses
        // Absent, impossible key lengths, then removed: every kind of miss empties the buffer
        // (keeping its capacity) and counts like get's.
        for key in [bytes("absent"), [], Array(repeating: 1, count: Int(small.keyCapacity) + 1)] {
            XCTAssertNil(c.get(key, into: &buf))
            XCTAssertEqual(buf, [])
            XCTAssertEqual(buf.capacity, capacity)
            XCTAssertNotNil(c.get(bytes("k"), into: &buf))
            XCTAssertEqual(buf.count, 100)
        }
        XCTAssertEqual(try c.stats().totals.misses, misses + 3)
        XCTAssertEqual(c.invalidate(bytes("k")), .ok(removed: true))
        XCTAssertNil(c.get(bytes("k"), into: &buf))
        XCTAssertEqual(buf, [])
        XCTAssertEqual(c.get(bytes("k")), .miss)
        // A closed handle finds nothing without touching the (unmapped) segment; `get(_:)` says why.
        let other = try WarmCache.open(path: p)
        XCTAssertTrue(other.put(bytes("k"), bytes("v")).isOK)
        XCTAssertNotNil(other.get(bytes("k"), into: &buf))
        other.close()
        XCTAssertNil(other.get(bytes("k"), into: &buf))
        XCTAssertEqual(buf, [])
        XCTAssertEqual(other.get(bytes("k")), .closed)
    }

    func testInvalidateAndEvict() throws {
        let (c, _) = try make()
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("a"), bytes("1")).isOK)
        XCTAssertTrue(c.put(bytes("b"), bytes("2")).isOK)
        let g0 = try c.generation()
        XCTAssertEqual(c.invalidate(bytes("a")), .ok(removed: true))
        XCTAssertEqual(c.invalidate(bytes("a")), .ok(removed: false))
        XCTAssertEqual(c.get(bytes("a")), .miss)
        XCTAssertEqual(c.evict(bytes("b")), .ok(removed: true))
        XCTAssertEqual(c.get(bytes("b")), .miss)
        XCTAssertEqual(try c.generation(), g0 &+ 2)
        let s = try c.stats().totals
        XCTAssertEqual(s.invalidations, 1)
        XCTAssertEqual(s.evictions, 1)
        // Re-insert after invalidation; explicit versions may restart.
        XCTAssertEqual(c.put(bytes("a"), bytes("3"), options: PutOptions(version: 1)).version, 1)
        XCTAssertEqual(c.get(bytes("a")).value, bytes("3"))
    }

    func testClockEvictionUnderPressure() throws {
        let g = Geometry(shardCount: 1, slotsPerShard: 8, keyCapacity: 16, valueCapacity: 16, probeWindow: 8, participantCapacity: 4)
        let (c, _) = try make(g)
        defer { c.close() }
        for i in 0..<8 { XCTAssertTrue(c.put(bytes("key\(i)"), bytes("v\(i)")).isOK) }
        XCTAssertEqual(try c.stats().occupancy["READY"], 8)
        for i in 8..<40 {
            guard case .ok(_, true, _, _) = c.put(bytes("key\(i)"), bytes("v\(i)")) else { return XCTFail("put \(i)") }
            XCTAssertEqual(c.get(bytes("key\(i)")).value, bytes("v\(i)"))
        }
        let s = try c.stats()
        XCTAssertEqual(s.totals.evictions, 32)
        XCTAssertEqual(s.occupancy["READY"], 8)
        let present = (0..<40).filter { c.get(bytes("key\($0)")) != .miss }
        XCTAssertEqual(present.count, 8)
        XCTAssertTrue(c.drainTransitions().contains { $0.event == "evict" })
        XCTAssertEqual(try c.dump().problems, [])
    }

    func testSimClockExpiry() throws {
        let (c, p) = try make(sim: 1_000)
        defer { c.close() }
        XCTAssertTrue(c.usesSimClock)
        XCTAssertTrue(c.put(bytes("t"), bytes("v"), options: PutOptions(ttlNs: 100, graceNs: 50)).isOK)
        var h = try XCTUnwrap(c.get(bytes("t")).hit)
        XCTAssertFalse(h.stale)
        XCTAssertEqual(h.expiresAt, 1_100)
        XCTAssertEqual(h.staleUntil, 1_150)
        XCTAssertEqual(h.writtenAt, 1_000)
        try c.setSimClock(1_100)
        let other = try WarmCache.open(path: p)
        defer { other.close() }
        h = try XCTUnwrap(other.get(bytes("t")).hit)
        XCTAssertTrue(h.stale)
        XCTAssertTrue(h.refreshRequested)
        for _ in 0..<3 {
            h = try XCTUnwrap(c.get(bytes("t")).hit)
            XCTAssertTrue(h.stale)
            XCTAssertFalse(h.refreshRequested)
        }
        try c.setSimClock(1_150)
        XCTAssertEqual(c.get(bytes("t")), .miss)
        XCTAssertEqual(try c.stats().totals.staleHits, 4)
        // The expired slot is reused by an insert of the same window (T11).
        XCTAssertTrue(c.put(bytes("t"), bytes("w")).isOK)   // refresh path: key still present (STALE)
        XCTAssertEqual(c.get(bytes("t")).value, bytes("w"))
        XCTAssertThrowsError(try WarmCache.create(path: p + "x", geometry: small).setSimClock(5)) { e in
            XCTAssertEqual(e as? UsageError, .simClockNotEnabled)
        }
        removeFile(p + "x")
    }

    func testExpiredSlotReusedByInsert() throws {
        let g = Geometry(shardCount: 1, slotsPerShard: 2, keyCapacity: 16, valueCapacity: 16, probeWindow: 2, participantCapacity: 4)
        let (c, _) = try make(g, sim: 10)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("a"), bytes("1"), options: PutOptions(ttlNs: 5)).isOK)
        XCTAssertTrue(c.put(bytes("b"), bytes("2")).isOK)
        try c.setSimClock(20)
        _ = c.drainTransitions()
        XCTAssertTrue(c.put(bytes("c"), bytes("3")).isOK)
        XCTAssertEqual(c.drainTransitions().first?.event, "expire")
        XCTAssertEqual(try c.stats().totals.expirations, 1)
        XCTAssertEqual(c.get(bytes("b")).value, bytes("2"))
    }

    func testVersions() throws {
        let (c, _) = try make()
        defer { c.close() }
        var last: UInt64 = 0
        for i in 0..<20 {
            let v = try XCTUnwrap(c.put(bytes("k"), bytes("\(i)")).version)
            XCTAssertGreaterThan(v, last)
            last = v
            XCTAssertEqual(c.get(bytes("k")).hit?.version, v)
        }
        XCTAssertEqual(c.put(bytes("k"), bytes("x"), options: PutOptions(version: last)), .fail(.versionNotNewer))
        XCTAssertEqual(c.put(bytes("k"), bytes("x"), options: PutOptions(version: 1)), .fail(.versionNotNewer))
        XCTAssertEqual(c.get(bytes("k")).hit?.version, last)
        XCTAssertEqual(c.get(bytes("k")).value, bytes("19"))
        XCTAssertEqual(c.put(bytes("k"), bytes("x"), options: PutOptions(version: 1000)).version, 1000)
        XCTAssertEqual(c.put(bytes("k"), bytes("y")).version, 1001)
        XCTAssertTrue(c.drainTransitions().contains { $0.event == "refresh_abort" })
    }

    func testConcurrentPutsOfOneKey() throws {
        let (c, p) = try make()
        defer { c.close() }
        let other = try WarmCache.open(path: p)
        defer { other.close() }
        let threads = 4, perThread = 300
        final class Box: @unchecked Sendable { var r: [[UInt64]]; let lock = NSLock(); init(_ n: Int) { r = Array(repeating: [], count: n) } }
        let box = Box(threads)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let h = t % 2 == 0 ? c : other
            var mine: [UInt64] = []
            for i in 0..<perThread {
                switch h.put(bytes("hot"), bytes("t\(t)-\(i)")) {
                case .ok(let v, _, _, _): mine.append(v)
                case .fail(let f): XCTAssertEqual(f, .busy)
                }
                if case .hit(let hit) = h.get(bytes("hot")) {
                    XCTAssertTrue(hit.value.starts(with: bytes("t")))
                }
            }
            box.lock.lock(); box.r[t] = mine; box.lock.unlock()
        }
        var all: [UInt64] = []
        for t in 0..<threads {
            XCTAssertEqual(box.r[t], box.r[t].sorted(), "versions of one writer increase")
            all += box.r[t]
        }
        XCTAssertEqual(Set(all).count, all.count, "no version handed out twice")
        let final = try XCTUnwrap(c.get(bytes("hot")).hit)
        XCTAssertEqual(final.version, all.max())
        let d = try c.dump()
        XCTAssertEqual(d.problems, [])
        XCTAssertEqual(d.entries.filter { $0.key == bytes("hot") }.count, 1)
    }

    func testReclaimDeadWriterClaim() throws {
        let (a, p) = try make()
        defer { a.close() }
        let b = try WarmCache.open(path: p)
        b.testStopAfterClaim = true
        XCTAssertEqual(b.put(bytes("k"), bytes("never")), .fail(.busy))
        let bid = b.participantId
        XCTAssertEqual(try a.stats().occupancy["WRITING"], 1)
        XCTAssertEqual(SegmentInspector.inspect(path: p).problems, [])   // owner alive: not a problem
        b.close()
        let report = SegmentInspector.inspect(path: p)
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertTrue(report.problems[0].contains("dead"), report.problems[0])
        XCTAssertFalse(report.healthy)
        XCTAssertEqual(a.get(bytes("k")), .miss)
        XCTAssertTrue(a.put(bytes("k"), bytes("v")).isOK)
        XCTAssertEqual(a.get(bytes("k")).value, bytes("v"))
        XCTAssertTrue(a.drainTransitions().contains { $0.event == "reclaim" && $0.from == "WRITING" && $0.to == "EMPTY" })
        XCTAssertEqual(try a.stats().totals.reclaims, 1)

        // A dead refresher: readers keep the old value; a writer reclaims (T13) and refreshes.
        let c = try WarmCache.open(path: p)
        XCTAssertEqual(c.participantId, bid)   // reuses the dead entry (swept nothing: already reclaimed)
        c.testStopAfterClaim = true
        XCTAssertEqual(c.put(bytes("k"), bytes("never")), .fail(.busy))
        XCTAssertEqual(try a.stats().occupancy["REFRESHING"], 1)
        c.close()
        XCTAssertEqual(a.get(bytes("k")).value, bytes("v"))
        XCTAssertTrue(a.put(bytes("k"), bytes("v2")).isOK)
        XCTAssertEqual(a.get(bytes("k")).value, bytes("v2"))
        XCTAssertEqual(try a.stats().totals.reclaims, 2)

        // A dead invalidator: the next opener at its index sweeps it (registration sweep).
        let d = try WarmCache.open(path: p)
        d.testStopAfterClaim = true
        XCTAssertEqual(d.invalidate(bytes("k")), .fail(.busy))
        XCTAssertEqual(try a.stats().occupancy["INVALIDATED"], 1)
        d.close()
        let e = try WarmCache.open(path: p)
        defer { e.close() }
        XCTAssertEqual(e.participantId, bid)
        XCTAssertEqual(try a.stats().occupancy["INVALIDATED"], 0)
        XCTAssertEqual(a.get(bytes("k")), .miss)
        XCTAssertEqual(try a.stats().totals.reclaims, 3)
        XCTAssertTrue(SegmentInspector.inspect(path: p).healthy)
    }

    func testWaitForChange() throws {
        let (c, p) = try make()
        defer { c.close() }
        let other = try WarmCache.open(path: p)
        defer { other.close() }
        let g0 = try c.generation()
        let r = try c.waitForChange(seen: g0, timeoutNs: 20_000_000)
        XCTAssertTrue(r.timedOut)
        XCTAssertEqual(r.generation, g0)
        let started = expectation(description: "woken")
        let t = Thread {
            let w = try! c.waitForChange(seen: g0, timeoutNs: 30_000_000_000)
            XCTAssertFalse(w.timedOut)
            XCTAssertNotEqual(w.generation, g0)
            started.fulfill()
        }
        t.start()
        usleep(50_000)
        XCTAssertTrue(other.put(bytes("x"), bytes("y")).isOK)
        wait(for: [started], timeout: 30)
        XCTAssertEqual(readWord(p, at: Layout.HDR_WAITERS), 0)
    }

    func testInspectorDoesNotRegister() throws {
        let (c, p) = try make()
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("a"), bytes("b")).isOK)
        let before = try Data(contentsOf: URL(fileURLWithPath: p))
        let r = SegmentInspector.inspect(path: p)
        let after = try Data(contentsOf: URL(fileURLWithPath: p))
        XCTAssertEqual(before, after)
        XCTAssertNil(r.error)
        XCTAssertTrue(r.healthy)
        XCTAssertEqual(r.participants.map(\.alive), [true])
        XCTAssertEqual(r.header?.geometry, small)
        XCTAssertEqual(r.header?.creatorLanguage, Layout.LANG_SWIFT)
        XCTAssertEqual(r.totals?.inserts, 1)
        XCTAssertEqual(r.occupancy["READY"], 1)
        let json = try JSONEncoder().encode(r)
        XCTAssertNoThrow(try JSONDecoder().decode(InspectionReport.self, from: json))
    }
}
