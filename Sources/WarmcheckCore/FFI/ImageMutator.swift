// Structured mutation of a segment image for `warmcheck fuzz`. Mutant `index` of `seed` is a
// pure function of the base image, so every worker rebuilds exactly the same mutants without
// shipping them over the pipe, and a finding is reproduced from (seed, index) alone.

@_spi(Harness) import Warmcache

/// SplitMix64: small, fast, and the same sequence in every process.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }
}

public struct ImageMutator {
    public let base: [UInt8]
    let g: Geometry
    /// Times worth testing: every record's expiry bounds ±1, the base clock, 0 and the maximum.
    let times: [UInt64]

    public init(base: [UInt8]) {
        self.base = base
        func w(_ off: Int) -> UInt64 { ImageMutator.word(base, off) }
        g = Geometry.unpack(shards: w(Layout.HDR_GEOMETRY_SHARDS), sizes: w(Layout.HDR_GEOMETRY_SIZES),
                            limits: w(Layout.HDR_GEOMETRY_LIMITS))
        var t: Set<UInt64> = [0, UInt64.max, w(Layout.HDR_SIM_CLOCK_NS)]
        let geo = g
        if geo.limitViolation() == nil && UInt64(base.count) >= geo.totalLen {
            for s in 0..<Int(geo.shardCount) {
                for j in 0..<Int(geo.slotsPerShard) {
                    for a in 0..<2 {
                        let rec = ImageMutator.recordOffset(geo, s, j, a)
                        for off in [Layout.REC_EXPIRES_AT_NS, Layout.REC_STALE_UNTIL_NS] {
                            let v = w(rec + off)
                            if v != 0 { t.formUnion([v &- 1, v, v &+ 1]) }
                        }
                    }
                }
            }
        }
        times = t.sorted()
    }

    static func word(_ b: [UInt8], _ off: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 where off + i < b.count { v |= UInt64(b[off + i]) << (8 * i) }
        return v
    }

    static func slotOffset(_ g: Geometry, _ s: Int, _ j: Int) -> Int {
        Int(g.shardsOffset) + s * Int(g.shardSize) + Layout.SHARD_HEADER_SIZE + j * Int(g.slotSize)
    }

    static func recordOffset(_ g: Geometry, _ s: Int, _ j: Int, _ a: Int) -> Int {
        slotOffset(g, s, j) + Layout.SLOT_HEADER_SIZE + Int(g.keyCapacity) + a * Int(g.recordSize)
    }

    /// Writes mutant `index` into `out` (resized to the base length) and returns the length to
    /// decode (a truncation mutation makes it shorter) and the reader's clock.
    public func mutant(seed: UInt64, index: UInt64, into out: inout [UInt8]) -> (Int, UInt64) {
        if out.count != base.count { out = base } else {
            out.withUnsafeMutableBytes { d in base.withUnsafeBytes { d.copyMemory(from: $0) } }
        }
        var rng = SplitMix(seed ^ (index &* 0xD1B54A32D192ED03))
        var len = base.count
        let now = times[rng.below(times.count)]
        if index == 0 { return (len, now) }   // mutant 0 is the base itself: every library must accept it
        out.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            func load(_ off: Int) -> UInt64 { p.loadUnaligned(fromByteOffset: off, as: UInt64.self) }
            func store(_ off: Int, _ v: UInt64) { p.storeBytes(of: v, toByteOffset: off, as: UInt64.self) }
            func bump(_ off: Int) {
                let edges: [UInt64] = [0, 1, UInt64.max, load(off) &+ 1, load(off) &- 1, load(off) ^ (1 << UInt64(rng.below(64))), rng.next()]
                store(off, edges[rng.below(edges.count)])
            }
            func fixHeader() {
                store(Layout.HDR_HEADER_CHECKSUM, WCH64.hash(UnsafeRawBufferPointer(start: p, count: Layout.HDR_CHECKSUMMED_BYTES), seed: Layout.HEADER_SEED))
            }
            let slots = Int(g.shardCount) * Int(g.slotsPerShard)
            func anySlot() -> (Int, Int) { let k = rng.below(slots); return (k / Int(g.slotsPerShard), k % Int(g.slotsPerShard)) }
            for _ in 0..<(1 + rng.below(4)) {
                switch rng.below(10) {
                case 0:   // immutable header, usually re-checksummed so that later checks are reached
                    bump(8 * rng.below(Layout.HDR_CHECKSUMMED_BYTES / 8))
                    if !rng.chance(4) { fixHeader() }
                case 1:   // geometry words to a boundary of a rule
                    let field = [Layout.HDR_GEOMETRY_SHARDS, Layout.HDR_GEOMETRY_SIZES, Layout.HDR_GEOMETRY_LIMITS,
                                 Layout.HDR_SLOT_SIZE, Layout.HDR_SHARDS_OFFSET, Layout.HDR_SHARD_SIZE, Layout.HDR_TOTAL_LEN][rng.below(7)]
                    let half = UInt64([0, 1, 7, 8, 9, 64, 65, 4096, 4097, 65536, 65537][rng.below(11)])
                    let v = load(field)
                    store(field, rng.chance(2) ? (v & 0xFFFF_FFFF_0000_0000) | half : (v & 0xFFFF_FFFF) | half << 32)
                    fixHeader()
                case 2:   // live header words: ready, generation, clocks
                    bump([Layout.HDR_READY, Layout.HDR_GENERATION, Layout.HDR_VERSION_CLOCK, Layout.HDR_SIM_CLOCK_NS][rng.below(4)])
                case 3:   // participant entries and shard headers (readers must not care)
                    if rng.chance(2) {
                        bump(Int(g.participantsOffset) + 8 * rng.below(Int(g.participantCapacity) * 8))
                    } else {
                        bump(Int(g.shardsOffset) + rng.below(Int(g.shardCount)) * Int(g.shardSize) + 8 * rng.below(32))
                    }
                case 4, 5:   // the state word
                    let (s, j) = anySlot()
                    let off = ImageMutator.slotOffset(g, s, j)
                    let code = UInt64(rng.below(8)), a = UInt64(rng.below(2)), owner = UInt64(rng.below(4))
                    let reserved: UInt64 = rng.chance(8) ? UInt64(1 + rng.below(127)) << 9 : 0
                    store(off, code | a << 8 | reserved | owner << 16 | (rng.next() & 0xFFFF_FFFF_0000_0000))
                case 6:   // key length, hash and bytes (re-hashed half the time: the key moves)
                    let (s, j) = anySlot()
                    let off = ImageMutator.slotOffset(g, s, j)
                    switch rng.below(3) {
                    case 0: store(off + Layout.SLOT_KEY_LEN, [0, 1, 7, 8, 9, UInt64(g.keyCapacity), UInt64(g.keyCapacity) + 1, 1 << 32 | 3][rng.below(8)])
                    case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: rng.next()), toByteOffset: off + Layout.SLOT_KEY + rng.below(Int(g.keyCapacity)), as: UInt8.self)
                    default: bump(off + Layout.SLOT_KEY_HASH)
                    }
                    if rng.chance(2) {
                        let klen = Int(load(off + Layout.SLOT_KEY_LEN) & 0xFFFF_FFFF)
                        if klen <= Int(g.keyCapacity) {
                            store(off + Layout.SLOT_KEY_HASH, WCH64.hash(UnsafeRawBufferPointer(start: p + off + Layout.SLOT_KEY, count: klen), seed: Layout.KEY_SEED))
                        }
                    }
                case 7, 8:   // record header words and value bytes (checksum fixed half the time)
                    let (s, j) = anySlot()
                    let rec = ImageMutator.recordOffset(g, s, j, rng.below(2))
                    switch rng.below(4) {
                    case 0: store(rec + Layout.REC_VERSION, [0, 1, UInt64.max][rng.below(3)])
                    case 1:
                        let vlen = [0, 1, 7, 8, 9, UInt64(g.valueCapacity), UInt64(g.valueCapacity) + 1, 0xFFFF_FFFF][rng.below(8)]
                        store(rec + Layout.REC_VALUE_INFO, (load(rec + Layout.REC_VALUE_INFO) & 0xFFFF_FFFF_0000_0000) | vlen)
                    case 2: p.storeBytes(of: UInt8(truncatingIfNeeded: rng.next()), toByteOffset: rec + Layout.REC_VALUE + rng.below(Int(g.valueCapacity)), as: UInt8.self)
                    default: bump(rec + 8 * rng.below(8))
                    }
                    if rng.chance(2) {
                        let vlen = Int(load(rec + Layout.REC_VALUE_INFO) & 0xFFFF_FFFF)
                        if vlen <= Int(g.valueCapacity) {
                            store(rec + Layout.REC_CHECKSUM, WCH64.hash(UnsafeRawBufferPointer(start: p + rec + Layout.REC_VALUE, count: vlen), seed: Layout.VALUE_SEED))
                        }
                    }
                default:   // truncation
                    len = [0, 8, Layout.HEADER_SIZE - 1, Layout.HEADER_SIZE, base.count - 8, base.count - 1, rng.below(base.count)][rng.below(7)]
                }
            }
        }
        return (len, now)
    }
}
