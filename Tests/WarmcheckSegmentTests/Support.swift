import Foundation
import XCTest
@testable import WarmcheckSegment

/// The checkout root (this file is Tests/WarmcheckSegmentTests/Support.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func golden() throws -> [UInt8] {
    Array(try Data(contentsOf: repoRoot.appendingPathComponent("testdata/golden/1.0/segment.seg")))
}

func put64(_ b: inout [UInt8], _ off: Int, _ v: UInt64) {
    for k in 0..<8 { b[off + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
}

/// Re-seals the header checksum after a test changed an immutable header field, so that the
/// check under test, not the checksum, is the first to fail.
func reseal(_ b: inout [UInt8]) {
    put64(&b, SpecLayout.Header.headerChecksum, SpecHash.wch64(b[0..<SpecLayout.Header.checksummedBytes], seed: SpecHash.headerSeed))
}

/// Writes bytes to a private file and reads it back through the decoder.
func decode(_ b: [UInt8], name: String = #function) -> Result<SegmentSnapshot, OpenRefusal> {
    let path = NSTemporaryDirectory() + "wcseg-\(getpid())-\(name.filter(\.isLetter)).seg"
    FileManager.default.createFile(atPath: path, contents: Data(b))
    defer { unlink(path) }
    return SegmentSnapshot.read(path: path, liveness: false)
}

func snapshot(_ b: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> SegmentSnapshot {
    switch decode(b) {
    case .success(let s): return s
    case .failure(let r): XCTFail("refused: \(r)", file: file, line: line); throw r
    }
}

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}
