#if canImport(Glibc)
import Glibc
#endif
import Foundation
import WarmcheckSegment

/// Reads and rewrites the immutable header of a segment file (PROTOCOL.md §3 line 0), for writers
/// that must claim a version or feature that no build speaks yet (a future minor, an unknown
/// feature bit, a future major), and for scenario steps that do the same to a live segment.
///
/// ```
///  8 version            0..15 major | 16..31 minor | 32..63 header size
/// 16 features_incompat  bits a reader must know, or refuse (unsupported_features)
/// 24 features_compat    bits a reader may ignore
/// 136 header_checksum   WCH64(bytes 0..135, HEADER_SEED): resealed after every patch, so that
///                       the patch is what a reader judges, not a checksum mismatch
/// ```
///
/// pread/pwrite on the file, never a mapping: a patch is applied only while no process holds the
/// segment open for writing the header (lines 0–2 are written once by the creator and never
/// again), and the page cache pwrite updates is the memory every later mapping sees.
public enum HeaderPatch {
    public struct Header: Sendable, Equatable {
        public var major: UInt64
        public var minor: UInt64
        public var incompat: UInt64
        public var compat: UInt64
    }

    public static func read(_ path: String) throws -> Header {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw UsageError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let v = try word(fd, SpecLayout.Header.version, path)
        return Header(major: v & 0xFFFF, minor: (v >> 16) & 0xFFFF,
                      incompat: try word(fd, SpecLayout.Header.featuresIncompat, path),
                      compat: try word(fd, SpecLayout.Header.featuresCompat, path))
    }

    /// Applies `patches` in order (major/minor are set, the bit words OR-ed) and reseals the checksum.
    public static func apply(_ patches: [CompatManifest.Patch], to path: String) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw UsageError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        for p in patches {
            switch p.field {
            case .major, .minor:
                let shift: UInt64 = p.field == .major ? 0 : 16
                let v = try word(fd, SpecLayout.Header.version, path)
                try put(fd, SpecLayout.Header.version, (v & ~(0xFFFF << shift)) | (p.value << shift), path)
            case .incompat_bits:
                try put(fd, SpecLayout.Header.featuresIncompat, try word(fd, SpecLayout.Header.featuresIncompat, path) | p.value, path)
            case .compat_bits:
                try put(fd, SpecLayout.Header.featuresCompat, try word(fd, SpecLayout.Header.featuresCompat, path) | p.value, path)
            }
        }
        var bytes = [UInt8](repeating: 0, count: SpecLayout.Header.checksummedBytes)
        guard pread(fd, &bytes, bytes.count, 0) == bytes.count else { throw UsageError("cannot read the header of \(path)") }
        try put(fd, SpecLayout.Header.headerChecksum, SpecHash.wch64(bytes, seed: SpecHash.headerSeed), path)
    }

    static func word(_ fd: Int32, _ off: Int, _ path: String) throws -> UInt64 {
        var w: UInt64 = 0
        guard withUnsafeMutableBytes(of: &w, { pread(fd, $0.baseAddress, 8, off_t(off)) }) == 8 else {
            throw UsageError("\(path): cannot read the header word at \(off) (a file shorter than its header?)")
        }
        return UInt64(littleEndian: w)
    }

    static func put(_ fd: Int32, _ off: Int, _ v: UInt64, _ path: String) throws {
        var w = v.littleEndian
        guard withUnsafeBytes(of: &w, { pwrite(fd, $0.baseAddress, 8, off_t(off)) }) == 8 else {
            throw UsageError("\(path): cannot write the header word at \(off): \(String(cString: strerror(errno)))")
        }
    }
}
