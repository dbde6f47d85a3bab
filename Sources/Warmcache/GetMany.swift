// GetMany.swift — the batched get: N ordinary gets (§9.2) whose cache and TLB misses overlap.

extension WarmCache {
    /// How many keys `get(_:into:)` of a batch places and prefetches ahead at once; a longer
    /// batch is served in chunks of this size (a core has far fewer misses in flight than 128
    /// slots' lines, so a larger chunk would overlap nothing more).
    public static let maxGetBatch = 128

    /// `get(_:into:)` for a batch of keys: result `i` and `values[i]` are exactly what
    /// `get(keys[i], into: &values[i])` gives, for every `i` in order. `values` must have one
    /// buffer per key (their capacity is reused, as the single get does).
    ///
    /// The per-key semantics are exactly those of `keys.count` single gets (PROTOCOL.md §9.2):
    /// the same loads with the same orderings, the same counters and T7 marks, in key order, and
    /// nothing held between two keys. It is faster on a large segment only because, before the
    /// gets of each chunk of `maxGetBatch` keys, it hashes every key and prefetches its home slot
    /// and its shard's counter line, so that their misses are in flight together. Use it wherever
    /// a service already has several keys at hand (a page of items, a fan-out).
    public func get(_ keys: [[UInt8]], into values: inout [[UInt8]]) -> [HitInfo?] {
        precondition(values.count == keys.count, "get(_:into:) needs one value buffer per key")
        var results = [HitInfo?](repeating: nil, count: keys.count)
        guard !isClosed else {
            for i in values.indices { values[i].removeAll(keepingCapacity: true) }
            return results
        }
        var lo = 0
        while lo < keys.count {
            let hi = min(lo + WarmCache.maxGetBatch, keys.count)
            getChunk(keys, lo, hi, &values, &results)
            lo = hi
        }
        return results
    }

    private func getChunk(_ keys: [[UInt8]], _ lo: Int, _ hi: Int, _ values: inout [[UInt8]], _ results: inout [HitInfo?]) {
        // Placements of the chunk, on the stack (a tuple-free fixed array would need 128 lets).
        withUnsafeTemporaryAllocation(of: (h: UInt64, shard: Int, home: Int).self, capacity: hi - lo) { place in
            for i in lo..<hi {
                let h = keys[i].withUnsafeBytes { keyHash($0) }   // KEY_SEED, as getImpl
                let (s, home) = layout.place(h)
                place[i - lo] = (h, s, home)
                prefetchHome(s, home)
            }
            for i in lo..<hi {
                let p = place[i - lo]
                results[i] = keys[i].withUnsafeBytes { getPlaced($0, p.h, p.shard, p.home, into: &values[i]) }
            }
        }
    }

    /// Prefetches every line of the key's home slot (header, key and both records: which record
    /// is active is known only once the state word arrives) and its shard's counter line. A
    /// prefetch reads nothing the get relies on, so the get that follows is exactly getImpl's.
    @inline(__always)
    private func prefetchHome(_ s: Int, _ home: Int) {
        let shardOff = layout.shardOffset(s)
        words.prefetch(shardOff + Layout.SH_HITS)
        let slotOff = layout.slotOffset(s, home)
        var line = 0
        while line < layout.slotSize {
            words.prefetch(slotOff &+ line)
            line &+= 64
        }
    }
}
