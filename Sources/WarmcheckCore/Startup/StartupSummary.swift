import Foundation
import Histogram

/// Percentiles of one row's samples, in milliseconds, from an HdrHistogram of microseconds
/// (3 significant digits: ample for a few dozen restarts, and the same code path as a long run).
public struct StartupSummary: Sendable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var min: Double
    public var max: Double

    init?(nanoseconds samples: [Int64]) {
        let us = samples.filter { $0 > 0 }.map { UInt64(($0 + 500) / 1000) }
        guard !us.isEmpty else { return nil }
        var h = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for v in us { _ = h.record(Swift.max(v, 1)) }
        func ms(_ v: UInt64) -> Double { Double(v) / 1000 }
        count = us.count
        p50 = ms(h.valueAtPercentile(50))
        p90 = ms(h.valueAtPercentile(90))
        p99 = ms(h.valueAtPercentile(99))
        min = ms(us.min()!)
        max = ms(us.max()!)
    }
}

/// One row of the table: a way of starting a consumer, for one language and working set.
public struct StartupRow: Sendable {
    /// a (warm segment), a-batched (the same, batched get ×100), a-legacy (warm segment, 1.0 sweep), b (restored), c (cold), d (Redis),
    /// e (memcached), f (exec floor).
    public var row: String
    public var what: String
    public var language: String
    public var entries: UInt64
    /// "measured", or "pending" with the reason in `note`.
    public var status: String
    public var note: String?
    public var segmentBytes: UInt64?
    /// exec → first request served from the cache (f: exec → exit of the empty program).
    public var firstHit: StartupSummary?
    /// exec → 99 % of the working set served.
    public var served99: StartupSummary?
    /// exec → trailing-window hit ratio within 1 point of its pre-restart value (100 %).
    public var warm: StartupSummary?
}

/// A target of issue 12 §1, judged on medians of this run.
public struct StartupTarget: Sendable {
    public var what: String
    public var language: String
    public var entries: UInt64
    public var ratio: Double
    public var goal: String
    public var met: Bool
}

public struct StartupReport: Sendable {
    public var command: String
    public var date: String
    /// /proc/loadavg at the start and the end: the load the figures were measured under.
    public var loadBefore: String
    public var loadAfter: String
    public var cores: Int
    public var coldCostNs: UInt64
    public var rows: [StartupRow]
    public var targets: [StartupTarget]
}
