import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

final class BadInputTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { paths.forEach(removeFile); paths = [] }

    func fresh(_ name: String = #function) throws -> String {
        let p = tempPath(name)
        paths.append(p)
        try WarmCache.create(path: p, geometry: small).close()
        return p
    }

    func expectOpen(_ p: String, _ code: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let c = try WarmCache.open(path: p, options: WarmCacheOptions(openTimeoutNs: 0))
            c.close()
            XCTFail("opened, expected \(code)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, error.message, file: file, line: line)
            XCTAssertFalse(error.message.isEmpty)
        }
        let r = SegmentInspector.inspect(path: p)
        XCTAssertEqual(r.error?.code, code, file: file, line: line)
        XCTAssertFalse(r.healthy)
    }

    func testNotFound() { expectOpen("/dev/shm/definitely-not-here-\(getpid())", "not_found") }

    func testTooShort() throws {
        let p = tempPath(); paths.append(p)
        _ = FileManager.default.createFile(atPath: p, contents: Data(count: 100), attributes: [.posixPermissions: 0o600])
        expectOpen(p, "too_short")
    }

    func testBadMagic() throws {
        let p = tempPath(); paths.append(p)
        _ = FileManager.default.createFile(atPath: p, contents: Data(count: 8192), attributes: [.posixPermissions: 0o600])
        expectOpen(p, "bad_magic")
    }

    func testUnsupportedMajor() throws {
        let p = try fresh()
        patchWord(p, at: Layout.HDR_VERSION, 2 | (4096 << 32))   // checked before the checksum
        expectOpen(p, "unsupported_major")
    }

    func testNotReady() throws {
        let p = try fresh()
        patchWord(p, at: Layout.HDR_READY, 0)
        expectOpen(p, "not_ready")
    }

    func testBadHeaderChecksum() throws {
        let p = try fresh()
        patchWord(p, at: Layout.HDR_CREATED_AT_NS, 12345)
        expectOpen(p, "bad_header_checksum")
    }

    func testUnsupportedFeatures() throws {
        let p = try fresh()
        patchWord(p, at: Layout.HDR_FEATURES_INCOMPAT, 1 << 5)
        fixHeaderChecksum(p)
        expectOpen(p, "unsupported_features")
        // Compatible features are ignored.
        patchWord(p, at: Layout.HDR_FEATURES_INCOMPAT, 0)
        patchWord(p, at: Layout.HDR_FEATURES_COMPAT, 0xFF)
        fixHeaderChecksum(p)
        XCTAssertNoThrow(try WarmCache.open(path: p).close())
    }

    func testLayoutMismatch() throws {
        let p = try fresh()
        patchWord(p, at: Layout.HDR_LAYOUT_FINGERPRINT, 0x0808_0408_0801_0880)
        fixHeaderChecksum(p)
        expectOpen(p, "layout_mismatch")
    }

    func testBadGeometry() throws {
        let p = try fresh()
        var g = small
        g.probeWindow = 0
        patchWord(p, at: Layout.HDR_GEOMETRY_LIMITS, g.packedLimits)
        fixHeaderChecksum(p)
        expectOpen(p, "bad_geometry")
        do { _ = try WarmCache.open(path: p) } catch { XCTAssertTrue(error.message.contains("rule 5"), error.message) }
        // A derived value that disagrees with its formula (rule 7).
        patchWord(p, at: Layout.HDR_GEOMETRY_LIMITS, small.packedLimits)
        patchWord(p, at: Layout.HDR_SLOT_SIZE, small.slotSize + 64)
        fixHeaderChecksum(p)
        expectOpen(p, "bad_geometry")
        // Creating with a bad geometry.
        XCTAssertThrowsError(try WarmCache.create(path: p + ".new", geometry: Geometry(keyCapacity: 7))) {
            XCTAssertEqual(($0 as? SegmentError)?.code, "bad_geometry")
        }
    }

    func testTruncated() throws {
        let p = try fresh()
        XCTAssertEqual(truncate(p, 8192), 0)
        expectOpen(p, "truncated")
    }

    /// §4.2 step 11, second half: the same length with a hole is `sparse` (for the library's
    /// open and its inspector alike); the length test of the step wins over it.
    func testSparse() throws {
        let p = try fresh()
        let header = try Array(FileHandle(forReadingFrom: URL(fileURLWithPath: p)).readData(ofLength: Layout.HEADER_SIZE))
        removeFile(p)
        FileManager.default.createFile(atPath: p, contents: Data(header), attributes: [.posixPermissions: 0o600])
        XCTAssertEqual(truncate(p, off_t(small.totalLen)), 0)
        expectOpen(p, "sparse")
        XCTAssertEqual(truncate(p, off_t(small.totalLen) - 1), 0)
        expectOpen(p, "truncated")
    }

    /// Geometry rule 9, the reader's size bound (§13.2): a header-only file declaring close to
    /// 2^40 bytes is refused as bad_geometry rule 9 before its size is looked at; the bound moves.
    func testSizeBound() throws {
        let p = try fresh()
        var g = Geometry(shardCount: 65536, slotsPerShard: 65536, keyCapacity: 8, valueCapacity: 8, probeWindow: 8, participantCapacity: 1)
        while g.totalLen > Geometry.maxTotalLen { g.slotsPerShard /= 2 }
        XCTAssertEqual(truncate(p, off_t(Layout.HEADER_SIZE)), 0)
        for (off, v) in [(Layout.HDR_GEOMETRY_SHARDS, g.packedShards), (Layout.HDR_GEOMETRY_SIZES, g.packedSizes),
                         (Layout.HDR_GEOMETRY_LIMITS, g.packedLimits), (Layout.HDR_SLOT_SIZE, g.slotSize),
                         (Layout.HDR_SHARDS_OFFSET, g.shardsOffset), (Layout.HDR_SHARD_SIZE, g.shardSize),
                         (Layout.HDR_TOTAL_LEN, g.totalLen)] { patchWord(p, at: off, v) }
        fixHeaderChecksum(p)
        expectOpen(p, "bad_geometry")
        XCTAssertThrowsError(try WarmCache.open(path: p, options: WarmCacheOptions(openTimeoutNs: 0))) {
            XCTAssertTrue(($0 as? SegmentError)?.message.contains("rule 9") == true, "\($0)")
        }
        var raised = WarmCacheOptions(openTimeoutNs: 0)
        raised.maxTotalLen = Geometry.maxTotalLen
        XCTAssertThrowsError(try WarmCache.open(path: p, options: raised)) { XCTAssertEqual(($0 as? SegmentError)?.code, "truncated") }

        let q = try fresh(#function + "-small")
        var tight = WarmCacheOptions(openTimeoutNs: 0)
        tight.maxTotalLen = small.totalLen - 1
        XCTAssertThrowsError(try WarmCache.open(path: q, options: tight)) {
            XCTAssertTrue(($0 as? SegmentError)?.message.contains("rule 9") == true, "\($0)")
        }
        tight.maxTotalLen = small.totalLen
        try WarmCache.open(path: q, options: tight).close()
    }

    func testSymlink() throws {
        let p = try fresh()
        let l = p + ".link"; paths.append(l)
        XCTAssertEqual(symlink(p, l), 0)
        expectOpen(l, "symlink")
    }

    func testNotRegularFile() throws {
        let d = tempPath(); paths.append(d)
        XCTAssertEqual(mkfifo(d, 0o600), 0)
        expectOpen(d, "not_regular_file")
    }

    /// §4.2 step 1: open(O_RDWR) of a directory fails with EISDIR, which is "other errno → io"
    /// (as in Go and Rust), with the errno's name in the message.
    func testDirectoryIsIO() throws {
        let dir = tempPath() + "dir"
        XCTAssertEqual(mkdir(dir, 0o700), 0)
        defer { rmdir(dir) }
        do {
            let c = try WarmCache.open(path: dir, options: WarmCacheOptions(openTimeoutNs: 0))
            c.close()
            XCTFail("opened a directory")
        } catch {
            XCTAssertEqual(error.code, "io")
            XCTAssertTrue(error.message.contains("EISDIR"), error.message)
        }
    }

    func testForeignOwner() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root to chown") }
        let p = try fresh()
        XCTAssertEqual(chown(p, 65534, 65534), 0)
        expectOpen(p, "foreign_owner")
    }

    func testParticipantsFull() throws {
        let p = tempPath(); paths.append(p)
        var g = small
        g.participantCapacity = 2
        let a = try WarmCache.create(path: p, geometry: g)
        let b = try WarmCache.open(path: p)
        XCTAssertThrowsError(try WarmCache.open(path: p)) { XCTAssertEqual(($0 as? SegmentError)?.code, "participants_full") }
        b.close()
        XCTAssertNoThrow(try WarmCache.open(path: p).close())
        a.close()
    }

    // MARK: Garbage in slots: miss + an inspection problem, never a crash.

    func slotOf(_ c: WarmCache, _ key: [UInt8]) throws -> (Int, Int, Int) {
        let h = try XCTUnwrap(c.get(key).hit)
        let off = c.layout.slotOffset(h.shard, h.slot)
        return (off, h.shard, h.slot)
    }

    /// Offset of the record `key`'s state word marks active: where a test corrupts the value.
    func activeRecord(_ c: WarmCache, _ p: String, _ key: [UInt8]) throws -> Int {
        let (off, _, _) = try slotOf(c, key)
        return c.layout.recordOffset(off, StateWord(raw: readWord(p, at: off)).active)
    }

    func testGarbageValueLength() throws {
        let p = try fresh()
        let c = try WarmCache.open(path: p)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), bytes("value")).isOK)
        let (off, s, j) = try slotOf(c, bytes("k"))
        let st = StateWord(raw: readWord(p, at: off))
        let rec = c.layout.recordOffset(off, st.active)
        patchWord(p, at: rec + Layout.REC_VALUE_INFO, 0xFFFF_FFFF)
        XCTAssertEqual(c.get(bytes("k")), .miss)
        XCTAssertEqual(try c.stats().corrupt, 1)
        let r = SegmentInspector.inspect(path: p)
        XCTAssertTrue(r.problems.contains { $0.contains("shard \(s) slot \(j)") && $0.contains("value_len") }, "\(r.problems)")
        XCTAssertFalse(try c.dump().problems.isEmpty)
        // A writer can still replace it (refresh writes the other record).
        XCTAssertTrue(c.put(bytes("k"), bytes("new")).isOK)
        XCTAssertEqual(c.get(bytes("k")).value, bytes("new"))
    }

    func testGetIntoGarbageValueLength() throws {
        let p = try fresh()
        let c = try WarmCache.open(path: p)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), bytes("value")).isOK)
        XCTAssertTrue(c.put(bytes("other"), Array(repeating: 3, count: 200)).isOK)
        let rec = try activeRecord(c, p, bytes("k"))
        var buf: [UInt8] = []
        // Just past the capacity (the bounds check itself) and far past the mapping: both are
        // corrupt misses, like get's, with nothing copied and the buffer emptied.
        for (n, len) in [UInt64(small.valueCapacity) + 1, 0xFFFF_FFFF].enumerated() {
            XCTAssertNotNil(c.get(bytes("other"), into: &buf))
            patchWord(p, at: rec + Layout.REC_VALUE_INFO, len)
            XCTAssertNil(c.get(bytes("k"), into: &buf), "value_len \(len)")
            XCTAssertEqual(buf, [])
            XCTAssertEqual(try c.stats().corrupt, UInt64(2 * n + 1))
            XCTAssertEqual(c.get(bytes("k")), .miss)
            XCTAssertEqual(try c.stats().corrupt, UInt64(2 * n + 2))
        }
        XCTAssertTrue(c.put(bytes("k"), bytes("new")).isOK)
        XCTAssertEqual(c.get(bytes("k"), into: &buf)?.version, c.get(bytes("k")).hit?.version)
        XCTAssertEqual(buf, bytes("new"))
    }

    func testGetIntoBadChecksum() throws {
        let p = try fresh()
        let c = try WarmCache.open(path: p)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), bytes("value-value")).isOK)
        let rec = try activeRecord(c, p, bytes("k"))
        patch(p, at: rec + Layout.REC_VALUE + 3, [0x58])
        // The bytes were copied before the checksum failed: they must not be left behind.
        var buf = bytes("previous")
        XCTAssertNil(c.get(bytes("k"), into: &buf))
        XCTAssertEqual(buf, [])
        XCTAssertEqual(try c.stats().corrupt, 1)
        patch(p, at: rec + Layout.REC_VALUE + 3, [UInt8(ascii: "u")])
        XCTAssertNotNil(c.get(bytes("k"), into: &buf))
        XCTAssertEqual(buf, bytes("value-value"))
    }

    func testGarbageKeyLength() throws {
        let p = try fresh()
        let c = try WarmCache.open(path: p)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), bytes("value")).isOK)
        let (off, _, _) = try slotOf(c, bytes("k"))
        patchWord(p, at: off + Layout.SLOT_KEY_LEN, 1 << 40)
        XCTAssertEqual(c.get(bytes("k")), .miss)
        XCTAssertTrue(SegmentInspector.inspect(path: p).problems.contains { $0.contains("key_len") })
    }

    func testImpossibleState() throws {
        let p = try fresh()
        let c = try WarmCache.open(path: p)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), bytes("value")).isOK)
        let (off, _, _) = try slotOf(c, bytes("k"))
        for raw: UInt64 in [0x0000_0005_0000_0009, 0x0000_0005_0000_0202, 0x0000_0005_0063_0001, 0x0000_0005_0000_0001] {
            patchWord(p, at: off, raw)
            XCTAssertEqual(c.get(bytes("k")), .miss)
            XCTAssertTrue(SegmentInspector.inspect(path: p).problems.contains { $0.contains("impossible") })
            XCTAssertEqual(try c.stats().occupancy["IMPOSSIBLE"], 1)
        }
    }

    func testBadChecksum() throws {
        let p = try fresh()
        let c = try WarmCache.open(path: p)
        defer { c.close() }
        XCTAssertTrue(c.put(bytes("k"), bytes("value-value")).isOK)
        let rec = try activeRecord(c, p, bytes("k"))
        patch(p, at: rec + Layout.REC_VALUE + 3, [0x58])
        XCTAssertEqual(c.get(bytes("k")), .miss)
        let r = SegmentInspector.inspect(path: p)
        XCTAssertTrue(r.problems.contains { $0.contains("checksum") }, "\(r.problems)")
        XCTAssertFalse(r.healthy)
        XCTAssertEqual(try c.dump().entries.count, 0)
        // Other inspection rules: wrong key hash, version 0, duplicate key.
        patch(p, at: rec + Layout.REC_VALUE + 3, [UInt8(ascii: "u")])
        XCTAssertNotEqual(c.get(bytes("k")), .miss)
        patchWord(p, at: rec + Layout.REC_VERSION, 0)
        XCTAssertEqual(c.get(bytes("k")), .miss)
        XCTAssertTrue(SegmentInspector.inspect(path: p).problems.contains { $0.contains("version 0") })
    }

    func testWholeSegmentGarbage() throws {
        let p = try fresh()
        let c = try WarmCache.open(path: p)
        defer { c.close() }
        // Fill every byte after the participant table with pseudo-random garbage.
        var rng = SystemRandomNumberGenerator()
        let start = c.layout.shardsOffset
        var junk = [UInt8](repeating: 0, count: c.layout.totalLen - start)
        for i in junk.indices { junk[i] = UInt8.random(in: 0...255, using: &rng) }
        // Make some state words plausible so the reader goes deeper.
        for s in 0..<c.layout.shardCount {
            for j in 0..<c.layout.slotsPerShard where j % 2 == 0 {
                let o = c.layout.slotOffset(s, j) - start
                junk.replaceSubrange(o..<(o + 8), with: [2, 0, 0, 0, 1, 0, 0, 0])
            }
        }
        patch(p, at: start, junk)
        for i in 0..<200 { _ = c.get(bytes("key\(i)")) }
        _ = try c.dump()
        let r = SegmentInspector.inspect(path: p)
        XCTAssertFalse(r.healthy)
        XCTAssertFalse(r.problems.isEmpty)
        for i in 0..<50 { _ = c.put(bytes("key\(i)"), bytes("v")); _ = c.invalidate(bytes("key\(i)")) }
    }

    func testDuplicateKeyAndKeyOutsideWindow() throws {
        let p = tempPath(); paths.append(p)
        let g = Geometry(shardCount: 1, slotsPerShard: 16, keyCapacity: 16, valueCapacity: 16, probeWindow: 2,
                         participantCapacity: 4)
        let c = try WarmCache.create(path: p, geometry: g)
        defer { c.close() }
        // Two keys with the same home slot share a window: make the second a copy of the first.
        let layout = c.layout
        let k1 = bytes("a")
        let home1 = layout.place(WCH64.hash(k1, seed: Layout.KEY_SEED)).home
        let k2 = try XCTUnwrap((0..<10_000).lazy.map { bytes("k\($0)") }.first {
            layout.place(WCH64.hash($0, seed: Layout.KEY_SEED)).home == home1 && $0 != k1 })
        XCTAssertTrue(c.put(k1, bytes("1")).isOK)
        XCTAssertTrue(c.put(k2, bytes("2")).isOK)
        let slot2 = try XCTUnwrap(c.get(k2).hit).slot
        let off2 = layout.slotOffset(0, slot2)
        patchWord(p, at: off2 + Layout.SLOT_KEY_HASH, WCH64.hash(k1, seed: Layout.KEY_SEED))
        patchWord(p, at: off2 + Layout.SLOT_KEY_LEN, UInt64(k1.count))
        patchWord(p, at: off2 + Layout.SLOT_KEY, UInt64(k1[0]))
        var r = SegmentInspector.inspect(path: p)
        XCTAssertTrue(r.problems.contains { $0.contains("duplicate") }, "\(r.problems)")
        // A key outside its window: a key whose window does not contain slot2.
        let k3 = try XCTUnwrap((0..<10_000).lazy.map { bytes("z\($0)") }.first {
            !layout.windowContains(home: layout.place(WCH64.hash($0, seed: Layout.KEY_SEED)).home, slot: slot2) })
        patchWord(p, at: off2 + Layout.SLOT_KEY_HASH, WCH64.hash(k3, seed: Layout.KEY_SEED))
        patchWord(p, at: off2 + Layout.SLOT_KEY_LEN, UInt64(k3.count))
        var w = [UInt8](repeating: 0, count: 16)
        w.replaceSubrange(0..<k3.count, with: k3)
        patch(p, at: off2 + Layout.SLOT_KEY, w)
        r = SegmentInspector.inspect(path: p)
        XCTAssertTrue(r.problems.contains { $0.contains("outside") }, "\(r.problems)")
        XCTAssertEqual(c.get(k3), .miss)   // readers only look in the window
        // stale_until < expires_at.
        let st = StateWord(raw: readWord(p, at: off2))
        let rec = layout.recordOffset(off2, st.active)
        patchWord(p, at: rec + Layout.REC_EXPIRES_AT_NS, 100)
        patchWord(p, at: rec + Layout.REC_STALE_UNTIL_NS, 50)
        XCTAssertTrue(SegmentInspector.inspect(path: p).problems.contains { $0.contains("stale_until_ns") })
    }
}
