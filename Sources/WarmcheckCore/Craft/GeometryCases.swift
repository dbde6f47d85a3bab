@_spi(Harness) import Warmcache

/// Every geometry rule of PROTOCOL.md §3 at its boundary (accepted) and just past it (refused
/// with `bad_geometry` naming that rule), plus pairs of violations that pin the table's order.
enum GeometryCases {
    static let all: [RefusalCase] = limits + derived + totalLen + order

    typealias C = RefusalCase
    typealias G = Warmcache.Geometry

    /// The smallest geometry: lets a boundary of one field be reached without the others making
    /// the file large (1 shard × 1 slot, key 8, value 8, window 1, 1 participant: 8704 bytes).
    static let tiny = G(shardCount: 1, slotsPerShard: 1, keyCapacity: 8, valueCapacity: 8, probeWindow: 1, participantCapacity: 1)

    static func with(_ base: G = C.baseGeometry, _ change: (inout G) -> Void) -> G {
        var g = base
        change(&g)
        return g
    }

    /// A geometry case. Refused geometries keep a file of their declared length when that is
    /// small (so an implementation that skipped the rule would open it) and the header page
    /// otherwise (it would answer `truncated`): either way a missing check shows.
    static func geo(_ name: String, _ what: String, rule: Int, accept: Bool, _ g: G) -> RefusalCase {
        var img = CraftedSegment(geometry: g)
        if img.fileLength > 1 << 26 { img.fileLength = UInt64(Layout.HEADER_SIZE) }
        return C(name, what, spec: "§3 geometry rule \(rule)" + (accept ? " (at the boundary)" : ""),
                 expect: accept ? .accept : .refuse(code: "bad_geometry", rule: rule), image: img)
    }

    static let limits: [RefusalCase] = [
        geo("rule1-shards-0", "shard_count 0", rule: 1, accept: false, with { $0.shardCount = 0 }),
        geo("rule1-shards-1", "shard_count 1", rule: 1, accept: true, with { $0.shardCount = 1 }),
        geo("rule1-shards-65536", "shard_count 65536 (33 MiB sparse)", rule: 1, accept: true, with(tiny) { $0.shardCount = 65536 }),
        geo("rule1-shards-65537", "shard_count 65537", rule: 1, accept: false, with(tiny) { $0.shardCount = 65537 }),
        geo("rule2-slots-0", "slots_per_shard 0 (window 4 breaks rule 5 too: rule 2 comes first)", rule: 2, accept: false,
            with { $0.slotsPerShard = 0 }),
        geo("rule2-slots-1", "slots_per_shard 1, window 1", rule: 2, accept: true, with { $0.slotsPerShard = 1; $0.probeWindow = 1 }),
        geo("rule2-slots-65536", "slots_per_shard 65536 (16 MiB sparse)", rule: 2, accept: true, with(tiny) { $0.slotsPerShard = 65536 }),
        geo("rule2-slots-65537", "slots_per_shard 65537", rule: 2, accept: false, with(tiny) { $0.slotsPerShard = 65537 }),
        geo("rule3-key-0", "key_capacity 0", rule: 3, accept: false, with { $0.keyCapacity = 0 }),
        geo("rule3-key-8", "key_capacity 8", rule: 3, accept: true, with { $0.keyCapacity = 8 }),
        geo("rule3-key-12", "key_capacity 12 (not a multiple of 8)", rule: 3, accept: false, with { $0.keyCapacity = 12 }),
        geo("rule3-key-4096", "key_capacity 4096", rule: 3, accept: true, with { $0.keyCapacity = 4096 }),
        geo("rule3-key-4104", "key_capacity 4104", rule: 3, accept: false, with { $0.keyCapacity = 4104 }),
        geo("rule4-value-0", "value_capacity 0", rule: 4, accept: false, with { $0.valueCapacity = 0 }),
        geo("rule4-value-8", "value_capacity 8", rule: 4, accept: true, with { $0.valueCapacity = 8 }),
        geo("rule4-value-60", "value_capacity 60 (not a multiple of 8)", rule: 4, accept: false, with { $0.valueCapacity = 60 }),
        geo("rule4-value-1048576", "value_capacity 1048576 (one slot, 2 MiB)", rule: 4, accept: true,
            with(tiny) { $0.valueCapacity = 1_048_576 }),
        geo("rule4-value-1048584", "value_capacity 1048584", rule: 4, accept: false, with(tiny) { $0.valueCapacity = 1_048_584 }),
        geo("rule5-window-0", "probe_window 0", rule: 5, accept: false, with { $0.probeWindow = 0 }),
        geo("rule5-window-1", "probe_window 1", rule: 5, accept: true, with { $0.probeWindow = 1 }),
        geo("rule5-window-eq-slots", "probe_window = slots_per_shard = 8", rule: 5, accept: true, with { $0.probeWindow = 8 }),
        geo("rule5-window-gt-slots", "probe_window 9 > slots_per_shard 8", rule: 5, accept: false, with { $0.probeWindow = 9 }),
        geo("rule5-window-64", "probe_window 64 with 128 slots", rule: 5, accept: true,
            with(tiny) { $0.slotsPerShard = 128; $0.probeWindow = 64 }),
        geo("rule5-window-65", "probe_window 65 with 128 slots", rule: 5, accept: false,
            with(tiny) { $0.slotsPerShard = 128; $0.probeWindow = 65 }),
        geo("rule6-participants-0", "participant_capacity 0", rule: 6, accept: false, with { $0.participantCapacity = 0 }),
        geo("rule6-participants-1", "participant_capacity 1", rule: 6, accept: true, with { $0.participantCapacity = 1 }),
        geo("rule6-participants-4096", "participant_capacity 4096", rule: 6, accept: true, with { $0.participantCapacity = 4096 }),
        geo("rule6-participants-4097", "participant_capacity 4097", rule: 6, accept: false, with { $0.participantCapacity = 4097 }),
    ]

    /// Rule 7: each stored derived word off its formula, checksum resealed.
    static let derived: [RefusalCase] = [
        ("slot-size", Layout.HDR_SLOT_SIZE, Int64(64)), ("participants-offset", Layout.HDR_PARTICIPANTS_OFFSET, 4096),
        ("shards-offset", Layout.HDR_SHARDS_OFFSET, 4096), ("shard-size", Layout.HDR_SHARD_SIZE, -64),
    ].map { (name, off, delta) in
        C.from("rule7-\(name)", "\(name.replacingOccurrences(of: "-", with: "_")) \(delta > 0 ? "+" : "")\(delta) off its formula",
               spec: "§3 geometry rule 7", expect: .refuse(code: "bad_geometry", rule: 7)) {
            $0.set(off, UInt64(bitPattern: Int64(bitPattern: $0.word(off)) + delta)); $0.seal()
        }
    }

    /// Rule 8 and its 2^40 bound.
    static let totalLen: [RefusalCase] = [
        C.from("rule8-total-len-plus-1", "total_len one more than the formula (the file is as long)", spec: "§3 geometry rule 8",
               expect: .refuse(code: "bad_geometry", rule: 8)) {
            $0.set(Layout.HDR_TOTAL_LEN, $0.word(Layout.HDR_TOTAL_LEN) + 1); $0.fileLength += 1; $0.seal()
        },
        C.from("rule8-total-len-smaller-than-file", "total_len a page less than the formula and the file",
               spec: "§3 geometry rule 8", expect: .refuse(code: "bad_geometry", rule: 8)) {
            $0.set(Layout.HDR_TOTAL_LEN, $0.word(Layout.HDR_TOTAL_LEN) - 4096); $0.seal()
        },
        // 65536 × 65536 slots of 256 bytes: the formula is 2^40 + 16785408, every other rule holds.
        geo("rule8-over-2^40", "the largest fields of the tiny geometry: total_len 2^40 + 16 MiB", rule: 8, accept: false,
            with(tiny) { $0.shardCount = 65536; $0.slotsPerShard = 65536 }),
        // Exactly 2^40 (found by search: 128 shards × 39441 slots, value 108768, 1 participant).
        // The file is only the header, so the answer must be `truncated`: rule 8 held at its bound
        // (the reader's size bound, rule 9, raised to 2^40 so that it does not answer first).
        {
            var c = C("rule8-exactly-2^40-truncated", "total_len exactly 2^40 in a header-only file, max_total_len 2^40: rule 8 holds, step 11 refuses",
                      spec: "§3 geometry rule 8 (at the boundary), §4.2 step 11", expect: .refuse(code: "truncated"),
                      image: { var i = CraftedSegment(geometry: exactly2to40); i.fileLength = UInt64(Layout.HEADER_SIZE); return i }())
            c.maxTotalLen = 1 << 40
            return c
        }(),
    ]

    static let exactly2to40 = G(shardCount: 128, slotsPerShard: 39441, keyCapacity: 8, valueCapacity: 108_768,
                                probeWindow: 8, participantCapacity: 1)

    /// Two rules broken at once: the first in the table's order is the one reported.
    static let order: [RefusalCase] = [
        geo("order-rule1-before-rule3", "shard_count 0 and key_capacity 12", rule: 1, accept: false,
            with { $0.shardCount = 0; $0.keyCapacity = 12 }),
        geo("order-rule5-before-rule6", "probe_window 0 and participant_capacity 0", rule: 5, accept: false,
            with { $0.probeWindow = 0; $0.participantCapacity = 0 }),
        C.from("order-rule6-before-rule7", "participant_capacity 0 with the old derived words", spec: "§3 (table order)",
               expect: .refuse(code: "bad_geometry", rule: 6)) {
            $0.set(Layout.HDR_GEOMETRY_LIMITS, $0.word(Layout.HDR_GEOMETRY_LIMITS) & 0xFFFF_FFFF); $0.seal()
        },
        C.from("order-rule7-before-rule8", "slot_size and total_len both off", spec: "§3 (table order)",
               expect: .refuse(code: "bad_geometry", rule: 7)) {
            $0.set(Layout.HDR_SLOT_SIZE, $0.word(Layout.HDR_SLOT_SIZE) + 64)
            $0.set(Layout.HDR_TOTAL_LEN, $0.word(Layout.HDR_TOTAL_LEN) + 64 * 16); $0.seal()
        },
    ]
}
