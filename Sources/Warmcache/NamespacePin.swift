// NamespacePin.swift — a namespace's reader side (PROTOCOL.md §18.3, §18.5): pin a version (N6),
// release it (N7), and `nsGet`, pinned or not.

/// What `nsGet` read: the version (the pinned one, the current one, or 0 when the namespace has
/// none), whether under a pin, and the hit, if any.
public struct NsRead: Sendable, Equatable {
    public var version: UInt64
    public var pinned: Bool
    public var hit: Hit?
}

extension WarmCache {
    /// The version this handle speaks (§14); namespaces (§18) need 1.1.
    public var protocolVersion: ProtocolVersion { speaks }

    /// This handle's own pin, as its word says (only this handle writes it).
    var ownPin: NsPin? { NsPin(raw: words.loadSeqCst(pinOffset(participantId))) }

    /// `ns_pin(ns)`: pins the current version, so that every later `nsGet` of `ns` by this handle
    /// reads it and no reclaimer removes it, until `nsUnpin`. Returns the version.
    ///
    /// Store the pin, then look at `ns_head` again: if the version is still current or previous
    /// it was never retired (invariant 3), so a reclaimer that finds it reclaimable loads the head
    /// after our second load, hence after our store, and scans pins after that: it sees the pin
    /// (seq-cst total order, §18.7). Otherwise drop the pin and try the new current version.
    public func nsPin(_ ns: Int) throws(NsFailure) -> UInt64 {
        try checkNamespace(ns)
        guard words.loadSeqCst(pinOffset(participantId)) == 0 else {
            throw nsFail(.pinned, "this handle already holds a pin (one per participant: nsUnpin first)")
        }
        // Our registration's epoch; it does not change while we hold the entry's lock.
        let epoch = words.loadAcquire(layout.participantOffset(Int(participantId) - 1) + Layout.PART_EPOCH)
        for _ in 0..<Layout.READ_RETRIES {
            let h = try loadHead(ns).head
            guard h.current != 0 else { throw nsFail(.notFound, "namespace \(ns) has no current version to pin") }
            at(.nsPinBeforeStore)
            words.storeSeqCst(pinOffset(participantId), NsPin(ns: ns, version: h.current, epoch24: epoch).raw)   // N6
            at(.nsPinAfterStore)
            if try loadHead(ns).head.holds(h.current) { return h.current }
            words.storeSeqCst(pinOffset(participantId), 0)
        }
        throw nsFail(.busy, "namespace \(ns): the current version was retired under \(Layout.READ_RETRIES) pins in a row")
    }

    /// `ns_unpin()`: releases this handle's pin (N7). Returns the (namespace, version) it held,
    /// (0, 0) if none.
    public func nsUnpin() throws(UsageError) -> (ns: Int, version: UInt64) {
        guard !isClosed else { throw .closed }
        let held = ownPin
        words.storeSeqCst(pinOffset(participantId), 0)
        return held.map { ($0.ns, $0.version) } ?? (0, 0)
    }

    /// `ns_get(ns, k)`: user key `k` in the pinned version of `ns`, or else in its current version
    /// (§18.5). A user key no namespace key can hold (empty, or too long) is a miss, as `get`
    /// answers for such keys.
    public func nsGet(_ ns: Int, _ k: [UInt8]) throws(NsFailure) -> NsRead {
        try checkNamespace(ns)
        let fits = !k.isEmpty && Layout.NS_KEY_PREFIX_LEN + k.count <= layout.keyCapacity
        if let pin = ownPin, pin.ns == ns {
            // The pinned version is kept by every reclaimer (§18.6): a miss here is a real miss.
            return NsRead(version: pin.version, pinned: true, hit: fits ? get(nskey(ns, pin.version, k)).hit : nil)
        }
        for _ in 0..<Layout.READ_RETRIES {
            let h = try loadHead(ns).head
            guard h.current != 0 else { return NsRead(version: 0, pinned: false, hit: nil) }
            at(.nsGetAfterHead)
            if fits, let hit = get(nskey(ns, h.current, k)).hit {
                // Entries of a version in ns_head are final and never reclaimed.
                return NsRead(version: h.current, pinned: false, hit: hit)
            }
            // A miss counts only if the version was never retired meanwhile (then no reclaimer can
            // have removed its entry); otherwise read the new current version.
            if try loadHead(ns).head.holds(h.current) { return NsRead(version: h.current, pinned: false, hit: nil) }
        }
        throw nsFail(.busy, "namespace \(ns): the current version was retired under \(Layout.READ_RETRIES) reads in a row")
    }
}
