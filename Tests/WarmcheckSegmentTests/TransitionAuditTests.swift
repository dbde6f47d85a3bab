import Foundation
import XCTest
@testable import WarmcheckSegment

/// The words a reported transition constrains beyond the state word.
final class TransitionAuditTests: XCTestCase {
    /// A READY slot of the golden image with no expiry, and what a publish of it reported.
    func published() throws -> (bytes: [UInt8], snap: SegmentSnapshot, v: SlotView) {
        let b = try golden()
        let s = try snapshot(b)
        for sh in 0..<s.geometry.shardCount {
            for j in 0..<s.geometry.slotsPerShard {
                let v = s.slot(sh, j)
                if v.word.state == .ready && v.activeRecord.expiresAtNs == 0 { return (b, s, v) }
            }
        }
        throw XCTSkip("no READY slot without expiry in the golden image")
    }

    func testClearMustZeroTheKeyHash() throws {
        var (b, s, v) = try published()
        let at = SlotAt(shard: v.shard, slot: v.slot)
        let off = s.geometry.slotOffset(v.shard, v.slot)
        put64(&b, off, UInt64(v.word.seq + 2) << 32)  // READY → INVALIDATED → EMPTY
        let cleared = ReportedTransition(event: "clear", at: at, to: .empty, seq: v.word.seq + 2)
        let actor = Actor(participant: 1, pid: Int(getpid()), language: 3)
        let after = SegmentSnapshot(bytes: b, geometry: s.geometry, alive: [])
        XCTAssertEqual(after.audit(cleared, by: actor, intent: nil, before: v, quiet: true), [.keyHashNotZeroAfterClear(at, keyHash: v.keyHash)])
        put64(&b, off + SpecLayout.Slot.keyHash, 0)
        XCTAssertEqual(SegmentSnapshot(bytes: b, geometry: s.geometry, alive: []).audit(cleared, by: actor, intent: nil, before: v, quiet: true), [])
        // A later transition overwrote the evidence: nothing to judge.
        XCTAssertEqual(after.audit(ReportedTransition(event: "clear", at: at, to: .empty, seq: v.word.seq + 1), by: actor,
                                   intent: nil, before: v, quiet: true), [])
    }

    func testAPublishedRecordHoldsWhatWasPutAndWhoPutIt() throws {
        let (b, s, v) = try published()
        let r = v.activeRecord
        let at = SlotAt(shard: v.shard, slot: v.slot)
        let t = ReportedTransition(event: "publish", at: at, to: .ready, seq: v.word.seq)
        // The golden image's writer is long gone, so its pid has no /proc entry to compare with.
        let writer = Actor(participant: 1, pid: Int(r.writer.pid), language: 2)
        let intent = WriteIntent(key: v.key!, value: r.value!, originTag: r.originTag, answeredVersion: r.version)
        XCTAssertEqual(s.audit(t, by: writer, intent: intent, before: nil, quiet: false), [])
        var other = intent
        other.answeredVersion = r.version + 1
        other.originTag &+= 1
        XCTAssertEqual(s.audit(t, by: writer, intent: other, before: nil, quiet: false),
                       [.recordField(at, event: "publish", record: v.word.active, .originTag, expected: UInt64(r.originTag &+ 1), found: UInt64(r.originTag)),
                        .recordField(at, event: "publish", record: v.word.active, .version, expected: r.version + 1, found: r.version)])
        let swift = Actor(participant: 2, pid: Int(r.writer.pid), language: 3)
        XCTAssertEqual(s.audit(t, by: swift, intent: intent, before: nil, quiet: false),
                       [.recordField(at, event: "publish", record: v.word.active, .writerLanguage, expected: 3, found: 2),
                        .recordField(at, event: "publish", record: v.word.active, .writerParticipant, expected: 2, found: 1)])
        _ = b
    }

    func testRefreshPublishFlipsAAndLeavesTheOldRecordAlone() throws {
        var (b, s, v) = try published()
        let at = SlotAt(shard: v.shard, slot: v.slot)
        let off = s.geometry.slotOffset(v.shard, v.slot)
        let actor = Actor(participant: 1, pid: Int(v.activeRecord.writer.pid), language: 2)
        let t = ReportedTransition(event: "refresh_publish", at: at, to: .ready, seq: v.word.seq + 2)
        // Same A after T4 + T5: the flip is missing.
        put64(&b, off, UInt64(v.word.seq + 2) << 32 | UInt64(v.word.active) << 8 | UInt64(SpecState.ready.rawValue))
        XCTAssertEqual(SegmentSnapshot(bytes: b, geometry: s.geometry, alive: []).audit(t, by: actor, intent: nil, before: v, quiet: false),
                       [.activeBit(at, event: "refresh_publish", expected: 1 - v.word.active, found: v.word.active)])
        // Flipped, but the record readers were copying was written too.
        put64(&b, off, UInt64(v.word.seq + 2) << 32 | UInt64(1 - v.word.active) << 8 | UInt64(SpecState.ready.rawValue))
        put64(&b, s.geometry.recordOffset(v.shard, v.slot, v.word.active) + SpecLayout.Record.version, 999)
        XCTAssertEqual(SegmentSnapshot(bytes: b, geometry: s.geometry, alive: []).audit(t, by: actor, intent: nil, before: v, quiet: false),
                       [.activeRecordOverwritten(at, event: "refresh_publish", record: v.word.active)])
    }

    func testProvenanceIsComparedWithTheRealProcess() throws {
        let me = try XCTUnwrap(ProcessIdentity.of(pid: Int(getpid())))
        XCTAssertGreaterThan(me.startTime, 0)
        XCTAssertTrue(ProcessIdentity.isSelfOrDescendant(Int(getpid()), of: Int(getppid())))
        XCTAssertFalse(ProcessIdentity.isSelfOrDescendant(Int(getppid()), of: Int(getpid())))
        var (b, s, _) = try published()
        let p = s.geometry.participantOffset(0)
        put64(&b, p + SpecLayout.Participant.epoch, 1)
        put64(&b, p + SpecLayout.Participant.pid, UInt64(getpid()))
        put64(&b, p + SpecLayout.Participant.startTime, me.startTime)
        put64(&b, p + SpecLayout.Participant.info, 3 | 1 << 8 | UInt64(geteuid()) << 32)
        put64(&b, p + SpecLayout.Participant.registeredAtNs, 1)
        let actor = Actor(participant: 1, pid: Int(getpid()), language: 3)
        XCTAssertEqual(SegmentSnapshot(bytes: b, geometry: s.geometry, alive: []).auditRegistration(participant: 1, by: actor), [])
        put64(&b, p + SpecLayout.Participant.startTime, me.startTime + 1)
        XCTAssertEqual(SegmentSnapshot(bytes: b, geometry: s.geometry, alive: []).auditRegistration(participant: 1, by: actor),
                       [.identity(.participant(index: 0), .startTime, expected: me.startTime, found: me.startTime + 1)])
    }

    func testAClaimNamesItsClaimerAsOwner() throws {
        var (b, s, v) = try published()
        let at = SlotAt(shard: v.shard, slot: v.slot)
        // READY → REFRESHING(3), reported by participant 2.
        put64(&b, s.geometry.slotOffset(v.shard, v.slot), UInt64(v.word.seq + 1) << 32 | 3 << 16 | UInt64(v.word.active) << 8 | 3)
        let t = ReportedTransition(event: "refresh_claim", at: at, to: .refreshing, seq: v.word.seq + 1)
        let after = SegmentSnapshot(bytes: b, geometry: s.geometry, alive: [])
        XCTAssertEqual(after.audit(t, by: Actor(participant: 2, pid: 1, language: nil), intent: nil, before: v, quiet: false),
                       [.ownerNotClaimer(at, event: "refresh_claim", owner: 3, claimer: 2)])
        XCTAssertEqual(after.audit(t, by: Actor(participant: 3, pid: 1, language: nil), intent: nil, before: v, quiet: false), [])
    }
}
