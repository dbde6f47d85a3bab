import Foundation
@_spi(Harness) import Warmcache

/// The cache operations of docs/DRIVER.md on the open handle.
extension Server {
    func get(_ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        let key = try hex(args, "key_hex")
        switch c.get(key) {
        case .miss: return .ok(["hit": false])
        case .hit(let h): return .ok(hitJSON(h))
        case .closed: throw UsageError.closed
        }
    }

    /// `put` and `refresh`.
    func put(_ op: String, _ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        let key = try hex(args, "key_hex")
        let value = try hex(args, "value_hex")
        var o = PutOptions()
        o.ttlNs = try optU64(args, "ttl_ns") ?? 0
        o.graceNs = try optU64(args, "grace_ns") ?? 0
        let tag = try optU64(args, "origin_tag") ?? 0
        guard tag <= UInt64(UInt32.max) else { throw RequestError.bad("origin_tag must fit in 32 bits") }
        o.originTag = UInt32(tag)
        o.version = try optU64(args, "version") ?? 0
        // `durable` (DRIVER.md "The durable store"): journaled, and answered when asked.
        let durable = try optBool(args, "durable")
        let r: PutOutcome, journaled: Bool
        if durable == true {
            (r, journaled) = op == "put" ? c.durablePut(key, value, options: o) : c.durableRefresh(key, value, options: o)
        } else {
            (r, journaled) = (op == "put" ? c.put(key, value, options: o) : c.refresh(key, value, options: o), false)
        }
        switch r {
        case .ok(let v, let created, let s, let j):
            var res: [String: Any] = ["version": v, "created": created, "shard": s, "slot": j]
            if durable == true { res["durable"] = journaled }
            return .ok(res)
        case .fail(let f):
            return .fail(reason: f.code, message: failMessage(f, op: op))
        }
    }

    /// `invalidate` and `evict`.
    func remove(_ op: String, _ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        let key = try hex(args, "key_hex")
        let durable = try optBool(args, "durable")
        let r: RemoveOutcome, journaled: Bool
        if durable == true {
            (r, journaled) = op == "invalidate" ? c.durableInvalidate(key) : c.durableEvict(key)
        } else {
            (r, journaled) = (op == "invalidate" ? c.invalidate(key) : c.evict(key), false)
        }
        switch r {
        case .ok(let removed):
            var res: [String: Any] = ["removed": removed]
            if durable == true { res["durable"] = journaled }
            return .ok(res)
        case .fail(let f): return .fail(reason: f.code, message: failMessage(f, op: op))
        }
    }

    func stats() throws -> Outcome {
        let c = try requireCache()
        let st = try c.stats()
        var totals = countersJSON(st.totals)
        totals["occupancy"] = st.occupancy
        totals["corrupt"] = st.corrupt
        let shards: [[String: Any]] = st.shards.map {
            var d = countersJSON($0.counters)
            d["shard"] = $0.shard
            d["occupancy"] = $0.occupancy
            return d
        }
        return .ok(["totals": totals, "shards": shards, "occupancy": st.occupancy])
    }

    func generation() throws -> Outcome {
        let c = try requireCache()
        return .ok(["generation": UInt64(try c.generation())])
    }

    func wait(_ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        let seen = try u64(args, "seen")
        guard seen <= UInt64(UInt32.max) else { throw RequestError.bad("seen must fit in 32 bits") }
        let ms = try u64(args, "timeout_ms")
        let (g, timedOut) = try c.waitForChange(seen: UInt32(seen), timeoutNs: ms.multipliedReportingOverflow(by: 1_000_000).overflow ? UInt64.max : ms * 1_000_000)
        return .ok(["generation": UInt64(g), "timed_out": timedOut])
    }

    func failMessage(_ f: OpFailure, op: String) -> String {
        switch f {
        case .tooLarge: return "\(op): key must be 1..key_capacity bytes and value at most value_capacity bytes"
        case .notFound: return "\(op): key not found"
        case .full: return "\(op): no slot in the key's window could be taken"
        case .versionNotNewer: return "\(op): explicit version is not newer than the stored version"
        case .busy: return "\(op): a live participant held the slot or lock for the whole bounded wait"
        case .closed: return "\(op): the handle is closed"
        case .notStaging, .noPrevious, .pinned, .badNamespace: return "\(op): \(f.code)"   // namespace failures carry their own message
        }
    }
}
