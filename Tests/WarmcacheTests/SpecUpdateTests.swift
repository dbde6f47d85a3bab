// Tests for the spec update: event owners and gseq (§8.4), dead claims as insert victims
// (§9.4, §9.8), pause points (§17) and fault switches (DRIVER.md).

import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// One window for every key: shard 0, slots 0..3.
let oneWindow = Geometry(shardCount: 1, slotsPerShard: 4, keyCapacity: 16, valueCapacity: 64, probeWindow: 4,
                         participantCapacity: 8)

/// Collects the pause points a handle reaches.
final class PointRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    var hook: PauseHook { { [self] p in lock.lock(); list.append(p.rawValue); lock.unlock() } }
    func take() -> [String] { lock.lock(); defer { list = []; lock.unlock() }; return list }
}

/// True the first time only: a pause hook that acts once, though a retry passes its point again.
final class RacedOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func first() -> Bool { lock.lock(); defer { done = true; lock.unlock() }; return !done }
}

final class SpecUpdateTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { paths.forEach(removeFile); paths = [] }

    func make(_ g: Geometry = small, sim: UInt64? = nil, faults: Faults = [], name: String = #function) throws -> (WarmCache, String) {
        let p = tempPath(name)
        paths.append(p)
        let c = try WarmCache.create(path: p, geometry: g,
                                     options: WarmCacheOptions().harness(simClockStartNs: sim, trace: true, faults: faults))
        return (c, p)
    }

    func open(_ p: String, faults: Faults = []) throws -> WarmCache {
        try WarmCache.open(path: p, options: WarmCacheOptions().harness(trace: true, faults: faults))
    }

    func events(_ t: [Transition]) -> [String] { t.map(\.event) }

    // MARK: §8.4 owner and gseq

    func testEventOwnersAndGseq() throws {
        let (a, p) = try make(sim: 1_000)
        defer { a.close() }
        let me = a.participantId
        var all: [Transition] = []

        XCTAssertTrue(a.put(bytes("k"), bytes("v1")).isOK)
        var t = a.drainTransitions(); all += t
        XCTAssertEqual(events(t), ["claim", "publish"])
        XCTAssertEqual(t.map(\.owner), [me, me])
        XCTAssertEqual(t.map(\.gseq), [0, 1], "gseq is the value fetch_add returns; the first event is 0")

        XCTAssertTrue(a.put(bytes("k"), bytes("v2")).isOK)
        XCTAssertEqual(a.refresh(bytes("k"), bytes("v3"), options: PutOptions(version: 1)), .fail(.versionNotNewer))
        t = a.drainTransitions(); all += t
        XCTAssertEqual(events(t), ["refresh_claim", "refresh_publish", "refresh_claim", "refresh_abort"])
        XCTAssertEqual(t.map(\.owner), [me, me, me, me])

        XCTAssertTrue(a.put(bytes("t"), bytes("x"), options: PutOptions(ttlNs: 100, graceNs: 1_000)).isOK)
        try a.setSimClock(1_150)
        XCTAssertEqual(a.get(bytes("t")).hit?.refreshRequested, true)
        t = a.drainTransitions(); all += t
        XCTAssertEqual(events(t), ["claim", "publish", "mark_stale"])
        XCTAssertEqual(t.map(\.owner), [me, me, 0], "mark_stale reports owner 0")

        XCTAssertEqual(a.invalidate(bytes("k")), .ok(removed: true))
        t = a.drainTransitions(); all += t
        XCTAssertEqual(events(t), ["invalidate_claim", "clear"])
        XCTAssertEqual(t.map(\.owner), [me, me])

        // A reclaim reports the DEAD owner, not the reclaimer.
        let b = try open(p)
        let dead = b.participantId
        XCTAssertNotEqual(dead, me)
        b.testStopAfterClaim = true
        XCTAssertEqual(b.put(bytes("w"), bytes("never")), .fail(.busy))
        let bt = b.drainTransitions(); all += bt
        XCTAssertEqual(bt.map(\.owner), [dead])
        b.close()
        XCTAssertTrue(a.put(bytes("w"), bytes("v")).isOK)
        t = a.drainTransitions(); all += t
        XCTAssertEqual(t.first?.event, "reclaim")
        XCTAssertEqual(t.first?.owner, dead)
        XCTAssertEqual(t.dropFirst().map(\.owner), [me, me])

        // gseq: one global order without gaps, starting at 0.
        XCTAssertEqual(all.map(\.gseq), (0..<UInt64(all.count)).map { $0 })
        XCTAssertEqual(a.words.loadRelaxed(Layout.HDR_EVENT_SEQ), UInt64(all.count))
    }

    func testEvictAndExpireOwners() throws {
        let (a, _) = try make(oneWindow, sim: 1_000)
        defer { a.close() }
        for i in 0..<4 { XCTAssertTrue(a.put(bytes("k\(i)"), bytes("v"), options: PutOptions(ttlNs: 10)).isOK) }
        _ = a.drainTransitions()
        XCTAssertTrue(a.put(bytes("n1"), bytes("v")).isOK)          // not expired yet: CLOCK
        var t = a.drainTransitions()
        XCTAssertEqual(events(t), ["evict", "publish"])
        XCTAssertEqual(t.map(\.owner), [a.participantId, a.participantId])
        try a.setSimClock(2_000)
        XCTAssertTrue(a.put(bytes("n2"), bytes("v")).isOK)          // past stale_until: T11
        t = a.drainTransitions()
        XCTAssertEqual(events(t), ["expire", "publish"])
        XCTAssertEqual(t.map(\.owner), [a.participantId, a.participantId])
    }

    // MARK: §9.4 victim selection, §9.8 reclaim

    func testDeadClaimsAreReusedAsVictims() throws {
        let (a, p) = try make(oneWindow)
        defer { a.close() }
        for k in ["k1", "k2", "k3"] { XCTAssertTrue(a.put(bytes(k), bytes("v")).isOK) }
        // A writer killed right after its claim: WRITING(d) in the last EMPTY slot.
        let b = try open(p)
        let bid = b.participantId
        b.testStopAfterClaim = true
        XCTAssertEqual(b.put(bytes("x"), bytes("never")), .fail(.busy))
        b.close()
        _ = a.drainTransitions()
        guard case .ok(_, true, _, let slot) = a.put(bytes("y"), bytes("vy")) else { return XCTFail("put y") }
        var t = a.drainTransitions()
        XCTAssertEqual(events(t), ["reclaim", "claim", "publish"], "no CLOCK eviction while a dead claim exists")
        XCTAssertEqual(t.map(\.slot), [slot, slot, slot])
        XCTAssertEqual(t[0].from, "WRITING"); XCTAssertEqual(t[0].to, "EMPTY"); XCTAssertEqual(t[0].owner, bid)
        XCTAssertEqual(t[1].from, "EMPTY")
        var st = try a.stats().totals
        XCTAssertEqual(st.reclaims, 1)
        XCTAssertEqual(st.evictions, 0)
        for k in ["k1", "k2", "k3", "y"] { XCTAssertNotNil(a.get(bytes(k)).hit, k) }

        // A dead invalidator: INVALIDATED(d) is reused the same way (T14).
        let d = try open(p)
        let did = d.participantId
        d.testStopAfterClaim = true
        XCTAssertEqual(d.invalidate(bytes("k1")), .fail(.busy))
        d.close()
        _ = a.drainTransitions()
        XCTAssertTrue(a.put(bytes("z"), bytes("vz")).isOK)
        t = a.drainTransitions()
        XCTAssertEqual(events(t), ["reclaim", "claim", "publish"])
        XCTAssertEqual(t[0].from, "INVALIDATED"); XCTAssertEqual(t[0].owner, did)
        st = try a.stats().totals
        XCTAssertEqual(st.reclaims, 2)
        XCTAssertEqual(st.evictions, 0)
        XCTAssertEqual(a.get(bytes("k1")), .miss)
    }

    func testReclaimerDoesNotTouchKeyHash() throws {
        let (a, p) = try make()
        defer { a.close() }
        guard case .ok(_, _, let s, let j) = a.put(bytes("k"), bytes("v")) else { return XCTFail("put") }
        let h = WCH64.hash(bytes("k"), seed: Layout.KEY_SEED)
        let hashOff = a.layout.slotOffset(s, j) + Layout.SLOT_KEY_HASH
        let d = try open(p)
        d.testStopAfterClaim = true
        XCTAssertEqual(d.invalidate(bytes("k")), .fail(.busy))   // T8 made, key_hash not yet zeroed
        d.close()
        let e = try open(p)                                       // same index: the sweep makes T14
        defer { e.close() }
        XCTAssertEqual(e.drainTransitions().map(\.event), ["reclaim"])
        XCTAssertEqual(StateWord(raw: a.words.loadRelaxed(a.layout.slotOffset(s, j))).kind, .empty)
        XCTAssertEqual(a.words.loadRelaxed(hashOff), h, "§9.8: a reclaimer does not touch key_hash")
        XCTAssertEqual(a.get(bytes("k")), .miss)
    }

    // MARK: §17 pause points

    func testPausePointOrder() throws {
        let (a, p) = try make(oneWindow)
        defer { a.close() }
        let r = PointRecorder()
        a.pauseHook = r.hook
        XCTAssertTrue(a.put(bytes("k"), bytes("v1")).isOK)
        XCTAssertEqual(r.take(), ["put.before_lock", "lock.after_acquire", "put.before_claim", "put.after_claim", "put.after_key",
                                  "put.after_payload"])
        XCTAssertTrue(a.put(bytes("k"), bytes("v2")).isOK)
        XCTAssertEqual(r.take(), ["refresh.before_claim", "refresh.after_claim", "refresh.after_payload"])
        XCTAssertNotNil(a.get(bytes("k")).hit)
        XCTAssertEqual(r.take(), ["get.after_key_match", "get.between_seq_reads"])
        XCTAssertEqual(a.get(bytes("absent")), .miss)
        XCTAssertEqual(r.take(), [])
        XCTAssertEqual(a.invalidate(bytes("k")), .ok(removed: true))
        XCTAssertEqual(r.take(), ["invalidate.before_claim", "invalidate.after_claim"])
        _ = try a.waitForChange(seen: try a.generation(), timeoutNs: 1_000_000)
        XCTAssertEqual(r.take(), ["wait.before_park"])

        for i in 0..<4 { XCTAssertTrue(a.put(bytes("f\(i)"), bytes("v")).isOK) }
        _ = r.take()
        XCTAssertTrue(a.put(bytes("g"), bytes("v")).isOK)
        XCTAssertEqual(r.take(), ["put.before_lock", "lock.after_acquire", "evict.after_victim", "put.after_claim", "put.after_key",
                                  "put.after_payload"])

        let b = try open(p)
        b.testStopAfterClaim = true
        XCTAssertEqual(b.put(bytes("g"), bytes("never")), .fail(.busy))   // REFRESHING(b)
        b.close()
        XCTAssertTrue(a.put(bytes("g"), bytes("v2")).isOK)
        XCTAssertEqual(r.take(), ["reclaim.before_cas", "refresh.before_claim", "refresh.after_claim", "refresh.after_payload"])
        a.pauseHook = nil
        XCTAssertTrue(a.put(bytes("g"), bytes("v3")).isOK)
        XCTAssertEqual(r.take(), [])
        XCTAssertEqual(PausePoint.allNames.count, 37) // 17 of the cache operations + 4 of the durable store + 5 of namespaces + 4 of compaction + 5 of create + 1 of repair + create.before_flock (PROTOCOL.md §17)
    }

    func testGetIntoPassesThePausePoints() throws {
        let (a, _) = try make(oneWindow)
        defer { a.close() }
        let r = PointRecorder()
        a.pauseHook = r.hook
        XCTAssertTrue(a.put(bytes("k"), bytes("v1")).isOK)
        _ = r.take()
        var buf: [UInt8] = []
        XCTAssertNotNil(a.get(bytes("k"), into: &buf))
        XCTAssertEqual(r.take(), ["get.after_key_match", "get.between_seq_reads"])
        XCTAssertNil(a.get(bytes("absent"), into: &buf))
        XCTAssertEqual(r.take(), [])
    }

    /// Two refreshes by another handle between a reader's copy and its second state load: the
    /// copy is of a record that is then rewritten, so the reader must retry (into the same
    /// buffer, now with a value of another length); FAULT skip_second_seq_check returns the copy.
    func testGetIntoRetriesARacedCopy() throws {
        for faulty in [false, true] {
            let (a, p) = try make(oneWindow, name: "\(#function)\(faulty)")
            defer { a.close() }
            let writer = try open(p)
            defer { writer.close() }
            let reader = try open(p, faults: faulty ? .skipSecondSeqCheck : [])
            defer { reader.close() }
            let old = Array(repeating: UInt8(1), count: 64)
            let new = bytes("thirteen-byte")
            guard case .ok(let v1, _, _, _) = a.put(bytes("k"), old) else { return XCTFail("put") }
            let raced = RacedOnce()
            reader.pauseHook = { [raced] point in
                guard point == .getBetweenSeqReads, raced.first() else { return }
                _ = writer.put(bytes("k"), bytes("intermediate"))
                _ = writer.put(bytes("k"), new)
            }
            var buf: [UInt8] = []
            let info = try XCTUnwrap(reader.get(bytes("k"), into: &buf))
            if faulty {
                XCTAssertEqual(buf, old)
                XCTAssertEqual(info.version, v1)
            } else {
                XCTAssertEqual(buf, new)
                XCTAssertEqual(info, a.get(bytes("k")).hit?.info)
                XCTAssertGreaterThan(info.version, v1)
            }
        }
    }

    func testPauseHookGivenAtOpenSeesTheSweep() throws {
        let (a, p) = try make()
        defer { a.close() }
        XCTAssertTrue(a.put(bytes("k"), bytes("v")).isOK)
        let d = try open(p)
        d.testStopAfterClaim = true
        XCTAssertEqual(d.invalidate(bytes("k")), .fail(.busy))
        d.close()
        let r = PointRecorder()
        let e = try WarmCache.open(path: p, options: WarmCacheOptions().harness(pauseHook: r.hook))
        defer { e.close() }
        XCTAssertEqual(r.take(), ["reclaim.before_cas"])
    }

    // MARK: Fault switches

    func testFaultNames() {
        XCTAssertEqual(Faults.allNames.count, 14) // DRIVER.md "Fault switches": 12, and the two of namespaces (§18)
        for n in Faults.allNames { XCTAssertEqual(Faults(name: n)?.names, [n]) }
        XCTAssertNil(Faults(name: "nope"))
    }

    func testFaultWrongHash() throws {
        let (a, p) = try make()
        defer { a.close() }
        let f = try open(p, faults: .wrongHash)
        defer { f.close() }
        guard case .ok(_, _, let s, let j) = f.put(bytes("key"), bytes("v")) else { return XCTFail("put") }
        XCTAssertEqual(a.words.loadRelaxed(a.layout.slotOffset(s, j) + Layout.SLOT_KEY_HASH),
                       WCH64.hash(bytes("key"), seed: Layout.KEY_SEED &+ 1))
        XCTAssertEqual(f.get(bytes("key")).value, bytes("v"))
        XCTAssertEqual(a.get(bytes("key")), .miss)
        XCTAssertTrue(a.put(bytes("other"), bytes("w")).isOK)
        XCTAssertEqual(f.get(bytes("other")), .miss)
    }

    func testFaultNoVersionBump() throws {
        let (a, p) = try make()
        defer { a.close() }
        let f = try open(p, faults: .noVersionBump)
        defer { f.close() }
        let v1 = try XCTUnwrap(f.put(bytes("k"), bytes("v1")).version)
        XCTAssertEqual(f.put(bytes("k"), bytes("v2")).version, v1)
        XCTAssertEqual(a.get(bytes("k")).hit?.version, v1)
        XCTAssertEqual(a.get(bytes("k")).value, bytes("v2"))
        XCTAssertGreaterThan(try XCTUnwrap(a.put(bytes("k"), bytes("v3")).version), v1)
    }

    func testFaultNeverReclaim() throws {
        let (a, p) = try make()
        defer { a.close() }
        let f = try open(p, faults: .neverReclaim)
        defer { f.close() }
        let b = try open(p)
        b.testStopAfterClaim = true
        XCTAssertEqual(b.put(bytes("k"), bytes("never")), .fail(.busy))
        b.close()
        XCTAssertEqual(f.put(bytes("k"), bytes("v")), .fail(.busy))
        XCTAssertEqual(try a.stats().occupancy["WRITING"], 1)
        XCTAssertEqual(try a.stats().totals.reclaims, 0)
        // Nor is a dead holder's insert lock freed.
        let h = WCH64.hash(bytes("new"), seed: Layout.KEY_SEED)
        let lockOff = a.layout.shardOffset(a.layout.place(h).shard) + Layout.SH_INSERT_LOCK
        a.words.storeRelease(lockOff, 7)   // participant 7 never registered: dead
        XCTAssertEqual(f.put(bytes("new"), bytes("v")), .fail(.busy))
        XCTAssertEqual(a.words.loadRelaxed(lockOff), 7)
        // A correct handle does both.
        XCTAssertTrue(a.put(bytes("k"), bytes("v")).isOK)
        XCTAssertTrue(a.put(bytes("new"), bytes("v")).isOK)
        XCTAssertEqual(try a.stats().totals.reclaims, 2)
    }

    func testFaultIgnoreChecksum() throws {
        let (a, p) = try make()
        defer { a.close() }
        let f = try open(p, faults: .ignoreChecksum)
        defer { f.close() }
        guard case .ok(_, _, let s, let j) = a.put(bytes("k"), bytes("12345678")) else { return XCTFail("put") }
        let slotOff = a.layout.slotOffset(s, j)
        let st = StateWord(raw: a.words.loadRelaxed(slotOff))
        a.words.storeRelaxed(a.layout.recordOffset(slotOff, st.active) + Layout.REC_VALUE, 0x4141_4141_4141_4141)
        XCTAssertEqual(a.get(bytes("k")), .miss)
        XCTAssertEqual(f.get(bytes("k")).value, bytes("AAAAAAAA"))
    }

    func testFaultStaleForever() throws {
        let (a, p) = try make(sim: 1_000)
        defer { a.close() }
        let f = try open(p, faults: .staleForever)
        defer { f.close() }
        XCTAssertTrue(a.put(bytes("k"), bytes("v"), options: PutOptions(ttlNs: 10, graceNs: 10)).isOK)
        try a.setSimClock(5_000)   // past stale_until_ns
        XCTAssertEqual(a.get(bytes("k")), .miss)
        let hit = try XCTUnwrap(f.get(bytes("k")).hit)
        XCTAssertTrue(hit.stale)
        XCTAssertEqual(hit.value, bytes("v"))
    }

    func testFaultPublishBeforePayload() throws {
        let (a, p) = try make()
        defer { a.close() }
        let f = try open(p, faults: .publishBeforePayload)
        defer { f.close() }
        let seen = PointRecorder()
        f.pauseHook = { point in
            if point == .putAfterPayload {
                // Already published, payload not yet written: a reader sees READY with no value.
                XCTAssertEqual(try! a.stats().occupancy["READY"], 1)
                XCTAssertEqual(a.get(bytes("k")), .miss)
            }
            seen.hook(point)
        }
        XCTAssertTrue(f.put(bytes("k"), bytes("v")).isOK)
        XCTAssertEqual(seen.take().last, "put.after_payload")
        XCTAssertEqual(a.get(bytes("k")).value, bytes("v"))
    }

    func testFaultSkipInsertLockAndNoGenerationBump() throws {
        let (a, p) = try make()
        defer { a.close() }
        let f = try open(p, faults: [.skipInsertLock, .noGenerationBump])
        defer { f.close() }
        let r = PointRecorder()
        f.pauseHook = r.hook
        let g = try a.generation()
        XCTAssertTrue(f.put(bytes("k"), bytes("v")).isOK)
        XCTAssertFalse(r.take().contains("lock.after_acquire"))
        XCTAssertEqual(try a.generation(), g)
        XCTAssertTrue(a.put(bytes("k"), bytes("v2")).isOK)
        XCTAssertEqual(try a.generation(), g &+ 1)
    }

    func testFaultStealLiveClaim() throws {
        let (a, p) = try make()
        defer { a.close() }
        let b = try open(p)
        defer { b.close() }
        b.testStopAfterClaim = true
        XCTAssertEqual(b.put(bytes("k"), bytes("never")), .fail(.busy))   // b is alive
        let f = try open(p, faults: .stealLiveClaim)
        defer { f.close() }
        XCTAssertTrue(f.put(bytes("k"), bytes("v")).isOK)
        let t = f.drainTransitions()
        XCTAssertEqual(t.first?.event, "reclaim")
        XCTAssertEqual(t.first?.owner, b.participantId)
    }
}
