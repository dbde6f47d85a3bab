import WarmcheckModel

/// How often writers actually met in a stress run, from what the answers reveal: writes (and
/// removals) of one key whose intervals overlapped another's on that key — the only moments a
/// claim can collide — and the `busy` answers a lost collision ends in (§9.3 insert lock,
/// §9.4 and §9.5 wait loops).
public struct Contention: Sendable, Equatable {
    /// Mutating operations (put, refresh, invalidate, evict) with a known return.
    public var mutations = 0
    /// Of them, those whose interval overlapped another mutation of the same key.
    public var overlapping = 0
    /// `busy` answers, per op.
    public var busy: [String: Int] = [:]

    public init(_ history: [CacheOperation]) {
        var byKey: [[UInt8]: [(UInt64, UInt64)]] = [:]
        for op in history {
            if case .fail(.busy) = op.output { busy[op.input.opName, default: 0] += 1 }
            if case .get = op.input { continue }
            byKey[op.input.key, default: []].append((op.call, op.return))
        }
        for (_, spans) in byKey {
            let sorted = spans.sorted { $0.0 < $1.0 }
            mutations += sorted.filter { $0.1 != UInt64.max }.count
            // Overlaps per operation: sweep by call, remembering the latest return so far.
            var flagged = [Bool](repeating: false, count: sorted.count)
            var latest: (end: UInt64, index: Int)? = nil
            for (i, s) in sorted.enumerated() {
                if let l = latest, l.end >= s.0 {
                    flagged[i] = true
                    flagged[l.index] = true
                }
                if latest == nil || s.1 > latest!.end { latest = (s.1, i) }
            }
            overlapping += zip(sorted, flagged).filter { $0.1 && $0.0.1 != UInt64.max }.count
        }
    }

    public var busyTotal: Int { busy.values.reduce(0, +) }

    public var summary: String {
        let b = busy.keys.sorted().map { "\($0) \(busy[$0]!)" }.joined(separator: ", ")
        return "\(overlapping) of \(mutations) writes and removals overlapped another on the same key; "
            + "\(busyTotal) answered busy" + (b.isEmpty ? "" : " (\(b))")
    }
}
