import Foundation

/// What the victim of a crash point is doing when it dies (`warmcheck crashsweep`): the
/// operation, the segment it finds, and the points its path can reach. Each role sets up its
/// segment so that the path it names is the only one the operation can take.
///
/// Every role runs on one shard of four slots with a window of four, prefilled by the keeper
/// with `a`, `b`, `c` (versions 1–3): so a new key has exactly one `EMPTY` slot, and `evicting`
/// fills the fourth first so that the insert must evict.
public enum CrashRole: String, Sendable, CaseIterable {
    /// `put n` of a new key: the insert path (§9.3, §9.4).
    case inserter
    /// `put a` of a present key: the refresh path through `put`.
    case writer
    /// `refresh a`.
    case refresher
    /// `invalidate a`.
    case invalidator
    /// `evict a` (the explicit operation, §9.5).
    case evicter
    /// `get a`: a reader killed mid-snapshot holds nothing, and must leave nothing.
    case reader
    /// `put n` into a full window: CLOCK evicts (T10) a resident key (§9.6).
    case evictingInserter = "evicting-inserter"
    /// `put a` while `a` is `REFRESHING` under a dead owner: the put reclaims it (T13) first.
    case reclaimer
    /// `put n` while a dead owner holds the shard insert lock: the put frees it first (§9.3).
    case lockReclaimer = "lock-reclaimer"
    /// `open` at the index of a dead owner that left `a` `REFRESHING`: the registration sweep
    /// reclaims it (§5).
    case registrant
    /// `wait` for a change of `generation`: dies registered in `waiters` (§11).
    case waiter
    /// `create` of the segment itself: dies at a step of §4.1 (the `create.*` points of §17),
    /// and the recoverers start on the path as a fleet would, with `open_or_create`.
    case creator

    /// The key the victim's operation is about (the one whose writability is timed).
    public var key: String {
        switch self {
        case .inserter, .evictingInserter, .lockReclaimer: return "n"
        default: return "a"
        }
    }

    /// The victim's operation and its arguments (besides `crash_at`); nil op for `registrant`,
    /// whose operation is the `open` itself.
    var request: (op: String, value: String?) {
        switch self {
        case .inserter, .evictingInserter, .lockReclaimer: return ("put", "n-victim")
        case .writer, .reclaimer: return ("put", "a-victim")
        case .refresher: return ("refresh", "a-victim")
        case .invalidator: return ("invalidate", nil)
        case .evicter: return ("evict", nil)
        case .reader: return ("get", nil)
        case .registrant: return ("open", nil)
        case .waiter: return ("wait", nil)
        case .creator: return ("create", nil)
        }
    }

    /// A dead first owner whose claim this role meets: its operation and where it dies.
    var predecessor: (op: String, key: String, point: String)? {
        switch self {
        case .reclaimer, .registrant: return ("put", "a", "refresh.after_claim")
        case .lockReclaimer: return ("put", "n", "lock.after_acquire")
        default: return nil
        }
    }

    /// Entries may vanish without an answer saying so (the CLOCK eviction of a resident key).
    var evicts: Bool { self == .evictingInserter }
}
