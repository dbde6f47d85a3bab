import Foundation
import XCTest
@testable import WarmcheckSegment

/// Damage the golden image slot by slot: each invariant gives its own typed problem at the
/// right place, and a healthy slot gives none.
final class ProblemTests: XCTestCase {
    /// The golden image, its geometry, and its first readable slot whose key sits at its home
    /// slot and whose value leaves padding in its last word.
    func fixture() throws -> (bytes: [UInt8], snap: SegmentSnapshot, at: SlotAt) {
        let b = try golden()
        let s = try snapshot(b)
        for sh in 0..<s.geometry.shardCount {
            for j in 0..<s.geometry.slotsPerShard {
                let v = s.slot(sh, j)
                guard v.word.state == .ready, let key = v.key, v.activeRecord.valueLen % 8 != 0 else { continue }
                if s.geometry.place(SpecHash.wch64(key, seed: SpecHash.keySeed)).home == j { return (b, s, SlotAt(shard: sh, slot: j)) }
            }
        }
        throw XCTSkip("no suitable slot in the golden image")
    }

    func problems(_ edit: (inout [UInt8], SpecGeometry, SlotAt, SlotView) -> Void, alive: [Bool] = []) throws -> [SegmentProblem] {
        var (b, s, at) = try fixture()
        edit(&b, s.geometry, at, s.slot(at.shard, at.slot))
        return SegmentSnapshot(bytes: b, geometry: s.geometry, alive: alive).problems
    }

    func testEachDamageIsItsOwnTypedProblem() throws {
        let (_, s, at) = try fixture()
        let a = s.stateWord(at.shard, at.slot).active
        func rec(_ g: SpecGeometry) -> Int { g.recordOffset(at.shard, at.slot, a) }
        XCTAssertEqual(try problems { b, g, at, _ in b[rec(g) + SpecLayout.Record.value] ^= 0x5A }.first.map { p -> Bool in
            if case .checksumMismatch(at, a, _, _) = p { return true }; return false }, true)
        XCTAssertEqual(try problems { b, g, at, v in put64(&b, g.slotOffset(at.shard, at.slot) + SpecLayout.Slot.keyHash, v.keyHash ^ 1) },
                       [.keyHashMismatch(at, stored: s.slot(at.shard, at.slot).keyHash ^ 1, computed: s.slot(at.shard, at.slot).keyHash)])
        XCTAssertEqual(try problems { b, g, at, _ in put64(&b, rec(g) + SpecLayout.Record.version, 0) }, [.versionZero(at, record: a)])
        let len = Int(s.slot(at.shard, at.slot).activeRecord.valueLen)
        XCTAssertEqual(try problems { b, g, _, _ in b[rec(g) + SpecLayout.Record.value + len] = 1 }, [.valuePaddingNotZero(at, record: a)])
        XCTAssertEqual(try problems { b, g, at, v in put64(&b, g.slotOffset(at.shard, at.slot), v.word.raw | 1 << 9) },
                       [.impossibleStateWord(at, word: s.stateWord(at.shard, at.slot).raw | 1 << 9, .reservedBits(1))])
        XCTAssertEqual(try problems { b, g, at, _ in put64(&b, g.slotOffset(at.shard, at.slot) + SpecLayout.Slot.keyLen, 1 << 32 | 9) },
                       [.keyLenOutOfRange(at, keyLenWord: 1 << 32 | 9, capacity: 32)])
        XCTAssertEqual(try problems { b, g, at, _ in put64(&b, rec(g) + SpecLayout.Record.expiresAtNs, 10); put64(&b, rec(g) + SpecLayout.Record.staleUntilNs, 5) },
                       [.staleUntilBeforeExpiry(at, record: a, staleUntil: 5, expiresAt: 10)])
    }

    func testAClaimOfADeadOwnerIsAbandonedAndALiveOneIsNot() throws {
        let writing: (inout [UInt8], SpecGeometry, SlotAt, SlotView) -> Void = { b, g, at, v in
            put64(&b, g.slotOffset(at.shard, at.slot), UInt64(v.word.seq + 1) << 32 | 3 << 16 | UInt64(SpecState.writing.rawValue))
        }
        let (_, s, at) = try fixture()
        var alive = [Bool](repeating: false, count: s.geometry.participantCapacity)
        XCTAssertEqual(try problems(writing, alive: alive), [.abandonedClaim(at, state: .writing, owner: 3)])
        XCTAssertTrue(try problems(writing, alive: alive)[0].isLeftByACrash)
        alive[2] = true
        XCTAssertEqual(try problems(writing, alive: alive), [])
    }

    func testTheSameKeyTwiceInOneWindowIsADuplicate() throws {
        let found = try problems { b, g, at, _ in
            let from = g.slotOffset(at.shard, at.slot), to = g.slotOffset(at.shard, (at.slot + 1) % g.slotsPerShard)
            b.replaceSubrange(to..<to + g.slotSize, with: b[from..<from + g.slotSize])
        }
        let (_, _, at) = try fixture()
        XCTAssertTrue(found.contains(.duplicateKey(SlotAt(shard: at.shard, slot: (at.slot + 1) % 16), otherSlot: at.slot)), "\(found)")
    }
}
