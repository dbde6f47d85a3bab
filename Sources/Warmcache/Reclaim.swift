// Reclaim.swift — undoing a dead owner's claim (§9.8, transitions T12–T14).

extension WarmCache {
    /// Reclaim the claim `observed` (an owned state whose owner is dead — the caller checked, or
    /// it is our own id during the registration sweep). One CAS from the exact observed word;
    /// if it fails someone else already moved the slot on, which is fine.
    @discardableResult
    func reclaim(shard s: Int, slot j: Int, observed st: StateWord) -> Bool {
        guard let k = st.validKind(participantCapacity: layout.participantCapacity), k.isOwned else { return false }
        if faults.contains(.neverReclaim) {
            // FAULT never_reclaim: the bug of an implementation without crash recovery: a dead
            // owner's WRITING/REFRESHING/INVALIDATED claim stays for ever, so its key is busy (or
            // its old value frozen) and its slot lost until the registration sweep of its index,
            // which goes through here too and does nothing either.
            return false
        }
        at(.reclaimBeforeCAS)
        let stateOff = layout.slotOffset(s, j) + Layout.SLOT_STATE
        let shardOff = layout.shardOffset(s)
        let to: StateWord
        switch k {
        case .writing: to = st.next(.empty)                     // T12
        case .refreshing: to = st.next(.ready)                  // T13: same A, the old value stays
        case .invalidated: to = st.next(.empty)                 // T14
        default: return false
        }
        // A reclaimer does not touch key_hash (§9.8): after its CAS the slot may already belong
        // to a new claimer, and nothing reads key_hash in EMPTY.
        // Acq-rel: later readers of the slot see whatever the dead owner left consistently with
        // the new word (T13 keeps record[A], never written by the refresher).
        guard words.casAcqRel(stateOff, st.raw, to.raw) else { return false }
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
