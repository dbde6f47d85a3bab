@_spi(Harness) import Warmcache

/// When the linearizability model must let an entry vanish without an operation of the history
/// saying so. Only for removals the checker cannot see: an `evict` that answered `removed` is in
/// the history already (and counts in `evictions`), so counting it as silent would let an
/// implementation that never bumps a version hide behind its own explicit evicts.
extension Accounting {
    /// Why entries may have vanished unseen, or nil when every removal is in the history.
    /// `inFlight` operations (stopped at a pause point) may have evicted without answering yet.
    func silentRemovalReason(_ t: Counters, inFlight: Int = 0) -> String? {
        var why: [String] = []
        // Unknown removals may have counted an eviction; an unknown put may have evicted another key.
        let explained = evictions + unknownRemovals + inFlight
        if t.evictions > UInt64(explained) {
            why.append("\(t.evictions) evictions counted, \(t.evictions - UInt64(explained)) more than the explicit evicts "
                       + "that answered removed (\(evictions)) or might have (\(unknownRemovals + inFlight)): inserts evicted other keys (CLOCK, §9.6)")
        }
        if t.expirations > 0 { why.append("\(t.expirations) expirations (§12, T11)") }
        if t.reclaims > 0 {
            why.append("\(t.reclaims) reclaims (§9.8): a dead inserter's claim may hold an eviction it never reported")
        }
        return why.isEmpty ? nil : why.joined(separator: "; ")
    }
}
