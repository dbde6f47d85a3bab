import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// The claim hint and the lazy registration sweep (PROTOCOL.md §5 step 2, §5.1).
final class LazySweepTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { paths.forEach(removeFile); paths = [] }

    func make(name: String = #function) throws -> (WarmCache, String) {
        let p = tempPath(name)
        paths.append(p)
        return (try WarmCache.create(path: p, geometry: small), p)
    }

    func legacy(_ p: String) throws -> WarmCache { try WarmCache.open(path: p, options: WarmCacheOptions(legacySweep: true)) }

    func testCleanPredecessorCostsNoSweep() throws {
        let (keeper, p) = try make()
        defer { keeper.close() }
        let a = try WarmCache.open(path: p)   // entry 1
        XCTAssertTrue(a.put(bytes("k"), bytes("v")).isOK)
        XCTAssertEqual(a.claimHintWord, 0, "claim_hint after a finished put")
        a.close()
        // WRITING(2) in shard 3 slot 0, a claim no hint covers: a lazy registrant does not look.
        let off = keeper.layout.slotOffset(3, 0) + Layout.SLOT_STATE
        keeper.words.storeRelease(off, StateWord(.writing, active: 0, owner: 2, seq: 1).raw)
        let b = try WarmCache.open(path: p)
        XCTAssertEqual(b.participantId, 2)
        XCTAssertEqual(StateWord(raw: keeper.words.loadAcquire(off)).kind, .writing, "lazy registration swept an uncovered slot")
        b.close()
        let l = try legacy(p)
        defer { l.close() }
        XCTAssertEqual(StateWord(raw: keeper.words.loadAcquire(off)).kind, .empty, "the 1.0 sweep did not reach every slot")
    }

    func testSuccessorSweepsTheHintedWindow() throws {
        let (keeper, p) = try make()
        defer { keeper.close() }
        let dying = try WarmCache.open(path: p)
        dying.testStopAfterClaim = true
        XCTAssertEqual(dying.put(bytes("k"), bytes("never")), .fail(.busy))
        XCTAssertEqual(dying.claimHintWord & 0xFFFF, 1, "in_flight while holding a claim")
        dying.close()
        let s = try WarmCache.open(path: p)
        defer { s.close() }
        XCTAssertEqual(try keeper.stats().totals.reclaims, 1)
        XCTAssertEqual(try keeper.stats().occupancy["WRITING"], 0)
    }

    /// A 1.0 owner never writes the hint: what an earlier 1.1 owner of the same entry left there
    /// ("no claims") must not be trusted after it.
    func testStaleHintOfAnEarlierEpochIsNotTrusted() throws {
        let (keeper, p) = try make()
        defer { keeper.close() }
        let lazy = try WarmCache.open(path: p)
        XCTAssertTrue(lazy.put(bytes("a"), bytes("1")).isOK)
        lazy.close()   // entry 1: claim_hint 0, hint_epoch 1
        let old = try legacy(p)
        old.testStopAfterClaim = true
        XCTAssertEqual(old.put(bytes("b"), bytes("2")), .fail(.busy))
        old.close()    // a 1.0 owner died holding a claim; epoch 2, hint_epoch still 1
        let s = try WarmCache.open(path: p)
        defer { s.close() }
        XCTAssertEqual(try keeper.stats().totals.reclaims, 1, "stale hint trusted")
        XCTAssertEqual(try keeper.stats().occupancy["WRITING"], 0)
    }

    func testHintCountsAndWidens() throws {
        let (c, _) = try make()
        defer { c.close() }
        c.enterHint(shard: 1, home: 2)
        c.enterHint(shard: 1, home: 2)
        XCTAssertEqual(c.claimHintWord, 1 << 32 | 2 << 16 | 2)
        c.enterHint(shard: 3, home: 0)
        XCTAssertNotEqual(c.claimHintWord & Layout.HINT_WIDE, 0, "an operation elsewhere did not widen")
        c.leaveHint(); c.leaveHint()
        XCTAssertEqual(c.claimHintWord & (Layout.HINT_WIDE | Layout.HINT_IN_FLIGHT), Layout.HINT_WIDE | 1)
        c.leaveHint()
        XCTAssertEqual(c.claimHintWord, 0)
    }
}
