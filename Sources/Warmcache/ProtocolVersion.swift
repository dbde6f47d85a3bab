// ProtocolVersion.swift — the versions a handle can speak (PROTOCOL.md §14 and its changelog §14.1).
//
// A handle told to speak 1.0 writes minor 0 into the header, its participant entry and its
// records' provenance, creates only 1.0 features, and as a reader knows only the 1.0 feature
// bits, so it refuses a FAST_CHECKSUM segment with unsupported_features exactly as a 1.0 build
// does. That is how old-format segments and old readers are produced without old code.

public enum ProtocolVersion: String, CaseIterable, Sendable {
    case v1_0 = "1.0"
    case v1_1 = "1.1"

    /// The newest, the default.
    public static let current = ProtocolVersion.v1_1

    public var major: UInt64 { Layout.PROTOCOL_MAJOR }
    public var minor: UInt64 { self == .v1_0 ? 0 : Layout.PROTOCOL_MINOR }

    /// The features_incompat bits a reader speaking this version understands (§4.2 step 8).
    public var knownIncompat: UInt64 { self == .v1_0 ? Layout.KNOWN_INCOMPAT_FEATURES_1_0 : Layout.KNOWN_INCOMPAT_FEATURES }

    /// The §3 names of those features (hello.features).
    public var features: [String] {
        knownIncompat & Layout.FEATURE_FAST_CHECKSUM != 0 ? ["SIM_CLOCK", "FAST_CHECKSUM"] : ["SIM_CLOCK"]
    }
}

/// A future-version test image (§14, FoundationDB's trick): a segment claiming a version that
/// does not exist yet, so that today's readers are checked against it. Tests only; the creator's
/// own handle works on it as on any segment it created.
public enum FutureImage: String, CaseIterable, Sendable {
    /// 1.9 with features_compat bit 63: every 1.x reader reads it.
    case minor
    /// 1.9 with features_incompat bit 63: refused with unsupported_features.
    case incompat
    /// 2.0: refused with unsupported_major.
    case major

    /// Bit 63 of either feature word, never assigned to a feature (§3).
    public static let unknownBit: UInt64 = 1 << 63

    /// Rewrites the version and feature words of a header being created, before its checksum.
    func apply(version: inout UInt64, incompat: inout UInt64, compat: inout UInt64) {
        let size = UInt64(Layout.HEADER_SIZE) << 32
        switch self {
        case .minor: version = Layout.PROTOCOL_MAJOR | (9 << 16) | size; compat |= Self.unknownBit
        case .incompat: version = Layout.PROTOCOL_MAJOR | (9 << 16) | size; incompat |= Self.unknownBit
        case .major: version = 2 | size
        }
    }
}
