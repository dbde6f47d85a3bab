// Misses that nothing in a history explains: the count the upgrade pass criterion of issue 8
// asks for ("zero misses caused by the upgrade itself").
//
// The linearizability check already fails a case with such a miss, but says only that one key's
// history has no legal order; an upgrade's verdict needs the number, and it must still be
// counted when a failing expectation stops the case early.

/// Indices of the gets in `history` that missed a key which was certainly present: an
/// acknowledged put or refresh of the key had returned before the get was called, and no
/// invalidate or evict of the key could be ordered between that write and the get. Only gets
/// called at or after `from` are counted (nanoseconds of the history's clock).
///
/// A removal explains a miss when it may lie between those writes and the get in some legal
/// order: called before the get returned, and returned after the last of them was called. Removals that
/// answered `removed(false)` removed nothing and explain nothing; an unknown outcome may have
/// removed. With `silentRemoval` (the clock moves, so entries may expire) or a write with a TTL,
/// a miss can always be explained and is never counted; a capacity eviction is not assumed, as
/// the linearizability check does not assume it either (CacheModel.allowSilentRemoval).
public func unexplainedMisses(_ history: [CacheOperation], from: UInt64 = 0, silentRemoval: Bool = false) -> [Int] {
    guard !silentRemoval else { return [] }
    var byKey: [[UInt8]: [Int]] = [:]
    for (i, op) in history.enumerated() { byKey[op.input.key, default: []].append(i) }
    var out: [Int] = []
    for (_, indices) in byKey {
        let ops = indices.map { (i: $0, op: history[$0]) }
        // A key written with a TTL may expire whenever the clock says so.
        if ops.contains(where: { $0.op.input.writtenTTL.map { $0 != 0 } ?? false }) { continue }
        for g in ops {
            guard case .get = g.op.input, g.op.output == .miss, g.op.call >= from else { continue }
            // Of the acknowledged writes that returned before the get was called, the one called
            // last: a removal that explains the miss must follow every one of them in the
            // order, so it must have returned after this one was called.
            let written = ops.filter { w in
                guard w.op.input.isWrite, case .ok = w.op.output else { return false }
                return w.op.return < g.op.call
            }.max { $0.op.call < $1.op.call }
            guard let w = written else { continue }
            let removable = ops.contains { r in
                guard r.op.input.isRemoval, r.op.output != .removed(false) else { return false }
                return r.op.call <= g.op.return && r.op.return >= w.op.call
            }
            if !removable { out.append(g.i) }
        }
    }
    return out.sorted()
}

extension CacheInput {
    var isRemoval: Bool {
        switch self {
        case .invalidate, .evict: return true
        default: return false
        }
    }

    /// The TTL a put or refresh asked for (nil: not a write; a write whose TTL was not
    /// recorded counts as one with a TTL).
    var writtenTTL: UInt64? {
        switch self {
        case .put(_, _, _, let t), .refresh(_, _, _, let t): return t ?? 1
        default: return nil
        }
    }
}
