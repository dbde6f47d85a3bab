import Foundation
import WarmcheckSegment

// The three shapes of `warmcheck stats`: a full table (once, or redrawn in place on a terminal),
// one line per interval (piped --watch), and JSON (one object, or one per line with --watch).

public enum StatsView {
    /// The full view: counters with rates, occupancy, shards, participants. `maxShards` limits the
    /// shard table to the busiest shards (by gets in the interval, else in total).
    public static func table(_ s: StatsSample, rates r: StatsRates?, maxShards: Int, now: Date = Date()) -> String {
        var out = "segment \(s.path)  protocol \(s.protocolVersion)  \(s.geometry.shardCount) shards × \(s.geometry.slotsPerShard) slots"
        out += "  \(isoTime(s.wallNs))\n\n"
        out += pad("counter", 16) + lpad("total", 16) + lpad("per s", 12) + "\n"
        for f in CounterField.display {
            out += pad(f.rawValue, 16) + lpad(String(s.totals[f]), 16) + lpad(r.map { rateText($0.totals[f] ?? 0) } ?? "-", 12) + "\n"
        }
        out += pad("hit ratio", 16) + lpad(percent(s.totals.hitRatio), 16) + lpad(r.map { percent($0.intervalHitRatio) } ?? "-", 12) + "\n"
        if !s.occupancy.isEmpty {
            let slots = s.geometry.shardCount * s.geometry.slotsPerShard
            out += "\nslots (\(slots)): " + StatsSample.occupancyKeys.map { "\($0) \(s.occupancy[$0] ?? 0)" }.joined(separator: "  ") + "\n"
        }
        out += "\n" + shardTable(s, rates: r, maxShards: maxShards)
        out += "\nparticipants: \(s.aliveParticipants) alive, \(s.participants.count - s.aliveParticipants) gone\n"
        if !s.participants.isEmpty {
            out += pad("  id", 6) + pad("state", 7) + pad("language", 10) + pad("protocol", 10) + lpad("pid", 9)
                + lpad("start_time", 12) + "  registered\n"
            for p in s.participants {
                out += pad("  \(p.id)", 6) + pad(p.alive ? "alive" : "gone", 7) + pad(p.language, 10) + pad(p.protocolVersion, 10)
                    + lpad(String(p.pid), 9) + lpad(String(p.startTime), 12) + "  \(isoTime(p.registeredAtNs))\n"
            }
        }
        return out
    }

    static func shardTable(_ s: StatsSample, rates r: StatsRates?, maxShards: Int) -> String {
        let cols: [(String, CounterField)] = [("hits", .hits), ("stale", .staleHits), ("misses", .misses), ("inserts", .inserts),
                                              ("refresh", .refreshes), ("evict", .evictions), ("inval", .invalidations),
                                              ("expire", .expirations), ("reclaim", .reclaims)]
        var order = Array(0..<s.shards.count)
        let limited = order.count > maxShards
        if limited {
            let activity: (Int) -> Double = { i in
                if let r { return CounterField.allCases.reduce(0) { $0 + (r.shards[i][$1] ?? 0) } }
                return Double(s.shards[i].gets &+ s.shards[i].inserts)
            }
            order = Array(order.sorted { (activity($0), -$0) > (activity($1), -$1) }.prefix(maxShards)).sorted()
        }
        var out = lpad("shard", 6) + cols.map { lpad($0.0, 10) }.joined() + lpad("ratio", 8) + lpad("entries", 9) + lpad("gets/s", 10) + "\n"
        for i in order {
            let c = s.shards[i]
            out += lpad(String(i), 6) + cols.map { lpad(String(c[$0.1]), 10) }.joined() + lpad(percent(c.hitRatio), 8)
                + lpad(s.occupancy.isEmpty ? "-" : String(s.shardEntries[i]), 9)
            if let r {
                let g = (r.shards[i][.hits] ?? 0) + (r.shards[i][.staleHits] ?? 0) + (r.shards[i][.misses] ?? 0)
                out += lpad(rateText(g), 10)
            } else {
                out += lpad("-", 10)
            }
            out += "\n"
        }
        if limited { out += "  … \(s.shards.count - order.count) quieter shards not shown (--shards N shows more)\n" }
        return out
    }

    /// One line per interval, for a pipe or a log: totals and the interval's rates.
    public static func line(_ s: StatsSample, rates r: StatsRates?) -> String {
        var parts = [isoTime(s.wallNs)]
        for f in CounterField.display {
            var item = "\(f.rawValue)=\(s.totals[f])"
            if let r { item += "(\(rateText(r.totals[f] ?? 0))/s)" }
            parts.append(item)
        }
        // No space inside a value: the line splits on spaces into key=value pairs.
        parts.append("hit_ratio=\(percent(s.totals.hitRatio).replacingOccurrences(of: " ", with: ""))")
        if let r { parts.append("interval_hit_ratio=\(percent(r.intervalHitRatio).replacingOccurrences(of: " ", with: ""))") }
        if !s.occupancy.isEmpty { parts.append("entries=\(s.entries)") }
        parts.append("participants=\(s.aliveParticipants)/\(s.participants.count)")
        return parts.joined(separator: " ")
    }

    public static func json(_ s: StatsSample, rates r: StatsRates?) -> String {
        StatsJSON(s, rates: r).json.serialized
    }

    static func rateText(_ x: Double) -> String { x >= 100 ? String(format: "%.0f", x) : String(format: "%.1f", x) }
    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f %%", $0 * 100) } ?? "-" }
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }

    static func isoTime(_ ns: UInt64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ns) / 1e9))
    }
}

/// The `--json` shape (documented in docs/OBSERVING.md). Counters are exact unsigned integers
/// (a u64 above 2^53 is written digit for digit); rates are present from the second sample of a
/// --watch on; a field that does not apply is left out.
struct StatsJSON {
    let s: StatsSample, r: StatsRates?
    init(_ s: StatsSample, rates r: StatsRates?) { self.s = s; self.r = r }

    static func counters(_ c: ShardCounters) -> JSON {
        .object(Dictionary(uniqueKeysWithValues: CounterField.allCases.map { ($0.rawValue, JSON(unsigned: c[$0])) }))
    }
    static func named(_ d: [CounterField: Double]) -> JSON {
        .object(Dictionary(uniqueKeysWithValues: d.map { ($0.key.rawValue, JSON.double($0.value)) }))
    }

    var json: JSON {
        let g = s.geometry
        let geometry: JSON = .object([
            "shard_count": .int(Int64(g.shardCount)), "slots_per_shard": .int(Int64(g.slotsPerShard)),
            "key_capacity": .int(Int64(g.keyCapacity)), "value_capacity": .int(Int64(g.valueCapacity)),
            "probe_window": .int(Int64(g.probeWindow)), "participant_capacity": .int(Int64(g.participantCapacity)),
            "total_len": .int(Int64(g.totalLen)),
        ])
        let shards: [JSON] = s.shards.enumerated().map { i, c in
            .omittingNil(["shard": .int(Int64(i)), "counters": Self.counters(c),
                          "entries": s.occupancy.isEmpty ? nil : .int(Int64(s.shardEntries[i])), "rates": r.map { Self.named($0.shards[i]) }])
        }
        return .omittingNil([
            "segment": .string(s.path), "protocol": .string(s.protocolVersion), "wall_ns": JSON(unsigned: s.wallNs),
            "interval_s": r.map { .double($0.seconds) }, "geometry": geometry, "totals": Self.counters(s.totals),
            "rates": r.map { Self.named($0.totals) }, "hit_ratio": s.totals.hitRatio.map { .double($0) },
            "interval_hit_ratio": r?.intervalHitRatio.map { .double($0) },
            "occupancy": s.occupancy.isEmpty ? nil : .object(s.occupancy.mapValues { .int(Int64($0)) }),
            "shards": .array(shards), "participants": .array(s.participants.map(\.json)),
        ])
    }
}
