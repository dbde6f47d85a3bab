// The event names of PROTOCOL.md §8.2, spelled exactly as fixtures report them (§8.4).
// Scenarios declare the events they must cover, so this set is also the coverage vocabulary.

public enum SlotEvent: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case claim
    case publish
    case abort
    case refreshClaim = "refresh_claim"
    case refreshPublish = "refresh_publish"
    case refreshAbort = "refresh_abort"
    case markStale = "mark_stale"
    case invalidateClaim = "invalidate_claim"
    case clear
    case evict
    case expire
    case reclaim

    /// The wire spelling ("refresh_claim").
    public var name: String { rawValue }
    public var description: String { rawValue }

    /// Parses the string a fixture sends; nil for anything the spec does not name.
    public init?(name: String) { self.init(rawValue: name) }
}
