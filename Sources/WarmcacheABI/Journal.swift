// wc_decode_journal (docs/ABI.md "Journals"): the Swift durable store's §9 reader
// (PERSISTENCE.md) on one file's bytes, so that `warmcheck fuzz --journals` compares it with
// the Go and Rust readers on the same mutants.

@_spi(Harness) import Warmcache

/// PERSISTENCE.md §9's codes as ABI integers, by their row of its table (0: no problem).
let storeCodes = ["not_a_journal", "unsupported_format", "bad_header_checksum", "other_geometry",
                  "torn_record", "bad_record", "bad_checksum", "seq_gap", "no_end"]

/// One accepted record chained into the digest (docs/ABI.md): 13 words of its fields and the
/// WCH64 (seed 0) of its key and value, hashed with the digest so far as the seed.
func journalDigest(_ d: UInt64, _ r: DurableRecord) -> UInt64 {
    let w: [UInt64] = [UInt64(r.kind.rawValue), r.seq, r.order, r.version, UInt64(r.value.count) | UInt64(r.originTag) << 32,
                       r.expiresAtNs, r.staleUntilNs, r.writtenAtNs, r.writer, r.writerStartTime, UInt64(r.key.count),
                       WCH64.hash(r.key, seed: 0), WCH64.hash(r.value, seed: 0)]
    return w.map(\.littleEndian).withUnsafeBytes { WCH64.hash($0, seed: d) }
}

@_cdecl("wc_decode_journal")
public func wc_decode_journal(_ image: UnsafePointer<UInt8>?, _ n: UInt64, _ shards: UInt64, _ sizes: UInt64,
                              _ limits: UInt64, _ out8: UnsafeMutablePointer<UInt64>?) -> Int32 {
    for i in 0..<8 { out(out8, i, 0) }
    let bytes = n == 0 || image == nil ? [] : Array(UnsafeBufferPointer(start: image, count: Int(n)))
    let want = shards == 0 && sizes == 0 && limits == 0 ? nil : Geometry.unpack(shards: shards, sizes: sizes, limits: limits)
    let f = StoreReader.decode(bytes, want: want)
    var code: Int32 = 0
    out(out8, 0, UInt64(bytes.count))
    if let p = f.problems.first {
        code = Int32((storeCodes.firstIndex(of: p.code) ?? -1) + 1)
        out(out8, 0, code >= 5 ? UInt64(p.offset) : 0)
    }
    out(out8, 1, UInt64(f.records.count))
    out(out8, 2, UInt64(f.records.filter { $0.kind == .invalidate }.count))
    out(out8, 3, f.records.reduce(0, journalDigest))
    if let h = f.header { out(out8, 4, h.isSnapshot ? 2 : 1) }
    if f.complete, let e = f.end { (out(out8, 5, 1), out(out8, 6, e.order), out(out8, 7, e.version)) }
    return code
}
