// Typed views of the words of a snapshot (§3, §5, §6, §7). Nothing here is trusted: lengths are
// bounded before any byte is copied, and an impossible state word is returned as such.

/// The six states of §8.1 by code.
public enum SpecState: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case empty = 0, writing, ready, refreshing, stale, invalidated

    public var name: String {
        ["EMPTY", "WRITING", "READY", "REFRESHING", "STALE", "INVALIDATED"][Int(rawValue)]
    }
    public var description: String { name }
    public var isOwned: Bool { self == .writing || self == .refreshing || self == .invalidated }
    public var isReadable: Bool { self == .ready || self == .refreshing || self == .stale }
    public init?(name: String) {
        guard let s = SpecState.allCases.first(where: { $0.name == name }) else { return nil }
        self = s
    }
}

/// Why a state word is impossible (§8.1, §13).
public enum Impossibility: Equatable, Sendable, CustomStringConvertible {
    case unknownState(code: UInt8)
    case reservedBits(UInt64)
    case ownedWithoutOwner(SpecState)
    case ownerInUnownedState(SpecState, owner: Int)
    case ownerBeyondCapacity(owner: Int, capacity: Int)

    public var description: String {
        switch self {
        case .unknownState(let c): return "state code \(c) is not a state of §8.1"
        case .reservedBits(let b): return "bits 9..15 must be zero but hold 0x\(String(b, radix: 16))"
        case .ownedWithoutOwner(let s): return "\(s) must name an owner but the owner field is 0"
        case .ownerInUnownedState(let s, let o): return "\(s) has no owner but the owner field is \(o)"
        case .ownerBeyondCapacity(let o, let c): return "owner \(o) exceeds participant_capacity \(c)"
        }
    }
}

/// A decoded state word (§7.1).
public struct StateWordView: Equatable, Sendable, CustomStringConvertible {
    public let raw: UInt64
    public init(raw: UInt64) { self.raw = raw }
    public var code: UInt8 { UInt8(truncatingIfNeeded: raw & SpecLayout.StateWord.stateMask) }
    public var state: SpecState? { SpecState(rawValue: code) }
    public var active: Int { Int((raw >> SpecLayout.StateWord.activeShift) & 1) }
    public var owner: Int { Int((raw >> SpecLayout.StateWord.ownerShift) & 0xFFFF) }
    public var seq: UInt32 { UInt32(truncatingIfNeeded: raw >> SpecLayout.StateWord.seqShift) }

    public func impossibility(participantCapacity: Int) -> Impossibility? {
        guard let s = state else { return .unknownState(code: code) }
        if raw & SpecLayout.StateWord.reservedMask != 0 { return .reservedBits((raw & SpecLayout.StateWord.reservedMask) >> 9) }
        if s.isOwned && owner == 0 { return .ownedWithoutOwner(s) }
        if !s.isOwned && owner != 0 { return .ownerInUnownedState(s, owner: owner) }
        if owner > participantCapacity { return .ownerBeyondCapacity(owner: owner, capacity: participantCapacity) }
        return nil
    }

    public var description: String {
        "\(state?.name ?? "state#\(code)")\(owner != 0 ? "(\(owner))" : "") A=\(active) seq=\(seq)"
    }
}

/// The `writer` word of a record (§7.2) plus `writer_start_time`.
public struct WriterView: Equatable, Sendable {
    public var pid: UInt32, language: UInt8, protocolMajor: UInt8, protocolMinor: UInt8, participantLow8: UInt8
    public var startTime: UInt64
    init(word w: UInt64, startTime: UInt64) {
        pid = UInt32(truncatingIfNeeded: w)
        language = UInt8(truncatingIfNeeded: w >> 32)
        protocolMajor = UInt8(truncatingIfNeeded: w >> 40)
        protocolMinor = UInt8(truncatingIfNeeded: w >> 48)
        participantLow8 = UInt8(truncatingIfNeeded: w >> 56)
        self.startTime = startTime
    }
}

/// One record of a slot (§7.2).
public struct RecordView: Equatable, Sendable {
    public var version: UInt64, valueLen: UInt64, originTag: UInt32, checksum: UInt64
    public var expiresAtNs: UInt64, staleUntilNs: UInt64, writtenAtNs: UInt64
    public var writer: WriterView
    /// The value bytes, nil when `value_len > value_capacity` (nothing is copied then).
    public var value: [UInt8]?
    /// The unused bytes of the value's last word (§1: MUST be zero).
    public var valuePaddingZero: Bool
    /// The segment has FAST_CHECKSUM: the checksum is WCH64X4, not WCH64 (§2).
    public var fastChecksum: Bool = false
    public var computedChecksum: UInt64? { value.map { SpecHash.valueChecksum($0, fast: fastChecksum) } }
}

/// One slot (§7, §7.1).
public struct SlotView: Equatable, Sendable {
    public var shard: Int, slot: Int
    public var word: StateWordView
    public var referenced: UInt64, keyHash: UInt64
    /// The whole `key_len` word: bits 32..63 must be zero.
    public var keyLenWord: UInt64
    public var claimedAtNs: UInt64
    /// The key bytes, nil when `key_len` is outside 1..key_capacity.
    public var key: [UInt8]?
    public var keyPaddingZero: Bool
    public var records: [RecordView]
    public var activeRecord: RecordView { records[word.active] }
}

public struct ParticipantView: Equatable, Sendable {
    public var index: Int, epoch: UInt64, pid: UInt64, startTime: UInt64
    public var language: UInt8, protocolMajor: UInt8, protocolMinor: UInt8, uid: UInt32
    public var registeredAtNs: UInt64
    public var alive: Bool
    /// Its participant id (§5).
    public var id: Int { index + 1 }
}

/// The counters of one shard (§6), in the table's order.
public struct ShardCounters: Equatable, Sendable {
    public var hits: UInt64 = 0, misses: UInt64 = 0, staleHits: UInt64 = 0, inserts: UInt64 = 0
    public var refreshes: UInt64 = 0, evictions: UInt64 = 0, invalidations: UInt64 = 0
    public var expirations: UInt64 = 0, reclaims: UInt64 = 0
    public init() {}
    public static func + (a: ShardCounters, b: ShardCounters) -> ShardCounters {
        var c = ShardCounters()
        c.hits = a.hits &+ b.hits; c.misses = a.misses &+ b.misses; c.staleHits = a.staleHits &+ b.staleHits
        c.inserts = a.inserts &+ b.inserts; c.refreshes = a.refreshes &+ b.refreshes
        c.evictions = a.evictions &+ b.evictions; c.invalidations = a.invalidations &+ b.invalidations
        c.expirations = a.expirations &+ b.expirations; c.reclaims = a.reclaims &+ b.reclaims
        return c
    }
}

/// The header fields a checker compares (§3); the opening checks already passed.
public struct HeaderView: Equatable, Sendable {
    public var versionMinor: UInt64, featuresIncompat: UInt64
    public var creatorPid: UInt64, creatorStartTime: UInt64, creatorLanguage: UInt8, creatorUid: UInt32
    public var createdAtNs: UInt64, generation: UInt32, waiters: UInt64, eventSeq: UInt64
    public var versionClock: UInt64, simClockNs: UInt64
    public var simClock: Bool { featuresIncompat & SpecLayout.featureSimClock != 0 }
}

/// Where the typed views read their words: a copy taken between steps (`SegmentSnapshot`) or a
/// live read-only mapping loaded atomically (`LiveSegment`). One set of views for both, so that
/// the live tools decode exactly what the checker decodes.
public protocol SegmentWords {
    var geometry: SpecGeometry { get }
    /// The 64-bit word at byte offset `off` (§1: little-endian, 8-aligned).
    func word(_ off: Int) -> UInt64
    /// Whether participant index `i` (id `i + 1`) held its liveness lock (§5) when asked.
    func participantAlive(index i: Int) -> Bool
}

extension SegmentWords {
    public var header: HeaderView {
        let info = word(SpecLayout.Header.creatorInfo)
        return HeaderView(versionMinor: (word(SpecLayout.Header.version) >> 16) & 0xFFFF,
                          featuresIncompat: word(SpecLayout.Header.featuresIncompat),
                          creatorPid: word(SpecLayout.Header.creatorPid),
                          creatorStartTime: word(SpecLayout.Header.creatorStartTime),
                          creatorLanguage: UInt8(truncatingIfNeeded: info), creatorUid: UInt32(truncatingIfNeeded: info >> 32),
                          createdAtNs: word(SpecLayout.Header.createdAtNs),
                          generation: UInt32(truncatingIfNeeded: word(SpecLayout.Header.generation)),
                          waiters: word(SpecLayout.Header.waiters), eventSeq: word(SpecLayout.Header.eventSeq),
                          versionClock: word(SpecLayout.Header.versionClock), simClockNs: word(SpecLayout.Header.simClockNs))
    }

    public func participant(_ i: Int) -> ParticipantView {
        let o = geometry.participantOffset(i)
        let info = word(o + SpecLayout.Participant.info)
        return ParticipantView(index: i, epoch: word(o + SpecLayout.Participant.epoch), pid: word(o + SpecLayout.Participant.pid),
                               startTime: word(o + SpecLayout.Participant.startTime), language: UInt8(truncatingIfNeeded: info),
                               protocolMajor: UInt8(truncatingIfNeeded: info >> 8), protocolMinor: UInt8(truncatingIfNeeded: info >> 16),
                               uid: UInt32(truncatingIfNeeded: info >> 32),
                               registeredAtNs: word(o + SpecLayout.Participant.registeredAtNs),
                               alive: participantAlive(index: i))
    }

    public var participants: [ParticipantView] { (0..<geometry.participantCapacity).map(participant) }

    public func insertLock(shard s: Int) -> UInt64 { word(geometry.shardOffset(s) + SpecLayout.Shard.insertLock) }

    public func counters(shard s: Int) -> ShardCounters {
        let o = geometry.shardOffset(s)
        var c = ShardCounters()
        c.hits = word(o + SpecLayout.Shard.hits); c.misses = word(o + SpecLayout.Shard.misses)
        c.staleHits = word(o + SpecLayout.Shard.staleHits); c.inserts = word(o + SpecLayout.Shard.inserts)
        c.refreshes = word(o + SpecLayout.Shard.refreshes); c.evictions = word(o + SpecLayout.Shard.evictions)
        c.invalidations = word(o + SpecLayout.Shard.invalidations); c.expirations = word(o + SpecLayout.Shard.expirations)
        c.reclaims = word(o + SpecLayout.Shard.reclaims)
        return c
    }

    public var totals: ShardCounters { (0..<geometry.shardCount).map(counters).reduce(ShardCounters(), +) }

    public func stateWord(_ s: Int, _ j: Int) -> StateWordView { StateWordView(raw: word(geometry.slotOffset(s, j))) }

}

extension SegmentSnapshot {
    public func slot(_ s: Int, _ j: Int) -> SlotView {
        let o = geometry.slotOffset(s, j)
        let keyLen = word(o + SpecLayout.Slot.keyLen)
        var key: [UInt8]?
        var keyPad = true
        if keyLen >= 1 && keyLen <= UInt64(geometry.keyCapacity) {
            (key, keyPad) = bytesAndPadding(at: o + SpecLayout.Slot.key, count: Int(keyLen))
        }
        return SlotView(shard: s, slot: j, word: StateWordView(raw: word(o)), referenced: word(o + SpecLayout.Slot.referenced),
                        keyHash: word(o + SpecLayout.Slot.keyHash), keyLenWord: keyLen,
                        claimedAtNs: word(o + SpecLayout.Slot.claimedAtNs), key: key, keyPaddingZero: keyPad,
                        records: [record(s, j, 0), record(s, j, 1)])
    }

    public func record(_ s: Int, _ j: Int, _ a: Int) -> RecordView {
        let r = geometry.recordOffset(s, j, a)
        let info = word(r + SpecLayout.Record.valueInfo)
        let len = info & 0xFFFF_FFFF
        var value: [UInt8]?
        var pad = true
        if len <= UInt64(geometry.valueCapacity) { (value, pad) = bytesAndPadding(at: r + SpecLayout.Record.value, count: Int(len)) }
        return RecordView(version: word(r + SpecLayout.Record.version), valueLen: len, originTag: UInt32(truncatingIfNeeded: info >> 32),
                          checksum: word(r + SpecLayout.Record.checksum), expiresAtNs: word(r + SpecLayout.Record.expiresAtNs),
                          staleUntilNs: word(r + SpecLayout.Record.staleUntilNs), writtenAtNs: word(r + SpecLayout.Record.writtenAtNs),
                          writer: WriterView(word: word(r + SpecLayout.Record.writer), startTime: word(r + SpecLayout.Record.writerStartTime)),
                          value: value, valuePaddingZero: pad,
                          fastChecksum: word(SpecLayout.Header.featuresIncompat) & SpecLayout.featureFastChecksum != 0)
    }

    /// `count` bytes at `off`, and whether the rest of their last 8-byte word is zero (§1).
    func bytesAndPadding(at off: Int, count: Int) -> ([UInt8], Bool) {
        let b = Array(bytes[off..<off + count])
        let end = off + (count + 7) / 8 * 8
        return (b, bytes[off + count..<end].allSatisfy { $0 == 0 })
    }
}
