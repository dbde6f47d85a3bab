// Get.swift — the lock-free consistent snapshot read (§9.2) and expiry (§12).

import CWarmcacheShim

/// Who wrote a record (§7.2 `writer` and `writer_start_time`).
public struct Provenance: Codable, Sendable, Equatable {
    /// The writer's process id (low 32 bits).
    public var pid: UInt32
    /// The writer's language code (PROTOCOL.md §7.3: 1 Go, 2 Rust, 3 Swift).
    public var language: UInt8
    /// The protocol major version the writer implements.
    public var protocolMajor: UInt8
    /// The protocol minor version the writer implements.
    public var protocolMinor: UInt8
    /// Writer's participant id (low 8 bits).
    public var participant: UInt8
    /// The writer's start time (field 22 of /proc/PID/stat), so that pid and start time name
    /// the process even after its pid is reused.
    public var startTime: UInt64

    /// Decodes a record's `writer` word and `writer_start_time` (§7.2).
    public init(writer: UInt64, startTime: UInt64) {
        pid = UInt32(truncatingIfNeeded: writer)
        language = UInt8(truncatingIfNeeded: writer >> 32)
        protocolMajor = UInt8(truncatingIfNeeded: writer >> 40)
        protocolMinor = UInt8(truncatingIfNeeded: writer >> 48)
        participant = UInt8(truncatingIfNeeded: writer >> 56)
        self.startTime = startTime
    }

    enum CodingKeys: String, CodingKey {
        case pid, language, participant
        case protocolMajor = "protocol_major", protocolMinor = "protocol_minor", startTime = "start_time"
    }
}

/// Everything a hit reports besides the value bytes: what `get(_:into:)` returns, so that a
/// caller reusing its value buffer gets the metadata without an allocation.
public struct HitInfo: Sendable, Equatable {
    /// Served after `expires_at_ns`, within the grace window (§12).
    public var stale: Bool
    /// This reader's T7 made the slot STALE: it is the one asked to recompute.
    public var refreshRequested: Bool
    /// The value's data version (automatic and increasing, or the one its writer gave).
    public var version: UInt64
    /// The opaque tag its writer stored with it.
    public var originTag: UInt32
    /// End of freshness in segment-clock nanoseconds; 0 = never expires.
    public var expiresAt: UInt64
    /// End of the stale-serving grace in segment-clock nanoseconds.
    public var staleUntil: UInt64
    /// When the writer wrote it (segment clock).
    public var writtenAt: UInt64
    /// Who wrote it.
    public var provenance: Provenance
    /// The shard the entry lives in.
    public var shard: Int
    /// The slot of that shard.
    public var slot: Int

    public init(stale: Bool, refreshRequested: Bool, version: UInt64, originTag: UInt32, expiresAt: UInt64,
                staleUntil: UInt64, writtenAt: UInt64, provenance: Provenance, shard: Int, slot: Int) {
        self.stale = stale
        self.refreshRequested = refreshRequested
        self.version = version
        self.originTag = originTag
        self.expiresAt = expiresAt
        self.staleUntil = staleUntil
        self.writtenAt = writtenAt
        self.provenance = provenance
        self.shard = shard
        self.slot = slot
    }
}

/// A value found by `get`: the bytes and what the record says about them. `hit.version` and the
/// other HitInfo fields read through, so callers see one flat value.
@dynamicMemberLookup
public struct Hit: Sendable, Equatable {
    /// The value bytes (a private copy).
    public var value: [UInt8]
    /// Everything else the hit reports.
    public var info: HitInfo

    public init(value: [UInt8], info: HitInfo) {
        self.value = value
        self.info = info
    }

    public subscript<T>(dynamicMember field: WritableKeyPath<HitInfo, T>) -> T {
        get { info[keyPath: field] }
        set { info[keyPath: field] = newValue }
    }
}

/// The result of `get`.
public enum Lookup: Sendable, Equatable {
    case hit(Hit)
    case miss
    /// The handle was closed (§15 `closed`): nothing was read.
    case closed

    /// The hit, nil on a miss.
    public var hit: Hit? { if case .hit(let h) = self { return h } else { return nil } }
    /// The value of a hit, nil on a miss.
    public var value: [UInt8]? { hit?.value }
}

/// `snapshot_ok(s1, s2)` of §9.2: the state words are equal, or exactly one transition happened
/// that cannot have written `record[A(s1)]` or the key.
/// Both words must be possible ones (§8.1, owners within `participantCapacity`): an impossible s2
/// is no transition at all, whatever its state code says.
@inline(__always)
public func snapshotOK(_ s1: StateWord, _ s2: StateWord, participantCapacity: Int) -> Bool {
    if s1.raw == s2.raw { return true }
    guard s2.seq == s1.seq &+ 1, let k1 = s1.validKind(participantCapacity: participantCapacity),
          let k2 = s2.validKind(participantCapacity: participantCapacity) else { return false }
    switch (k1, k2) {
    case (.ready, .stale): return s1.active == s2.active                      // T7
    case (.ready, .refreshing), (.stale, .refreshing): return s1.active == s2.active  // T4
    case (.refreshing, .ready): return true                                    // T5 / T6 / T13
    default: return false
    }
}

extension WarmCache {
    /// Look `key` up without locks or waiting (§9.2). Never traps on garbage: impossible words,
    /// lengths past capacity and bad checksums are misses (counted as corrupt).
    public func get(_ key: [UInt8]) -> Lookup {
        // An empty buffer has no capacity, so the copy allocates exactly the value's size.
        guard !isClosed else { return .closed }
        var value: [UInt8] = []
        guard let info = get(key, into: &value) else { return .miss }
        return .hit(Hit(value: value, info: info))
    }

    /// `get(_:)` into a caller-owned buffer: `value` is overwritten with the value's bytes, reusing
    /// its capacity (no allocation when it is already large enough and not shared), and left empty
    /// on a miss. A service that keeps one buffer per thread allocates nothing per hit. On a
    /// closed handle it answers nil without reading (`get(_:)` says `.closed`; see `isClosed`).
    public func get(_ key: [UInt8], into value: inout [UInt8]) -> HitInfo? {
        guard !isClosed else {
            value.removeAll(keepingCapacity: true)
            return nil
        }
        return key.withUnsafeBytes { getImpl($0, into: &value) }
    }

    /// Every miss of getImpl goes through here, so `value` never leaks a copy from a torn pass,
    /// a corrupt record or a previous hit.
    @inline(__always)
    private func countMiss(_ shardOff: Int, _ value: inout [UInt8]) -> HitInfo? {
        value.removeAll(keepingCapacity: true)
        words.fetchAddRelaxed(shardOff + Layout.SH_MISSES, 1)   // relaxed: advisory counter
        return nil
    }

    /// The one read algorithm behind both gets. On a hit `value` holds the value; on a miss it is
    /// empty (its capacity kept).
    func getImpl(_ kb: UnsafeRawBufferPointer, into value: inout [UInt8]) -> HitInfo? {
        let h = keyHash(kb)   // KEY_SEED (FAULT wrong_hash: another seed, see keySeed)
        let (s, home) = layout.place(h)
        return getPlaced(kb, h, s, home, into: &value)
    }

    /// getImpl once the key's placement is known: the batched get (GetMany.swift) places a whole
    /// chunk before its gets and must not hash every key twice.
    @inline(__always)
    func getPlaced(_ kb: UnsafeRawBufferPointer, _ h: UInt64, _ s: Int, _ home: Int, into value: inout [UInt8]) -> HitInfo? {
        let shardOff = layout.shardOffset(s)
        // A key of impossible length cannot be in the segment.
        guard kb.count >= 1, kb.count <= layout.keyCapacity else { return countMiss(shardOff, &value) }
        let cap = layout.participantCapacity
        // Slot and record offsets use wrapping arithmetic and the slot's words unchecked loads:
        // s < shard_count and j < slots_per_shard (place and windowSlot are exact), so every slot
        // lies inside total_len <= 2^40 (geometry rule 8), which is the mapped length; the one
        // precondition per slot below restates that, instead of a check per word.
        let slotBase = shardOff &+ Layout.SHARD_HEADER_SIZE
        let slotSize = layout.slotSize
        let recBase = Layout.SLOT_HEADER_SIZE &+ layout.keyCapacity
        let lastSlotOff = words.length &- slotSize

        for _ in 0..<Layout.READ_RETRIES {
            var retry = false
            for k in 0..<layout.probeWindow {
                let j = layout.windowSlot(home, k)
                let slotOff = slotBase &+ j &* slotSize
                precondition(slotOff >= 0 && slotOff <= lastSlotOff, "slot offset \(slotOff) out of bounds")
                let stateOff = slotOff &+ Layout.SLOT_STATE
                // Acquire: pairs with the writer's release publish, so the record is visible.
                let s1 = StateWord(raw: words.loadAcquireUnchecked(stateOff))
                guard let k1 = s1.validKind(participantCapacity: cap), k1.isReadable else { continue }
                // Relaxed: ordered by the acquire load above and the fence below.
                if words.loadRelaxedUnchecked(slotOff &+ Layout.SLOT_KEY_HASH) != h { continue }
                if words.loadRelaxedUnchecked(slotOff &+ Layout.SLOT_KEY_LEN) != UInt64(kb.count) { continue }
                if !words.equalsBytes(slotOff &+ Layout.SLOT_KEY, kb) {
                    // Torn or a different key: no need to copy. Re-check the word to tell which.
                    words.fenceAcquire()
                    if !snapshotOK(s1, StateWord(raw: words.loadRelaxedUnchecked(stateOff)), participantCapacity: cap) { retry = true; break }
                    continue
                }
                // The key of a readable slot matched (after the first state load), before the copy.
                at(.getAfterKeyMatch)
                // record[A(s1)] (layout.recordOffset), inside the slot checked above.
                let rec = slotOff &+ recBase &+ s1.active &* layout.recordSize
                let version = words.loadRelaxedUnchecked(rec &+ Layout.REC_VERSION)
                let info = words.loadRelaxedUnchecked(rec &+ Layout.REC_VALUE_INFO)
                let checksum = words.loadRelaxedUnchecked(rec &+ Layout.REC_CHECKSUM)
                let expires = words.loadRelaxedUnchecked(rec &+ Layout.REC_EXPIRES_AT_NS)
                let staleUntil = words.loadRelaxedUnchecked(rec &+ Layout.REC_STALE_UNTIL_NS)
                let writtenAt = words.loadRelaxedUnchecked(rec &+ Layout.REC_WRITTEN_AT_NS)
                let writer = words.loadRelaxedUnchecked(rec &+ Layout.REC_WRITER)
                let writerStart = words.loadRelaxedUnchecked(rec &+ Layout.REC_WRITER_START_TIME)
                let vlen = Int(info & 0xFFFF_FFFF)
                var sum: UInt64 = 0
                let lengthBad = vlen > layout.valueCapacity
                if !lengthBad {
                    // The record checksum is WCH64X4 on a FAST_CHECKSUM segment (§2, §9.2).
                    sum = fastChecksum
                        ? words.copyBytesX4(rec + Layout.REC_VALUE, count: vlen, seed: Layout.VALUE_SEED, into: &value)
                        : words.copyBytes(rec + Layout.REC_VALUE, count: vlen, seed: Layout.VALUE_SEED, into: &value)
                }
                at(.getBetweenSeqReads)
                // FAULT skip_second_seq_check: the torn-read bug of a seqlock reader that trusts
                // its first load: without the second load a copy that raced with a writer (T5
                // then a new T4 rewriting record[A(s1)], or an eviction rewriting the key and
                // record) is returned as if it were a snapshot.
                if !faults.contains(.skipSecondSeqCheck) {
                    // Acquire fence: the second state load cannot move above the copy.
                    words.fenceAcquire()
                    let s2 = StateWord(raw: words.loadRelaxedUnchecked(stateOff))
                    if !snapshotOK(s1, s2, participantCapacity: cap) { retry = true; break }
                }
                // FAULT ignore_checksum (checked only when the sums differ, so free otherwise):
                // the bug of a reader that copies without verifying, returning torn or corrupt
                // bytes. lengthBad still makes a miss: nothing was copied (§13).
                if lengthBad || version == 0 || (sum != checksum && !faults.contains(.ignoreChecksum)) {
                    // Stable snapshot with bad contents: real corruption. Never return it.
                    corruptCount.wrappingIncrement(ordering: .relaxed)
                    return countMiss(shardOff, &value)
                }
                // Expiry (§12).
                var stale = false
                var refreshRequested = false
                if expires != 0 {
                    let now = self.now()
                    if now >= expires {
                        // FAULT stale_forever (evaluated only for an expired record): the bug of a
                        // reader that forgets stale_until_ns and serves an expired value for ever.
                        guard now < staleUntil || faults.contains(.staleForever) else {
                            return countMiss(shardOff, &value)   // expired past its grace
                        }
                        stale = true
                        if k1 == .ready {
                            // T7: the one reader whose CAS succeeds is asked to refresh.
                            // Acq-rel like a claim: harmless and keeps the slot's history ordered.
                            let to = s1.next(.stale)
                            at(.getBeforeMarkStale)
                            if words.casAcqRel(stateOff, s1.raw, to.raw) {
                                refreshRequested = true
                                traced(.markStale, shard: s, slot: j, from: s1, to: to)
                            }
                        }
                    }
                }
                // CLOCK second chance; relaxed, and only written when it changes (no line bouncing).
                let refOff = slotOff &+ Layout.SLOT_REFERENCED
                if words.loadRelaxedUnchecked(refOff) == 0 { words.storeRelaxed(refOff, 1) }
                words.fetchAddRelaxed(shardOff + (stale ? Layout.SH_STALE_HITS : Layout.SH_HITS), 1)
                return HitInfo(stale: stale, refreshRequested: refreshRequested, version: version,
                               originTag: UInt32(truncatingIfNeeded: info >> 32), expiresAt: expires,
                               staleUntil: staleUntil, writtenAt: writtenAt,
                               provenance: Provenance(writer: writer, startTime: writerStart), shard: s, slot: j)
            }
            if !retry { return countMiss(shardOff, &value) }
        }
        // All retries used: contended.
        return countMiss(shardOff, &value)
    }
}
