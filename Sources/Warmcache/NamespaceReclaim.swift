// NamespaceReclaim.swift — removing the entries of namespace versions nobody can read any more
// (PROTOCOL.md §18.7, N8).

/// `nsReclaim`'s result: entries removed, and the versions kept (ascending).
public struct NsReclaimed: Sendable, Equatable {
    public var removed: Int
    public var kept: [UInt64]
}

extension WarmCache {
    /// `ns_reclaim(ns)`: removes every READY/STALE entry of a version of `ns` that is reclaimable:
    /// at most `last`, and neither current, previous, the open stage of a live stager, nor pinned
    /// by a live participant. It scans the whole segment; call it off the hot path.
    ///
    /// The order of the loads is the proof (§18.7): `ns_stage` first (a stage closed before it was
    /// flipped before it, so the head load after it sees that version), then `ns_head`, then every
    /// pin. A pin this scan misses was stored after it in the seq-cst order, and its pinner then
    /// saw its version in a later head than ours, where a version we found retired cannot be:
    /// so every pin that protects a read is seen.
    public func nsReclaim(_ ns: Int) throws(NsFailure) -> NsReclaimed {
        try checkNamespace(ns)
        let s = try loadStage(ns).stage   // step 1
        let h = try loadHead(ns).head     // step 2
        try checkPair(ns, h, s)
        var keep: Set<UInt64> = [h.current, h.previous]   // step 3
        if s.stager != 0 && isAlive(s.stager) { keep.insert(s.last) }
        // Step 4. FAULT ns_reclaim_ignores_pins: the keep set leaves pins out.
        if !faults.contains(.nsReclaimIgnoresPins) {
            for id in 1...UInt16(layout.participantCapacity) {
                if let p = livePin(id), p.ns == ns { keep.insert(p.version) }
            }
        }
        keep.remove(0)   // "no version" protects nothing
        at(.nsReclaimAfterScan)
        var removed = 0
        for shard in 0..<layout.shardCount {
            for slot in 0..<layout.slotsPerShard {
                if let found = reclaimableEntry(shard: shard, slot: slot, ns: ns, last: s.last, keep: keep),
                   removeEntry(shard: shard, slot: slot, observed: found.word, key: found.key) {
                    removed += 1
                }
            }
        }
        return NsReclaimed(removed: removed, kept: keep.sorted())
    }

    /// Step 5's test of one slot: a READY/STALE entry whose key is a namespace key of `ns` with a
    /// version `v ≤ last` outside `keep`. The key words are relaxed loads after the acquire state
    /// load (masked past `key_len`, §13.1); they may be torn if the slot moves on meanwhile, but
    /// then its state word moved too, and the removal's CAS from the observed word fails.
    func reclaimableEntry(shard: Int, slot: Int, ns: Int, last: UInt64, keep: Set<UInt64>) -> (word: StateWord, key: [UInt8])? {
        let off = layout.slotOffset(shard, slot)
        let st = StateWord(raw: words.loadAcquire(off + Layout.SLOT_STATE))
        guard let kind = st.validKind(participantCapacity: layout.participantCapacity), kind == .ready || kind == .stale else { return nil }
        let len = Int(truncatingIfNeeded: words.loadRelaxed(off + Layout.SLOT_KEY_LEN) & 0xFFFF_FFFF)
        guard len > Layout.NS_KEY_PREFIX_LEN, len <= layout.keyCapacity else { return nil }
        let w0 = words.loadRelaxed(off + Layout.SLOT_KEY), w1 = words.loadRelaxed(off + Layout.SLOT_KEY + 8)
        guard let (keyNs, v) = namespaceOf(len: len, word0: w0, word1: w1), keyNs == ns, v <= last, !keep.contains(v) else { return nil }
        var key: [UInt8] = []
        key.reserveCapacity((len + 7) & ~7)
        for i in 0..<(len + 7) / 8 {
            withUnsafeBytes(of: words.loadRelaxed(off + Layout.SLOT_KEY + 8 * i).littleEndian) { key.append(contentsOf: $0) }
        }
        key.removeLast(key.count - len)   // the bytes past key_len are not the key's
        return (st, key)
    }

    /// Removes one entry as §9.5 does, from the observed word: T8 then T9, inside the claim hint of
    /// its window (§5.1). A failed T8 means the slot moved on: skip it. True if this emptied it.
    func removeEntry(shard s: Int, slot j: Int, observed st: StateWord, key: [UInt8]) -> Bool {
        // §18.7: the hint names the slot's shard and the slot itself as home; a window starting at
        // the slot covers the one slot claimed, whatever its key_hash says.
        enterHint(shard: s, home: j)
        defer { leaveHint() }
        let slotOff = layout.slotOffset(s, j)
        let stateOff = slotOff + Layout.SLOT_STATE
        let claimed = st.next(.invalidated, owner: participantId)
        // T8, acq-rel claim.
        guard words.casAcqRel(stateOff, st.raw, claimed.raw) else { return false }
        traced(.invalidateClaim, shard: s, slot: j, from: st, to: claimed)
        words.storeRelaxed(slotOff + Layout.SLOT_CLAIMED_AT_NS, now())   // relaxed: covered by T9's release
        words.storeRelaxed(slotOff + Layout.SLOT_KEY_HASH, 0)
        // T9, release: the zeroed key_hash is visible with the EMPTY word.
        let cleared = claimed.next(.empty)
        let emptied = words.casRelease(stateOff, claimed.raw, cleared.raw)
        if emptied { traced(.clear, shard: s, slot: j, from: claimed, to: cleared) }
        words.fetchAddRelaxed(layout.shardOffset(s) + Layout.SH_INVALIDATIONS, 1)
        notify()
        return emptied
    }
}
