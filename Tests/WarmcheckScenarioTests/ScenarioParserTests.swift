import Foundation
import XCTest
@testable import WarmcheckScenario

final class ScenarioParserTests: XCTestCase {
    func parse(_ yaml: String, file: String = "t.yaml") throws -> Scenario {
        try ScenarioParser.parse(yaml: yaml, file: file)
    }

    func testFullShape() throws {
        let s = try parse("""
        name: refresh-while-reading
        description: A reader keeps the old value.
        covers: [refresh_claim, refresh_publish]
        geometry: {shards: 4, slots: 16, key_capacity: 32, value_capacity: 256, window: 4, participants: 16}
        clock: 1000s
        processes:
          writer: any
          reader: [go, rust]
        expand: pairs
        init:
          - writer: create
          - reader: open
          - writer: put k1 v1 ttl=10s grace=5s origin=7
            expect: ok created version=1
          - reader: get k1
            expect: hit value=v1 version=1 writer=writer
        parallel:
          writer: [put k1 v2]
          reader: [get k1, get k1]
        final:
          - reader: get k1
            expect: hit value=v2
        """)
        XCTAssertEqual(s.name, "refresh-while-reading")
        XCTAssertEqual(s.description, "A reader keeps the old value.")
        XCTAssertEqual(s.covers, ["refresh_claim", "refresh_publish"])
        XCTAssertEqual(s.geometry, Geometry(shards: 4, slots: 16, keyCapacity: 32, valueCapacity: 256, window: 4, participants: 16))
        XCTAssertEqual(s.clock, .simulated(startNs: 1_000_000_000_000))
        XCTAssertEqual(s.roles, ["writer", "reader"])
        XCTAssertEqual(s.processes[0].allowed, .any)
        XCTAssertEqual(s.processes[1].allowed, .only(["go", "rust"]))
        XCTAssertEqual(s.expand, .pairs)
        XCTAssertEqual(s.initSteps.count, 4)
        XCTAssertEqual(s.parallel.map(\.role), ["writer", "reader"])
        XCTAssertEqual(s.parallel[1].steps.count, 2)
        XCTAssertEqual(s.finalSteps.count, 1)
        XCTAssertEqual(s.file, "t.yaml")

        let put = try XCTUnwrap(s.initSteps[2].operation)
        XCTAssertEqual(put.role, "writer")
        XCTAssertEqual(put.op, .put)
        XCTAssertEqual(put.key, Array("k1".utf8))
        XCTAssertEqual(put.value, Array("v1".utf8))
        XCTAssertEqual(put.ttlNs, 10_000_000_000)
        XCTAssertEqual(put.graceNs, 5_000_000_000)
        XCTAssertEqual(put.origin, 7)
        XCTAssertNil(put.version)
        XCTAssertEqual(put.expect, [.ok, .created(true), .version(1)])
        XCTAssertEqual(put.location, SourceLocation(file: "t.yaml", line: 13, column: 5))
        XCTAssertEqual(put.text, "put k1 v1 ttl=10s grace=5s origin=7")

        let get = try XCTUnwrap(s.initSteps[3].operation)
        XCTAssertEqual(get.expect, [.hit, .value(Array("v1".utf8)), .version(1), .writer(role: "writer")])

        let par = try XCTUnwrap(s.parallel[0].steps[0].operation)
        XCTAssertEqual(par.role, "writer")
        XCTAssertEqual(par.op, .put)
        XCTAssertEqual(par.value, Array("v2".utf8))
        XCTAssertTrue(s.hasParallelPart)
        XCTAssertEqual(s.operationsUsed, [.create, .open, .put, .get])
    }

    func testDefaults() throws {
        let s = try parse("processes: {a: go}\ninit:\n  - a: create\n", file: "dir/my-scenario.yaml")
        XCTAssertEqual(s.name, "my-scenario")
        XCTAssertEqual(s.description, "")
        XCTAssertEqual(s.covers, [])
        XCTAssertEqual(s.geometry, .default)
        XCTAssertEqual(s.clock, .simulated(startNs: 1_000_000_000_000))
        XCTAssertEqual(s.expand, .pairs)
        XCTAssertEqual(s.processes[0].allowed, .only(["go"]))
        XCTAssertFalse(s.hasParallelPart)
    }

    func testClockRealAndExpandModes() throws {
        let s = try parse("clock: real\nexpand: same\nprocesses: {a: any}\nfinal: [{a: stats}]\n")
        XCTAssertEqual(s.clock, .real)
        XCTAssertEqual(s.expand, .same)
        let d = try parse("clock: 250ms\nexpand: diagonal+one\nprocesses: {a: any}\nfinal: [{a: stats}]\n")
        XCTAssertEqual(d.clock, .simulated(startNs: 250_000_000))
        XCTAssertEqual(d.expand, .diagonalPlusOne)
    }

    func testPartialGeometryKeepsDefaults() throws {
        let s = try parse("geometry: {shards: 1, slots: 4, window: 4}\nprocesses: {a: any}\ninit: [{a: create}]\n")
        XCTAssertEqual(s.geometry, Geometry(shards: 1, slots: 4, keyCapacity: 64, valueCapacity: 1024, window: 4, participants: 64))
    }

    func testEveryOperation() throws {
        let s = try parse("""
        processes: {a: any}
        init:
          - a: create group=true
          - a: open
          - a: open_or_create
          - a: close
          - a: get k
          - a: put k v ttl=1m grace=5us origin=4294967295 version=9
          - a: refresh k v
          - a: invalidate k
          - a: evict k
          - a: stats
          - a: generation
          - a: wait timeout=100ns seen=3
          - a: put k v crash_at=put.after_claim
        """)
        let ops = s.initSteps.compactMap(\.operation)
        XCTAssertEqual(ops.map(\.op), [.create, .open, .openOrCreate, .close, .get, .put, .refresh, .invalidate, .evict,
                                       .stats, .generation, .wait, .put])
        XCTAssertTrue(ops[0].group)
        XCTAssertFalse(ops[1].group)
        XCTAssertEqual(ops[5].ttlNs, 60_000_000_000)
        XCTAssertEqual(ops[5].graceNs, 5_000)
        XCTAssertEqual(ops[5].origin, 4_294_967_295)
        XCTAssertEqual(ops[5].version, 9)
        XCTAssertEqual(ops[11].timeoutNs, 100)
        XCTAssertEqual(ops[11].seen, 3)
        XCTAssertEqual(ops[12].crashAt, "put.after_claim")
        XCTAssertNil(ops[0].key)
        XCTAssertEqual(ops[7].key, [UInt8(ascii: "k")])
        XCTAssertNil(ops[7].value)
    }

    func testControlSteps() throws {
        let s = try parse("""
        processes: {a: any, b: any}
        init:
          - advance: 5s
          - sleep: 20ms
          - restart: a
          - crash: b
          - start: b
        parallel:
          a:
            - sleep: 1ms
            - sleep: 2us
            - a: get k
              expect: miss
            - restart: a
          b: [open_or_create]
        final:
          - check: {created_once: open_or_create}
        """)
        XCTAssertEqual(s.initSteps.compactMap(\.control).map(\.kind), [
            .advance(ns: 5_000_000_000), .sleep(ns: 20_000_000), .restart(role: "a"), .crash(role: "b"), .start(role: "b"),
        ])
        XCTAssertEqual(s.parallel[0].steps.count, 4)
        XCTAssertEqual(s.parallel[0].steps[2].operation?.expect, [.miss])
        XCTAssertEqual(s.finalSteps[0].control?.kind, .check(.createdOnce(.openOrCreate)))
        XCTAssertEqual(s.initSteps[0].location.line, 3)
    }

    func testValues() throws {
        func v(_ t: String) throws -> [UInt8] { try ScenarioValue.parse(t).get() }
        XCTAssertEqual(try v("hello"), Array("hello".utf8))
        XCTAssertEqual(try v("héllo"), Array("héllo".utf8))
        XCTAssertEqual(try v("hex:00ff7F"), [0x00, 0xff, 0x7f])
        XCTAssertEqual(try v("hex:"), [])
        XCTAssertEqual(try v("bytes:0"), [])
        XCTAssertEqual(try v("bytes:3"), [0, 1, 2])
        XCTAssertEqual(try v("bytes:253").suffix(3), [250, 0, 1])
        XCTAssertEqual(try v("bytes:3:250"), [250, 0, 1])
        XCTAssertEqual(try v("bytes:2:251"), [0, 1])
        XCTAssertThrowsError(try v("hex:abc"))
        XCTAssertThrowsError(try v("hex:zz"))
        XCTAssertThrowsError(try v("bytes:"))
        XCTAssertThrowsError(try v("bytes:x"))
        XCTAssertThrowsError(try v("bytes:3:"))
        XCTAssertThrowsError(try v("bytes:1:2:3"))
        XCTAssertThrowsError(try v("bytes:99999999"))
        XCTAssertEqual(ScenarioValue.render(Array("v1".utf8)), "v1")
        XCTAssertEqual(ScenarioValue.render([0, 255]), "hex:00ff")
        XCTAssertEqual(ScenarioValue.render([]), "hex:")
    }

    func testDurations() {
        XCTAssertEqual(ScenarioDuration.nanoseconds("10s"), 10_000_000_000)
        XCTAssertEqual(ScenarioDuration.nanoseconds("250ms"), 250_000_000)
        XCTAssertEqual(ScenarioDuration.nanoseconds("5us"), 5_000)
        XCTAssertEqual(ScenarioDuration.nanoseconds("100ns"), 100)
        XCTAssertEqual(ScenarioDuration.nanoseconds("2m"), 120_000_000_000)
        XCTAssertEqual(ScenarioDuration.nanoseconds("0s"), 0)
        for bad in ["10", "s", "1.5s", "-1s", "10h", "10 s", "", "99999999999999999999s", "1000000000000m"] {
            XCTAssertNil(ScenarioDuration.nanoseconds(bad), bad)
        }
    }

    func testExpectations() throws {
        let s = try parse("""
        processes: {a: any, b: any}
        init:
          - a: put k v
            expect: [ok, created, version>3]
          - a: put k v
            expect: fail(version_not_newer)
          - a: put k v
            expect: fail
          - a: put k v
            expect: unknown
          - a: refresh k v
            expect: not_created version=4
          - a: get k
            expect: hit stale refresh_requested value=hex:01 version=2 version>1 origin=3 writer=b
          - a: get k
            expect: fresh no_refresh_requested
          - a: get k
            expect: miss
          - a: invalidate k
            expect: removed
          - a: evict k
            expect: not_removed
          - a: open_or_create
            expect: created
          - a: wait timeout=1s seen=0
            expect: woken
          - a: wait timeout=1s seen=0
            expect: timed_out
          - a: stats
            expect: hits=1 misses=2 stale_hits=3 inserts=4 refreshes=5 evictions=6 invalidations=7 expirations=8 reclaims=9
        """)
        let e = s.initSteps.map { $0.operation!.expect }
        XCTAssertEqual(e[0], [.ok, .created(true), .versionGreaterThan(3)])
        XCTAssertEqual(e[1], [.fail(reason: "version_not_newer")])
        XCTAssertEqual(e[2], [.fail(reason: nil)])
        XCTAssertEqual(e[3], [.unknown])
        XCTAssertEqual(e[4], [.created(false), .version(4)])
        XCTAssertEqual(e[5], [.hit, .stale, .refreshRequested(true), .value([1]), .version(2), .versionGreaterThan(1), .origin(3), .writer(role: "b")])
        XCTAssertEqual(e[6], [.fresh, .refreshRequested(false)])
        XCTAssertEqual(e[7], [.miss])
        XCTAssertEqual(e[8], [.removed(true)])
        XCTAssertEqual(e[9], [.removed(false)])
        XCTAssertEqual(e[10], [.created(true)])
        XCTAssertEqual(e[11], [.timedOut(false)])
        XCTAssertEqual(e[12], [.timedOut(true)])
        XCTAssertEqual(e[13], [.counter(.hits, 1), .counter(.misses, 2), .counter(.staleHits, 3), .counter(.inserts, 4),
                               .counter(.refreshes, 5), .counter(.evictions, 6), .counter(.invalidations, 7),
                               .counter(.expirations, 8), .counter(.reclaims, 9)])
        XCTAssertEqual(e[5].map(\.token).joined(separator: " "),
                       "hit stale refresh_requested value=hex:01 version=2 version>1 origin=3 writer=b")
    }

    func testQuotedScalarsAndEmptyValue() throws {
        let s = try parse("""
        processes: {a: any}
        init:
          - a: "put k hex:"
            expect: "ok value=hex:"
        """.replacingOccurrences(of: "ok value=hex:", with: "ok"))
        XCTAssertEqual(s.initSteps[0].operation?.value, [])
    }
}
