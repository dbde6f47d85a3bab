// The six slot states of PROTOCOL.md §8.1 and the decoding of the 64-bit state word of §7.1.
//
// The checker meets states in two spellings: the names fixtures report in `transitions`
// ("READY") and the raw word the orchestrator reads out of the segment between steps. Both
// decode to `SlotState`; anything else is kept as an error rather than guessed at, because an
// unknown state is itself a finding (§8.1: such a word is "impossible").

/// A slot state (PROTOCOL.md §8.1). The raw value is the `state` code stored in bits 0..7.
public enum SlotState: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case empty = 0
    case writing = 1
    case ready = 2
    case refreshing = 3
    case stale = 4
    case invalidated = 5

    /// The spelling used by the spec and by fixtures ("EMPTY", "WRITING", ...).
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

    public var description: String { name }

    /// Parses the name a fixture sends. Exact, upper-case spelling only: a fixture that
    /// spells states differently is not following DRIVER.md, and we want to see that.
    public init?(name: String) {
        guard let s = SlotState.allCases.first(where: { $0.name == name }) else { return nil }
        self = s
    }

    /// States whose word names an owner (the claimer). In the others the owner must be 0.
    public var isOwned: Bool {
        switch self {
        case .writing, .refreshing, .invalidated: return true
        default: return false
        }
    }

    /// States in which readers may return `record[A]` (§8.1).
    public var isReadable: Bool {
        switch self {
        case .ready, .refreshing, .stale: return true
        default: return false
        }
    }
}

/// A decoded state word (PROTOCOL.md §7.1):
/// bits 0..7 state, bit 8 active record, bits 9..15 zero, bits 16..31 owner, bits 32..63 seq.
public struct SlotWord: Sendable, Hashable, CustomStringConvertible {
    public let raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    public init(state: SlotState, active: Int = 0, owner: Int = 0, seq: UInt32) {
        raw = UInt64(seq) << 32 | UInt64(UInt16(truncatingIfNeeded: owner)) << 16
            | UInt64(active & 1) << 8 | UInt64(state.rawValue)
    }

    public var stateCode: UInt8 { UInt8(truncatingIfNeeded: raw) }
    public var state: SlotState? { SlotState(rawValue: stateCode) }
    public var active: Int { Int((raw >> 8) & 1) }
    public var owner: Int { Int((raw >> 16) & 0xFFFF) }
    public var seq: UInt32 { UInt32(truncatingIfNeeded: raw >> 32) }
    public var reservedBits: UInt64 { (raw >> 9) & 0x7F }

    /// Why this word is "impossible" (§8.1), or nil when it is a well-formed word.
    public var impossibility: String? {
        guard let s = state else { return "state code \(stateCode) is not a state of PROTOCOL.md §8.1" }
        if reservedBits != 0 { return "bits 9..15 must be zero but are \(reservedBits)" }
        if s.isOwned && owner == 0 { return "\(s.name) must name an owner but the owner field is 0" }
        if !s.isOwned && owner != 0 { return "\(s.name) has no owner but the owner field is \(owner)" }
        return nil
    }

    public var description: String {
        let s = state?.name ?? "state#\(stateCode)"
        return "\(s)\(owner != 0 ? "(\(owner))" : "") A=\(active) seq=\(seq)"
    }
}
