// Inspection.swift — read-only inspection of a segment (`warmcheck inspect`) and `dump()`.
//
// `SegmentInspector.inspect(path:)` opens the file O_RDONLY, maps it PROT_READ (so it cannot
// write, by construction), never registers as a participant, and reports everything that is
// wrong as `problems`, each naming the shard/slot.

import CWarmcacheShim

/// One readable entry (READY / REFRESHING / STALE) whose record passes its checksum.
public struct DumpEntry: Codable, Sendable, Equatable {
    public var shard: Int
    public var slot: Int
    public var state: String
    public var seq: UInt32
    public var key: [UInt8]
    public var value: [UInt8]
    /// Past `expires_at_ns` by the segment clock (or in state STALE).
    public var stale: Bool
    /// Past `stale_until_ns`: a get would miss.
    public var expired: Bool
    public var version: UInt64
    public var originTag: UInt32
    public var expiresAt: UInt64
    public var staleUntil: UInt64
    public var writtenAt: UInt64
    public var provenance: Provenance

    enum CodingKeys: String, CodingKey {
        case shard, slot, state, seq, key, value, stale, expired, version, provenance
        case originTag = "origin_tag", expiresAt = "expires_at_ns", staleUntil = "stale_until_ns"
        case writtenAt = "written_at_ns"
    }
}

/// The result of `dump()`.
public struct Dump: Codable, Sendable, Equatable {
    public var entries: [DumpEntry]
    public var problems: [String]
}

/// Header fields as found in the file (values are untrusted when `error` is set).
public struct HeaderReport: Codable, Sendable, Equatable {
    public var magic: UInt64
    public var versionMajor: UInt64
    public var versionMinor: UInt64
    public var headerSize: UInt64
    public var featuresIncompat: UInt64
    public var featuresCompat: UInt64
    public var layoutFingerprint: UInt64
    public var totalLen: UInt64
    public var geometry: Geometry
    public var slotSize: UInt64
    public var participantsOffset: UInt64
    public var shardsOffset: UInt64
    public var shardSize: UInt64
    public var creatorPid: UInt64
    public var creatorStartTime: UInt64
    public var creatorLanguage: UInt8
    public var creatorUid: UInt32
    public var createdAtNs: UInt64
    public var headerChecksum: UInt64
    public var ready: UInt64
    public var isReady: Bool
    public var generation: UInt64
    public var waiters: UInt64
    public var eventSeq: UInt64
    public var versionClock: UInt64
    public var simClock: Bool
    public var simClockNs: UInt64

    enum CodingKeys: String, CodingKey {
        case magic, geometry, ready, generation, waiters
        case versionMajor = "version_major", versionMinor = "version_minor", headerSize = "header_size"
        case featuresIncompat = "features_incompat", featuresCompat = "features_compat"
        case layoutFingerprint = "layout_fingerprint", totalLen = "total_len", slotSize = "slot_size"
        case participantsOffset = "participants_offset", shardsOffset = "shards_offset", shardSize = "shard_size"
        case creatorPid = "creator_pid", creatorStartTime = "creator_start_time"
        case creatorLanguage = "creator_language", creatorUid = "creator_uid", createdAtNs = "created_at_ns"
        case headerChecksum = "header_checksum", isReady = "is_ready", eventSeq = "event_seq"
        case versionClock = "version_clock", simClock = "sim_clock", simClockNs = "sim_clock_ns"
    }

    init(_ r: RawHeader) {
        magic = r.at(Layout.HDR_MAGIC)
        let v = r.at(Layout.HDR_VERSION)
        versionMajor = v & 0xFFFF
        versionMinor = (v >> 16) & 0xFFFF
        headerSize = v >> 32
        featuresIncompat = r.at(Layout.HDR_FEATURES_INCOMPAT)
        featuresCompat = r.at(Layout.HDR_FEATURES_COMPAT)
        layoutFingerprint = r.at(Layout.HDR_LAYOUT_FINGERPRINT)
        totalLen = r.at(Layout.HDR_TOTAL_LEN)
        geometry = Geometry.unpack(shards: r.at(Layout.HDR_GEOMETRY_SHARDS), sizes: r.at(Layout.HDR_GEOMETRY_SIZES),
                                   limits: r.at(Layout.HDR_GEOMETRY_LIMITS))
        slotSize = r.at(Layout.HDR_SLOT_SIZE)
        participantsOffset = r.at(Layout.HDR_PARTICIPANTS_OFFSET)
        shardsOffset = r.at(Layout.HDR_SHARDS_OFFSET)
        shardSize = r.at(Layout.HDR_SHARD_SIZE)
        creatorPid = r.at(Layout.HDR_CREATOR_PID)
        creatorStartTime = r.at(Layout.HDR_CREATOR_START_TIME)
        let info = r.at(Layout.HDR_CREATOR_INFO)
        creatorLanguage = UInt8(truncatingIfNeeded: info)
        creatorUid = UInt32(truncatingIfNeeded: info >> 32)
        createdAtNs = r.at(Layout.HDR_CREATED_AT_NS)
        headerChecksum = r.at(Layout.HDR_HEADER_CHECKSUM)
        ready = r.at(Layout.HDR_READY)
        isReady = ready == Layout.READY
        generation = r.at(Layout.HDR_GENERATION)
        waiters = r.at(Layout.HDR_WAITERS)
        eventSeq = r.at(Layout.HDR_EVENT_SEQ)
        versionClock = r.at(Layout.HDR_VERSION_CLOCK)
        simClock = featuresIncompat & Layout.FEATURE_SIM_CLOCK != 0
        simClockNs = r.at(Layout.HDR_SIM_CLOCK_NS)
    }
}

/// An open/validation failure, as code + message.
public struct ErrorReport: Codable, Sendable, Equatable {
    public var code: String
    public var message: String
}

/// What `SegmentInspector.inspect` found.
public struct InspectionReport: Codable, Sendable, Equatable {
    public var path: String
    /// Set when the file failed the open checks of §4.2 (then only `header` may be present).
    public var error: ErrorReport?
    /// Raw header fields, present whenever the first 4096 bytes could be mapped.
    public var header: HeaderReport?
    public var participants: [ParticipantInfo]
    /// Per-shard counters and occupancy by state.
    public var shards: [ShardStats]
    public var totals: Counters?
    public var occupancy: Occupancy
    /// Each names the shard/slot (or header field) and what is wrong.
    public var problems: [String]
    /// No open error and no problems.
    public var healthy: Bool
}

public enum SegmentInspector {
    /// Inspect the segment at `path` without registering or writing anything. `maxTotalLen`:
    /// the reader's size bound (geometry rule 9, §13.2); 0 means the default.
    public static func inspect(path: String, maxTotalLen: UInt64 = 0) -> InspectionReport {
        var raw: RawHeader?
        let opened: OpenedSegment
        var bound = WarmCacheOptions()
        bound.maxTotalLen = maxTotalLen
        do {
            opened = try SegmentFile.openChecked(path: path, writable: false, openTimeoutNs: 0,
                                                 maxTotalLen: bound.sizeBound) { raw = $0 }
        } catch {
            return InspectionReport(path: path, error: ErrorReport(code: error.code, message: error.message),
                                    header: raw.map(HeaderReport.init), participants: [], shards: [], totals: nil,
                                    occupancy: [:], problems: [], healthy: false)
        }
        defer {
            opened.mapping.unmap()
            _ = wc_close(opened.fd)
        }
        let w = opened.mapping.words
        let layout = opened.layout
        let header = HeaderReport(SegmentFile.readRawHeader(w))
        let fd = opened.fd
        // Liveness with our own open file description: every participant's lock conflicts.
        let alive: (Int) -> Bool = { i in wc_ofd_getlk_is_locked(fd, Int64(layout.participantOffset(i))) != 0 }
        let participants = readParticipants(words: w, layout: layout, alive: alive)
        let (totals, occ, shards) = collectStats(w, layout)
        let simClock = opened.featuresIncompat & Layout.FEATURE_SIM_CLOCK != 0
        let now = simClock ? w.loadAcquire(Layout.HDR_SIM_CLOCK_NS) : wc_realtime_ns()
        var problems = headerProblems(w, layout)
        let scan = scanSlots(w, layout, alive: { o in alive(Int(o) - 1) }, now: now)
        problems += scan.problems
        return InspectionReport(path: path, error: nil, header: header, participants: participants, shards: shards,
                                totals: totals, occupancy: occ, problems: problems, healthy: problems.isEmpty)
    }
}

/// Header-level problems of a segment that passed the open checks.
func headerProblems(_ w: SharedWords, _ layout: SegmentLayout) -> [String] {
    var p: [String] = []
    for s in 0..<layout.shardCount {
        let lock = w.loadRelaxed(layout.shardOffset(s) + Layout.SH_INSERT_LOCK)
        if lock > UInt64(layout.participantCapacity) {
            p.append("shard \(s): insert_lock holds \(lock), not a participant id (capacity \(layout.participantCapacity))")
        }
    }
    return p
}

/// Walk every slot: readable entries that pass their checks, and every problem found.
/// `alive(o)` answers for owner id `o` (1-based).
func scanSlots(_ w: SharedWords, _ layout: SegmentLayout, alive: (UInt16) -> Bool, now: UInt64)
    -> (entries: [DumpEntry], problems: [String]) {
    var entries: [DumpEntry] = []
    var problems: [String] = []
    let cap = layout.participantCapacity
    for s in 0..<layout.shardCount {
        let lock = w.loadRelaxed(layout.shardOffset(s) + Layout.SH_INSERT_LOCK)
        if lock != 0 && lock <= UInt64(cap) && !alive(UInt16(lock)) {
            problems.append("shard \(s): insert_lock held by dead participant \(lock) (reclaimable)")
        }
        // Invariant 1: one slot per key. Of several copies only the one a get finds, the first
        // in window order, is an entry (§13.1); `seen` maps a key to its index in `entries`.
        var seen: [[UInt8]: Int] = [:]
        for j in 0..<layout.slotsPerShard {
            let slotOff = layout.slotOffset(s, j)
            let where_ = "shard \(s) slot \(j)"
            guard let sn = consistentSnapshot(w, layout, slotOff: slotOff) else { continue }
            let st = sn.state
            if let why = st.impossibility(participantCapacity: cap) {
                problems.append("\(where_): impossible state word 0x\(String(st.raw, radix: 16)): \(why)")
                continue
            }
            let kind = st.kind!
            if kind.isOwned && !alive(st.owner) {
                problems.append("\(where_): \(kind.name) claimed by participant \(st.owner), which is dead (abandoned claim, reclaimable)")
            }
            // Key checks (WRITING's key may be mid-write by a live owner: only check readable states).
            guard kind.isReadable else { continue }
            let found = recordProblems(sn, layout, shard: s, slot: j)
            problems += found.map { "\(where_): \($0)" }
            let ok = found.isEmpty
            if ok {
                let stale = kind == .stale || (sn.expiresAt != 0 && now >= sn.expiresAt)
                let expired = sn.expiresAt != 0 && now >= sn.staleUntil
                let e = DumpEntry(shard: s, slot: j, state: kind.name, seq: st.seq, key: sn.key, value: sn.value,
                                  stale: stale, expired: expired, version: sn.version, originTag: sn.originTag,
                                  expiresAt: sn.expiresAt, staleUntil: sn.staleUntil, writtenAt: sn.writtenAt,
                                  provenance: sn.provenance)
                guard let i = seen[sn.key] else {
                    seen[sn.key] = entries.count
                    entries.append(e)
                    continue
                }
                let home = layout.place(WCH64.hash(sn.key, seed: Layout.KEY_SEED)).1
                let pos = { (slot: Int) in (slot - home + layout.slotsPerShard) % layout.slotsPerShard }
                var dropped = e
                if pos(j) < pos(entries[i].slot) { swap(&entries[i], &dropped) }
                problems.append("shard \(s) slot \(dropped.slot): duplicate key also in slot \(entries[i].slot) of the same shard, which a get finds first (invariant 1)")
            }
        }
    }
    return (entries, problems)
}

/// A consistent snapshot of the slot at `slotOff`, taken like a reader's (§9.2): nil when the
/// state word kept changing over READ_RETRIES copies (a busy slot, not a wrong one).
func consistentSnapshot(_ w: SharedWords, _ layout: SegmentLayout, slotOff: Int) -> SlotSnapshot? {
    for _ in 0..<Layout.READ_RETRIES {
        let s1 = StateWord(raw: w.loadAcquire(slotOff + Layout.SLOT_STATE))
        let candidate = SlotSnapshot.read(w, layout, slotOff: slotOff, state: s1)
        w.fenceAcquire()
        let s2 = StateWord(raw: w.loadRelaxed(slotOff + Layout.SLOT_STATE))
        if s1 == s2 { return candidate }
    }
    return nil
}

/// What is wrong with the key and `record[A]` of a readable slot's snapshot, by the checks of
/// §13 and §13.1 (key_len, key_hash, the key's window, value_len, checksum, version 0, expiry
/// order); empty when the record is sound. `dump` reports these and repair (§9.9) quarantines
/// on them, so both judge a slot alike.
func recordProblems(_ sn: SlotSnapshot, _ layout: SegmentLayout, shard s: Int, slot j: Int) -> [String] {
    var problems: [String] = []
    if sn.keyLenWord == 0 || sn.keyLenWord > UInt64(layout.keyCapacity) {
        problems.append("key_len \(sn.keyLenWord) outside 1..\(layout.keyCapacity) (key_capacity)")
    } else {
        let h = WCH64.hash(sn.key, seed: Layout.KEY_SEED)
        if h != sn.keyHash {
            problems.append("key_hash 0x\(String(sn.keyHash, radix: 16)) != WCH64(key) 0x\(String(h, radix: 16))")
        } else {
            let (ks, home) = layout.place(h)
            if ks != s || !layout.windowContains(home: home, slot: j) {
                problems.append("key belongs to shard \(ks) window \(home)..\(home + layout.probeWindow - 1) (mod \(layout.slotsPerShard)), outside it")
            }
        }
    }
    let a = sn.state.active
    if sn.valueLen > UInt64(layout.valueCapacity) {
        problems.append("record[\(a)] value_len \(sn.valueLen) > value_capacity \(layout.valueCapacity)")
    } else if sn.valueSum != sn.checksum {
        problems.append("record[\(a)] bad value checksum (stored 0x\(String(sn.checksum, radix: 16)), computed 0x\(String(sn.valueSum, radix: 16)))")
    }
    if sn.version == 0 {
        problems.append("record[\(a)] version 0")
    }
    if sn.expiresAt != 0 && sn.staleUntil < sn.expiresAt {
        problems.append("record[\(a)] stale_until_ns \(sn.staleUntil) < expires_at_ns \(sn.expiresAt)")
    }
    return problems
}

/// Everything of one slot, copied with relaxed loads (lengths bounded before any copy).
struct SlotSnapshot {
    var state: StateWord
    var keyHash: UInt64 = 0
    var keyLenWord: UInt64 = 0
    var key: [UInt8] = []
    var version: UInt64 = 0
    var valueLen: UInt64 = 0
    var originTag: UInt32 = 0
    var checksum: UInt64 = 0
    var valueSum: UInt64 = 0
    var value: [UInt8] = []
    var expiresAt: UInt64 = 0
    var staleUntil: UInt64 = 0
    var writtenAt: UInt64 = 0
    var provenance = Provenance(writer: 0, startTime: 0)

    static func read(_ w: SharedWords, _ layout: SegmentLayout, slotOff: Int, state: StateWord) -> SlotSnapshot {
        var sn = SlotSnapshot(state: state)
        sn.keyHash = w.loadRelaxed(slotOff + Layout.SLOT_KEY_HASH)
        sn.keyLenWord = w.loadRelaxed(slotOff + Layout.SLOT_KEY_LEN)
        if sn.keyLenWord >= 1 && sn.keyLenWord <= UInt64(layout.keyCapacity) {
            sn.key = w.copyBytes(slotOff + Layout.SLOT_KEY, count: Int(sn.keyLenWord), seed: Layout.KEY_SEED).0
        }
        let rec = layout.recordOffset(slotOff, state.active)
        sn.version = w.loadRelaxed(rec + Layout.REC_VERSION)
        let info = w.loadRelaxed(rec + Layout.REC_VALUE_INFO)
        sn.valueLen = info & 0xFFFF_FFFF
        sn.originTag = UInt32(truncatingIfNeeded: info >> 32)
        sn.checksum = w.loadRelaxed(rec + Layout.REC_CHECKSUM)
        sn.expiresAt = w.loadRelaxed(rec + Layout.REC_EXPIRES_AT_NS)
        sn.staleUntil = w.loadRelaxed(rec + Layout.REC_STALE_UNTIL_NS)
        sn.writtenAt = w.loadRelaxed(rec + Layout.REC_WRITTEN_AT_NS)
        sn.provenance = Provenance(writer: w.loadRelaxed(rec + Layout.REC_WRITER),
                                   startTime: w.loadRelaxed(rec + Layout.REC_WRITER_START_TIME))
        if sn.valueLen <= UInt64(layout.valueCapacity) && state.kind?.isReadable == true {
            // features_incompat is an immutable header word checked at open; FAST_CHECKSUM
            // records carry WCH64X4 (§2).
            let fast = w.loadRelaxed(Layout.HDR_FEATURES_INCOMPAT) & Layout.FEATURE_FAST_CHECKSUM != 0
            (sn.value, sn.valueSum) = w.copyBytes(rec + Layout.REC_VALUE, count: Int(sn.valueLen), seed: Layout.VALUE_SEED, lanes: fast)
        }
        return sn
    }
}

extension WarmCache {
    /// Every readable entry whose record passes its checks, plus every problem found (§DRIVER
    /// `dump`). Read-only: no T7, no counters, no `referenced`.
    public func dump() throws(UsageError) -> Dump {
        guard !isClosed else { throw .closed }
        let scan = scanSlots(words, layout, alive: { isAlive($0) }, now: now())
        return Dump(entries: scan.entries, problems: headerProblems(words, layout) + scan.problems)
    }
}
