// NamespaceStage.swift — a namespace's producer side (PROTOCOL.md §18.4, §18.5): open a stage
// (N1, or N2 over a dead stager), write its entries, flip it current (N3 then N4), roll back (N5).

/// `nsStage`'s result: the version handed out, and whether a dead stager's stage was taken over.
public struct NsStaged: Sendable, Equatable {
    public var version: UInt64
    public var tookOver: Bool
}

extension WarmCache {
    /// `ns_stage(ns)`: hands out version `last + 1` to this participant (N1), or takes over a dead
    /// stager's stage (N2, abandoning its version). One open stage per namespace: a live stager,
    /// this handle included, makes it `busy`.
    public func nsStage(_ ns: Int) throws(NsFailure) -> NsStaged {
        try checkNamespace(ns)
        var spin = 0
        while spin < Layout.WAIT_SPINS {
            spin += 1
            let (w, s) = try loadStage(ns)
            if s.stager != 0 && isAlive(s.stager) {
                throw nsFail(.busy, "namespace \(ns): participant \(s.stager) has a stage open")
            }
            guard s.last < Layout.NS_VERSION_MAX else { throw nsFail(.full, "namespace \(ns) has handed out every version") }
            let next = NsStage(last: s.last + 1, stager: participantId)
            // Seq-cst CAS from the exact word (§18.4): two stagers never get one version.
            if words.casSeqCst(nsWordOffset(ns, Layout.NS_STAGE), w, next.raw) {
                if faults.contains(.nsFlipBeforeEntries) {
                    // FAULT ns_flip_before_entries: the bug of a producer that publishes the new
                    // version when it starts the stage: readers read a version still being written.
                    let hw = words.loadSeqCst(nsWordOffset(ns, Layout.NS_HEAD))
                    _ = words.casSeqCst(nsWordOffset(ns, Layout.NS_HEAD), hw, NsHead(current: next.last, previous: NsHead(raw: hw).current).raw)
                }
                return NsStaged(version: next.last, tookOver: s.stager != 0)
            }
            relax(spin)
        }
        throw nsFail(.busy, "namespace \(ns): ns_stage kept changing for \(Layout.WAIT_SPINS) tries")
    }

    /// This handle's open stage in `ns`, else `not_staging`.
    func ownStage(_ ns: Int) throws(NsFailure) -> (raw: UInt64, stage: NsStage) {
        try checkNamespace(ns)
        let (w, s) = try loadStage(ns)
        guard s.stager == participantId else { throw nsFail(.notStaging, "namespace \(ns): this handle has no open stage") }
        return (w, s)
    }

    /// `ns_put(ns, k, value)`: an ordinary put (§9.4: automatic version, no TTL, no grace) of
    /// `nskey(ns, L, k)`, `L` the open stage's version; readers cannot see it before the flip
    /// (their keys name the current version). Returns the put's answer and `L`.
    public func nsPut(_ ns: Int, _ k: [UInt8], _ value: [UInt8]) throws(NsFailure) -> (PutOutcome, UInt64) {
        let s = try ownStage(ns).stage
        guard !k.isEmpty, Layout.NS_KEY_PREFIX_LEN + k.count <= layout.keyCapacity else {
            throw nsFail(.tooLarge, "a namespace user key is 1..\(max(0, layout.keyCapacity - Layout.NS_KEY_PREFIX_LEN)) bytes (16 + len ≤ key_capacity \(layout.keyCapacity)); got \(k.count)")
        }
        let o = put(nskey(ns, s.last, k), value)
        if case .fail(let f) = o { throw nsFail(f, "namespace \(ns): the put of version \(s.last)'s entry failed") }
        return (o, s.last)
    }

    /// `ns_flip(ns)`: makes the open stage's version current (N3) and closes the stage (N4).
    /// Returns (now current, the version it replaced).
    ///
    /// Every `nsPut` of the stage returned before this; their publishes are release CASes ordered
    /// before the seq-cst N3 on this thread, so a reader whose `ns_head` load sees N3 sees every
    /// entry of the version (§18.6).
    public func nsFlip(_ ns: Int) throws(NsFailure) -> (version: UInt64, previous: UInt64) {
        let (stageRaw, s) = try ownStage(ns)
        var previous: UInt64?
        var spin = 0
        while spin < Layout.WAIT_SPINS, previous == nil {
            spin += 1
            let (w, h) = try loadHead(ns)
            try checkPair(ns, h, s)
            if h.current == s.last && faults.contains(.nsFlipBeforeEntries) {
                previous = h.previous   // FAULT ns_flip_before_entries: nsStage flipped already
                break
            }
            // N3: (c, p) → (L, c). A CAS fails only under a concurrent rollback (N5).
            if words.casSeqCst(nsWordOffset(ns, Layout.NS_HEAD), w, NsHead(current: s.last, previous: h.current).raw) {
                previous = h.current
            } else {
                relax(spin)
            }
        }
        guard let previous else { throw nsFail(.busy, "namespace \(ns): ns_head kept changing for \(Layout.WAIT_SPINS) tries") }
        at(.nsFlipAfterCas)
        // N4: only the live owner changes an open stage, so this CAS from the word we read cannot
        // fail; if the table was scribbled on meanwhile, the stage stays as found.
        _ = words.casSeqCst(nsWordOffset(ns, Layout.NS_STAGE), stageRaw, NsStage(last: s.last, stager: 0).raw)
        return (s.last, previous)
    }

    /// `ns_rollback(ns)`: makes the previous version current again (N5), retiring the current
    /// one. Returns (now current, retired); `no_previous` when there is none.
    public func nsRollback(_ ns: Int) throws(NsFailure) -> (version: UInt64, retired: UInt64) {
        try checkNamespace(ns)
        var spin = 0
        while spin < Layout.WAIT_SPINS {
            spin += 1
            let (w, h) = try loadHead(ns)
            guard h.previous != 0 else { throw nsFail(.noPrevious, "namespace \(ns) has no previous version") }
            // N5: (c, p) → (p, 0), seq-cst from the exact word.
            if words.casSeqCst(nsWordOffset(ns, Layout.NS_HEAD), w, NsHead(current: h.previous, previous: 0).raw) {
                return (h.previous, h.current)
            }
            relax(spin)
        }
        throw nsFail(.busy, "namespace \(ns): ns_head kept changing for \(Layout.WAIT_SPINS) tries")
    }
}
