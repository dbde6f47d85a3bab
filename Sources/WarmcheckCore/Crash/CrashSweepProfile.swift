import Foundation

/// Where a crash sweep's wall time goes, summed over its points: the figure that says what to
/// make faster (docs/CRASHSWEEP.md "Where the time goes"). With parallel workers the phases of
/// different points overlap, so their sum exceeds the sweep's wall time.
public struct CrashSweepProfile: Sendable, Equatable {
    public enum Phase: String, CaseIterable, Sendable {
        /// The keeper's `create` and prefill, the victim's `open`.
        case setUp = "set-up"
        /// Waiting for a started-ahead victim or predecessor process (exec, runtime, hello).
        case spare = "spare wait"
        /// A predecessor's open and death where its role says.
        case predecessor
        /// The victim's operation up to its death and reaping.
        case death
        /// Recovery: the keeper's writes (or the starters of `creator`), the opener's registration.
        case recovery
        /// Both recoverers reading every key.
        case reads
        /// `inspect` and the idle-claims scan of the segment.
        case inspect
        /// The history's linearizability check.
        case linearizability
        /// Stopping the victim and removing the segment.
        case teardown
    }

    public internal(set) var ns: [Phase: UInt64] = [:]

    public init() {}

    /// Adds the time since `start` to `phase`; returns now, the start of the next phase.
    @discardableResult
    mutating func add(_ phase: Phase, since start: UInt64) -> UInt64 {
        let now = MonotonicClock.now()
        ns[phase, default: 0] += now &- start
        return now
    }

    mutating func merge(_ other: CrashSweepProfile) {
        for (p, v) in other.ns { ns[p, default: 0] += v }
    }

    public var totalNs: UInt64 { ns.values.reduce(0, +) }

    /// `phase ms/point (share)`, largest first, for `points` points.
    public func text(points: Int) -> String {
        guard points > 0, totalNs > 0 else { return "no points" }
        return Phase.allCases.compactMap { p -> (Phase, UInt64)? in ns[p].map { (p, $0) } }
            .sorted { $0.1 > $1.1 }
            .map { String(format: "%@ %.2f ms (%.0f%%)", $0.0.rawValue, Double($0.1) / 1e6 / Double(points), Double($0.1) * 100 / Double(totalNs)) }
            .joined(separator: ", ")
    }

    public var json: JSON {
        .object(Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0.rawValue, JSON.int(Int64(ns[$0] ?? 0))) }))
    }
}
