// SlotState.swift — the state word (§7.1), the six states (§8.1) and the event names (§8.2).
//
// ```
//  63                              32 31              16 15     9  8  7        0
//  +---------------------------------+------------------+--------+---+----------+
//  |              seq                |      owner       |  zero  | A |  state   |
//  +---------------------------------+------------------+--------+---+----------+
// ```

/// The six slot states (§8.1).
public enum SlotStateKind: UInt8, Sendable, CaseIterable, Codable {
    case empty = 0
    case writing = 1
    case ready = 2
    case refreshing = 3
    case stale = 4
    case invalidated = 5

    /// The spec's name, as used in events and JSON.
    public var name: String {
        switch self {
        case .empty: return "EMPTY"
        case .writing: return "WRITING"
        case .ready: return "READY"
        case .refreshing: return "REFRESHING"
        case .stale: return "STALE"
        case .invalidated: return "INVALIDATED"
        }
    }

    /// States that name an owner (claimer).
    public var isOwned: Bool { self == .writing || self == .refreshing || self == .invalidated }
    /// States whose record[A] a reader may return.
    public var isReadable: Bool { self == .ready || self == .refreshing || self == .stale }
}

/// A decoded state word.
public struct StateWord: Sendable, Equatable, CustomStringConvertible {
    public let raw: UInt64

    @inline(__always) public init(raw: UInt64) { self.raw = raw }

    @inline(__always)
    public init(_ kind: SlotStateKind, active: Int, owner: UInt16, seq: UInt32) {
        raw = UInt64(kind.rawValue) | (UInt64(active & 1) << 8) | (UInt64(owner) << 16) | (UInt64(seq) << 32)
    }

    @inline(__always) public var stateCode: UInt8 { UInt8(truncatingIfNeeded: raw) }
    @inline(__always) public var kind: SlotStateKind? { SlotStateKind(rawValue: stateCode) }
    @inline(__always) public var active: Int { Int((raw >> 8) & 1) }
    @inline(__always) public var owner: UInt16 { UInt16(truncatingIfNeeded: raw >> 16) }
    @inline(__always) public var seq: UInt32 { UInt32(truncatingIfNeeded: raw >> 32) }
    @inline(__always) public var reservedBits: UInt64 { (raw >> 9) & 0x7F }

    /// The valid kind of this word, or nil if the word is impossible (§8.1): unknown state code,
    /// owner 0 in an owned state, a non-zero owner in an unowned state, non-zero bits 9..15, or an
    /// owner beyond `participantCapacity` (§13).
    @inline(__always)
    public func validKind(participantCapacity: Int) -> SlotStateKind? {
        guard let k = kind, reservedBits == 0 else { return nil }
        if k.isOwned {
            if owner == 0 || Int(owner) > participantCapacity { return nil }
        } else if owner != 0 {
            return nil
        }
        return k
    }

    /// Why the word is impossible, or nil.
    public func impossibility(participantCapacity: Int) -> String? {
        guard let k = kind else { return "unknown state code \(stateCode)" }
        if reservedBits != 0 { return "non-zero bits 9..15 (\(reservedBits))" }
        if k.isOwned && owner == 0 { return "owner 0 in owned state \(k.name)" }
        if k.isOwned && Int(owner) > participantCapacity {
            return "owner \(owner) in \(k.name) exceeds participant_capacity \(participantCapacity)"
        }
        if !k.isOwned && owner != 0 { return "non-zero owner \(owner) in unowned state \(k.name)" }
        return nil
    }

    /// The successor word: new state, active record and owner, `seq + 1` (mod 2^32).
    @inline(__always)
    public func next(_ kind: SlotStateKind, active: Int? = nil, owner: UInt16 = 0) -> StateWord {
        StateWord(kind, active: active ?? self.active, owner: owner, seq: seq &+ 1)
    }

    public var name: String { kind?.name ?? "IMPOSSIBLE(\(stateCode))" }

    public var description: String {
        "\(name)(A=\(active), owner=\(owner), seq=\(seq), raw=0x\(String(raw, radix: 16)))"
    }
}

/// The transition event names of §8.2.
public enum TransitionEvent: String, Sendable, Codable {
    case claim                  // T1  EMPTY → WRITING(o)
    case publish                // T2  WRITING(o) → READY
    case abort                  // T3  WRITING(o) → EMPTY
    case refreshClaim = "refresh_claim"       // T4  READY/STALE → REFRESHING(o)
    case refreshPublish = "refresh_publish"   // T5  REFRESHING(o) → READY, A flipped
    case refreshAbort = "refresh_abort"       // T6  REFRESHING(o) → READY, same A
    case markStale = "mark_stale"             // T7  READY → STALE
    case invalidateClaim = "invalidate_claim" // T8  READY/STALE → INVALIDATED(o)
    case clear                  // T9  INVALIDATED(o) → EMPTY
    case evict                  // T10 READY/STALE → WRITING(o), CLOCK victim
    case expire                 // T11 READY/STALE → WRITING(o), past stale_until
    case reclaim                // T12–T14, dead owner
}
