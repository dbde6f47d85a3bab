import Prometheus
import WarmcheckSegment

// Prometheus text exposition (format 0.0.4) of one or more segments' samples, written by
// swift-prometheus. The counters live in the segment, not in this process, so each scrape builds
// a fresh registry and sets every series to the value just loaded (a counter is "incremented" once
// from zero by its current total): nothing is kept between scrapes, and a restarted exporter
// gives the same numbers.
//
// Names follow Prometheus's conventions (docs/OBSERVING.md lists them): the `warmcache_` prefix,
// `_total` on counters, base units (`_bytes`), and labels rather than names for the dimensions:
// `segment` (the path as given), `shard`, `result`, `state`.

public enum PrometheusExposition {
    /// The counter metrics other than gets, by §6 field.
    static let outcomeCounters: [(String, CounterField, String)] = [
        ("warmcache_inserts_total", .inserts, "New keys published (T2)."),
        ("warmcache_refreshes_total", .refreshes, "Refreshes published (T5)."),
        ("warmcache_evictions_total", .evictions, "Live entries displaced by an insert or by evict (T10, T8 evict)."),
        ("warmcache_invalidations_total", .invalidations, "Entries removed by invalidate (T8)."),
        ("warmcache_expirations_total", .expirations, "Expired entries reused by an insert (T11)."),
        ("warmcache_reclaims_total", .reclaims, "Dead owners' claims undone and dead insert locks freed (T12-T14)."),
    ]
    static let getResults: [(String, CounterField)] = [("hit", .hits), ("stale", .staleHits), ("miss", .misses)]

    public static func render(_ samples: [StatsSample]) -> String {
        let reg = PrometheusCollectorRegistry()
        for s in samples {
            let seg = ("segment", s.path)
            for (i, c) in s.shards.enumerated() {
                let shard = ("shard", String(i))
                for (result, f) in getResults {
                    set(reg.makeCounter(name: "warmcache_gets_total", labels: [seg, shard, ("result", result)],
                                        help: "Gets by result: hit (fresh value), stale (value past its TTL, in grace), miss."), c[f])
                }
                for (name, f, help) in outcomeCounters {
                    set(reg.makeCounter(name: name, labels: [seg, shard], help: help), c[f])
                }
            }
            if !s.occupancy.isEmpty {
                for key in StatsSample.occupancyKeys {
                    reg.makeGauge(name: "warmcache_entries", labels: [seg, ("state", key.lowercased())],
                                  help: "Slots by state (PROTOCOL.md 8.1); impossible = a state word no state allows.")
                        .set(Int64(s.occupancy[key] ?? 0))
                }
            }
            let alive = s.aliveParticipants
            for (state, n) in [("alive", alive), ("gone", s.participants.count - alive)] {
                reg.makeGauge(name: "warmcache_participants", labels: [seg, ("state", state)],
                              help: "Participant entries ever used, by liveness lock (PROTOCOL.md 5): alive holds it, gone does not.")
                    .set(Int64(n))
            }
            reg.makeGauge(name: "warmcache_slots", labels: [seg], help: "Slot capacity: shard_count * slots_per_shard.")
                .set(Int64(s.geometry.shardCount * s.geometry.slotsPerShard))
            reg.makeGauge(name: "warmcache_segment_size_bytes", labels: [seg], help: "Segment file length (total_len).")
                .set(Int64(s.geometry.totalLen))
        }
        return reg.emitToString()
    }

    /// A fresh counter set to `v`: counters are Int64 or Double in swift-prometheus, and values
    /// above Int64.max (never seen, but the words are 64-bit) go as a Double, which is what
    /// Prometheus stores anyway.
    static func set(_ c: Counter, _ v: UInt64) {
        if v <= UInt64(Int64.max) { c.increment(by: Int64(v)) } else { c.increment(by: Double(v)) }
    }
}
