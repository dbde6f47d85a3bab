// Why a file is not a usable segment: the checks of PROTOCOL.md §4.2 in their order, as typed
// values (the harness matches on the case; `code` is the §15 spelling fixtures answer with).

/// The first violated geometry rule of §3, in the table's order.
public enum GeometryRule: Error, Equatable, Sendable, CustomStringConvertible {
    case shardCount(UInt64)
    case slotsPerShard(UInt64)
    case keyCapacity(UInt64)
    case valueCapacity(UInt64)
    case probeWindow(UInt64, slotsPerShard: UInt64)
    case participantCapacity(UInt64)
    /// `slot_size`, `participants_offset`, `shards_offset` or `shard_size` differs from its formula.
    case derivedField(name: String, stored: UInt64, expected: UInt64)
    /// `total_len` is not `shards_offset + shard_count * shard_size`, overflows, or exceeds 2^40.
    case totalLen(stored: UInt64, expected: UInt64?)
    /// Rule 9: `total_len` exceeds the reader's size bound `max_total_len` (§3, §13.2).
    case sizeBound(totalLen: UInt64, bound: UInt64)

    public var description: String {
        switch self {
        case .shardCount(let v): return "shard_count \(v) outside 1..65536"
        case .slotsPerShard(let v): return "slots_per_shard \(v) outside 1..65536"
        case .keyCapacity(let v): return "key_capacity \(v) not a multiple of 8 in 8..4096"
        case .valueCapacity(let v): return "value_capacity \(v) not a multiple of 8 in 8..1048576"
        case .probeWindow(let v, let s): return "probe_window \(v) outside 1..min(slots_per_shard \(s), 64)"
        case .participantCapacity(let v): return "participant_capacity \(v) outside 1..4096"
        case .derivedField(let n, let s, let e): return "\(n) is \(s), the formula gives \(e)"
        case .totalLen(let s, let e):
            return "total_len \(s) " + (e.map { "differs from shards_offset + shard_count * shard_size = \($0) or exceeds 2^40" }
                ?? "cannot be computed without overflow")
        case .sizeBound(let t, let b): return "rule 9: total_len \(t) exceeds max_total_len \(b), this reader's size bound"
        }
    }
}

public enum OpenRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound
    case symlink
    case notRegularFile
    case foreignOwner(uid: UInt32)
    case tooShort(size: UInt64)
    case badMagic(found: UInt64)
    case unsupportedMajor(found: UInt64)
    case notReady(found: UInt64)
    case badHeaderChecksum(stored: UInt64, computed: UInt64)
    case unsupportedFeatures(bits: UInt64)
    case layoutMismatch(found: UInt64)
    case badGeometry(GeometryRule)
    case truncated(declared: UInt64, actual: UInt64)
    case io(errno: Int32)
    /// Fewer bytes allocated than `total_len`: a file with holes (§4.2 step 11, §13.2).
    case sparse(declared: UInt64, allocated: UInt64)

    /// The §15 code.
    public var code: String {
        switch self {
        case .notFound: return "not_found"
        case .symlink: return "symlink"
        case .notRegularFile: return "not_regular_file"
        case .foreignOwner: return "foreign_owner"
        case .tooShort: return "too_short"
        case .badMagic: return "bad_magic"
        case .unsupportedMajor: return "unsupported_major"
        case .notReady: return "not_ready"
        case .badHeaderChecksum: return "bad_header_checksum"
        case .unsupportedFeatures: return "unsupported_features"
        case .layoutMismatch: return "layout_mismatch"
        case .badGeometry: return "bad_geometry"
        case .truncated: return "truncated"
        case .io: return "io"
        case .sparse: return "sparse"
        }
    }

    public var description: String {
        switch self {
        case .notFound, .symlink, .notRegularFile: return code
        case .foreignOwner(let uid): return "foreign_owner: owned by uid \(uid)"
        case .tooShort(let n): return "too_short: \(n) bytes, the header needs \(SpecLayout.headerSize)"
        case .badMagic(let m): return "bad_magic: 0x\(String(m, radix: 16))"
        case .unsupportedMajor(let v): return "unsupported_major: major \(v)"
        case .notReady(let v): return "not_ready: ready word 0x\(String(v, radix: 16))"
        case .badHeaderChecksum(let s, let c): return "bad_header_checksum: stored 0x\(String(s, radix: 16)), computed 0x\(String(c, radix: 16))"
        case .unsupportedFeatures(let b): return "unsupported_features: unknown bits 0x\(String(b, radix: 16))"
        case .layoutMismatch(let f): return "layout_mismatch: fingerprint 0x\(String(f, radix: 16))"
        case .badGeometry(let r): return "bad_geometry: \(r)"
        case .truncated(let d, let a): return "truncated: total_len \(d), file \(a) bytes"
        case .io(let e): return "io: errno \(e)"
        case .sparse(let d, let a): return "sparse: total_len \(d), \(a) bytes allocated"
        }
    }
}
