#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

@_spi(Harness) import Warmcache
@testable import WarmcheckCore

/// `warmcheck repair` when the header is damaged (PROTOCOL.md §9.9 step 4): with the durable
/// store, a Go or Rust repairer rebuilds the segment from it (PERSISTENCE.md §7) and renames it
/// over the damaged file, and every implementation reads the data back; without a store, or
/// with the Swift fixture (no store yet), nothing is touched and the report says why.
final class SegmentRepairTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
            + "/wc-repair-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/store", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func fixture(_ name: String) throws -> FixtureSpec {
        guard let f = Repo.referenceFixture(name), FileManager.default.isExecutableFile(atPath: f.argv[0]) else {
            throw XCTSkip("the \(name) fixture is not built")
        }
        return f
    }

    let geometry = DriverArguments.geometry(shards: 4, slots: 16, keyCapacity: 32, valueCapacity: 256, window: 4, participants: 16)
    let entries = (0..<12).map { ("k\($0)", "value \($0)") }
    var seg: String { dir + "/seg" }

    /// A Go writer journals durable puts, then the segment's header is damaged (one byte of
    /// geometry_sizes flipped, the checksum left: bad_header_checksum).
    func writeAndDamage() throws {
        let w = try FixtureProcess(spec: try fixture("go"), timeout: 15)
        defer { w.stop() }
        _ = try w.sayHello()
        let r = try w.call("restore", ["path": .string(seg), "store_dir": .string(dir + "/store"), "fsync": "always", "geometry": geometry])
        XCTAssertTrue(r.isOK, r.message ?? "")
        for (k, v) in entries {
            let p = try w.call("put", ["key_hex": .string(Hex.encode(Array(k.utf8))), "value_hex": .string(Hex.encode(Array(v.utf8))), "durable": true])
            XCTAssertEqual(p.result["durable"]?.bool, true, p.message ?? "")
        }
        _ = try w.call("close")
        let fd = open(seg, O_RDWR)
        defer { close(fd) }
        var b: UInt8 = 0
        XCTAssertEqual(pread(fd, &b, 1, off_t(Layout.HDR_GEOMETRY_SIZES + 1)), 1)
        b ^= 0x10
        XCTAssertEqual(pwrite(fd, &b, 1, off_t(Layout.HDR_GEOMETRY_SIZES + 1)), 1)
    }

    func inode(_ p: String) -> UInt64 {
        var st = stat()
        return stat(p, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    func testADamagedHeaderIsRebuiltFromTheStoreAndEveryImplementationReadsIt() throws {
        for repairer in ["go", "rust", "swift"] {   // Swift restores since its durable store
            try writeAndDamage()
            let before = inode(seg)
            var repair = SegmentRepair(fixture: try fixture(repairer), path: seg)
            repair.storeDir = dir + "/store"
            let out = try repair.run()
            XCTAssertNil(out.openError, "\(repairer): \(out.text)")
            XCTAssertEqual(out.rebuilt?["installed"]?.int, Int64(entries.count), out.text)
            XCTAssertEqual(out.exitStatus, 0, out.text)
            XCTAssertTrue(out.text.contains("rebuilt from the durable store"), out.text)
            XCTAssertNotEqual(inode(seg), before, "\(repairer): the rebuilt segment is a new file renamed over the damaged one")
            for reader in ["go", "rust", "swift"] {
                let r = try FixtureProcess(spec: try fixture(reader), timeout: 15)
                defer { r.stop() }
                _ = try r.sayHello()
                XCTAssertTrue(try r.call("open", ["path": .string(seg)]).isOK, "\(reader) opens what \(repairer) rebuilt")
                for (k, v) in entries {
                    let g = try r.call("get", ["key_hex": .string(Hex.encode(Array(k.utf8)))])
                    XCTAssertEqual(g.result["value_hex"]?.string, Hex.encode(Array(v.utf8)), "\(reader) reads \(k) after \(repairer)'s rebuild")
                }
                _ = try r.call("close")
            }
            try FileManager.default.removeItem(atPath: dir + "/store")
            try FileManager.default.createDirectory(atPath: dir + "/store", withIntermediateDirectories: true)
            unlink(seg)
        }
    }

    func testWithoutAStoreNothingIsTouched() throws {
        try writeAndDamage()
        let damaged = try Data(contentsOf: URL(fileURLWithPath: seg))
        let plain = try SegmentRepair(fixture: try fixture("go"), path: seg).run()
        XCTAssertEqual(plain.openError?.code, "bad_header_checksum")
        XCTAssertEqual(plain.exitStatus, 2)
        XCTAssertTrue(plain.text.contains("--store"), plain.text)
        // (A repairer whose fixture lacks `restore` is refused the same way; no reference fixture
        // lacks it since the Swift store, so this half now rebuilds with Swift in the loop above.)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: seg)), damaged, "the damaged file is left as it was")
    }
}
