// Repair.swift — acting on what the health probe finds (§9.9).
//
// One pass over the whole segment through this handle, in §9.9's order: free the insert locks
// of dead holders (so that the T14 reclaims below can take a lock), reclaim every claim of a
// dead owner (§9.8), quarantine readable slots whose record fails the checks of §13/§13.1 (T8
// then T9, as `invalidate` does), and report impossible state words, which no transition
// leaves. Every change is one CAS from the exact word that was judged, by a transition any
// participant may make, so a repair runs while other processes use the segment: a slot or lock
// that moved on in between fails the CAS and is left alone.

/// One thing a repair did or could not do (for an insert lock `slot` is 0).
public struct RepairAction: Sendable, Equatable {
    public var shard: Int
    public var slot: Int
    /// What was found, for people.
    public var detail: String
}

/// What `repair()` did, each list in shard/slot order.
public struct RepairReport: Sendable, Equatable {
    /// Insert locks a dead participant (or an id no participant can have) held, released.
    public var locksFreed: [RepairAction] = []
    /// Claims of dead owners undone through §9.8 (T12, T13, T14).
    public var reclaimed: [RepairAction] = []
    /// Corrupt readable slots cleared by T8 + T9: they miss from now on.
    public var quarantined: [RepairAction] = []
    /// Impossible state words (§13): only a rebuild from the durable store removes them.
    public var unrepairable: [RepairAction] = []
    /// Header word 768 (`quarantined`) after this repair.
    public var quarantinedTotal: UInt64 = 0
}

extension WarmCache {
    /// §9.9 over the whole segment through this handle.
    public func repair() throws(UsageError) -> RepairReport {
        guard !isClosed else { throw .closed }
        var rep = RepairReport()
        let cap = layout.participantCapacity
        for s in 0..<layout.shardCount {
            let lockOff = layout.shardOffset(s) + Layout.SH_INSERT_LOCK
            // Acquire, as a taker loads the lock: a dead holder's key bytes are then seen by
            // whoever takes the lock after us.
            let h = words.loadAcquire(lockOff)
            if h == 0 || (h <= UInt64(cap) && isAlive(UInt16(h))) { continue }
            at(.repairBeforeCAS)
            // Acq-rel: we take over the dead holder's lock and give it back in one step. A CAS
            // that fails means the lock changed hands after we judged it: not ours to free.
            guard words.casAcqRel(lockOff, h, 0) else { continue }
            words.fetchAddRelaxed(layout.shardOffset(s) + Layout.SH_RECLAIMS, 1)   // relaxed: advisory
            rep.locksFreed.append(RepairAction(shard: s, slot: 0, detail: "insert lock of dead participant \(h)"))
        }
        for s in 0..<layout.shardCount {
            for j in 0..<layout.slotsPerShard {
                let slotOff = layout.slotOffset(s, j)
                let st = StateWord(raw: words.loadAcquire(slotOff + Layout.SLOT_STATE))
                guard let kind = st.validKind(participantCapacity: cap) else {
                    let why = st.impossibility(participantCapacity: cap) ?? "impossible"
                    rep.unrepairable.append(RepairAction(shard: s, slot: j, detail: "impossible state word 0x\(String(st.raw, radix: 16)): \(why)"))
                    continue
                }
                if kind.isOwned {
                    // `isAlive` is the §5 test; a live owner's claim is never touched.
                    if !isAlive(st.owner) && reclaim(shard: s, slot: j, observed: st) {
                        rep.reclaimed.append(RepairAction(shard: s, slot: j, detail: "\(kind.name) of dead participant \(st.owner)"))
                    }
                } else if kind.isReadable {
                    // The snapshot is taken after `st` was loaded; a slot that moved on since
                    // makes the T8 CAS from `st` fail, so a record we did not judge is never
                    // quarantined. record[A] cannot change while the word stays `st` (§9.9).
                    guard let sn = consistentSnapshot(words, layout, slotOff: slotOff), sn.state == st else { continue }
                    let found = recordProblems(sn, layout, shard: s, slot: j)
                    guard !found.isEmpty else { continue }
                    at(.repairBeforeCAS)
                    if quarantine(shard: s, slot: j, observed: st) {
                        rep.quarantined.append(RepairAction(shard: s, slot: j, detail: found.joined(separator: "; ")))
                    }
                }
            }
        }
        rep.quarantinedTotal = words.loadRelaxed(Layout.HDR_QUARANTINED)
        return rep
    }

    /// T8 from exactly `st` (INVALIDATED, owner = us), `key_hash = 0`, T9 to EMPTY: the corrupt
    /// slot ends as an invalidate leaves it, counted in the shard's invalidations (so the
    /// counters balance) and in header word 768.
    func quarantine(shard s: Int, slot j: Int, observed st: StateWord) -> Bool {
        let slotOff = layout.slotOffset(s, j)
        let stateOff = slotOff + Layout.SLOT_STATE
        let claimed = st.next(.invalidated, owner: participantId)
        // Acq-rel claim, as T8 of an invalidate.
        guard words.casAcqRel(stateOff, st.raw, claimed.raw) else { return false }
        traced(.invalidateClaim, shard: s, slot: j, from: st, to: claimed)
        words.storeRelaxed(slotOff + Layout.SLOT_KEY_HASH, 0)   // we own the slot; covered by T9's release
        let cleared = claimed.next(.empty)
        // Fails only if a reclaimer wrongly judged us dead; it ends the slot EMPTY too.
        guard words.casRelease(stateOff, claimed.raw, cleared.raw) else { return false }
        traced(.clear, shard: s, slot: j, from: claimed, to: cleared)
        words.fetchAddRelaxed(layout.shardOffset(s) + Layout.SH_INVALIDATIONS, 1)   // relaxed: advisory
        // Relaxed: a count of slots quarantined since creation, never a decision (§9.9).
        words.fetchAddRelaxed(Layout.HDR_QUARANTINED, 1)
        notify()
        return true
    }
}
