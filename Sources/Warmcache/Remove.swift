// Remove.swift — invalidate and evict (§9.5): T8 then T9.

/// The outcome of `invalidate` / `evict`.
public enum RemoveOutcome: Sendable, Equatable {
    /// `removed` false: the key was not there (an invalidation is never silently lost).
    case ok(removed: Bool)
    case fail(OpFailure)
}

let removerKinds: [SlotStateKind] = [.writing, .ready, .refreshing, .stale]

extension WarmCache {
    /// Remove `key`; counts an invalidation.
    public func invalidate(_ key: [UInt8]) -> RemoveOutcome { remove(key, evict: false) }

    /// Remove `key`; counts an eviction.
    public func evict(_ key: [UInt8]) -> RemoveOutcome { remove(key, evict: true) }

    /// `ticket`: journal the removal as a tombstone (DurablePut.swift); nil for a plain one.
    func remove(_ key: [UInt8], evict: Bool, ticket: DurableTicket? = nil) -> RemoveOutcome {
        guard !isClosed else { return .fail(.closed) }
        // A key of impossible length cannot be in the segment.
        guard key.count >= 1, key.count <= layout.keyCapacity else { return .ok(removed: false) }
        return key.withUnsafeBytes { kb in removeImpl(kb, evict: evict, ticket: ticket) }
    }

    func removeImpl(_ kb: UnsafeRawBufferPointer, evict: Bool, ticket: DurableTicket? = nil) -> RemoveOutcome {
        let h = keyHash(kb)   // KEY_SEED (FAULT wrong_hash: another seed, see keySeed)
        let (s, home) = layout.place(h)
        let o = participantId
        enterHint(shard: s, home: home)   // §5.1
        defer { leaveHint() }
        var spin = 0
        while spin < Layout.WAIT_SPINS {
            spin += 1
            guard let (j, st) = find(kb, hash: h, shard: s, home: home, kinds: removerKinds) else {
                return .ok(removed: false)
            }
            let slotOff = layout.slotOffset(s, j)
            let stateOff = slotOff + Layout.SLOT_STATE
            switch st.kind! {
            case .ready, .stale:
                // T8, acq-rel claim.
                let claimed = st.next(.invalidated, owner: o)
                at(.invalidateBeforeClaim)
                guard words.casAcqRel(stateOff, st.raw, claimed.raw) else { continue }
                traced(.invalidateClaim, shard: s, slot: j, from: st, to: claimed)
                at(.invalidateAfterClaim)
                if testStopAfterClaim { return .fail(.busy) }
                ticket?.takeOrder(self)   // after T8, before T9 (PERSISTENCE.md §3)
                words.storeRelaxed(slotOff + Layout.SLOT_KEY_HASH, 0)   // relaxed: covered by T9's release
                // T9, release: the zeroed key_hash is visible with the EMPTY word.
                let cleared = claimed.next(.empty)
                guard words.casRelease(stateOff, claimed.raw, cleared.raw) else { return .fail(.busy) }
                traced(.clear, shard: s, slot: j, from: claimed, to: cleared)
                words.fetchAddRelaxed(layout.shardOffset(s) + (evict ? Layout.SH_EVICTIONS : Layout.SH_INVALIDATIONS), 1)
                notify()
                ticket?.removed(self)
                return .ok(removed: true)
            default:
                if !reclaimIfDead(shard: s, slot: j, observed: st) { relax(spin) }
            }
        }
        return .fail(.busy)
    }
}
