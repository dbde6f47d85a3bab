// ClaimHint.swift — the claim hint and the lazy registration sweep (§5 step 2, §5.1): the
// participant entry says where its owner may hold claims, so a registrant sweeps only what a
// dead predecessor can have left (one insert lock and one window, or nothing) instead of every
// slot of the segment. The word's layout is drawn next to Layout.PART_CLAIM_HINT.

/// What a registration sweep must cover.
enum SweepScope: Equatable {
    case nothing
    case window(shard: Int, home: Int)
    case everything
}

extension WarmCache {
    /// The predecessor's hint is trusted only if it wrote `hint_epoch = e` (`e` = what our
    /// fetch-add of `epoch` returned; a 1.0 owner, or one that died inside its own
    /// registration, did not) and the word is well formed (§13).
    func sweepScope(entry off: Int, predecessorEpoch e: UInt64) -> SweepScope {
        if legacySweep { return .everything }
        // Acquire: the predecessor is dead, so these words are final (§5.1).
        guard words.loadAcquire(off + Layout.PART_HINT_EPOCH) == e else { return .everything }
        let h = words.loadAcquire(off + Layout.PART_CLAIM_HINT)
        if h == 0 { return .nothing }
        let shard = Int((h >> Layout.HINT_SHARD_SHIFT) & 0xFFFF), home = Int((h >> Layout.HINT_HOME_SHIFT) & 0xFFFF)
        if h & (Layout.HINT_RESERVED | Layout.HINT_WIDE) != 0 || shard >= layout.shardCount || home >= layout.slotsPerShard {
            return .everything
        }
        return .window(shard: shard, home: home)
    }

    /// §5 step 3, after the sweep: seq-cst stores, in this order, so that a successor trusts
    /// the hint as ours only once our sweep is done; first a dead predecessor's namespace pin
    /// goes (§18.3: its epoch already voided it, the store only tidies). A 1.0 participant never
    /// writes them.
    func adoptHint(entry off: Int, predecessorEpoch e: UInt64) {
        if legacySweep { return }
        words.storeSeqCst(off + Layout.PART_NS_PIN, 0)
        words.storeSeqCst(off + Layout.PART_CLAIM_HINT, 0)
        words.storeSeqCst(off + Layout.PART_HINT_EPOCH, e &+ 1)
    }

    var claimHintOffset: Int { layout.participantOffset(Int(participantId) - 1) + Layout.PART_CLAIM_HINT }

    /// Before a write operation's first lock or claim. A seq-cst read-modify-write: its acquire
    /// half keeps the operation's claims after it, even the insert claim, which §10 allows to be
    /// acquire-only (a store before it would not be ordered).
    func enterHint(shard: Int, home: Int) {
        if legacySweep { return }
        let off = claimHintOffset
        let here = UInt64(shard) << Layout.HINT_SHARD_SHIFT | UInt64(home) << Layout.HINT_HOME_SHIFT
        var spin = 0
        while true {
            let w = words.loadRelaxed(off)
            let n = w & Layout.HINT_IN_FLIGHT
            let next: UInt64
            if n == Layout.HINT_IN_FLIGHT {
                spin += 1; relax(spin)   // 65535 operations of this handle in flight: wait
                continue
            } else if n == 0 {
                next = here | 1
            } else if w & ~Layout.HINT_IN_FLIGHT == here {
                next = w + 1
            } else {
                next = (w | Layout.HINT_WIDE) + 1   // two places at once: a successor sweeps all
            }
            if words.casSeqCst(off, w, next) { return }
        }
    }

    /// After the operation's last CAS or store on its slot and lock; its release half keeps
    /// those before it. The last operation to leave clears the word, `W` included. A handle with
    /// the test hook that abandons claims (`testStopAfterClaim`) never leaves: it plays a
    /// process that died inside the operation, and a hint left too long only costs a successor
    /// one window.
    func leaveHint() {
        if legacySweep || testStopAfterClaim { return }
        let off = claimHintOffset
        while true {
            let w = words.loadRelaxed(off)
            let next: UInt64 = w & Layout.HINT_IN_FLIGHT <= 1 ? 0 : w - 1
            if words.casSeqCst(off, w, next) { return }
        }
    }

    /// The raw `claim_hint` word of this handle's entry (tests, diagnostics).
    public var claimHintWord: UInt64 { words.loadSeqCst(claimHintOffset) }
}
