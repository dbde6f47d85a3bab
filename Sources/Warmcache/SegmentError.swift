// SegmentError.swift — the open/create error codes of PROTOCOL.md §15, and the operation
// failure reasons.

import CWarmcacheShim

/// Why opening or creating a segment failed. `code` is the §15 spelling used in JSON and by
/// every implementation; `message` says what and where.
public enum SegmentError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case symlink(path: String)
    case notRegularFile(path: String)
    case foreignOwner(path: String, uid: UInt32, euid: UInt32)
    case tooShort(path: String, size: Int64)
    case badMagic(path: String, found: UInt64)
    case unsupportedMajor(path: String, major: UInt64)
    case notReady(path: String, found: UInt64)
    case badHeaderChecksum(path: String, stored: UInt64, computed: UInt64)
    case unsupportedFeatures(path: String, unknownBits: UInt64)
    case layoutMismatch(path: String, found: UInt64)
    /// The version word declares a header size other than 4096 (§4.2 step 9).
    case headerSizeMismatch(path: String, found: UInt64)
    case badGeometry(path: String, rule: String)
    case truncated(path: String, declared: UInt64, actual: Int64)
    case noSpace(path: String, bytes: UInt64)
    case exists(path: String)
    case participantsFull(path: String, capacity: Int)
    case io(path: String, op: String, errno: Int32)
    /// The file has holes: fewer bytes allocated than total_len (§4.2 step 11, §13.2).
    case sparse(path: String, declared: UInt64, allocated: Int64)

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
        case .layoutMismatch, .headerSizeMismatch: return "layout_mismatch"
        case .badGeometry: return "bad_geometry"
        case .truncated: return "truncated"
        case .noSpace: return "no_space"
        case .exists: return "exists"
        case .participantsFull: return "participants_full"
        case .io: return "io"
        case .sparse: return "sparse"
        }
    }

    public var message: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case .notFound(let p): return "\(p): no such file"
        case .symlink(let p): return "\(p): is a symbolic link (refused, O_NOFOLLOW)"
        case .notRegularFile(let p): return "\(p): not a regular file"
        case .foreignOwner(let p, let uid, let euid):
            return "\(p): owned by uid \(uid), not by this process's euid \(euid)"
        case .tooShort(let p, let size): return "\(p): file is \(size) bytes, shorter than the 4096-byte header"
        case .badMagic(let p, let f):
            return "\(p): magic at offset 0 is \(hex(f)), expected \(hex(Layout.MAGIC)) (\"WARMCACH\")"
        case .unsupportedMajor(let p, let m): return "\(p): protocol major version \(m) at offset 8, this reader supports 1"
        case .notReady(let p, let f):
            return "\(p): ready word at offset 192 is \(hex(f)), expected \(hex(Layout.READY)) (segment still initialising?)"
        case .badHeaderChecksum(let p, let s, let c):
            return "\(p): header_checksum at offset 136 is \(hex(s)), WCH64(bytes 0..135) is \(hex(c))"
        case .unsupportedFeatures(let p, let b):
            return "\(p): features_incompat at offset 16 has unknown bits \(hex(b))"
        case .layoutMismatch(let p, let f):
            return "\(p): layout_fingerprint at offset 32 is \(hex(f)), expected \(hex(Layout.LAYOUT_FINGERPRINT))"
        case .headerSizeMismatch(let p, let f):
            return "\(p): the version word at offset 8 declares a \(f)-byte header, expected \(Layout.HEADER_SIZE)"
        case .badGeometry(let p, let r): return "\(p): bad geometry: \(r)"
        case .truncated(let p, let d, let a): return "\(p): header declares total_len \(d) bytes but the file has \(a) bytes"
        case .noSpace(let p, let n): return "\(p): cannot allocate \(n) bytes (ENOSPC)"
        case .exists(let p): return "\(p): already exists"
        case .participantsFull(let p, let c): return "\(p): all \(c) participant entries are held by live processes"
        case .io(let p, let op, let e): return "\(p): \(op) failed: \(SegmentError.errnoName(e))"
        case .sparse(let p, let d, let a):
            return "\(p): header declares total_len \(d) bytes but only \(a) bytes are allocated (a sparse file: §4.1 allocates every block)"
        }
    }

    public var description: String { "\(code): \(message)" }

    static func errnoName(_ e: Int32) -> String { String(cString: wc_errno_name(e)) }
}

/// Why an operation did not take effect (§15: `fail` reasons).
public enum OpFailure: String, Error, Sendable, Equatable, Codable {
    case tooLarge = "too_large"
    case notFound = "not_found"
    case full = "full"
    case versionNotNewer = "version_not_newer"
    case busy = "busy"
    /// 1.1, §18: the handle has no open stage in that namespace.
    case notStaging = "not_staging"
    /// 1.1, §18: a rollback with no previous version.
    case noPrevious = "no_previous"
    /// 1.1, §18: the handle already holds a pin.
    case pinned = "pinned"
    /// 1.1, §18: a namespace index ≥ NS_COUNT, or an ill-formed table word.
    case badNamespace = "bad_namespace"
    /// The handle was closed (§15): answered without touching the segment.
    case closed = "closed"

    public var code: String { rawValue }
}

/// Misuse of a handle that is not a protocol result.
public enum UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `setSimClock` on a segment without feature SIM_CLOCK.
    case simClockNotEnabled
    /// The handle was closed.
    case closed

    public var description: String {
        switch self {
        case .simClockNotEnabled: return "segment does not have feature SIM_CLOCK"
        case .closed: return "handle is closed"
        }
    }
}
