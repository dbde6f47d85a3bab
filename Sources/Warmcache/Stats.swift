// Stats.swift — `stats()` (§9.7): sums of the shard counters (relaxed loads) and occupancy.

/// The nine shard counters of §6.
public struct Counters: Codable, Sendable, Equatable {
    /// Gets that returned a fresh value.
    public var hits: UInt64 = 0
    /// Gets that returned nothing.
    public var misses: UInt64 = 0
    /// Gets that returned a stale value, within its grace (§12).
    public var staleHits: UInt64 = 0
    /// New keys published (T2).
    public var inserts: UInt64 = 0
    /// Refreshes published (T5).
    public var refreshes: UInt64 = 0
    /// Live entries displaced by an insert or by `evict`.
    public var evictions: UInt64 = 0
    /// Entries removed by `invalidate`.
    public var invalidations: UInt64 = 0
    /// Expired entries reused by an insert.
    public var expirations: UInt64 = 0
    /// Dead owners' claims undone and dead insert locks freed.
    public var reclaims: UInt64 = 0

    /// All counters zero.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case hits, misses, inserts, refreshes, evictions, invalidations, expirations, reclaims
        case staleHits = "stale_hits"
    }

    mutating func add(_ o: Counters) {
        hits &+= o.hits; misses &+= o.misses; staleHits &+= o.staleHits; inserts &+= o.inserts
        refreshes &+= o.refreshes; evictions &+= o.evictions; invalidations &+= o.invalidations
        expirations &+= o.expirations; reclaims &+= o.reclaims
    }

    static func read(_ w: SharedWords, shardOff o: Int) -> Counters {
        var c = Counters()
        c.hits = w.loadRelaxed(o + Layout.SH_HITS)
        c.misses = w.loadRelaxed(o + Layout.SH_MISSES)
        c.staleHits = w.loadRelaxed(o + Layout.SH_STALE_HITS)
        c.inserts = w.loadRelaxed(o + Layout.SH_INSERTS)
        c.refreshes = w.loadRelaxed(o + Layout.SH_REFRESHES)
        c.evictions = w.loadRelaxed(o + Layout.SH_EVICTIONS)
        c.invalidations = w.loadRelaxed(o + Layout.SH_INVALIDATIONS)
        c.expirations = w.loadRelaxed(o + Layout.SH_EXPIRATIONS)
        c.reclaims = w.loadRelaxed(o + Layout.SH_RECLAIMS)
        return c
    }
}

/// Occupancy: slots per state name ("EMPTY", ..., "INVALIDATED", plus "IMPOSSIBLE").
public typealias Occupancy = [String: Int]

func emptyOccupancy() -> Occupancy {
    var o = Occupancy()
    for k in SlotStateKind.allCases { o[k.name] = 0 }
    o["IMPOSSIBLE"] = 0
    return o
}

public struct ShardStats: Codable, Sendable, Equatable {
    public var shard: Int
    public var counters: Counters
    public var occupancy: Occupancy
}

public struct Stats: Codable, Sendable, Equatable {
    public var totals: Counters
    public var occupancy: Occupancy
    public var shards: [ShardStats]
    /// Gets by this handle that met corruption (process-local, §15).
    public var corrupt: UInt64
}

func collectStats(_ w: SharedWords, _ layout: SegmentLayout) -> (Counters, Occupancy, [ShardStats]) {
    var totals = Counters()
    var occ = emptyOccupancy()
    var shards: [ShardStats] = []
    shards.reserveCapacity(layout.shardCount)
    for s in 0..<layout.shardCount {
        let c = Counters.read(w, shardOff: layout.shardOffset(s))
        var so = emptyOccupancy()
        for j in 0..<layout.slotsPerShard {
            let st = StateWord(raw: w.loadRelaxed(layout.slotOffset(s, j) + Layout.SLOT_STATE))
            let name = st.validKind(participantCapacity: layout.participantCapacity)?.name ?? "IMPOSSIBLE"
            so[name, default: 0] += 1
            occ[name, default: 0] += 1
        }
        totals.add(c)
        shards.append(ShardStats(shard: s, counters: c, occupancy: so))
    }
    return (totals, occ, shards)
}

extension WarmCache {
    /// Counters summed over shards, per-shard counters, and occupancy by state.
    public func stats() throws(UsageError) -> Stats {
        guard !isClosed else { throw .closed }
        let (t, o, s) = collectStats(words, layout)
        return Stats(totals: t, occupancy: o, shards: s, corrupt: corruptCount.load(ordering: .relaxed))
    }
}
