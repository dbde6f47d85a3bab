import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// §9.9 repair in the Swift library: each action on exactly the damage made, nothing else
/// touched, and a live participant's claim and lock left alone.
final class RepairTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { paths.forEach(removeFile) }

    func make(name: String = #function) throws -> (WarmCache, String) {
        let p = tempPath(name)
        paths.append(p)
        return (try WarmCache.create(path: p, geometry: small, options: WarmCacheOptions().harness(trace: true)), p)
    }

    func entry(_ c: WarmCache, _ key: String) throws -> DumpEntry {
        try XCTUnwrap(try c.dump().entries.first { $0.key == bytes(key) }, "\(key) is not in the segment")
    }

    /// One corrupt checksum, one dead owner's claim, one dead holder's insert lock and one
    /// impossible word: each is reported once in its list, the three repairable ones are gone,
    /// every other entry reads back, counters balance and header word 768 counts the quarantine.
    func testRepairActsOnExactlyTheDamage() throws {
        let (c, p) = try make()
        defer { c.close() }
        for i in 0..<20 { XCTAssertTrue(c.put(bytes("k\(i)"), bytes("v\(i)")).isOK) }
        let l = c.layout
        let bad = try entry(c, "k3")
        let badSlot = l.slotOffset(bad.shard, bad.slot)
        let badWord = StateWord(raw: readWord(p, at: badSlot + Layout.SLOT_STATE))
        let sumOff = l.recordOffset(badSlot, badWord.active) + Layout.REC_CHECKSUM
        patchWord(p, at: sumOff, readWord(p, at: sumOff) &+ 1)

        let dying = try WarmCache.open(path: p)
        dying.testStopAfterClaim = true
        XCTAssertEqual(dying.put(bytes("orphan"), bytes("x")), .fail(.busy))   // WRITING(dying) left
        dying.close()

        let lockShard = (bad.shard + 1) % l.shardCount
        patchWord(p, at: l.shardOffset(lockShard) + Layout.SH_INSERT_LOCK, 7)   // participant 7 never registered

        // An EMPTY slot given state code 9: no transition leaves such a word.
        let used = Set(try c.dump().entries.map { [$0.shard, $0.slot] })
        let emptyJ = try XCTUnwrap((0..<l.slotsPerShard).first { j in
            !used.contains([lockShard, j]) && StateWord(raw: readWord(p, at: l.slotOffset(lockShard, j))).kind == .empty
        })
        patchWord(p, at: l.slotOffset(lockShard, emptyJ) + Layout.SLOT_STATE, 9)

        let rep = try c.repair()
        XCTAssertEqual(rep.quarantined.map { [$0.shard, $0.slot] }, [[bad.shard, bad.slot]])
        XCTAssertTrue(rep.quarantined.first?.detail.contains("checksum") == true, "\(rep.quarantined)")
        XCTAssertEqual(rep.reclaimed.count, 1)
        XCTAssertTrue(rep.reclaimed.first?.detail.contains("WRITING") == true)
        XCTAssertEqual(rep.locksFreed.map(\.shard), [lockShard])
        XCTAssertEqual(rep.unrepairable.map { [$0.shard, $0.slot] }, [[lockShard, emptyJ]])
        XCTAssertEqual(rep.quarantinedTotal, 1)
        XCTAssertEqual(readWord(p, at: Layout.HDR_QUARANTINED), 1)
        XCTAssertEqual(StateWord(raw: readWord(p, at: badSlot + Layout.SLOT_STATE)).kind, .empty)
        XCTAssertEqual(readWord(p, at: l.shardOffset(lockShard) + Layout.SH_INSERT_LOCK), 0)
        for i in 0..<20 where i != 3 { XCTAssertEqual(c.get(bytes("k\(i)")).value, bytes("v\(i)"), "k\(i)") }
        XCTAssertEqual(c.get(bytes("k3")), .miss)
        let t = try c.stats().totals
        XCTAssertEqual(t.invalidations, 1)        // the quarantine counts as an invalidate does
        XCTAssertEqual(t.reclaims, 2)             // one freed lock, one reclaimed claim
        XCTAssertEqual(try c.stats().occupancy["READY"], 19)
        XCTAssertEqual(try c.stats().occupancy["WRITING"] ?? 0, 0)
        let events = c.drainTransitions()
        XCTAssertTrue(events.contains { $0.event == "invalidate_claim" && $0.slot == bad.slot && $0.shard == bad.shard })
        XCTAssertTrue(events.contains { $0.event == "reclaim" && $0.from == "WRITING" && $0.to == "EMPTY" })

        // A second repair has nothing left to act on; the impossible word is still reported.
        let again = try c.repair()
        XCTAssertEqual(again.quarantined.count + again.reclaimed.count + again.locksFreed.count, 0)
        XCTAssertEqual(again.unrepairable.count, 1)
        XCTAssertEqual(again.quarantinedTotal, 1)
    }

    /// What a live participant holds stays: its WRITING claim and its insert lock.
    func testRepairLeavesTheLive() throws {
        let (c, p) = try make()
        defer { c.close() }
        let writer = try WarmCache.open(path: p)
        defer { writer.close() }
        writer.testStopAfterClaim = true
        XCTAssertEqual(writer.put(bytes("mine"), bytes("x")), .fail(.busy))
        let lockOff = c.layout.shardOffset(0) + Layout.SH_INSERT_LOCK
        let lockBefore = readWord(p, at: lockOff)
        patchWord(p, at: lockOff, UInt64(writer.participantId))
        let rep = try c.repair()
        XCTAssertEqual(rep.reclaimed.count + rep.locksFreed.count + rep.quarantined.count + rep.unrepairable.count, 0)
        XCTAssertEqual(readWord(p, at: lockOff), UInt64(writer.participantId))
        XCTAssertEqual(try c.stats().occupancy["WRITING"], 1)
        patchWord(p, at: lockOff, lockBefore)
    }

    func testRepairOfAClosedHandle() throws {
        let (c, _) = try make()
        c.close()
        XCTAssertThrowsError(try c.repair())
    }
}
