import Foundation
import XCTest
@testable import WarmcheckSegment

/// Every check of PROTOCOL.md §4.2, in order, on files crafted from the golden image: each
/// damage must give exactly its own code, so the order is pinned too.
final class RefusalTests: XCTestCase {
    func refusal(_ edit: (inout [UInt8]) -> Void, file: StaticString = #filePath, line: UInt = #line) throws -> OpenRefusal? {
        var b = try golden()
        edit(&b)
        if case .failure(let r) = decode(b) { return r }
        XCTFail("accepted", file: file, line: line)
        return nil
    }

    func testOpeningChecksInOrder() throws {
        XCTAssertEqual(try refusal { $0 = Array($0[0..<4095]) }, .tooShort(size: 4095))
        XCTAssertEqual(try refusal { put64(&$0, 0, 0x1234) }?.code, "bad_magic")
        // A future major is refused before its checksum is looked at (§4.2 step 5).
        XCTAssertEqual(try refusal { put64(&$0, 8, 2 | 4096 << 32) }, .unsupportedMajor(found: 2))
        // Non-zero but not READY.
        XCTAssertEqual(try refusal { put64(&$0, 192, 1) }, .notReady(found: 1))
        XCTAssertEqual(try refusal { $0[100] ^= 1 }?.code, "bad_header_checksum")
        XCTAssertEqual(try refusal { put64(&$0, 16, 1 | 4); reseal(&$0) }, .unsupportedFeatures(bits: 4))
        XCTAssertEqual(try refusal { put64(&$0, 32, 0x0808040808010841); reseal(&$0) }?.code, "layout_mismatch")
        XCTAssertEqual(try refusal { $0 = Array($0[0..<(58368 - 8)]) }, .truncated(declared: 58368, actual: 58360))
        // A minor version is accepted (§14).
        var b = try golden()
        put64(&b, 8, 1 | 7 << 16 | 4096 << 32)
        reseal(&b)
        XCTAssertEqual(try snapshot(b).header.versionMinor, 7)
    }

    func testEveryGeometryRuleInTableOrder() throws {
        func geometry(shards: UInt64 = 4, slots: UInt64 = 16, key: UInt64 = 32, value: UInt64 = 256, window: UInt64 = 4, parts: UInt64 = 16)
            throws -> GeometryRule? {
            guard case .badGeometry(let rule)? = try refusal({
                put64(&$0, 48, shards | slots << 32)
                put64(&$0, 56, key | value << 32)
                put64(&$0, 64, window | parts << 32)
                reseal(&$0)
            }) else { return nil }
            return rule
        }
        XCTAssertEqual(try geometry(shards: 0), .shardCount(0))
        XCTAssertEqual(try geometry(shards: 65537), .shardCount(65537))
        XCTAssertEqual(try geometry(slots: 0, window: 0), .slotsPerShard(0), "the first violated rule wins")
        XCTAssertEqual(try geometry(key: 12), .keyCapacity(12))
        XCTAssertEqual(try geometry(key: 4104), .keyCapacity(4104))
        XCTAssertEqual(try geometry(value: 0), .valueCapacity(0))
        XCTAssertEqual(try geometry(window: 17), .probeWindow(17, slotsPerShard: 16))
        XCTAssertEqual(try geometry(window: 0), .probeWindow(0, slotsPerShard: 16))
        XCTAssertEqual(try geometry(parts: 4097), .participantCapacity(4097))
        // A valid geometry the stored derived fields do not match.
        XCTAssertEqual(try geometry(key: 96), .derivedField(name: "slot_size", stored: 768, expected: 832))
        guard case .badGeometry(.derivedField("shards_offset", _, _))? = try refusal({ put64(&$0, 88, 4096 * 3); reseal(&$0) }) else {
            return XCTFail("shards_offset")
        }
        guard case .badGeometry(.totalLen(58368 + 64, 58368))? = try refusal({ put64(&$0, 40, 58368 + 64); reseal(&$0) }) else {
            return XCTFail("total_len")
        }
    }

    func testFileSystemRefusals() throws {
        let dir = NSTemporaryDirectory() + "wcseg-fs-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let real = dir + "/real.seg", link = dir + "/link.seg"
        FileManager.default.createFile(atPath: real, contents: Data(try golden()))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        func code(_ p: String) -> String? { if case .failure(let r) = SegmentSnapshot.read(path: p, liveness: false) { return r.code }; return nil }
        XCTAssertNil(code(real))
        XCTAssertEqual(code(link), "symlink")
        XCTAssertEqual(code(dir + "/absent.seg"), "not_found")
        XCTAssertEqual(code(dir), "not_regular_file")
    }
}
