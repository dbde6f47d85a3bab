import Foundation

/// What `warmcheck crashsweep` prints: one line per crash point, the latencies, the rate, and
/// the last line `crashsweep: K/N crash points recovered`.
public struct CrashSweepReport: Sendable {
    public var outcomes: [CrashOutcome]
    /// Seconds spent on the crash points themselves (after discovery).
    public var seconds: Double
    public var discoverySeconds: Double
    /// How many crash points exist (a sample runs fewer).
    public var allPoints: Int

    public init(outcomes: [CrashOutcome], seconds: Double, discoverySeconds: Double, allPoints: Int) {
        self.outcomes = outcomes
        self.seconds = seconds
        self.discoverySeconds = discoverySeconds
        self.allPoints = allPoints
    }

    public var reached: [CrashOutcome] { outcomes.filter { !$0.notReached } }
    public var recovered: Int { reached.filter(\.recovered).count }
    public var ok: Bool { recovered == reached.count && !reached.isEmpty }
    public var cyclesPerMinute: Double { seconds > 0 ? Double(reached.count) / seconds * 60 : 0 }
    /// The same over the whole sweep: discovering the points (walking each path once) included.
    public var wholeCyclesPerMinute: Double {
        seconds + discoverySeconds > 0 ? Double(reached.count) / (seconds + discoverySeconds) * 60 : 0
    }
    /// Every point's phases summed.
    public var profile: CrashSweepProfile {
        outcomes.reduce(into: CrashSweepProfile()) { $0.merge($1.profile) }
    }

    /// A seeded draw of `count` points, kept in the sweep's order.
    public static func sample(_ points: [CrashPoint], count: Int, seed: UInt64) -> [CrashPoint] {
        var rng = SplitMix64(seed: seed)
        var idx = Array(points.indices)
        for i in 0..<min(count, idx.count) { idx.swapAt(i, i + Int(rng.next() % UInt64(idx.count - i))) }
        return idx.prefix(count).sorted().map { points[$0] }
    }

    public func latencies() -> [(String, LatencySummary)] {
        let names = Set(reached.map(\.point.victim)).sorted()
        return names.compactMap { n in LatencySummary(reached.filter { $0.point.victim == n }.compactMap(\.writableNs)).map { (n, $0) } }
    }

    public var lines: [String] {
        var out: [String] = []
        for o in outcomes {
            if o.notReached { out.append("skip  \(o.point.name): the victim answered (its path did not pass the point)"); continue }
            if o.recovered {
                out.append(String(format: "ok    %@: writable after %.2f ms", o.point.name, Double(o.writableNs ?? 0) / 1e6))
            } else {
                out.append("FAIL  \(o.point.name):" + o.problems.map { "\n        \($0)" }.joined())
            }
        }
        let roles = Set(reached.map(\.point.role.rawValue)).sorted()
        out.append("\(reached.count) crash points run (of \(allPoints)), \(Set(reached.map { "\($0.point.victim) \($0.point.role.rawValue) \($0.point.point)" }).count) "
                   + "distinct victim × role × point, roles: \(roles.joined(separator: ", "))")
        for (v, l) in latencies() { out.append("  \(v) died → key written by another implementation: \(l.text)") }
        out.append(String(format: "  %.0f crash/recover cycles per minute over the whole sweep, %.0f over the points alone (%.1f s for the points, %.1f s to discover them)",
                          wholeCyclesPerMinute, cyclesPerMinute, seconds, discoverySeconds))
        out.append("  time per point: " + profile.text(points: outcomes.count))
        return out
    }

    public var lastLine: String { "crashsweep: \(recovered)/\(reached.count) crash points recovered" }

    public var json: JSON {
        .object([
            "recovered": .int(Int64(recovered)), "run": .int(Int64(reached.count)), "all_points": .int(Int64(allPoints)),
            "seconds": .double(seconds), "discovery_seconds": .double(discoverySeconds), "cycles_per_minute": .double(cyclesPerMinute),
            "whole_cycles_per_minute": .double(wholeCyclesPerMinute), "profile_ns": profile.json,
            "writable_ns": .object(Dictionary(uniqueKeysWithValues: latencies().map { ($0.0, $0.1.json) })),
            "points": .array(outcomes.map { o in
                .object(["victim": .string(o.point.victim), "role": .string(o.point.role.rawValue), "point": .string(o.point.point),
                         "recoverer": .string(o.point.recoverer), "sweep_first": .bool(o.point.sweepFirst),
                         "verdict": .string(o.notReached ? "not_reached" : o.recovered ? "recovered" : "fail"),
                         "writable_ns": o.writableNs.map { .int(Int64($0)) } ?? .null,
                         "problems": .array(o.problems.map { .string($0) })])
            }),
        ])
    }
}
