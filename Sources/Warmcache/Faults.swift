// Faults.swift — deliberate bugs (DRIVER.md "Fault switches"). They exist only so that warmcheck
// can prove it catches bugs of this kind (`warmcheck selftest`); every one is off unless set in
// `WarmCacheOptions.faults`. Each fault is one `if faults.contains(.x)` branch at the exact place
// of the bug, marked "FAULT <name>" in the code; with the set empty each costs at most one
// predictable branch on a handle-local constant. The choices mirror go-fixture/warmcache.

/// A set of fault switches, named as in DRIVER.md.
@_spi(Harness) public struct Faults: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Publish (T2/T5) before writing the record, then write it.
    public static let publishBeforePayload = Faults(rawValue: 1 << 0)
    /// The reader does not re-check the state word after copying.
    public static let skipSecondSeqCheck = Faults(rawValue: 1 << 1)
    /// A refresh keeps the old version.
    public static let noVersionBump = Faults(rawValue: 1 << 2)
    /// The reader returns a record whose checksum does not match.
    public static let ignoreChecksum = Faults(rawValue: 1 << 3)
    /// Treat every other owner as dead and reclaim from it.
    public static let stealLiveClaim = Faults(rawValue: 1 << 4)
    /// Never reclaim a dead owner's claim (nor free a dead holder's insert lock).
    public static let neverReclaim = Faults(rawValue: 1 << 5)
    /// CLOCK eviction may pick a slot in WRITING or REFRESHING.
    public static let evictWritingSlot = Faults(rawValue: 1 << 6)
    /// Wait and wake use FUTEX_PRIVATE_FLAG (cross-process wakeups are lost).
    public static let privateFutex = Faults(rawValue: 1 << 7)
    /// The key hash uses a different seed (KEY_SEED + 1).
    public static let wrongHash = Faults(rawValue: 1 << 8)
    /// Insert without the shard insert lock (duplicate keys).
    public static let skipInsertLock = Faults(rawValue: 1 << 9)
    /// Publish without bumping `generation`.
    public static let noGenerationBump = Faults(rawValue: 1 << 10)
    /// Ignore `stale_until_ns`: expired entries are served as stale.
    public static let staleForever = Faults(rawValue: 1 << 11)
    /// `nsStage` makes the flip CAS (N3) at once, so the staged version is current while its
    /// entries are still being written; `nsFlip` only closes the stage (PROTOCOL.md §18.6).
    public static let nsFlipBeforeEntries = Faults(rawValue: 1 << 12)
    /// `nsReclaim` leaves pins out of its keep set (§18.7 step 4).
    public static let nsReclaimIgnoresPins = Faults(rawValue: 1 << 13)

    /// Every fault with its DRIVER.md name, in the table's order.
    public static let named: [(name: String, fault: Faults)] = [
        ("publish_before_payload", .publishBeforePayload),
        ("skip_second_seq_check", .skipSecondSeqCheck),
        ("no_version_bump", .noVersionBump),
        ("ignore_checksum", .ignoreChecksum),
        ("steal_live_claim", .stealLiveClaim),
        ("never_reclaim", .neverReclaim),
        ("evict_writing_slot", .evictWritingSlot),
        ("private_futex", .privateFutex),
        ("wrong_hash", .wrongHash),
        ("skip_insert_lock", .skipInsertLock),
        ("no_generation_bump", .noGenerationBump),
        ("stale_forever", .staleForever),
        ("ns_flip_before_entries", .nsFlipBeforeEntries),
        ("ns_reclaim_ignores_pins", .nsReclaimIgnoresPins),
    ]

    /// The DRIVER.md names of every fault this implementation carries.
    public static var allNames: [String] { named.map(\.name) }

    /// The fault called `name` (a DRIVER.md name), or nil.
    public init?(name: String) {
        guard let f = Faults.named.first(where: { $0.name == name }) else { return nil }
        self = f.fault
    }

    /// The names of the faults in this set, in the table's order.
    public var names: [String] { Faults.named.filter { contains($0.fault) }.map(\.name) }

    public var description: String { names.joined(separator: ",") }
}

extension WarmCache {
    /// KEY_SEED, or (FAULT wrong_hash) KEY_SEED + 1: the bug of an implementation whose seed
    /// constant is mistyped. Its keys land in other shards and slots with other key_hash values,
    /// so it misses what correct implementations wrote and they miss what it wrote.
    @inline(__always)
    var keySeed: UInt64 {
        if faults.contains(.wrongHash) { return Layout.KEY_SEED &+ 1 }   // FAULT wrong_hash
        return Layout.KEY_SEED
    }

    /// `WCH64(key, KEY_SEED)` (FAULT wrong_hash: another seed, see `keySeed`).
    @inline(__always)
    func keyHash(_ kb: UnsafeRawBufferPointer) -> UInt64 { WCH64.hash(kb, seed: keySeed) }
}
