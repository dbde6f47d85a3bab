// The versioned namespaces of PROTOCOL.md §18 (1.1), read from the spec alone: the namespace
// table in header lines 9–10, namespace keys, and the pin word of each participant entry.
//
//  line 9   576 ns 0: ns_head | 584 ns 0: ns_stage | 592 ns 1: ns_head | … | 632 ns 3: ns_stage
//  line 10  640 ns 4: ns_head | …                                          | 696 ns 7: ns_stage
//
//  ns_head   0..31 current, 32..63 previous        ns_stage  0..31 last, 32..47 stager, 48..63 zero
//  ns_pin (participant + 56)   0..31 version, 32..34 ns, 35..39 zero, 40..63 pin_epoch
//  nskey(ns, v, k) = u64 (NS_KEY_MAGIC | ns << 48) ‖ u64 v ‖ k      (little-endian words)

public enum SpecNamespace {
    public static let count = 8
    public static let tableOffset = 576
    public static let entrySize = 16
    public static let head = 0, stage = 8
    public static let keyMagic: UInt64 = 0x01534E4357FF
    public static let keyPrefixLen = 16
    public static let versionMax: UInt64 = 0xFFFF_FFFF
    public static let pinEpochMask: UInt64 = 0xFF_FFFF

    /// nskey(ns, v, k) of §18.1.
    public static func key(ns: Int, version: UInt64, user k: [UInt8]) -> [UInt8] {
        func le(_ w: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        return le(keyMagic | UInt64(ns) << 48) + le(version) + k
    }

    /// The namespace, version and user key of a namespace key, nil for any other key (§18.1).
    public static func parse(_ key: [UInt8]) -> (ns: Int, version: UInt64, user: [UInt8])? {
        guard key.count > keyPrefixLen else { return nil }
        func le(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(key[at + $1]) << (8 * $1) } }
        let w0 = le(0), w1 = le(8)
        guard w0 & (1 << 48 - 1) == keyMagic, w0 >> 48 < UInt64(count), w1 >= 1, w1 <= versionMax else { return nil }
        return (Int(w0 >> 48), w1, Array(key[keyPrefixLen...]))
    }
}

/// One namespace's table entry (§18.2).
public struct NamespaceView: Sendable, Equatable {
    public var ns: Int
    public var headWord: UInt64, stageWord: UInt64
    public var current: UInt64 { headWord & 0xFFFF_FFFF }
    public var previous: UInt64 { headWord >> 32 }
    public var last: UInt64 { stageWord & 0xFFFF_FFFF }
    public var stager: Int { Int((stageWord >> 32) & 0xFFFF) }
    /// Never used: both words zero.
    public var isEmpty: Bool { headWord == 0 && stageWord == 0 }

    /// Why the entry breaks §18.2's rules or invariant 2, nil if it keeps them.
    public func illFormed(participantCapacity: Int) -> String? {
        if stageWord >> 48 != 0 { return "ns_stage bits 48..63 are not zero" }
        if stager > participantCapacity { return "ns_stage names stager \(stager), beyond participant_capacity \(participantCapacity)" }
        if previous != 0 && previous >= current { return "ns_head previous \(previous) is not below current \(current)" }
        if current > last || previous > last { return "ns_head (\(current), \(previous)) is above last \(last) (invariant 2)" }
        return nil
    }
}

/// A participant's pin word (§18.3).
public struct PinView: Sendable, Equatable {
    public var participant: Int
    public var word: UInt64
    public var epoch: UInt64
    public var alive: Bool
    public var version: UInt64 { word & 0xFFFF_FFFF }
    public var ns: Int { Int((word >> 32) & 7) }
    public var wellFormed: Bool { version != 0 && (word >> 35) & 0x1F == 0 }
    /// Honoured by reclaimers: well formed, owner alive, pin_epoch its owner's epoch.
    public var isLive: Bool { wellFormed && alive && word >> 40 == epoch & SpecNamespace.pinEpochMask }
}

extension SegmentWords {
    public func namespace(_ ns: Int) -> NamespaceView {
        let o = SpecNamespace.tableOffset + ns * SpecNamespace.entrySize
        return NamespaceView(ns: ns, headWord: word(o + SpecNamespace.head), stageWord: word(o + SpecNamespace.stage))
    }

    public var namespaces: [NamespaceView] { (0..<SpecNamespace.count).map(namespace) }

    /// Every non-zero pin word, live or not.
    public var pins: [PinView] {
        (0..<geometry.participantCapacity).compactMap { i in
            let o = geometry.participantOffset(i)
            let w = word(o + SpecLayout.Participant.nsPin)
            return w == 0 ? nil : PinView(participant: i + 1, word: w, epoch: word(o + SpecLayout.Participant.epoch),
                                          alive: participantAlive(index: i))
        }
    }
}
