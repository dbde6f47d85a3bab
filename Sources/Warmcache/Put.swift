// Put.swift — put / refresh (§9.4), the shard insert lock (§9.3) and CLOCK eviction (§9.6).

import CWarmcacheShim

/// Options of `put` and `refresh` (§9.4).
public struct PutOptions: Sendable, Equatable {
    /// Freshness from now; 0 = never expires.
    public var ttlNs: UInt64
    /// Stale-serving window after expiry; 0 = none.
    public var graceNs: UInt64
    /// Opaque tag stored with the value.
    public var originTag: UInt32
    /// Explicit data version; 0 = automatic.
    public var version: UInt64

    public init(ttlNs: UInt64 = 0, graceNs: UInt64 = 0, originTag: UInt32 = 0, version: UInt64 = 0) {
        self.ttlNs = ttlNs
        self.graceNs = graceNs
        self.originTag = originTag
        self.version = version
    }
}

/// The outcome of `put` / `refresh`.
public enum PutOutcome: Sendable, Equatable {
    case ok(version: UInt64, created: Bool, shard: Int, slot: Int)
    case fail(OpFailure)

    /// Whether the put took effect.
    public var isOK: Bool { if case .ok = self { return true } else { return false } }
    /// The version written, nil on failure.
    public var version: UInt64? { if case .ok(let v, _, _, _) = self { return v } else { return nil } }
    /// Why it failed (`too_large`, `full`, `busy`, `version_not_newer`, …), nil on success.
    public var failure: OpFailure? { if case .fail(let f) = self { return f } else { return nil } }
}

/// States a writer's `find` considers (§9.4).
let writerKinds: [SlotStateKind] = [.writing, .ready, .refreshing, .stale, .invalidated]

extension WarmCache {
    /// Publish `value` under `key` (§9.4): refresh if present, insert otherwise.
    public func put(_ key: [UInt8], _ value: [UInt8], options: PutOptions = .init()) -> PutOutcome {
        write(key, value, options, refreshOnly: false)
    }

    /// Refresh an existing key only; a key not found is `fail(not_found)`.
    public func refresh(_ key: [UInt8], _ value: [UInt8], options: PutOptions = .init()) -> PutOutcome {
        write(key, value, options, refreshOnly: true)
    }

    /// `ticket`: journal this write (DurablePut.swift); nil for a plain put.
    func write(_ key: [UInt8], _ value: [UInt8], _ opts: PutOptions, refreshOnly: Bool,
               ticket: DurableTicket? = nil) -> PutOutcome {
        guard !isClosed else { return .fail(.closed) }
        guard key.count >= 1, key.count <= layout.keyCapacity, value.count <= layout.valueCapacity else {
            return .fail(.tooLarge)
        }
        return key.withUnsafeBytes { kb in
            value.withUnsafeBytes { vb in writeImpl(kb, vb, opts, refreshOnly: refreshOnly, ticket: ticket) }
        }
    }

    /// One relax step of a bounded wait: a CPU relax, or sched_yield every 64th.
    @inline(__always)
    func relax(_ i: Int) {
        if i & 63 == 63 { wc_sched_yield() } else { wc_cpu_relax() }
    }

    /// `find(key)` (§9.1): the first window slot whose (valid) state is in `kinds` and whose key
    /// matches. Never stops early at an EMPTY slot.
    func find(_ kb: UnsafeRawBufferPointer, hash h: UInt64, shard s: Int, home: Int,
              kinds: [SlotStateKind]) -> (slot: Int, word: StateWord)? {
        for k in 0..<layout.probeWindow {
            let j = layout.windowSlot(home, k)
            let slotOff = layout.slotOffset(s, j)
            // Acquire: if the word is a published state we see the key written before it.
            let st = StateWord(raw: words.loadAcquire(slotOff + Layout.SLOT_STATE))
            guard let kind = st.validKind(participantCapacity: layout.participantCapacity), kinds.contains(kind) else {
                continue
            }
            if words.loadRelaxed(slotOff + Layout.SLOT_KEY_HASH) != h { continue }
            if words.loadRelaxed(slotOff + Layout.SLOT_KEY_LEN) != UInt64(kb.count) { continue }
            if !words.equalsBytes(slotOff + Layout.SLOT_KEY, kb) { continue }
            return (j, st)
        }
        return nil
    }

    func writeImpl(_ kb: UnsafeRawBufferPointer, _ vb: UnsafeRawBufferPointer, _ opts: PutOptions,
                   refreshOnly: Bool, ticket: DurableTicket? = nil) -> PutOutcome {
        let h = keyHash(kb)   // KEY_SEED (FAULT wrong_hash: another seed, see keySeed)
        let (s, home) = layout.place(h)
        // §5.1: the claim hint covers every lock and claim of the loop.
        enterHint(shard: s, home: home)
        defer { leaveHint() }
        var spin = 0
        while spin < Layout.WAIT_SPINS {
            spin += 1
            if let (j, st) = find(kb, hash: h, shard: s, home: home, kinds: writerKinds) {
                switch st.kind! {
                case .ready, .stale:
                    if let r = refreshPath(vb, opts, shard: s, slot: j, observed: st, ticket: ticket) { return r }
                    continue   // the claim CAS lost a race: look again
                default:
                    // Owned by d: reclaim if d is dead, else wait for it.
                    if !reclaimIfDead(shard: s, slot: j, observed: st) { relax(spin) }
                    continue
                }
            }
            if refreshOnly { return .fail(.notFound) }
            switch insertPath(kb, vb, opts, hash: h, shard: s, home: home, ticket: ticket) {
            case .retry: continue
            case .done(let r): return r
            }
        }
        return .fail(.busy)
    }

    // MARK: Refresh path

    /// Returns nil if the claim CAS failed (the caller looks again).
    func refreshPath(_ vb: UnsafeRawBufferPointer, _ opts: PutOptions, shard s: Int, slot j: Int,
                     observed st: StateWord, ticket: DurableTicket? = nil) -> PutOutcome? {
        let o = participantId
        let slotOff = layout.slotOffset(s, j)
        let stateOff = slotOff + Layout.SLOT_STATE
        let claimed = st.next(.refreshing, owner: o)        // A unchanged
        at(.refreshBeforeClaim)
        // T4, acq-rel: we see the previous owner's record writes; our record stores cannot
        // move above the claim.
        guard words.casAcqRel(stateOff, st.raw, claimed.raw) else { return nil }
        traced(.refreshClaim, shard: s, slot: j, from: st, to: claimed)
        at(.refreshAfterClaim)
        if testStopAfterClaim { return .fail(.busy) }

        let current = words.loadRelaxed(layout.recordOffset(slotOff, st.active) + Layout.REC_VERSION)
        var v: UInt64
        // An automatic version past 2^64−1 does not exist: refused like a stale explicit one (§13.1).
        if opts.version != 0 || current == UInt64.max {
            if opts.version <= current {
                // T6: nothing written; give the slot back unchanged. Release like any publish.
                let back = claimed.next(.ready)
                if words.casRelease(stateOff, claimed.raw, back.raw) {
                    traced(.refreshAbort, shard: s, slot: j, from: claimed, to: back)
                }
                return .fail(.versionNotNewer)
            }
            v = opts.version
        } else {
            v = chooseAutoVersion(before: words.fetchAddAcqRel(Layout.HDR_VERSION_CLOCK, 1), current: current)
        }
        if faults.contains(.noVersionBump) {
            // FAULT no_version_bump: the bug of a refresh that copies the old record header and
            // forgets to advance the version; readers cannot tell the new value from the old one
            // by version (invariant 3 and version-based caching break).
            v = current
        }
        let newA = 1 - st.active
        let now = self.now()
        let rec = layout.recordOffset(slotOff, newA)
        let published = claimed.next(.ready, active: newA)
        ticket?.takeOrder(self)   // inside the claim, before the publish (PERSISTENCE.md §3)
        let ok: Bool
        if faults.contains(.publishBeforePayload) {
            // FAULT publish_before_payload (see publishBeforePayload).
            ok = publishBeforePayload(.refreshPublish, .refreshAfterPayload, shard: s, slot: j, claimed: claimed,
                                      to: published, rec: rec, vb, version: v, opts, now: now)
        } else {
            writeRecord(rec, vb, version: v, opts, now: now)
            at(.refreshAfterPayload)
            // T5, release: the record written above is visible to any reader that acquires the new word.
            ok = words.casRelease(stateOff, claimed.raw, published.raw)
            if ok { traced(.refreshPublish, shard: s, slot: j, from: claimed, to: published) }
        }
        // Someone took our claim from us (only a reclaimer that wrongly thought us dead).
        guard ok else { return .fail(.busy) }
        words.storeRelaxed(slotOff + Layout.SLOT_REFERENCED, 1)                     // relaxed: advisory
        words.fetchAddRelaxed(layout.shardOffset(s) + Layout.SH_REFRESHES, 1)       // relaxed: advisory
        notify()
        ticket?.published(self, vb, version: v, opts, now: now)
        return .ok(version: v, created: false, shard: s, slot: j)
    }

    // MARK: Insert path

    enum InsertResult { case retry, done(PutOutcome) }

    func insertPath(_ kb: UnsafeRawBufferPointer, _ vb: UnsafeRawBufferPointer, _ opts: PutOptions,
                    hash h: UInt64, shard s: Int, home: Int, ticket: DurableTicket? = nil) -> InsertResult {
        let o = participantId
        // FAULT skip_insert_lock: the bug of an insert that does not serialise on the shard's
        // insert lock. Two inserters of one key can both find it absent and claim two slots, so
        // the key ends up twice in its window (invariant 1 of §8.3 broken).
        var locked = !faults.contains(.skipInsertLock)
        at(.putBeforeLock)
        if locked && !acquireInsertLock(shard: s) { return .done(.fail(.busy)) }
        defer { if locked { releaseInsertLock(shard: s) } }

        // Find again under the lock: new keys appear only under it (invariant 1).
        if find(kb, hash: h, shard: s, home: home, kinds: writerKinds) != nil { return .retry }

        guard let (j, victim, event) = pickVictim(shard: s, home: home) else { return .done(.fail(.full)) }
        let slotOff = layout.slotOffset(s, j)
        let stateOff = slotOff + Layout.SLOT_STATE
        let claimed = victim.next(.writing, owner: o)        // A unchanged
        if event != .evict { at(.putBeforeClaim) }   // a CLOCK victim stopped at evict.after_victim
        // T1/T10/T11, acq-rel: we see the previous owner's writes; ours stay after the claim.
        guard words.casAcqRel(stateOff, victim.raw, claimed.raw) else { return .retry }
        traced(event, shard: s, slot: j, from: victim, to: claimed)
        at(.putAfterClaim)
        let shardOff = layout.shardOffset(s)
        if event == .expire { words.fetchAddRelaxed(shardOff + Layout.SH_EXPIRATIONS, 1) }
        if event == .evict { words.fetchAddRelaxed(shardOff + Layout.SH_EVICTIONS, 1) }

        // Key stores, relaxed: covered by the lock release (next holder) and the publish (readers).
        let now = self.now()
        words.storeRelaxed(slotOff + Layout.SLOT_CLAIMED_AT_NS, now)
        words.storeRelaxed(slotOff + Layout.SLOT_KEY_HASH, h)
        words.storeRelaxed(slotOff + Layout.SLOT_KEY_LEN, UInt64(kb.count))
        words.storeBytes(slotOff + Layout.SLOT_KEY, kb)
        at(.putAfterKey)
        // Release: the next lock holder's find sees the key.
        if locked { releaseInsertLock(shard: s) }
        locked = false
        if testStopAfterClaim { return .done(.fail(.busy)) }

        let v = opts.version != 0 ? opts.version : max(words.fetchAddAcqRel(Layout.HDR_VERSION_CLOCK, 1) &+ 1, 1)
        // Any record is fine (the slot was unreadable since the claim); use the inactive one.
        let newA = 1 - victim.active
        let rec = layout.recordOffset(slotOff, newA)
        words.storeRelaxed(slotOff + Layout.SLOT_REFERENCED, 1)
        let published = claimed.next(.ready, active: newA)
        ticket?.takeOrder(self)   // inside the claim, before the publish (PERSISTENCE.md §3)
        let ok: Bool
        if faults.contains(.publishBeforePayload) {
            // FAULT publish_before_payload (see publishBeforePayload).
            ok = publishBeforePayload(.publish, .putAfterPayload, shard: s, slot: j, claimed: claimed,
                                      to: published, rec: rec, vb, version: v, opts, now: now)
        } else {
            writeRecord(rec, vb, version: v, opts, now: now)
            at(.putAfterPayload)
            // T2, release: key and record are visible to whoever acquires the READY word.
            ok = words.casRelease(stateOff, claimed.raw, published.raw)
            if ok { traced(.publish, shard: s, slot: j, from: claimed, to: published) }
        }
        guard ok else { return .done(.fail(.busy)) }
        words.fetchAddRelaxed(shardOff + Layout.SH_INSERTS, 1)
        notify()
        ticket?.published(self, vb, version: v, opts, now: now)
        return .done(.ok(version: v, created: true, shard: s, slot: j))
    }

    /// FAULT publish_before_payload: the bug of a writer that makes the publish CAS (T2/T5)
    /// before writing the record. Readers that load the new state word copy record[A'] while it
    /// still holds whatever an older write left there (another key's value, the previous
    /// version, or zeros) and may return it, or see it torn, until the late write lands. The
    /// pause point that normally sits between the write and the publish sits between the
    /// publish and the write here, so a harness can stop the writer inside the window of the bug.
    func publishBeforePayload(_ event: TransitionEvent, _ point: PausePoint, shard s: Int, slot j: Int,
                              claimed: StateWord, to: StateWord, rec: Int, _ vb: UnsafeRawBufferPointer,
                              version v: UInt64, _ opts: PutOptions, now: UInt64) -> Bool {
        guard words.casRelease(layout.slotOffset(s, j) + Layout.SLOT_STATE, claimed.raw, to.raw) else { return false }
        traced(event, shard: s, slot: j, from: claimed, to: to)
        at(point)
        writeRecord(rec, vb, version: v, opts, now: now)   // too late: readers may already have copied this record
        return true
    }

    /// Victim choice (§9.4): the first EMPTY slot; else the first WRITING/INVALIDATED slot whose
    /// owner is dead, reclaimed (§9.8) and then claimed as EMPTY (T1); else the first READY/STALE
    /// slot past `stale_until_ns` (T11); else CLOCK (T10). Impossible words are left alone.
    /// Called with the insert lock held.
    func pickVictim(shard s: Int, home: Int) -> (Int, StateWord, TransitionEvent)? {
        let cap = layout.participantCapacity
        for k in 0..<layout.probeWindow {
            let j = layout.windowSlot(home, k)
            let st = StateWord(raw: words.loadAcquire(layout.slotOffset(s, j) + Layout.SLOT_STATE))
            if st.validKind(participantCapacity: cap) == .empty { return (j, st, .claim) }
        }
        // No EMPTY slot: only now ask about liveness (a syscall per owner). A writer killed right
        // after its claim leaves a WRITING slot without a key, which find() can never reach; an
        // INVALIDATED slot of a dead owner has lost its key. Reclaim the first such slot and use
        // it as EMPTY. REFRESHING slots still hold their key: find() reaches them, and they are
        // not victims here.
        for k in 0..<layout.probeWindow {
            let j = layout.windowSlot(home, k)
            let stateOff = layout.slotOffset(s, j) + Layout.SLOT_STATE
            let st = StateWord(raw: words.loadAcquire(stateOff))
            guard let kind = st.validKind(participantCapacity: cap), kind == .writing || kind == .invalidated,
                  !isAlive(st.owner) else { continue }
            reclaim(shard: s, slot: j, observed: st)   // T12/T14; reclaims += 1 on success
            // If our CAS lost, someone else moved the slot on: use it only if it is EMPTY now.
            // Under FAULT never_reclaim it stays WRITING/INVALIDATED and is skipped.
            let e = StateWord(raw: words.loadAcquire(stateOff))
            if e.validKind(participantCapacity: cap) == .empty { return (j, e, .claim) }
        }
        let now = self.now()
        for k in 0..<layout.probeWindow {
            let j = layout.windowSlot(home, k)
            let slotOff = layout.slotOffset(s, j)
            let st = StateWord(raw: words.loadAcquire(slotOff + Layout.SLOT_STATE))
            guard let kind = st.validKind(participantCapacity: cap), kind == .ready || kind == .stale else { continue }
            let rec = layout.recordOffset(slotOff, st.active)
            let e = words.loadRelaxed(rec + Layout.REC_EXPIRES_AT_NS)
            let g = words.loadRelaxed(rec + Layout.REC_STALE_UNTIL_NS)
            if e != 0 && now >= g { return (j, st, .expire) }
        }
        // CLOCK (§9.6): the hand only advances (relaxed: advisory).
        let start = Int(words.fetchAddRelaxed(layout.shardOffset(s) + Layout.SH_CLOCK_HAND, 1) % UInt64(layout.probeWindow))
        for k in 0..<(2 * layout.probeWindow) {
            let j = layout.windowSlot(home, (start + k) % layout.probeWindow)
            let slotOff = layout.slotOffset(s, j)
            let st = StateWord(raw: words.loadAcquire(slotOff + Layout.SLOT_STATE))
            guard let kind = st.validKind(participantCapacity: cap) else { continue }
            // FAULT evict_writing_slot: the bug of a CLOCK that only skips EMPTY slots and so takes
            // a slot another writer owns (WRITING or REFRESHING), CASing it to WRITING(me): an
            // impossible transition that steals the owner's claim; its publish then fails and its
            // value is lost (or, for REFRESHING, the key is).
            guard kind == .ready || kind == .stale
                    || (faults.contains(.evictWritingSlot) && (kind == .writing || kind == .refreshing)) else { continue }
            let refOff = slotOff + Layout.SLOT_REFERENCED
            if words.loadRelaxed(refOff) == 1 { words.storeRelaxed(refOff, 0); continue }   // second chance
            at(.evictAfterVictim)
            return (j, st, .evict)
        }
        return nil
    }

    /// Write a whole record (header words, value words, zero padding) with relaxed stores; the
    /// caller's publish CAS (release) makes it visible.
    func writeRecord(_ rec: Int, _ vb: UnsafeRawBufferPointer, version v: UInt64, _ opts: PutOptions, now: UInt64) {
        let (expires, staleUntil) = expiry(opts, now: now)
        words.storeRelaxed(rec + Layout.REC_VERSION, v)
        words.storeRelaxed(rec + Layout.REC_VALUE_INFO, UInt64(vb.count) | (UInt64(opts.originTag) << 32))
        words.storeRelaxed(rec + Layout.REC_CHECKSUM, valueChecksum(vb, fast: fastChecksum))
        words.storeRelaxed(rec + Layout.REC_EXPIRES_AT_NS, expires)
        words.storeRelaxed(rec + Layout.REC_STALE_UNTIL_NS, staleUntil)
        words.storeRelaxed(rec + Layout.REC_WRITTEN_AT_NS, now)
        words.storeRelaxed(rec + Layout.REC_WRITER, writer)
        words.storeRelaxed(rec + Layout.REC_WRITER_START_TIME, ProcessInfoLite.startTime)
        words.storeBytes(rec + Layout.REC_VALUE, vb)
    }

    /// A record's `expires_at_ns` and `stale_until_ns` for a write at `now` (§12).
    func expiry(_ opts: PutOptions, now: UInt64) -> (UInt64, UInt64) {
        let expires: UInt64 = opts.ttlNs > 0 ? satAdd(now, opts.ttlNs) : 0
        return (expires, opts.ttlNs > 0 ? satAdd(expires, opts.graceNs) : 0)
    }

    /// This handle's provenance word (§7.2 `writer`).
    var writer: UInt64 {
        UInt64(UInt32(bitPattern: wc_getpid())) | (UInt64(Layout.LANG_SWIFT) << 32)
            | (Layout.PROTOCOL_MAJOR << 40) | (speaks.minor << 48) | (UInt64(participantId & 0xFF) << 56)
    }

    @inline(__always) func satAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? UInt64.max : r
    }

    // MARK: Insert lock (§9.3)

    /// Take the shard's insert lock: acquire on take (we see the key bytes the previous holder
    /// wrote). A lock held by a dead participant (or a garbage id) is freed and counted.
    func acquireInsertLock(shard s: Int) -> Bool {
        let shardOff = layout.shardOffset(s)
        let lockOff = shardOff + Layout.SH_INSERT_LOCK
        let me = UInt64(participantId)
        for i in 0..<Layout.LOCK_SPINS {
            let v = words.loadAcquire(lockOff)
            if v == 0 {
                if words.casAcquire(lockOff, 0, me) {
                    at(.lockAfterAcquire)
                    return true
                }
                continue
            } else if (v > UInt64(layout.participantCapacity) || !isAlive(UInt16(v)))
                        && !faults.contains(.neverReclaim) {
                // FAULT never_reclaim: a dead holder's lock is not freed either (see reclaim).
                // Counted as a reclaim, but no generation bump: no slot changed (PROTOCOL.md §11).
                if words.casAcqRel(lockOff, v, 0) {
                    words.fetchAddRelaxed(shardOff + Layout.SH_RECLAIMS, 1)
                }
                continue
            }
            relax(i)
        }
        return false
    }

    /// Give the lock back, release: the key written under it is seen by the next holder.
    func releaseInsertLock(shard s: Int) {
        words.storeRelease(layout.shardOffset(s) + Layout.SH_INSERT_LOCK, 0)
    }
}

/// The pure part of the automatic version (§9.4): `before` is what the fetch-add of
/// `version_clock` returned, `current` the record's version (0 on insert). Public for the C ABI
/// (Sources/WarmcacheABI, docs/ABI.md).
public func chooseAutoVersion(before: UInt64, current: UInt64) -> UInt64 {
    max(before &+ 1, current &+ 1)
}
