import Foundation
@_spi(Harness) import Warmcache

/// The cache operations of docs/DRIVER.md on the open handle.
extension Server {
    /// hello.get_via: the get paths this fixture routes to their own library entry point
    /// (DRIVER.md "get"), so that each is judged by the suite, not only the one a fixture
    /// happened to call.
    static let getVia = ["single", "into", "many"]

    func get(_ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        let key = try hex(args, "key_hex")
        switch args["via"] as? String ?? (args["via"] == nil ? "single" : "") {
        case "single":
            switch c.get(key) {
            case .miss: return .ok(["hit": false])
            case .hit(let h): return .ok(hitJSON(h))
            case .closed: throw UsageError.closed
            }
        // The buffer gets answer nil on a closed handle (their API has no error): the library
        // is called all the same, so that its own closed guard is what keeps it off the unmapped
        // segment, and only then is the nil told apart from a miss.
        case "into":
            var value: [UInt8] = []
            let info = c.get(key, into: &value)
            if info == nil && c.isClosed { throw UsageError.closed }
            return .ok(getAnswer(info, value))
        case "many":
            var values: [[UInt8]] = [[]]
            let info = c.get([key], into: &values)[0]
            if info == nil && c.isClosed { throw UsageError.closed }
            return .ok(getAnswer(info, values[0]))
        default:
            throw RequestError.bad("via must be single, into or many")
        }
    }

    /// `get_many`: `keys_hex` through the library's batched get, one get answer per key.
    func getMany(_ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        guard let list = args["keys_hex"] as? [Any] else { throw RequestError.bad("missing list argument keys_hex") }
        let keys: [[UInt8]] = try list.map {
            guard let s = $0 as? String, let k = Hex.decode(s) else { throw RequestError.bad("keys_hex must be a list of hex strings") }
            return k
        }
        var values = [[UInt8]](repeating: [], count: keys.count)
        let results = c.get(keys, into: &values)
        if c.isClosed { throw UsageError.closed }
        return .ok(["results": results.indices.map { getAnswer(results[$0], values[$0]) }])
    }

    /// `now`: the library's clock read.
    func now() throws -> Outcome {
        let c = try requireCache()
        let t = c.now()
        // now() cannot fail: on a closed handle it reads CLOCK_REALTIME, the segment being gone.
        if c.isClosed { throw UsageError.closed }
        return .ok(["now_ns": t])
    }

    /// One get's answer (DRIVER.md `get`), of a single get or of one key of a batch.
    func getAnswer(_ info: HitInfo?, _ value: [UInt8]) -> [String: Any] {
        guard let info else { return ["hit": false] }
        return hitJSON(Hit(value: value, info: info))
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
