import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// Repository root, located relative to this file.
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func tempPath(_ name: String = #function) -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let p = "\(dir)/wc-swift-test-\(clean)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    return p
}

func removeFile(_ p: String) { unlink(p) }

let small = Geometry(shardCount: 4, slotsPerShard: 16, keyCapacity: 32, valueCapacity: 256, probeWindow: 4,
                     participantCapacity: 16)

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Write raw bytes into a file at an offset (visible through MAP_SHARED mappings).
func patch(_ path: String, at off: Int, _ data: [UInt8]) {
    let fd = open(path, O_RDWR)
    precondition(fd >= 0)
    defer { close(fd) }
    let n = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(off)) }
    precondition(n == data.count)
}

func patchWord(_ path: String, at off: Int, _ v: UInt64) {
    withUnsafeBytes(of: v.littleEndian) { patch(path, at: off, Array($0)) }
}

func readWord(_ path: String, at off: Int) -> UInt64 {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0)
    defer { close(fd) }
    var v: UInt64 = 0
    _ = withUnsafeMutableBytes(of: &v) { pread(fd, $0.baseAddress, 8, off_t(off)) }
    return UInt64(littleEndian: v)
}

/// Recompute and store the header checksum of a file.
func fixHeaderChecksum(_ path: String) {
    var b = [UInt8]()
    for i in 0..<17 { withUnsafeBytes(of: readWord(path, at: i * 8).littleEndian) { b += $0 } }
    patchWord(path, at: Layout.HDR_HEADER_CHECKSUM, WCH64.hash(b, seed: Layout.HEADER_SEED))
}

func fromHexString(_ s: String) -> [UInt8] {
    var out = [UInt8]()
    var it = s.utf8.makeIterator()
    func nib(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
    while let a = it.next(), let b = it.next() { out.append(nib(a) << 4 | nib(b)) }
    return out
}
