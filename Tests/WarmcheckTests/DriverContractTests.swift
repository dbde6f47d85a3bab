import Foundation
@_spi(Harness) import Warmcache
import XCTest

@testable import WarmcheckCore

/// Decisions of docs/DRIVER.md that the scenarios cannot see, pinned on every reference fixture
/// at once: where they differed, they were made to agree, and this keeps them agreeing.
final class DriverContractTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { for p in paths { unlink(p) }; paths = [] }

    func eachFixture(_ body: (String, FixtureProcess) throws -> Void) throws {
        for name in Repo.referenceNames {
            let spec = try XCTUnwrap(Repo.referenceFixture(name))
            guard FileManager.default.isExecutableFile(atPath: spec.argv[0]) else { throw XCTSkip("\(spec.argv[0]) is not built") }
            let fx = try FixtureProcess(spec: spec, timeout: 10)
            defer { fx.stop() }
            _ = try fx.sayHello()
            try body(name, fx)
        }
    }

    func path(_ tag: String) -> String {
        let p = (Repo.defaultWorkDir as NSString).appendingPathComponent("contract-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).seg")
        paths.append(p)
        return p
    }

    let geometry = DriverArguments.geometry(shards: 2, slots: 8, keyCapacity: 8, valueCapacity: 16, window: 4, participants: 4)

    func testLargeIntegersTravelAsExactJSONNumbers() throws {
        // 1.7e18 + 1 is not a double: a reader that parses numbers as doubles gets it wrong.
        let t0: Int64 = 1_700_000_000_000_000_001
        try eachFixture { name, fx in
            XCTAssertTrue(try fx.call("create", ["path": .string(path(name)), "geometry": geometry, "sim_clock_ns": .int(t0)]).isOK)
            XCTAssertTrue(try fx.call("put", ["key_hex": "6b", "value_hex": "01", "ttl_ns": 2, "grace_ns": 4]).isOK)
            let r = try fx.call("get", ["key_hex": "6b"]).result
            XCTAssertEqual(r["written_at_ns"], .int(t0), name)
            XCTAssertEqual(r["expires_at_ns"], .int(t0 + 2), name)
            XCTAssertEqual(r["stale_until_ns"], .int(t0 + 6), name)
            XCTAssertEqual(r["writer"]?["language"], .int(Int64(Hello(fx.hello).languageCode ?? -1)), "\(name): provenance carries the code")
        }
    }

    /// DRIVER.md "Crashing by chance": the same refusals and the same draw in every fixture
    /// (seed 1, ppm 500000: the second point of a fresh insert, lock.after_acquire).
    func testCrashChanceDrawsAlikeEverywhere() throws {
        try eachFixture { name, fx in
            XCTAssertTrue(try fx.call("create", ["path": .string(path(name)), "geometry": geometry]).isOK)
            for bad: JSON in [["crash_chance_ppm": 1_000_001], ["crash_chance_ppm": "5"], ["crash_seed": 5], ["crash_chance_ppm": -1]] {
                var args: [String: JSON] = ["key_hex": "61", "value_hex": "00"]
                for (k, v) in bad.object ?? [:] { args[k] = v }
                XCTAssertEqual(try fx.call("put", .object(args)).errorKind, "bad_request", "\(name): \(bad)")
            }
            XCTAssertTrue(try fx.call("put", ["key_hex": "61", "value_hex": "00", "crash_chance_ppm": 0, "crash_seed": 1]).isOK, name)
            XCTAssertThrowsError(try fx.call("put", ["key_hex": "62", "value_hex": "00", "crash_chance_ppm": 500_000, "crash_seed": 1]), name)
            XCTAssertTrue(fx.diedOfSIGKILL, name)
            XCTAssertTrue(fx.settledStderrTail().contains("crash_chance: SIGKILL at lock.after_acquire"), "\(name): \(fx.stderrTail())")
        }
    }

    /// PROTOCOL.md §4.1 step 1: the temporary name cuts the final name's last component to 191
    /// bytes, so a final name of 255 bytes (NAME_MAX; 254 + a 2-byte character here, cut at a
    /// character boundary) is created and opened, and 256 bytes is the file system's refusal.
    func testNamesUpTo255BytesCanBeCreated() throws {
        try eachFixture { name, fx in
            let dir = Repo.defaultWorkDir
            for base in [String(repeating: "n", count: 255 - (name.count + 1)) + "-" + name,
                         String(repeating: "n", count: 190) + "é" + String(repeating: "m", count: 63)] {
                XCTAssertEqual(base.utf8.count, 255)
                let p = (dir as NSString).appendingPathComponent(base)
                paths.append(p)
                let r = try fx.call("create", ["path": .string(p), "geometry": geometry])
                XCTAssertTrue(r.isOK, "\(name): \(r.summary) \(r.message ?? "")")
                XCTAssertTrue(try fx.call("open", ["path": .string(p)]).isOK, name)
                unlink(p)
            }
            let long = (dir as NSString).appendingPathComponent(String(repeating: "x", count: 256))
            let r = try fx.call("create", ["path": .string(long), "geometry": geometry])
            XCTAssertEqual(r.outcome, .fail, "\(name): \(r.summary)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: long))
        }
    }

    func testSetClockWithoutSimClockIsABadRequest() throws {
        try eachFixture { name, fx in
            XCTAssertTrue(try fx.call("create", ["path": .string(path(name)), "geometry": geometry]).isOK)
            let r = try fx.call("set_clock", ["now_ns": 5])
            XCTAssertEqual(r.errorKind, "bad_request", "\(name): \(r.summary)")
        }
    }

    func testAGetOfAnEmptyOrOversizedKeyIsACountedMiss() throws {
        try eachFixture { name, fx in
            XCTAssertTrue(try fx.call("create", ["path": .string(path(name)), "geometry": geometry]).isOK)
            for key in ["", String(repeating: "00", count: 9)] {
                let r = try fx.call("get", ["key_hex": .string(key)])
                XCTAssertEqual(r.result["hit"], .bool(false), "\(name) key of \(key.count / 2) bytes")
            }
            let s = try fx.call("stats").result
            XCTAssertEqual(s["totals"]?["misses"]?.int, 2, "\(name): every get that returns nothing counts a miss")
        }
    }

    func testAFailedCreateOrOpenLeavesTheOpenHandleAsItWas() throws {
        try eachFixture { name, fx in
            let p = path(name)
            XCTAssertTrue(try fx.call("create", ["path": .string(p), "geometry": geometry]).isOK)
            XCTAssertTrue(try fx.call("put", ["key_hex": "6b", "value_hex": "01"]).isOK)
            XCTAssertEqual(try fx.call("create", ["path": .string(p), "geometry": geometry]).reason, "exists", name)
            XCTAssertEqual(try fx.call("get", ["key_hex": "6b"]).result["hit"], .bool(true), "\(name): still open after a failed create")
            XCTAssertEqual(try fx.call("open", ["path": .string(p + ".missing")]).reason, "not_found", name)
            XCTAssertEqual(try fx.call("get", ["key_hex": "6b"]).result["hit"], .bool(true), "\(name): still open after a failed open")
        }
    }

    func testStatsAndDumpHaveOneShape() throws {
        let t0: Int64 = 1_000_000
        try eachFixture { name, fx in
            XCTAssertTrue(try fx.call("create", ["path": .string(path(name)), "geometry": geometry, "sim_clock_ns": .int(t0)]).isOK)
            XCTAssertTrue(try fx.call("put", ["key_hex": "61", "value_hex": "01"]).isOK)
            XCTAssertTrue(try fx.call("put", ["key_hex": "62", "value_hex": "02", "ttl_ns": 10, "grace_ns": 10]).isOK)
            XCTAssertTrue(try fx.call("put", ["key_hex": "63", "value_hex": "03", "ttl_ns": 10]).isOK)
            XCTAssertTrue(try fx.call("set_clock", ["now_ns": .int(t0 + 15)]).isOK)  // 62 in its grace, 63 expired
            let s = try fx.call("stats").result
            let counters = ["hits", "misses", "stale_hits", "inserts", "refreshes", "evictions", "invalidations", "expirations", "reclaims"]
            for c in counters + ["occupancy", "corrupt"] { XCTAssertNotNil(s["totals"]?[c], "\(name): totals.\(c)") }
            XCTAssertEqual(s["shards"]?.array?.count, 2, name)
            for sh in s["shards"]?.array ?? [] {
                for c in counters + ["occupancy"] { XCTAssertNotNil(sh[c], "\(name): shards[].\(c)") }
            }
            XCTAssertEqual(s["totals"]?["occupancy"]?["READY"]?.int, 3, name)
            XCTAssertEqual(s["totals"]?["occupancy"]?["EMPTY"]?.int, 13, name)

            let d = try fx.call("dump").result
            let entries = Dictionary((d["entries"]?.array ?? []).map { ($0["key_hex"]?.string ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(entries.keys.sorted(), ["61", "62", "63"], "\(name): an expired entry still in its slot is listed")
            for (k, e) in entries {
                for f in ["shard", "slot", "state", "seq", "key_hex", "stale", "value_hex", "version", "origin_tag", "expires_at_ns",
                          "stale_until_ns", "written_at_ns", "writer"] {
                    XCTAssertNotNil(e[f], "\(name): dump entry \(k) has \(f)")
                }
            }
            XCTAssertEqual(entries["61"]?["stale"], .bool(false), name)
            XCTAssertEqual(entries["62"]?["stale"], .bool(true), "\(name): past expires_at_ns is stale in a scan")
            XCTAssertEqual(entries["63"]?["stale"], .bool(true), "\(name): past stale_until_ns too")
            XCTAssertEqual(entries["62"]?["state"], .string("READY"), "\(name): a scan never marks a slot STALE")
        }
    }

    /// PROTOCOL.md §7.2: a record with expires_at_ns ≠ 0 and stale_until_ns = 0 (which no put
    /// makes, so the test writes it into the segment) has no grace: a miss once expired, not a
    /// stale hit for ever.
    func testAZeroStaleUntilWithAnExpiryIsNoGrace() throws {
        let t0: Int64 = 1_000_000
        try eachFixture { name, fx in
            let p = path(name)
            XCTAssertTrue(try fx.call("create", ["path": .string(p), "geometry": geometry, "sim_clock_ns": .int(t0)]).isOK)
            let put = try fx.call("put", ["key_hex": "6b", "value_hex": "01", "ttl_ns": 10, "grace_ns": 100])
            let (shard, slot) = (Int(put.result["shard"]?.int ?? -1), Int(put.result["slot"]?.int ?? -1))
            let fd = open(p, O_RDWR | O_CLOEXEC)
            XCTAssertGreaterThanOrEqual(fd, 0)
            defer { close(fd) }
            let g = try XCTUnwrap(SegmentSurgery.geometry(fd))
            let off = g.slotOffset(shard, slot)
            let a = Int((try XCTUnwrap(SegmentSurgery.word(fd, off + Layout.SLOT_STATE)) >> 8) & 1)
            let rec = off + Layout.SLOT_HEADER_SIZE + g.keyCapacity + a * g.recordSize
            var zero: UInt64 = 0
            XCTAssertEqual(pwrite(fd, &zero, 8, off_t(rec + Layout.REC_STALE_UNTIL_NS)), 8)
            XCTAssertEqual(try fx.call("get", ["key_hex": "6b"]).result["stale"], .bool(false), "\(name): fresh before expiry")
            XCTAssertTrue(try fx.call("set_clock", ["now_ns": .int(t0 + 15)]).isOK)
            XCTAssertEqual(try fx.call("get", ["key_hex": "6b"]).result["hit"], .bool(false), "\(name): no grace, so a miss")
        }
    }
}
