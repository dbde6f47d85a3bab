// Geometry.swift — the six geometry parameters, the derived sizes (§3, §7) and the rules of §3.

/// The shape of a segment. All derived offsets come from here, never from shared memory.
public struct Geometry: Codable, Sendable, Equatable, Hashable {
    /// Number of shards (1…65536); each has its own insert lock and counters.
    public var shardCount: UInt32
    /// Slots per shard (1…65536): the capacity is `shardCount × slotsPerShard` entries.
    public var slotsPerShard: UInt32
    /// Largest key in bytes (8…4096, a multiple of 8).
    public var keyCapacity: UInt32
    /// Largest value in bytes (8…1 MiB, a multiple of 8).
    public var valueCapacity: UInt32
    /// Slots a key may live in from its home slot (1…64).
    public var probeWindow: UInt32
    /// Processes that may have the segment open at once (1…4096).
    public var participantCapacity: UInt32

    public init(shardCount: UInt32 = 16, slotsPerShard: UInt32 = 64, keyCapacity: UInt32 = 64,
                valueCapacity: UInt32 = 1024, probeWindow: UInt32 = 8, participantCapacity: UInt32 = 64) {
        self.shardCount = shardCount
        self.slotsPerShard = slotsPerShard
        self.keyCapacity = keyCapacity
        self.valueCapacity = valueCapacity
        self.probeWindow = probeWindow
        self.participantCapacity = participantCapacity
    }

    /// Default geometry for tools and tests: 16 shards × 64 slots, key 64 B, value 1024 B,
    /// window 8, 64 participants (2.4 MB).
    public static let `default` = Geometry()

    enum CodingKeys: String, CodingKey {
        case shardCount = "shard_count", slotsPerShard = "slots_per_shard", keyCapacity = "key_capacity"
        case valueCapacity = "value_capacity", probeWindow = "probe_window"
        case participantCapacity = "participant_capacity"
    }

    // MARK: Derived sizes (64-bit arithmetic; inputs are ≤ 32 bits so nothing here overflows
    // except total_len, which is computed with overflow checks).

    /// `RECORD_HEADER_SIZE + value_capacity`
    public var recordSize: UInt64 { UInt64(Layout.RECORD_HEADER_SIZE) + UInt64(valueCapacity) }
    /// `align_up(SLOT_HEADER_SIZE + key_capacity + 2 * record_size, 64)`
    public var slotSize: UInt64 {
        let raw = UInt64(Layout.SLOT_HEADER_SIZE) + UInt64(keyCapacity) + 2 * recordSize
        return (raw + 63) / 64 * 64
    }
    /// Always 4096 (the participant table follows the header page).
    public var participantsOffset: UInt64 { UInt64(Layout.HEADER_SIZE) }
    /// `align_up(4096 + participant_capacity * 64, 4096)`
    public var shardsOffset: UInt64 {
        let raw = UInt64(Layout.HEADER_SIZE) + UInt64(participantCapacity) * UInt64(Layout.PARTICIPANT_SIZE)
        return (raw + 4095) / 4096 * 4096
    }
    /// `SHARD_HEADER_SIZE + slots_per_shard * slot_size`
    public var shardSize: UInt64 { UInt64(Layout.SHARD_HEADER_SIZE) + UInt64(slotsPerShard) * slotSize }
    /// `shards_offset + shard_count * shard_size`, or nil on 64-bit overflow.
    public var totalLenChecked: UInt64? {
        let (m, o1) = UInt64(shardCount).multipliedReportingOverflow(by: shardSize)
        if o1 { return nil }
        let (t, o2) = m.addingReportingOverflow(shardsOffset)
        return o2 ? nil : t
    }
    public var totalLen: UInt64 { totalLenChecked ?? UInt64.max }

    public static let maxTotalLen: UInt64 = 1 << 40

    /// The first six rules of §3, in the table's order: nil if all hold, else the violated rule.
    public func limitViolation() -> String? {
        if !(1...65536).contains(shardCount) {
            return "rule 1 violated: 1 <= shard_count <= 65536 (shard_count = \(shardCount))"
        }
        if !(1...65536).contains(slotsPerShard) {
            return "rule 2 violated: 1 <= slots_per_shard <= 65536 (slots_per_shard = \(slotsPerShard))"
        }
        if !(8...4096).contains(keyCapacity) || keyCapacity % 8 != 0 {
            return "rule 3 violated: 8 <= key_capacity <= 4096, multiple of 8 (key_capacity = \(keyCapacity))"
        }
        if !(8...1_048_576).contains(valueCapacity) || valueCapacity % 8 != 0 {
            return "rule 4 violated: 8 <= value_capacity <= 1048576, multiple of 8 (value_capacity = \(valueCapacity))"
        }
        let maxWindow = min(slotsPerShard, 64)
        if probeWindow < 1 || probeWindow > maxWindow {
            return "rule 5 violated: 1 <= probe_window <= min(slots_per_shard, 64) = \(maxWindow) (probe_window = \(probeWindow))"
        }
        if !(1...4096).contains(participantCapacity) {
            return "rule 6 violated: 1 <= participant_capacity <= 4096 (participant_capacity = \(participantCapacity))"
        }
        return nil
    }

    /// All rules for a geometry being created (no stored derived values to compare).
    public func createViolation() -> String? {
        if let v = limitViolation() { return v }
        guard let t = totalLenChecked, t <= Geometry.maxTotalLen else {
            return "rule 8 violated: total_len = shards_offset + shard_count * shard_size must be <= 2^40 (it is \(totalLenChecked.map(String.init) ?? "overflowing"))"
        }
        return nil
    }

    // MARK: Packing of the header words (§3)

    public var packedShards: UInt64 { UInt64(shardCount) | (UInt64(slotsPerShard) << 32) }
    public var packedSizes: UInt64 { UInt64(keyCapacity) | (UInt64(valueCapacity) << 32) }
    public var packedLimits: UInt64 { UInt64(probeWindow) | (UInt64(participantCapacity) << 32) }

    public static func unpack(shards: UInt64, sizes: UInt64, limits: UInt64) -> Geometry {
        Geometry(shardCount: UInt32(truncatingIfNeeded: shards), slotsPerShard: UInt32(truncatingIfNeeded: shards >> 32),
                 keyCapacity: UInt32(truncatingIfNeeded: sizes), valueCapacity: UInt32(truncatingIfNeeded: sizes >> 32),
                 probeWindow: UInt32(truncatingIfNeeded: limits),
                 participantCapacity: UInt32(truncatingIfNeeded: limits >> 32))
    }
}

/// A validated geometry with every offset precomputed as `Int` (the only source of offsets
/// for slot and record access; §13).
public struct SegmentLayout: Sendable, Equatable {
    public let geometry: Geometry
    public let shardCount: Int
    public let slotsPerShard: Int
    public let keyCapacity: Int
    public let valueCapacity: Int
    public let probeWindow: Int
    public let participantCapacity: Int
    public let recordSize: Int
    public let slotSize: Int
    public let participantsOffset: Int
    public let shardsOffset: Int
    public let shardSize: Int
    public let totalLen: Int
    /// `x mod shard_count` and `x mod slots_per_shard` without a division (placement, §6).
    let shardMod: FastMod
    let slotMod: FastMod

    /// Only call with a geometry that passed `createViolation()` (or the open checks).
    init(validated g: Geometry) {
        geometry = g
        shardCount = Int(g.shardCount)
        slotsPerShard = Int(g.slotsPerShard)
        keyCapacity = Int(g.keyCapacity)
        valueCapacity = Int(g.valueCapacity)
        probeWindow = Int(g.probeWindow)
        participantCapacity = Int(g.participantCapacity)
        recordSize = Int(g.recordSize)
        slotSize = Int(g.slotSize)
        participantsOffset = Int(g.participantsOffset)
        shardsOffset = Int(g.shardsOffset)
        shardSize = Int(g.shardSize)
        totalLen = Int(g.totalLen)
        shardMod = FastMod(g.shardCount)
        slotMod = FastMod(g.slotsPerShard)
    }

    @inline(__always) public func shardOffset(_ s: Int) -> Int { shardsOffset + s * shardSize }
    /// Slot `j` of shard `s` starts at `shards_offset + s*shard_size + 256 + j*slot_size`.
    @inline(__always) public func slotOffset(_ s: Int, _ j: Int) -> Int {
        shardsOffset + s * shardSize + Layout.SHARD_HEADER_SIZE + j * slotSize
    }
    /// Record `a` (0 or 1) of the slot at `slotOff`.
    @inline(__always) public func recordOffset(_ slotOff: Int, _ a: Int) -> Int {
        slotOff + Layout.SLOT_HEADER_SIZE + keyCapacity + (a & 1) * recordSize
    }
    @inline(__always) public func participantOffset(_ index: Int) -> Int {
        participantsOffset + index * Layout.PARTICIPANT_SIZE
    }

    /// Shard and home slot of a key hash (§6): `(h >> 32) mod shard_count` and
    /// `(h & 0xFFFFFFFF) mod slots_per_shard`, computed exactly by FastMod (two 64-bit DIVs were
    /// the costliest instructions of a get, as in Go and Rust before they used the same method).
    @inline(__always) public func place(_ h: UInt64) -> (shard: Int, home: Int) {
        (Int(shardMod.rem(UInt32(truncatingIfNeeded: h >> 32))), Int(slotMod.rem(UInt32(truncatingIfNeeded: h))))
    }
    /// The `k`-th slot of the window starting at `home`: `(home + k) mod slots_per_shard`.
    /// Every caller has `home < slots_per_shard` and `k < probe_window <= slots_per_shard`
    /// (geometry rule 5), so the sum is below twice the modulus and one subtraction replaces the
    /// division that `%` cost on every probe.
    @inline(__always) public func windowSlot(_ home: Int, _ k: Int) -> Int {
        let j = home &+ k
        return j >= slotsPerShard ? j &- slotsPerShard : j
    }
    /// Whether `slot` lies in the window of `home`.
    public func windowContains(home: Int, slot: Int) -> Bool {
        let d = (slot - home + slotsPerShard) % slotsPerShard
        return d < probeWindow
    }
}

/// `x mod d` for a fixed 32-bit `d` without a division (Lemire, Kaser and Kurz, "Faster
/// remainder by direct computation", 2019): exact for every 32-bit `x` and `d >= 1`, the same
/// method as Go's fastMod and Rust's FastMod. With `m = floor((2^64 - 1) / d) + 1`, the low 64
/// bits of `m * x` are the fractional part of `x / d` scaled by 2^64, and multiplying them by
/// `d` leaves `x mod d` in the high word.
struct FastMod: Sendable, Equatable {
    let d: UInt64
    let m: UInt64

    init(_ d: UInt32) {
        precondition(d >= 1, "FastMod of zero")
        self.d = UInt64(d)
        // For d = 1 this wraps to 0, which gives 0 = x mod 1.
        m = UInt64.max / UInt64(d) &+ 1
    }

    @inline(__always) func rem(_ x: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: (m &* UInt64(x)).multipliedFullWidth(by: d).high)
    }
}
