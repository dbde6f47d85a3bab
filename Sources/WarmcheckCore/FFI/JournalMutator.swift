// Structured mutation of durable-store journals (docs/PERSISTENCE.md §4, §5) for
// `warmcheck fuzz --journals`. As with ImageMutator, mutant `index` of `seed` is a pure function
// of the base journals, so every worker rebuilds the same mutants and a finding is reproduced
// from (seed, index) alone.
//
// A base journal is split into its 96-byte header and its records (walked by `record_len`);
// record-level edits (splices with another writer's journal, duplicated, dropped and swapped
// records, field and length edits, checksums under a wrong seed, a snapshot's end record) work
// on that list, and byte-level edits (bit flips, truncation, a zero-filled tail) on the
// result. An edited record gets its checksum recomputed half of the time, so that the decoders'
// later checks (kind, lengths, seq) are reached and not only bad_checksum.

@_spi(Harness) import Warmcache

public struct JournalMutator {
    public static let headerSize = 96
    public static let seed: UInt64 = 0x574A_524E_4C53_4544   // JOURNAL_SEED (PERSISTENCE.md §4)
    static let snapshotMagic: UInt64 = 0x5041_4E53_4D52_4157

    struct Base {
        var header: [UInt8]
        var records: [[UInt8]]
        var tail: [UInt8]
    }

    let bases: [Base]
    /// The geometry words of the first base's header: the restoring geometry a mutant is
    /// decoded against (or, for a quarter of the mutants, none: any valid geometry).
    public let geometry: (UInt64, UInt64, UInt64)

    public init(journals: [[UInt8]]) {
        bases = journals.map(JournalMutator.split)
        let h = journals.first ?? []
        geometry = (ImageMutator.word(h, 16), ImageMutator.word(h, 24), ImageMutator.word(h, 32))
    }

    /// Header, the records that `record_len` delimits, and whatever follows them.
    static func split(_ j: [UInt8]) -> Base {
        guard j.count >= headerSize else { return Base(header: j, records: [], tail: []) }
        var records: [[UInt8]] = []
        var off = headerSize
        while off + 8 <= j.count {
            let n = Int(ImageMutator.word(j, off) & 0xFFFF_FFFF)
            guard n >= 88, n % 8 == 0, off + n <= j.count else { break }
            records.append(Array(j[off..<(off + n)]))
            off += n
        }
        return Base(header: Array(j[0..<headerSize]), records: records, tail: Array(j[off...]))
    }

    static func put(_ b: inout [UInt8], _ off: Int, _ v: UInt64, bytes: Int = 8) {
        for i in 0..<bytes where off + i < b.count { b[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }

    static func checksum(_ b: [UInt8], _ upto: Int, seed: UInt64) -> UInt64 {
        b.withUnsafeBytes { WCH64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<max(0, min(upto, b.count))]), seed: seed) }
    }

    /// The record's checksum recomputed (under `seed`), as a writer would have written it.
    static func seal(_ r: inout [UInt8], seed: UInt64 = JournalMutator.seed) {
        guard r.count >= 16 else { return }
        put(&r, r.count - 8, checksum(r, r.count - 8, seed: seed))
    }

    static func sealHeader(_ h: inout [UInt8]) {
        guard h.count >= headerSize else { return }
        put(&h, 88, checksum(h, 88, seed: seed))
    }

    /// Mutant `index` of `seed` into `out`; returns its length and the geometry words to decode
    /// it against (zeros: any geometry).
    public func mutant(seed: UInt64, index: UInt64, into out: inout [UInt8]) -> (Int, (UInt64, UInt64, UInt64)) {
        var rng = SplitMix(seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        guard !bases.isEmpty else { out.removeAll(keepingCapacity: true); return (0, geometry) }
        var b = bases[rng.below(bases.count)]
        var want = geometry
        if rng.chance(4) { want = (0, 0, 0) }
        let edits = 1 + rng.below(3)
        for _ in 0..<edits { recordEdit(&b, &rng) }
        out.removeAll(keepingCapacity: true)
        out += b.header
        for r in b.records { out += r }
        out += b.tail
        if rng.chance(3) { byteEdit(&out, &rng) }
        return (out.count, want)
    }

    func recordEdit(_ b: inout Base, _ rng: inout SplitMix) {
        let n = b.records.count
        let fix = rng.chance(2)
        switch rng.below(13) {
        case 0 where n > 0:   // drop a record: the next one's seq jumps
            b.records.remove(at: rng.below(n))
        case 1 where n > 0:   // duplicate a record in place (same seq twice)
            let i = rng.below(n)
            b.records.insert(b.records[i], at: i)
        case 2 where n > 1:   // swap two neighbours
            let i = rng.below(n - 1)
            b.records.swapAt(i, i + 1)
        case 3 where bases.count > 1 || n > 1:   // splice: our first k records, then another journal's records from j on
            let other = bases[rng.below(bases.count)]
            let k = rng.below(n + 1), j = rng.below(other.records.count + 1)
            b.records = Array(b.records[0..<k]) + Array(other.records[j...])
            b.tail = other.tail
        case 4 where n > 0:   // record_len edit (checksum then usually wrong, as for a torn length)
            let i = rng.below(n)
            let len = b.records[i].count
            let choices: [Int] = [0, 8, 80, 87, 88, len - 8, len + 8, len + 1, len + 4096, 0xFFFF_FFFF]
            JournalMutator.put(&b.records[i], 0, UInt64(UInt32(truncatingIfNeeded: choices[rng.below(choices.count)])), bytes: 4)
            if fix { JournalMutator.seal(&b.records[i]) }
        case 5 where n > 0:   // a field a decoder checks: kind, flags, key_len, value length, seq
            let i = rng.below(n)
            let len = b.records[i].count
            switch rng.below(6) {
            case 0:
                let kinds: [UInt8] = [0, 1, 2, 3, 4, 255]
                b.records[i][4] = kinds[rng.below(kinds.count)]
            case 1: b.records[i][5] = UInt8(1 << rng.below(8))
            case 2:
                let keyLens: [UInt64] = [0, 1, 15, 16, 17, 4096, 65535]
                JournalMutator.put(&b.records[i], 6, keyLens[rng.below(keyLens.count)], bytes: 2)
            case 3:
                let lens: [UInt64] = [0, 1, 63, 64, 65, 0xFFFF_FFFF]
                JournalMutator.put(&b.records[i], 32, lens[rng.below(lens.count)], bytes: 4)
            case 4:
                let seqs: [UInt64] = [0, 1, 2, UInt64(i), UInt64(i) + 2, UInt64.max]
                JournalMutator.put(&b.records[i], 8, seqs[rng.below(seqs.count)])
            default: JournalMutator.put(&b.records[i], 8 * (2 + rng.below(8)), rng.next())   // order … writer_start_time
            }
            if fix || len < 16 { JournalMutator.seal(&b.records[i]) }
        case 6 where n > 0:   // checksummed under another seed (a value seed, 0, …)
            let i = rng.below(n)
            let seeds: [UInt64] = [0, 1, JournalMutator.seed ^ 1, Layout.VALUE_SEED, Layout.KEY_SEED]
            JournalMutator.seal(&b.records[i], seed: seeds[rng.below(seeds.count)])
        case 7:   // header field with its checksum fixed: magic, format, geometry, participant
            let off = [0, 8, 16, 24, 32, 64][rng.below(6)]
            let v: UInt64
            switch off {
            case 0:
                let magics: [UInt64] = [JournalMutator.snapshotMagic, 0, 0x4C4E_524A_4D52_4156]
                v = magics[rng.below(magics.count)]
            case 8:
                let formats: [UInt64] = [0x60_0000_0001, 0x60_0000_0002, 0x60_0001_0001, 0x58_0000_0001, 0]   // size 96/88, major, minor
                v = formats[rng.below(formats.count)]
            default: v = ImageMutator.word(b.header, off) ^ (1 << UInt64(rng.below(64)))
            }
            JournalMutator.put(&b.header, off, v)
            if !rng.chance(8) { JournalMutator.sealHeader(&b.header) }
        case 8:   // a snapshot: WARMSNAP, with (or without) an end record after the records
            JournalMutator.put(&b.header, 0, JournalMutator.snapshotMagic)
            JournalMutator.sealHeader(&b.header)
            if rng.chance(3) { break }
            var end = [UInt8](repeating: 0, count: 88)
            JournalMutator.put(&end, 0, 88, bytes: 4)
            end[4] = 3
            JournalMutator.put(&end, 8, UInt64(b.records.count + (rng.chance(4) ? 2 : 1)))
            JournalMutator.put(&end, 16, rng.next() >> 40)
            JournalMutator.put(&end, 24, rng.next() >> 40)
            JournalMutator.seal(&end)
            b.records.insert(end, at: rng.chance(4) ? rng.below(b.records.count + 1) : b.records.count)
        case 9 where n > 0:   // a bit flip inside one record, sealed or not
            let i = rng.below(n)
            let at = rng.below(b.records[i].count)
            b.records[i][at] ^= UInt8(1 << rng.below(8))
            if fix { JournalMutator.seal(&b.records[i]) }
        case 10:   // a zero-filled tail: the file was extended but not written (§9)
            let sizes = [1, 7, 8, 88, 200]
            b.tail += [UInt8](repeating: 0, count: sizes[rng.below(sizes.count)])
        case 11:   // garbage tail
            b.tail += (0..<rng.below(24)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        default:   // a bit flip in the header, left unsealed
            let at = rng.below(JournalMutator.headerSize)
            if at < b.header.count { b.header[at] ^= UInt8(1 << rng.below(8)) }
        }
    }

    func byteEdit(_ out: inout [UInt8], _ rng: inout SplitMix) {
        guard !out.isEmpty else { return }
        switch rng.below(3) {
        case 0:   // truncation: a torn tail, often near a record boundary
            let cut = rng.chance(2) ? rng.below(out.count) : max(0, out.count - 1 - rng.below(16))
            out.removeSubrange(cut...)
        case 1:
            let at = rng.below(out.count)
            out[at] ^= UInt8(1 << rng.below(8))
        default:
            out.removeSubrange(rng.below(out.count)...)
            out += [UInt8](repeating: 0, count: 8 * rng.below(4))
        }
    }
}
