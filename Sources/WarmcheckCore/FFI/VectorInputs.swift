// Inputs of `warmcheck vectors`: the edge cases docs/ABI.md lists for each function (lengths
// 0, 1, 7, 8, 9 and capacities, words at 0 and 2^64−1, every state code and owner, every
// geometry rule at its boundary), then seeded random ones.

@_spi(Harness) import Warmcache

public enum VectorInputs {
    static let seeds: [UInt64] = [Layout.KEY_SEED, Layout.VALUE_SEED, Layout.HEADER_SEED, 0, UInt64.max]
    static let edgeWords: [UInt64] = [0, 1, 2, 0xFF, 0x100, 0xFFFF_FFFF, 0x1_0000_0000, UInt64.max - 1, UInt64.max]
    static let edge32: [UInt32] = [0, 1, 7, 8, 9, 63, 64, 65, 4095, 4096, 4097, 65535, 65536, 65537,
                                   1_048_575, 1_048_576, 1_048_577, 1_048_584, UInt32.max]

    public static func edgeCases(base: [UInt8]) -> [ABICall] {
        var c: [ABICall] = [ABICall("abi_version", [])]
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1024, 4096] {
            let bytes = (0..<len).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
            for s in seeds { c.append(ABICall("wch64", [s], blobs: [bytes])) }
        }
        for state in 0..<8 as Range<UInt64> {
            for a in [0, 1, 2] as [UInt64] {
                for owner in [0, 1, 2, 64, 65, 4096, 65535, 65536] as [UInt64] {
                    for seq in [0, 1, UInt64(UInt32.max)] {
                        c.append(ABICall("state_encode", [state, a, owner, seq]))
                        if a < 2 && owner < 65536 {
                            let w = state | a << 8 | owner << 16 | seq << 32
                            for pc in [1, 2, 64, 4096] as [UInt64] { c.append(ABICall("state_decode", [w, pc])) }
                            for bit in 9..<16 { c.append(ABICall("state_decode", [w | 1 << UInt64(bit), 64])) }
                        }
                    }
                }
            }
        }
        for code in [6, 7, 8, 0xFF, 0x80] as [UInt64] { c.append(ABICall("state_decode", [code, 64])) }
        c.append(contentsOf: snapshotPairs())
        let d: [UInt32] = [16, 64, 64, 1024, 8, 64]
        for field in 0..<6 {
            for v in edge32 {
                var g = d
                g[field] = v
                c.append(ABICall("geometry_rule", g.map(UInt64.init)))
                if Geometry(shardCount: g[0], slotsPerShard: g[1], keyCapacity: g[2], valueCapacity: g[3],
                            probeWindow: g[4], participantCapacity: g[5]).limitViolation() == nil {
                    c.append(ABICall("layout", g.map(UInt64.init)))
                }
            }
        }
        // Rule 8 (total_len ≤ 2^40) at its boundary, and the probe window against slots_per_shard.
        for g in [[65536, 65536, 4096, 1_048_576, 64, 4096], [65536, 8, 8, 8, 8, 1], [1, 1, 8, 8, 1, 1],
                  [4, 4, 8, 8, 5, 1], [4, 64, 8, 8, 64, 1], [4, 65, 8, 8, 65, 1], [16, 64, 64, 1024, 8, 64],
                  [65536, 65536, 8, 8, 64, 1], [256, 65536, 8, 1016, 64, 1], [257, 65536, 8, 1016, 64, 1]] as [[UInt64]] {
            c.append(ABICall("geometry_rule", g))
            c.append(ABICall("layout", g))
        }
        let times: [UInt64] = [0, 1, 99, 100, 101, 199, 200, 201, UInt64.max - 1, UInt64.max]
        for e in times { for g in times { for now in times { c.append(ABICall("expiry", [e, g, now])) } } }
        for b in edgeWords { for cur in edgeWords { c.append(ABICall("auto_version", [b, cur])) } }
        for i in 0..<70 as Range<UInt64> { c.append(ABICall("layout_constant", [i])) }
        c.append(ABICall("layout_constant", [UInt64(UInt32.max)]))
        c.append(contentsOf: imageCalls(base: base, seed: 0x5EED, count: 400))
        return c
    }

    static func snapshotPairs() -> [ABICall] {
        var c: [ABICall] = []
        for s1state in 0..<6 as Range<UInt64> {
            for a1 in [0, 1] as [UInt64] {
                let o1: UInt64 = [1, 3, 5].contains(s1state) ? 1 : 0
                let s1 = s1state | a1 << 8 | o1 << 16 | 7 << 32
                for s2state in 0..<7 as Range<UInt64> {
                    for a2 in [0, 1] as [UInt64] {
                        for o2 in [0, 1, 3] as [UInt64] {
                            for dseq in [0, 1, 2] as [UInt64] {
                                c.append(ABICall("snapshot_ok", [s1, s2state | a2 << 8 | o2 << 16 | (7 + dseq) << 32, 2]))
                            }
                        }
                    }
                }
                // seq wrapping at 2^32.
                let wrapped = s1state | a1 << 8 | o1 << 16 | UInt64(UInt32.max) << 32
                c.append(ABICall("snapshot_ok", [wrapped, 4 | a1 << 8, 2]))
                c.append(ABICall("snapshot_ok", [wrapped, 3 | a1 << 8 | 1 << 16, 2]))
            }
        }
        return c
    }

    /// header_check, get and decode_image on mutants of the base image.
    static func imageCalls(base: [UInt8], seed: UInt64, count: UInt64) -> [ABICall] {
        let m = ImageMutator(base: base)
        var scratch: [UInt8] = []
        var c: [ABICall] = []
        for i in 0..<count {
            let (len, now) = m.mutant(seed: seed, index: i, into: &scratch)
            let image = Array(scratch[0..<len])
            c.append(ABICall("header_check", [], blobs: [image]))
            let key = BaseImage.keys[Int(i) % BaseImage.keys.count]
            c.append(ABICall("get", [now], blobs: [image, key]))
            if i % 8 == 0 { c.append(ABICall("decode_image", [now], blobs: [image])) }
        }
        return c
    }

    /// Seeded random inputs for every pure function (images come from imageCalls).
    public static func random(seed: UInt64, count: Int) -> [ABICall] {
        var rng = SplitMix(seed)
        var c: [ABICall] = []
        c.reserveCapacity(count)
        func word() -> UInt64 {
            switch rng.below(4) {
            case 0: return edgeWords[rng.below(edgeWords.count)]
            case 1: return rng.next() & 0xFFFF
            default: return rng.next()
            }
        }
        func stateWord() -> UInt64 {
            UInt64(rng.below(7)) | UInt64(rng.below(2)) << 8 | UInt64(rng.below(4)) << 16
                | (rng.chance(16) ? 1 << 9 : 0) | UInt64(rng.below(3)) << 32
        }
        for _ in 0..<count {
            switch rng.below(8) {
            case 0:
                let len = rng.chance(4) ? rng.below(300) : rng.below(20)
                c.append(ABICall("wch64", [rng.chance(2) ? seeds[rng.below(seeds.count)] : rng.next()],
                                 blobs: [(0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) }]))
            case 1: c.append(ABICall("state_encode", [UInt64(rng.below(8)), UInt64(rng.below(3)), UInt64(rng.below(70000)), word() & 0xFFFF_FFFF]))
            case 2: c.append(ABICall("state_decode", [rng.chance(2) ? stateWord() : word(), UInt64(1 + rng.below(8))]))
            case 3:
                let s1 = stateWord()
                let s2 = rng.chance(3) ? s1 : stateWord() + (rng.chance(2) ? 1 << 32 : 0)
                c.append(ABICall("snapshot_ok", [s1, s2, UInt64(1 + rng.below(4))]))
            case 4:
                let g = (0..<6).map { _ in UInt64(edge32[rng.below(edge32.count)]) }
                c.append(ABICall("geometry_rule", g))
            case 5: c.append(ABICall("expiry", [word(), word(), word()]))
            case 6: c.append(ABICall("auto_version", [word(), word()]))
            default: c.append(ABICall("layout_constant", [UInt64(rng.below(80))]))
            }
        }
        return c
    }
}
