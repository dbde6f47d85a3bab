@_spi(Harness) import Warmcache
import WarmcheckModel
import WarmcheckScenario

/// What the orchestrator sends and keeps for an operation, in one place for the scenario runner,
/// stress mode and the benchmarks, so that all of them speak the driver contract the same way.
enum DriverArguments {
    /// The `geometry` argument of `create` / `open_or_create` (docs/DRIVER.md).
    static func geometry(shards: Int, slots: Int, keyCapacity: Int, valueCapacity: Int, window: Int,
                         participants: Int) -> JSON {
        [
            "shard_count": .int(Int64(shards)), "slots_per_shard": .int(Int64(slots)),
            "key_capacity": .int(Int64(keyCapacity)), "value_capacity": .int(Int64(valueCapacity)),
            "probe_window": .int(Int64(window)), "participant_capacity": .int(Int64(participants)),
        ]
    }

    static func geometry(_ g: WarmcheckScenario.Geometry) -> JSON {
        geometry(shards: g.shards, slots: g.slots, keyCapacity: g.keyCapacity, valueCapacity: g.valueCapacity,
                 window: g.window, participants: g.participants)
    }

    static func geometry(_ g: Warmcache.Geometry) -> JSON {
        geometry(shards: Int(g.shardCount), slots: Int(g.slotsPerShard), keyCapacity: Int(g.keyCapacity),
                 valueCapacity: Int(g.valueCapacity), window: Int(g.probeWindow), participants: Int(g.participantCapacity))
    }

    /// The history input of a cache operation named by its driver op; nil for the others
    /// (create, stats, wait, …), which the linearizability check does not model. `ttl`: the
    /// write's `ttl_ns` (0 = none, so it can never be read stale), nil when not known.
    static func cacheInput(op: String, key: [UInt8], value: [UInt8]?, version: UInt64?, ttl: UInt64? = nil) -> CacheInput? {
        switch op {
        case "get": return .get(key: key)
        case "put": return .put(key: key, value: value ?? [], version: version, ttl: ttl)
        case "refresh": return .refresh(key: key, value: value ?? [], version: version, ttl: ttl)
        case "invalidate": return .invalidate(key: key)
        case "evict": return .evict(key: key)
        default: return nil
        }
    }
}
