// Automatic versions across keys (PROTOCOL.md §9.4): every automatic version is
// `max(fetch_add(version_clock, 1) + 1, current + 1)` and, as long as no write asks for an
// explicit version, `current + 1` never exceeds the clock's value, so automatic versions are the
// clock's values themselves — unique in the segment, and a write that returned before another
// started (its fetch-add came first) has the smaller one. The per-key model cannot see this:
// it relates only writes of one key.
//
// Only writes that answered ok take part: an unknown outcome may or may not have taken a value
// of the clock (that only leaves a gap, which is allowed).

public enum AutomaticVersionOrder {
    /// The first pair of automatic writes that breaks uniqueness or real-time order, as a
    /// failure whose `prefix` is the earlier write and `unplaced` the later one; nil if none.
    public static func violation(_ operations: [CacheOperation]) -> LinearizabilityFailure? {
        var writes: [Int] = []
        for (i, op) in operations.enumerated() where op.input.isWrite && op.input.explicitVersion == nil {
            if case .ok = op.output, op.return != UInt64.max { writes.append(i) }
        }
        func version(_ i: Int) -> UInt64 {
            if case .ok(let v) = operations[i].output { return v }
            return 0
        }
        func line(_ i: Int) -> String {
            let op = operations[i]
            return "#\(i) [client \(op.clientId), \(op.call)…\(op.return)] \(describe(input: op.input, output: op.output))"
        }

        var byVersion: [UInt64: Int] = [:]
        byVersion.reserveCapacity(writes.count)
        for i in writes {
            if let j = byVersion[version(i)] {
                let text = "Two writes reported the same automatic version \(version(i)):\n  \(line(j))\n  \(line(i))\n"
                    + "Automatic versions come from the segment's one version_clock (a fetch-add, PROTOCOL.md §9.4), so no two "
                    + "writes — of the same key or of different keys — can take the same one."
                return LinearizabilityFailure(key: operations[i].input.key, prefix: [j], unplaced: i, explanation: text)
            }
            byVersion[version(i)] = i
        }

        let byReturn = writes.sorted { operations[$0].return < operations[$1].return }
        let byCall = writes.sorted { operations[$0].call < operations[$1].call }
        var p = 0
        var maxDone: Int? = nil
        for b in byCall {
            while p < byReturn.count && operations[byReturn[p]].return < operations[b].call {
                let a = byReturn[p]
                if maxDone.map({ version(a) > version($0) }) ?? true { maxDone = a }
                p += 1
            }
            if let a = maxDone, version(a) > version(b) {
                let text = "A write returned with automatic version \(version(a)) before another write started, which then "
                    + "reported the smaller automatic version \(version(b)):\n  \(line(a))\n  \(line(b))\n"
                    + "Automatic versions come from the segment's one version_clock (PROTOCOL.md §9.4): the later write's "
                    + "fetch-add came after the earlier one's, so its version must be larger, whichever keys they wrote."
                return LinearizabilityFailure(key: operations[b].input.key, prefix: [a], unplaced: b, explanation: text)
            }
        }
        return nil
    }
}
