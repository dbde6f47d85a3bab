import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// Protocol 1.1 (PROTOCOL.md §14, §14.1): the minor written, the 1.0 mode, and FAST_CHECKSUM with
/// the WCH64X4 vectors of testdata/vectors.json.
final class ProtocolVersionTests: XCTestCase {
    func testWCH64X4Vectors() throws {
        let data = try Data(contentsOf: repoRoot.appendingPathComponent("testdata/vectors.json"))
        let v = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let vectors = try XCTUnwrap((v["wch64x4"] as? [String: Any])?["vectors"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(vectors.count, 10)
        for vec in vectors {
            let input = fromHexString(vec["input_hex"] as! String)
            XCTAssertEqual(String(format: "%016llx", WCH64X4.hash(input, seed: Layout.VALUE_SEED)), vec["value_checksum"] as? String,
                           "WCH64X4 of \(input.count) bytes")
            XCTAssertNotEqual(WCH64X4.hash(input, seed: Layout.VALUE_SEED), WCH64.hash(input, seed: Layout.VALUE_SEED))
        }
    }

    func testMinorWrittenByEachProtocol() throws {
        for (version, minor) in [(ProtocolVersion.v1_1, UInt64(1)), (.v1_0, 0)] {
            let p = tempPath()
            defer { removeFile(p) }
            let c = try WarmCache.create(path: p, geometry: small, options: .init(protocolVersion: version))
            defer { c.close() }
            guard case .ok = c.put(bytes("k"), bytes("v")) else { return XCTFail("put") }
            XCTAssertEqual(readWord(p, at: Layout.HDR_VERSION), 1 | (minor << 16) | (4096 << 32), "\(version)")
            let r = try WarmCache.open(path: p)
            defer { r.close() }
            let hit = try XCTUnwrap(r.get(bytes("k")).hit)
            XCTAssertEqual(UInt64(hit.info.provenance.protocolMinor), minor)
            let parts = try r.participants()
            XCTAssertEqual(UInt64(parts[0].protocolMinor), minor)
            XCTAssertEqual(parts[1].protocolMinor, 1)
        }
    }

    func testFastChecksumSegment() throws {
        let p = tempPath()
        defer { removeFile(p) }
        let c = try WarmCache.create(path: p, geometry: small, options: .init(fastChecksum: true))
        defer { c.close() }
        XCTAssertEqual(readWord(p, at: Layout.HDR_FEATURES_INCOMPAT), Layout.FEATURE_FAST_CHECKSUM)
        let value = (0..<203).map { UInt8(truncatingIfNeeded: $0 * 7) }
        guard case .ok = c.put(bytes("big"), value) else { return XCTFail("put") }
        let r = try WarmCache.open(path: p)
        defer { r.close() }
        var buf: [UInt8] = []
        let info = try XCTUnwrap(r.get(bytes("big"), into: &buf))
        XCTAssertEqual(buf, value)
        XCTAssertEqual(r.get(bytes("big")).value, value)
        let d = try r.dump()
        XCTAssertEqual(d.entries.count, 1)
        XCTAssertEqual(d.problems, [])
        let so = r.layout.slotOffset(info.shard, info.slot)
        let a = Int((readWord(p, at: so) >> 8) & 1)
        let sumAt = r.layout.recordOffset(so, a) + Layout.REC_CHECKSUM
        XCTAssertEqual(readWord(p, at: sumAt), WCH64X4.hash(value, seed: Layout.VALUE_SEED))
        // A 1.0 reader refuses it; a 1.0 handle cannot create it.
        XCTAssertThrowsError(try WarmCache.open(path: p, options: .init(protocolVersion: .v1_0))) {
            XCTAssertEqual(($0 as? SegmentError)?.code, "unsupported_features")
        }
        let q = tempPath("fast10")
        XCTAssertThrowsError(try WarmCache.create(path: q, geometry: small, options: .init(protocolVersion: .v1_0, fastChecksum: true))) {
            XCTAssertEqual(($0 as? SegmentError)?.code, "unsupported_features")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: q))
        // A WCH64 sum on a FAST_CHECKSUM segment is corruption, never a hit.
        patchWord(p, at: sumAt, WCH64.hash(value, seed: Layout.VALUE_SEED))
        XCTAssertNil(r.get(bytes("big")).hit)
        XCTAssertEqual(r.corruptGets, 1)
    }

    /// The future-version images (§14): this reader reads the minor one and refuses the others
    /// with exactly the code the spec names.
    func testFutureImages() throws {
        for (f, code) in [(FutureImage.minor, nil), (.incompat, "unsupported_features"), (.major, "unsupported_major")] {
            let p = tempPath()
            defer { removeFile(p) }
            var o = WarmCacheOptions()
            o.future = f
            let c = try WarmCache.create(path: p, geometry: small, options: o)
            defer { c.close() }
            guard case .ok = c.put(bytes("k"), bytes("v")) else { return XCTFail("put") }
            do {
                let r = try WarmCache.open(path: p)
                defer { r.close() }
                XCTAssertNil(code, "\(f) was opened")
                XCTAssertEqual(r.get(bytes("k")).value, bytes("v"))
                XCTAssertEqual((readWord(p, at: Layout.HDR_VERSION) >> 16) & 0xFFFF, 9)
                XCTAssertEqual(readWord(p, at: Layout.HDR_FEATURES_COMPAT), FutureImage.unknownBit)
            } catch {
                XCTAssertEqual(error.code, code, "\(f)")
            }
        }
    }
}
