import WarmcheckSegment

/// The 1.1 part of the matrix sequence (docs/MATRIX.md "Namespaces, 1.1 writers"): versioned
/// namespaces (PROTOCOL.md §18) staged, flipped, rolled back and reclaimed, so that a segment a
/// 1.1 writer leaves behind, and the 1.1 golden image in particular, freezes the namespace table
/// and the namespace-key layout as well as the plain entries. A writer that speaks 1.0 skips these
/// steps (it has no namespace operations); a reader that speaks 1.0 is not asked for the
/// namespace view, but its `dump` must list the namespace entries as ordinary entries (§18.1).
public enum MatrixNamespaces {
    /// `nskey(ns, v, k)` of PROTOCOL.md §18.1, from the harness's own spec reading
    /// (WarmcheckSegment), not from an implementation under test.
    public static func key(_ ns: Int, _ v: Int64, _ k: [UInt8]) -> [UInt8] {
        SpecNamespace.key(ns: ns, version: UInt64(v), user: k)
    }

    public static let catalog = 0    // two versions flipped in turn: current 2, previous 1
    public static let rolledBack = 1 // two versions, then a rollback to 1 and a reclaim of 2
    public static let untouched = 5  // never used: the zero table entry every reader must accept

    public static func userKey(_ s: String) -> [UInt8] { Array(s.utf8) }
    /// User keys are ≤ 16 bytes: 16 (the prefix) + 16 = the matrix's key capacity of 32.
    public static let userKeys = ["item/a1", "item/b1", "item/c1", "x1"].map(userKey)

    static func value(_ tag: Int, _ n: Int) -> [UInt8] {
        (0..<n).map { j in UInt8(truncatingIfNeeded: tag * 29 + j * 5) }
    }

    static func op(_ op: String, _ ns: Int, expect result: [String: JSON]) -> MatrixSequence.Step {
        MatrixSequence.Step(op: op, args: ["ns": .int(Int64(ns))], expect: "ok", result: result)
    }

    static func nsPut(_ ns: Int, _ k: String, _ v: [UInt8], staged: Int64) -> MatrixSequence.Step {
        MatrixSequence.Step(op: "ns_put", args: ["ns": .int(Int64(ns)), "key_hex": .string(Hex.encode(userKey(k))),
                                                 "value_hex": .string(Hex.encode(v))],
                            expect: "ok", result: ["ns_version": .int(staged)])
    }

    /// The steps, run after the 1.0 steps' last write and before the clock moves (so every entry
    /// is written at T0, with no TTL: `ns_put` takes none).
    public static var steps: [MatrixSequence.Step] {
        [
            op("ns_stage", catalog, expect: ["version": 1]),
            nsPut(catalog, "item/a1", value(1, 40), staged: 1),
            nsPut(catalog, "item/b1", value(2, 0), staged: 1),
            op("ns_flip", catalog, expect: ["version": 1, "previous": 0]),
            op("ns_stage", catalog, expect: ["version": 2]),
            nsPut(catalog, "item/a1", value(3, 200), staged: 2),
            nsPut(catalog, "item/c1", value(4, 1), staged: 2),
            op("ns_flip", catalog, expect: ["version": 2, "previous": 1]),
            op("ns_stage", rolledBack, expect: ["version": 1]),
            nsPut(rolledBack, "x1", value(5, 16), staged: 1),
            op("ns_flip", rolledBack, expect: ["version": 1, "previous": 0]),
            op("ns_stage", rolledBack, expect: ["version": 2]),
            nsPut(rolledBack, "x1", value(6, 17), staged: 2),
            op("ns_flip", rolledBack, expect: ["version": 2, "previous": 1]),
            op("ns_rollback", rolledBack, expect: ["version": 1, "retired": 2]),
            op("ns_reclaim", rolledBack, expect: ["removed": 1, "kept": [1]]),
        ]
    }

    /// The table every 1.1 reader must find: (current, previous, last) per namespace used, and the
    /// untouched one all zero.
    public static let table: [(ns: Int, current: Int64, previous: Int64, last: Int64)] = [
        (catalog, 2, 1, 2), (rolledBack, 1, 0, 2), (untouched, 0, 0, 0),
    ]

    /// Applies the steps to the sequential model (`entries` keyed by full namespace key, `clock`
    /// the automatic version clock of §9.4): an `ns_put` is a plain automatic put of its namespace
    /// key; `ns_reclaim` removes the entries of versions outside the keep set (§18.7: current,
    /// previous; no stage is open and nothing is pinned when it runs).
    static func apply(to entries: inout [[UInt8]: MatrixSequence.Entry], clock: inout Int64) {
        var head: [Int: (current: Int64, previous: Int64)] = [:]
        var staged: [Int: Int64] = [:]
        for st in steps {
            let ns = Int(st.args["ns"]?.int ?? 0)
            switch st.op {
            case "ns_stage": staged[ns] = st.result?["version"]?.int ?? 0
            case "ns_put":
                let k = key(ns, staged[ns] ?? 0, Hex.decode(st.args["key_hex"]!.string!)!)
                clock += 1
                entries[k] = MatrixSequence.Entry(value: Hex.decode(st.args["value_hex"]!.string!)!,
                                                  version: max(clock, (entries[k]?.version ?? 0) + 1), originTag: 0,
                                                  expiresAt: 0, staleUntil: 0, writtenAt: MatrixSequence.t0)
            case "ns_flip":
                head[ns] = (staged[ns] ?? 0, head[ns]?.current ?? 0)
                staged[ns] = nil
            case "ns_rollback":
                head[ns] = (head[ns]?.previous ?? 0, 0)
            case "ns_reclaim":
                let keep = Set([head[ns]?.current, head[ns]?.previous].compactMap { $0 }.filter { $0 != 0 })
                for k in entries.keys {
                    if let p = SpecNamespace.parse(k), p.ns == ns, !keep.contains(Int64(p.version)) { entries[k] = nil }
                }
            default: break
            }
        }
    }

    /// The `namespaces` member of the expected view: per namespace its table words and an
    /// `ns_get` of every user key, as a 1.1 reader of a pristine copy must answer at `readAt`.
    static func view(entries: [[UInt8]: MatrixSequence.Entry]) -> JSON {
        .array(table.map { t in
            let reads: [JSON] = userKeys.map { k in
                var r: [String: JSON] = ["key_hex": .string(Hex.encode(k)), "ns_version": .int(t.current), "pinned": false]
                if t.current != 0, let e = entries[key(t.ns, t.current, k)] {
                    r.merge(ExpectedView.fields(e), uniquingKeysWith: { a, _ in a })
                    r["hit"] = true
                    r["stale"] = false
                    r["refresh_requested"] = false
                } else {
                    r["hit"] = false
                }
                return .object(r)
            }
            return .object(["ns": .int(Int64(t.ns)), "current": .int(t.current), "previous": .int(t.previous),
                            "last": .int(t.last), "stager": 0, "pins": [], "reads": .array(reads)])
        })
    }
}
