// The warmcache C ABI, version 1, as the harness expects it (docs/ABI.md is the prose of this
// table). A manifest must declare every function with exactly these parameter types; the
// worker builds its libffi calls from the manifest and refuses one that disagrees.

/// A C type the manifest may name.
public enum ABIType: String, Sendable, CaseIterable {
    case void, i32, u32, i64, u64, ptr
}

/// What the harness passes for one parameter.
public enum ABIParam: Sendable, Equatable {
    case u32, u64
    /// A pointer to the call's input bytes (borrowed for the call).
    case bytes
    /// The length of the call's input bytes, as u64.
    case bytesLen
    /// A pointer to `n` u64 results the library writes.
    case outWords(Int)
    /// A pointer to one i32 result the library writes.
    case outI32

    var type: ABIType {
        switch self {
        case .u32: return .u32
        case .u64, .bytesLen: return .u64
        case .bytes, .outWords, .outI32: return .ptr
        }
    }

    /// How many result words the worker sends back for this parameter.
    var outCount: Int {
        switch self {
        case .outWords(let n): return n
        case .outI32: return 1
        default: return 0
        }
    }

    /// How many input values the call record supplies for this parameter.
    var takesValue: Bool { self == .u32 || self == .u64 }
}

public struct ABIFunction: Sendable {
    public let name: String
    public let returns: ABIType
    public let params: [ABIParam]

    public var outCount: Int { params.reduce(0) { $0 + $1.outCount } }
    public var valueCount: Int { params.filter(\.takesValue).count }
}

public enum ABISpec {
    public static let version: UInt64 = 1

    /// Index in this array = function id in worker batches.
    public static let functions: [ABIFunction] = [
        ABIFunction(name: "abi_version", returns: .u64, params: []),
        ABIFunction(name: "wch64", returns: .u64, params: [.bytes, .bytesLen, .u64]),
        ABIFunction(name: "state_encode", returns: .u64, params: [.u32, .u32, .u32, .u32]),
        ABIFunction(name: "state_decode", returns: .i32, params: [.u64, .u32, .outWords(4)]),
        ABIFunction(name: "snapshot_ok", returns: .i32, params: [.u64, .u64, .u32]),
        ABIFunction(name: "geometry_rule", returns: .i32, params: [.u32, .u32, .u32, .u32, .u32, .u32]),
        ABIFunction(name: "layout", returns: .i32, params: [.u32, .u32, .u32, .u32, .u32, .u32, .outWords(6)]),
        ABIFunction(name: "expiry", returns: .i32, params: [.u64, .u64, .u64]),
        ABIFunction(name: "auto_version", returns: .u64, params: [.u64, .u64]),
        ABIFunction(name: "layout_constant", returns: .u64, params: [.u32]),
        ABIFunction(name: "header_check", returns: .i32, params: [.bytes, .bytesLen, .outI32]),
        ABIFunction(name: "get", returns: .i32, params: [.bytes, .bytesLen, .bytes, .bytesLen, .u64, .outWords(9)]),
        ABIFunction(name: "decode_image", returns: .i32, params: [.bytes, .bytesLen, .u64, .outWords(8)]),
    ]

    /// The optional batch entry point (docs/ABI.md "Batches"): `i64 (ptr calls, u64 len, ptr
    /// results, u64 result_words)`. Not in `functions` (whose indices are the batch's function
    /// ids and which every library must provide); a worker uses it when the manifest declares it.
    public static let batch = ABIFunction(name: "batch", returns: .i64, params: [.bytes, .bytesLen, .outWords(0), .u64])

    /// The optional journal decoder (docs/ABI.md "wc_decode_journal"): PERSISTENCE.md §9 on a
    /// file's bytes, `i32 (ptr image, u64 len, u64 geometry_shards, u64 geometry_sizes, u64
    /// geometry_limits, ptr out[8])`. Optional because only libraries with a durable store
    /// have one (Go and Rust); `fuzz --journals` compares the libraries that declare it.
    public static let decodeJournal = ABIFunction(name: "decode_journal", returns: .i32,
                                                  params: [.bytes, .bytesLen, .u64, .u64, .u64, .outWords(8)])

    /// Functions a library may leave out of its manifest (checked like the others when declared).
    public static let optional = [batch, decodeJournal]

    /// PERSISTENCE.md §9's codes by ABI number (0 = the file read to its end without a problem).
    public static let storeCodes = ["ok", "not_a_journal", "unsupported_format", "bad_header_checksum", "other_geometry",
                                    "torn_record", "bad_record", "bad_checksum", "seq_gap", "no_end"]

    public static func storeCode(_ n: Int64) -> String {
        n >= 0 && n < storeCodes.count ? storeCodes[Int(n)] : "code \(n)"
    }

    /// Result words of one call in a batch reply: the return value and the out words.
    public static func replyWords(_ fn: Int) -> Int { 1 + functions[fn].outCount }

    public static func id(_ name: String) -> Int {
        guard let i = functions.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("no ABI function \(name)")
        }
        return i
    }

    /// §15 open codes by ABI number (0 = ok).
    public static let openCodes = ["ok", "not_found", "symlink", "not_regular_file", "foreign_owner", "too_short",
                                   "bad_magic", "unsupported_major", "not_ready", "bad_header_checksum",
                                   "unsupported_features", "layout_mismatch", "bad_geometry", "truncated",
                                   "no_space", "exists", "participants_full", "io"]

    public static func openCode(_ n: Int64) -> String {
        n >= 0 && n < openCodes.count ? openCodes[Int(n)] : "code \(n)"
    }
}
