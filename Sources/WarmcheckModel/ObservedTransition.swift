// One transition as a fixture reports it (DRIVER.md `transitions`, PROTOCOL.md §8.4).
//
// Names are kept as the raw strings that arrived: a misspelled event or state is a finding to
// report with the rest of the transition, not a decoding error that loses the context.

public struct ObservedTransition: Sendable, Hashable, CustomStringConvertible {
    /// The event name as reported ("publish").
    public var eventName: String
    public var shard: Int
    public var slot: Int
    /// State names as reported ("WRITING").
    public var fromName: String
    public var toName: String
    /// The slot's *new* seq (the seq of the word after the transition).
    public var seq: UInt64
    /// The participant named in the owned word of this transition: the new owner for a claim
    /// (T1, T4, T8, T10, T11), the owner of the old word for publish/abort/clear and for a
    /// reclaim (the dead owner). 0 when the fixture did not say.
    public var owner: Int
    /// `event_seq`, for cross-slot display only; never used to order one slot's events.
    public var gseq: UInt64?

    public init(event: String, shard: Int, slot: Int, from: String, to: String,
                seq: UInt64, owner: Int, gseq: UInt64? = nil) {
        self.eventName = event
        self.shard = shard
        self.slot = slot
        self.fromName = from
        self.toName = to
        self.seq = seq
        self.owner = owner
        self.gseq = gseq
    }

    /// Convenience for typed construction (tests, the orchestrator's own fault injection).
    public init(_ event: SlotEvent, shard: Int = 0, slot: Int = 0, from: SlotState, to: SlotState,
                seq: UInt64, owner: Int, gseq: UInt64? = nil) {
        self.init(event: event.name, shard: shard, slot: slot, from: from.name, to: to.name,
                  seq: seq, owner: owner, gseq: gseq)
    }

    public var event: SlotEvent? { SlotEvent(name: eventName) }
    public var from: SlotState? { SlotState(name: fromName) }
    public var to: SlotState? { SlotState(name: toName) }

    /// "publish WRITING → READY (seq 4, owner 2)"
    public var description: String {
        var s = "`\(eventName)` \(fromName) → \(toName) (seq \(seq)"
        if owner != 0 { s += ", owner \(owner)" }
        if let g = gseq { s += ", gseq \(g)" }
        return s + ")"
    }
}

/// Identifies a slot: (shard, slot).
public struct SlotAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var shard: Int
    public var slot: Int
    public init(shard: Int, slot: Int) { self.shard = shard; self.slot = slot }
    public static func < (a: SlotAddress, b: SlotAddress) -> Bool {
        (a.shard, a.slot) < (b.shard, b.slot)
    }
    public var description: String { "shard \(shard) slot \(slot)" }
}
