// A finding of the slot checkers. `explanation` is prose meant for the developer of the
// implementation under test: what was seen, what the spec allows at that point, which row of
// the table was expected. Reports print it verbatim.

public struct Violation: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The event name is not one of §8.2.
        case unknownEvent = "unknown_event"
        /// A state name or code is not one of §8.1.
        case unknownState = "unknown_state"
        /// No row of §8.2 allows this (event, from, to).
        case illegalTransition = "illegal_transition"
        /// An owner-only transition made by someone else, or an owned word without owner.
        case wrongOwner = "wrong_owner"
        /// seq n+1 does not start where seq n ended.
        case brokenChain = "broken_chain"
        /// Missing seqs that no sequence of silent transitions explains.
        case unexplainedGap = "unexplained_gap"
        /// Two different transitions reported with the same seq of one slot.
        case duplicateSeq = "duplicate_seq"
        /// A snapshot of the segment disagrees with the reported transitions.
        case snapshotMismatch = "snapshot_mismatch"
        /// A word that §8.1 calls impossible.
        case impossibleWord = "impossible_word"
    }

    public var kind: Kind
    public var shard: Int
    public var slot: Int
    /// The seq the finding is about (the transition's new seq, or the snapshot's seq).
    public var seq: UInt64
    /// The table row that was expected, when one can be named ("T2").
    public var expectedRule: String?
    public var explanation: String

    public init(kind: Kind, shard: Int, slot: Int, seq: UInt64, expectedRule: String? = nil,
                explanation: String) {
        self.kind = kind
        self.shard = shard
        self.slot = slot
        self.seq = seq
        self.expectedRule = expectedRule
        self.explanation = explanation
    }

    public var description: String { "[\(kind.rawValue)] \(explanation)" }
}
