// Reclaim.swift — undoing a dead owner's claim (§9.8, transitions T12–T14).

extension WarmCache {
    /// Reclaim the claim `observed` (an owned state whose owner is dead — the caller checked, or
    /// it is our own id during the registration sweep). One CAS from the exact observed word;
    /// if it fails someone else already moved the slot on, which is fine.
    @discardableResult
    func reclaim(shard s: Int, slot j: Int, observed st: StateWord) -> Bool {
        guard let k = st.validKind(participantCapacity: layout.participantCapacity), k.isOwned else { return false }
        let slotOff = layout.slotOffset(s, j)
        let stateOff = slotOff + Layout.SLOT_STATE
        let shardOff = layout.shardOffset(s)
        let to: StateWord
        switch k {
        case .writing: to = st.next(.empty)                     // T12
        case .refreshing: to = st.next(.ready)                  // T13: same A, the old value stays
        case .invalidated: to = st.next(.empty)                 // T14: EMPTY with key_hash = 0
        default: return false
        }
        var done = false
        if k == .invalidated {
            // key_hash must become 0, but the slot is not ours: storing it before the CAS could
            // clobber a new owner's key if another reclaimer won and an inserter claimed the slot
            // in between. Claims of an EMPTY slot need the shard's insert lock, so if we can take
            // the lock (one try) the CAS-then-store below cannot race with a new claim.
            let lockOff = shardOff + Layout.SH_INSERT_LOCK
            if words.casAcquire(lockOff, 0, UInt64(participantId)) {
                // Acq-rel: we see the dead owner's writes; the EMPTY publish is ordered after.
                if words.casAcqRel(stateOff, st.raw, to.raw) {
                    words.storeRelaxed(slotOff + Layout.SLOT_KEY_HASH, 0)
                    done = true
                }
                // Release: the key_hash store is visible to the next lock holder (the only
                // party that may claim this EMPTY slot).
                words.storeRelease(lockOff, 0)
            } else {
                done = words.casAcqRel(stateOff, st.raw, to.raw)
            }
        } else {
            // Acq-rel: later readers of the slot see whatever the dead owner left consistently
            // with the new word (T13 keeps record[A], never written by the refresher).
            done = words.casAcqRel(stateOff, st.raw, to.raw)
        }
        guard done else { return false }
        traced(.reclaim, shard: s, slot: j, from: st, to: to)
        words.fetchAddRelaxed(shardOff + Layout.SH_RECLAIMS, 1)   // relaxed: advisory counter
        notify()                                                   // §11: every reclaim bumps generation
        return true
    }

    /// Reclaim if the owner of `st` is dead; otherwise do nothing. Returns whether it was dead.
    @discardableResult
    func reclaimIfDead(shard s: Int, slot j: Int, observed st: StateWord) -> Bool {
        if isAlive(st.owner) { return false }
        reclaim(shard: s, slot: j, observed: st)
        return true
    }
}
