#if canImport(Glibc)
import Glibc
#endif

// Every CLOCK_REALTIME stamp the spec defines is judged against the real time the harness
// knows the operation happened in. Without this, a stamp that is never written (0), written
// from the wrong clock or into the wrong word passes: no answer reads these words back, so only
// the decoder can see them (a Swift create that skipped `created_at_ns` survived 469 cases).
//
//   created_at_ns     (header 128, §3)       CLOCK_REALTIME at creation
//   registered_at_ns  (participant +32, §5)  CLOCK_REALTIME at registration
//   written_at_ns     (record +40, §7.2)     now() of §12 when the record was written
//   expires_at_ns     (record +24, §12)      now() + ttl_ns, saturating
//
// On a SIM_CLOCK segment `now()` is `sim_clock_ns`, which only the scenario moves: there the
// record stamps must equal it exactly (TransitionAudit), and only the header and participant
// stamps, which are real time by definition, are judged here.

/// The real-time interval an audited answer was given in: from before the case started any
/// process to the snapshot that judges it. Any stamp the operation wrote lies inside it.
public struct RealtimeWindow: Sendable, Equatable, CustomStringConvertible {
    public var lo: UInt64, hi: UInt64
    public init(lo: UInt64, hi: UInt64) { self.lo = lo; self.hi = hi }

    /// CLOCK_REALTIME in nanoseconds: the clock the spec names for these stamps.
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public func contains(_ t: UInt64) -> Bool { t >= lo && t <= hi }

    /// The window moved by `d` (expiry = now + ttl), saturating as §12 says.
    public func shifted(by d: UInt64) -> RealtimeWindow {
        RealtimeWindow(lo: lo.addingReportingOverflow(d).overflow ? .max : lo + d,
                       hi: hi.addingReportingOverflow(d).overflow ? .max : hi + d)
    }

    public var description: String { "\(lo)...\(hi)" }
}

/// Which stamp was outside its window.
public enum TimeStampField: String, Sendable {
    case createdAt = "header created_at_ns"
    case registeredAt = "registered_at_ns"
    case writtenAt = "written_at_ns"
    case expiresAt = "expires_at_ns"
}

extension SegmentSnapshot {
    /// §3: the creator stamped `created_at_ns` while it created the segment.
    public func auditCreatedAt(within w: RealtimeWindow) -> [FieldProblem] {
        let t = header.createdAtNs
        return w.contains(t) ? [] : [.timeStamp(.createdAt, at: "header", found: t, window: w)]
    }

    /// §5: a participant stamps `registered_at_ns` when it registers.
    public func auditRegisteredAt(participant id: Int, within w: RealtimeWindow) -> [FieldProblem] {
        guard id >= 1 && id <= geometry.participantCapacity else { return [] }
        let t = participant(id - 1).registeredAtNs
        return w.contains(t) ? [] : [.timeStamp(.registeredAt, at: "participant entry \(id - 1)", found: t, window: w)]
    }

    /// §7.2, §12 on a real-time segment: the published record was written, and its expiry
    /// computed, while the put ran.
    func auditRecordTimes(_ r: RecordView, at: SlotAt, ttlNs: UInt64, within w: RealtimeWindow) -> [FieldProblem] {
        guard !header.simClock else { return [] }
        var out: [FieldProblem] = []
        if !w.contains(r.writtenAtNs) { out.append(.timeStamp(.writtenAt, at: "\(at)", found: r.writtenAtNs, window: w)) }
        if ttlNs != 0, case let e = w.shifted(by: ttlNs), !e.contains(r.expiresAtNs) {
            out.append(.timeStamp(.expiresAt, at: "\(at)", found: r.expiresAtNs, window: e))
        }
        return out
    }
}
