// Participants.swift — the participant table (§5): OFD-lock registration, the sweep of a dead
// predecessor's claims, and liveness.

import CWarmcacheShim

/// One entry of the participant table, as read (not trusted).
public struct ParticipantInfo: Codable, Sendable, Equatable {
    /// The entry's index; its participant id is `index + 1`.
    public var index: Int
    /// Registrations at this index so far.
    public var epoch: UInt64
    /// Process id of the last registrant.
    public var pid: UInt64
    /// Its start time (/proc/PID/stat field 22), 0 if unknown.
    public var startTime: UInt64
    /// Its language code (§7.3).
    public var language: UInt8
    /// The protocol major version it implements.
    public var protocolMajor: UInt8
    /// The protocol minor version it implements.
    public var protocolMinor: UInt8
    /// Its user id.
    public var uid: UInt32
    /// When it registered (CLOCK_REALTIME nanoseconds).
    public var registeredAtNs: UInt64
    /// Some open file description holds the entry's lock (F_OFD_GETLK); the caller's own entry
    /// is reported alive.
    public var alive: Bool

    enum CodingKeys: String, CodingKey {
        case index, epoch, pid, language, uid, alive
        case startTime = "start_time", protocolMajor = "protocol_major", protocolMinor = "protocol_minor"
        case registeredAtNs = "registered_at_ns"
    }
}

extension WarmCache {
    /// Register (§5): take the first free entry's OFD write lock, bump its epoch, write who we
    /// are, sweep the dead predecessor's claims, and keep id `i + 1`.
    func register() throws(SegmentError) {
        for i in 0..<layout.participantCapacity {
            let off = layout.participantOffset(i)
            let r = wc_ofd_setlk(fd, Int64(off))
            if r == 0 {
                participantId = UInt16(i + 1)
                // e = fetch_add(epoch, 1): the predecessor's epoch, which decides whether its
                // claim hint is trusted (§5.1). The other fields are diagnostic.
                let prev = words.fetchAddSeqCst(off + Layout.PART_EPOCH, 1)
                words.storeRelaxed(off + Layout.PART_PID, UInt64(UInt32(bitPattern: wc_getpid())))
                words.storeRelaxed(off + Layout.PART_START_TIME, ProcessInfoLite.startTime)
                let info = UInt64(Layout.LANG_SWIFT) | (Layout.PROTOCOL_MAJOR << 8) | (speaks.minor << 16)
                    | (UInt64(wc_geteuid()) << 32)
                words.storeRelaxed(off + Layout.PART_INFO, info)
                words.storeRelease(off + Layout.PART_REGISTERED_AT_NS, wc_realtime_ns())
                switch sweepScope(entry: off, predecessorEpoch: prev) {
                case .nothing: break
                case .window(let s, let home): sweepWindow(deadOwner: UInt16(i + 1), shard: s, home: home)
                case .everything: sweep(deadOwner: UInt16(i + 1))
                }
                adoptHint(entry: off, predecessorEpoch: prev)
                return
            }
            if -r == wc_errno_eagain() || -r == wc_errno_eacces() { continue }
            close()
            throw .io(path: path, op: "fcntl(F_OFD_SETLK)", errno: -r)
        }
        let cap = layout.participantCapacity
        close()
        throw .participantsFull(path: path, capacity: cap)
    }

    /// Before making any claim, undo every claim and insert lock naming our new id: they can
    /// only belong to a dead predecessor at this index, since we hold its lock now (§5).
    func sweep(deadOwner o: UInt16) {
        for s in 0..<layout.shardCount {
            sweepLock(deadOwner: o, shard: s)
            for j in 0..<layout.slotsPerShard { sweepSlot(deadOwner: o, shard: s, slot: j) }
        }
    }

    /// The bounded sweep (§5 step 2): the one shard lock and window the predecessor's hint names.
    func sweepWindow(deadOwner o: UInt16, shard s: Int, home: Int) {
        sweepLock(deadOwner: o, shard: s)
        for k in 0..<layout.probeWindow { sweepSlot(deadOwner: o, shard: s, slot: layout.windowSlot(home, k)) }
    }

    private func sweepLock(deadOwner o: UInt16, shard s: Int) {
        let lockOff = layout.shardOffset(s) + Layout.SH_INSERT_LOCK
        // FAULT never_reclaim: a dead predecessor's insert lock is not freed either.
        if !faults.contains(.neverReclaim) && words.loadAcquire(lockOff) == UInt64(o) {
            if words.casRelease(lockOff, UInt64(o), 0) {
                words.fetchAddRelaxed(layout.shardOffset(s) + Layout.SH_RECLAIMS, 1)
            }
        }
    }

    private func sweepSlot(deadOwner o: UInt16, shard s: Int, slot j: Int) {
        let st = StateWord(raw: words.loadAcquire(layout.slotOffset(s, j) + Layout.SLOT_STATE))
        if let k = st.validKind(participantCapacity: layout.participantCapacity), k.isOwned, st.owner == o {
            _ = reclaim(shard: s, slot: j, observed: st)
        }
    }

    /// Is participant `o` alive (§5)? F_OFD_GETLK on its entry; unlocked → dead. Our own id and
    /// any error answer "alive" (always the safe answer). Out-of-range ids are never asked about
    /// (the state word is impossible and left alone).
    func isAlive(_ o: UInt16) -> Bool {
        if o == participantId { return true }
        if faults.contains(.stealLiveClaim) {
            // FAULT steal_live_claim: the bug of a liveness test that always answers "dead"
            // (e.g. a misread F_OFD_GETLK result): every other owner's claim and insert lock is
            // reclaimed from under it while it is still writing. (participants() still reports
            // the truth.)
            return false
        }
        guard o >= 1, Int(o) <= layout.participantCapacity else { return true }
        let r = wc_ofd_getlk_is_locked(fd, Int64(layout.participantOffset(Int(o) - 1)))
        return r != 0
    }

    /// The participant table, with liveness (F_OFD_GETLK).
    public func participants() throws(UsageError) -> [ParticipantInfo] {
        guard !isClosed else { throw .closed }
        return readParticipants(words: words, layout: layout) { i in
            i + 1 == Int(participantId) ? true : wc_ofd_getlk_is_locked(fd, Int64(layout.participantOffset(i))) != 0
        }
    }
}

/// Read the participant table (relaxed loads, untrusted values) — shared with inspection.
func readParticipants(words: SharedWords, layout: SegmentLayout, alive: (Int) -> Bool) -> [ParticipantInfo] {
    var out: [ParticipantInfo] = []
    for i in 0..<layout.participantCapacity {
        let off = layout.participantOffset(i)
        let epoch = words.loadRelaxed(off + Layout.PART_EPOCH)
        let isAlive = alive(i)
        if epoch == 0 && !isAlive { continue }   // never registered
        let info = words.loadRelaxed(off + Layout.PART_INFO)
        out.append(ParticipantInfo(
            index: i, epoch: epoch, pid: words.loadRelaxed(off + Layout.PART_PID),
            startTime: words.loadRelaxed(off + Layout.PART_START_TIME),
            language: UInt8(truncatingIfNeeded: info), protocolMajor: UInt8(truncatingIfNeeded: info >> 8),
            protocolMinor: UInt8(truncatingIfNeeded: info >> 16), uid: UInt32(truncatingIfNeeded: info >> 32),
            registeredAtNs: words.loadRelaxed(off + Layout.PART_REGISTERED_AT_NS), alive: isAlive))
    }
    return out
}
