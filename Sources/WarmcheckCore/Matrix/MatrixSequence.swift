/// The documented write sequence of the interop matrix (docs/MATRIX.md), and the sequential model
/// that predicts what any correct reader must then see. Every writer runs exactly these steps;
/// every reader's view is compared with the model, field by field.
public enum MatrixSequence {
    public static let geometry: JSON = [
        "shard_count": 4, "slots_per_shard": 16, "key_capacity": 32, "value_capacity": 256,
        "probe_window": 4, "participant_capacity": 16,
    ]
    /// 2023-11-14T22:13:20Z: a fixed simulated time makes every timestamp in the segment exact.
    public static let t0: Int64 = 1_700_000_000_000_000_000
    public static let readAt: Int64 = t0 + 2_000_000_000
    static let second: Int64 = 1_000_000_000

    public struct Step: Sendable {
        public var op: String
        public var args: JSON
        /// "ok", or "fail:REASON"; for invalidate/evict "ok" plus `removed`.
        public var expect: String
        public var removed: Bool? = nil
        /// Result fields the answer must carry with exactly these values (the namespace steps).
        public var result: [String: JSON]? = nil
    }

    public static func key(_ i: Int) -> [UInt8] { Array("matrix/\(i < 10 ? "0" : "")\(i)".utf8) }
    public static let bigKey = Array("matrix/big/xxxxxxxxxxxxxxxxxxxxx".utf8)  // 32 bytes: key_capacity
    public static let extraKeys: [[UInt8]] = [
        Array("matrix/toolarge".utf8), Array("matrix/nope".utf8), Array("matrix/absent".utf8),
    ]

    /// Value number `gen` of key `i`: lengths cover 0..256 (value_capacity); bytes vary per key.
    public static func value(_ i: Int, _ gen: Int) -> [UInt8] {
        let n = (i * 37 + gen * 11) % 257
        return (0..<n).map { j in UInt8(truncatingIfNeeded: i * 31 + gen * 17 + j * 7) }
    }

    /// TTL classes by `i % 4`: never expires; fresh at read time; stale at read time; expired.
    static func ttl(_ i: Int) -> (ttl: Int64, grace: Int64) {
        switch i % 4 {
        case 0: return (0, 0)
        case 1: return (60 * second, 30 * second)
        case 2: return (1 * second, 10 * second)
        default: return (1 * second, 0)
        }
    }

    static func put(_ op: String, _ k: [UInt8], _ v: [UInt8], ttl: (Int64, Int64), origin: Int64,
                    version: Int64 = 0, expect: String = "ok") -> Step {
        var a: [String: JSON] = [
            "key_hex": .string(Hex.encode(k)), "value_hex": .string(Hex.encode(v)),
            "ttl_ns": .int(ttl.0), "grace_ns": .int(ttl.1), "origin_tag": .int(origin),
        ]
        if version != 0 { a["version"] = .int(version) }
        return Step(op: op, args: .object(a), expect: expect)
    }

    static func keyOnly(_ op: String, _ k: [UInt8], removed: Bool) -> Step {
        Step(op: op, args: ["key_hex": .string(Hex.encode(k))], expect: "ok", removed: removed)
    }

    /// The steps after `create` (which the runner issues with `geometry` and `t0`) of a writer
    /// that speaks 1.0; one that speaks 1.1 or later also runs the namespace steps
    /// (`steps(namespaces: true)`, MatrixNamespaces).
    public static var steps: [Step] { steps(namespaces: false) }

    public static func steps(namespaces: Bool) -> [Step] {
        var s: [Step] = []
        for i in 0..<24 { s.append(put("put", key(i), value(i, 0), ttl: ttl(i), origin: Int64(1000 + i))) }
        s.append(put("put", bigKey, (0..<256).map { UInt8($0) }, ttl: (0, 0), origin: 7))
        s.append(put("put", extraKeys[0], [UInt8](repeating: 1, count: 257), ttl: (0, 0), origin: 8,
                     expect: "fail:too_large"))
        for i in 0..<6 { s.append(put("refresh", key(i), value(i, 1), ttl: ttl(i), origin: Int64(2000 + i))) }
        s.append(put("put", key(6), value(6, 1), ttl: (0, 0), origin: 2006, version: 500))
        s.append(put("refresh", key(6), value(6, 2), ttl: (0, 0), origin: 2106, version: 400,
                     expect: "fail:version_not_newer"))
        s.append(put("refresh", key(6), value(6, 3), ttl: (0, 0), origin: 2206))
        s.append(keyOnly("invalidate", key(7), removed: true))
        s.append(keyOnly("invalidate", key(8), removed: true))
        s.append(keyOnly("invalidate", extraKeys[1], removed: false))
        s.append(keyOnly("evict", key(9), removed: true))
        s.append(put("put", key(7), value(7, 4), ttl: (0, 0), origin: 3007))
        s.append(put("refresh", extraKeys[2], value(1, 1), ttl: (0, 0), origin: 9, expect: "fail:not_found"))
        if namespaces { s += MatrixNamespaces.steps }
        // Readers look at the segment two simulated seconds later: some entries are now stale,
        // some expired (the TTL classes above).
        s.append(Step(op: "set_clock", args: ["now_ns": .int(readAt)], expect: "ok"))
        return s
    }

    /// Every key a reader looks up, present or not.
    public static var universe: [[UInt8]] { (0..<24).map(key) + [bigKey] + extraKeys }

    public struct Entry: Sendable, Equatable {
        public var value: [UInt8]
        public var version: Int64
        public var originTag: Int64
        public var expiresAt: Int64
        public var staleUntil: Int64
        public var writtenAt: Int64
    }

    /// Runs the steps on a plain dictionary, following PROTOCOL.md §9.4 for versions
    /// (automatic: max(version_clock + 1, current + 1); explicit: must exceed current).
    /// With `namespaces`, the namespace steps' entries too, under their full namespace keys.
    public static func model(namespaces: Bool = false) -> [[UInt8]: Entry] {
        var table: [[UInt8]: Entry] = [:]
        var clock: Int64 = 0
        for st in steps {
            guard st.expect == "ok" else { continue }
            guard let k = st.args["key_hex"]?.string.flatMap(Hex.decode) else { continue }
            switch st.op {
            case "put", "refresh":
                let explicit = st.args["version"]?.int ?? 0
                let current = table[k]?.version ?? 0
                let v: Int64
                if explicit != 0 { v = explicit } else { clock += 1; v = max(clock, current + 1) }
                let ttl = st.args["ttl_ns"]?.int ?? 0
                let grace = st.args["grace_ns"]?.int ?? 0
                table[k] = Entry(
                    value: Hex.decode(st.args["value_hex"]!.string!)!, version: v,
                    originTag: st.args["origin_tag"]?.int ?? 0,
                    expiresAt: ttl == 0 ? 0 : t0 + ttl, staleUntil: ttl == 0 ? 0 : t0 + ttl + grace,
                    writtenAt: t0)
            case "invalidate", "evict":
                table[k] = nil
            default: break
            }
        }
        if namespaces { MatrixNamespaces.apply(to: &table, clock: &clock) }
        return table
    }

    public enum Read: Equatable, Sendable {
        case miss
        case fresh(Entry)
        case stale(Entry)
    }

    /// What a first reader of a pristine copy must get for `key` at `readAt` (PROTOCOL.md §12).
    public static func expectedRead(_ k: [UInt8], in table: [[UInt8]: Entry]) -> Read {
        guard let e = table[k] else { return .miss }
        if e.expiresAt == 0 || readAt < e.expiresAt { return .fresh(e) }
        if readAt < e.staleUntil { return .stale(e) }
        return .miss
    }
}
