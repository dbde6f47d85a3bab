import Foundation
import XCTest
@testable import WarmcheckSegment

/// Real-time stamps (created_at_ns, registered_at_ns, written_at_ns, expires_at_ns) judged
/// against the window their operation ran in.
final class TimeStampAuditTests: XCTestCase {
    func testCreatedAtMustLieInTheWindow() throws {
        var b = try golden()
        let s = try snapshot(b)
        let t = s.header.createdAtNs
        XCTAssertEqual(s.auditCreatedAt(within: RealtimeWindow(lo: t, hi: t)), [])
        // A create that never stamped the header (the Swift mutant that survived 469 cases).
        put64(&b, SpecLayout.Header.createdAtNs, 0)
        let w = RealtimeWindow(lo: 1_000, hi: RealtimeWindow.now())
        XCTAssertEqual(SegmentSnapshot(bytes: b, geometry: s.geometry, alive: []).auditCreatedAt(within: w),
                       [.timeStamp(.createdAt, at: "header", found: 0, window: w)])
    }

    func testRegisteredAtMustLieInTheWindow() throws {
        var b = try golden()
        let s = try snapshot(b)
        let off = s.geometry.participantOffset(0) + SpecLayout.Participant.registeredAtNs
        put64(&b, off, 5_000)
        let after = SegmentSnapshot(bytes: b, geometry: s.geometry, alive: [])
        XCTAssertEqual(after.auditRegisteredAt(participant: 1, within: RealtimeWindow(lo: 5_000, hi: 5_000)), [])
        let w = RealtimeWindow(lo: 5_001, hi: 9_000)
        XCTAssertEqual(after.auditRegisteredAt(participant: 1, within: w),
                       [.timeStamp(.registeredAt, at: "participant entry 0", found: 5_000, window: w)])
        // Out of the table: nothing to judge, never a crash.
        XCTAssertEqual(after.auditRegisteredAt(participant: 0, within: w), [])
        XCTAssertEqual(after.auditRegisteredAt(participant: s.geometry.participantCapacity + 1, within: w), [])
    }

    func testRecordStampsOnARealTimeSegment() throws {
        let s = try snapshot(try golden())
        let r = RecordView(version: 1, valueLen: 0, originTag: 0, checksum: 0, expiresAtNs: 1_500, staleUntilNs: 1_500,
                           writtenAtNs: 1_000, writer: WriterView(word: 0, startTime: 0), value: [], valuePaddingZero: true)
        let at = SlotAt(shard: 0, slot: 0)
        let times = { (w: RealtimeWindow, ttl: UInt64) in s.auditRecordTimes(r, at: at, ttlNs: ttl, within: w) }
        if s.header.simClock {
            // sim_clock_ns is judged exactly by TransitionAudit; real time says nothing about it.
            XCTAssertEqual(times(RealtimeWindow(lo: 2_000, hi: 3_000), 500), [])
            return
        }
        XCTAssertEqual(times(RealtimeWindow(lo: 900, hi: 1_100), 500), [])
        XCTAssertEqual(times(RealtimeWindow(lo: 1_001, hi: 1_100), 500),
                       [.timeStamp(.writtenAt, at: "\(at)", found: 1_000, window: RealtimeWindow(lo: 1_001, hi: 1_100)),
                        .timeStamp(.expiresAt, at: "\(at)", found: 1_500, window: RealtimeWindow(lo: 1_501, hi: 1_600))])
        // No TTL: expires_at_ns is TransitionAudit's (it must be 0), not a window's.
        XCTAssertEqual(times(RealtimeWindow(lo: 900, hi: 1_100), 0), [])
        // Saturating at 2^64 - 1 (§12).
        XCTAssertEqual(RealtimeWindow(lo: 10, hi: .max - 1).shifted(by: 5), RealtimeWindow(lo: 15, hi: .max))
    }
}
