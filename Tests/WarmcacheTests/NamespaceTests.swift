import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// Versioned namespaces (PROTOCOL.md §18) between handles on one segment: stage, flip, read, pin,
/// rollback and reclaim, every failure code of §18.5, dead stagers and pinners, the two faults.
final class NamespaceTests: XCTestCase {
    var path = ""
    override func setUp() { path = tempPath(name) }
    override func tearDown() { removeFile(path) }

    func make() throws -> WarmCache { try WarmCache.create(path: path, geometry: small) }
    func join(_ o: WarmCacheOptions = .init()) throws -> WarmCache { try WarmCache.open(path: path, options: o) }

    func value(_ c: WarmCache, _ ns: Int, _ k: String) throws -> String? {
        try c.nsGet(ns, bytes(k)).hit.map { String(decoding: $0.value, as: UTF8.self) }
    }

    @discardableResult
    func publish(_ c: WarmCache, _ ns: Int, _ entries: [(String, String)]) throws -> UInt64 {
        let v = try c.nsStage(ns).version
        for (k, val) in entries { XCTAssertEqual(try c.nsPut(ns, bytes(k), bytes(val)).1, v) }
        XCTAssertEqual(try c.nsFlip(ns).version, v)
        return v
    }

    /// The §15 code a namespace operation failed with (nil: it succeeded).
    func failure<T>(_ body: () throws -> T) -> OpFailure? {
        do { _ = try body(); return nil } catch let e as NsFailure { return e.failure } catch { return nil }
    }

    func testAStagedVersionIsInvisibleUntilItsFlipThenWhole() throws {
        let producer = try make(), reader = try join()
        XCTAssertEqual(try reader.nsGet(0, bytes("a")).version, 0)
        XCTAssertEqual(try producer.nsStage(0), NsStaged(version: 1, tookOver: false))
        _ = try producer.nsPut(0, bytes("a"), bytes("a1"))
        _ = try producer.nsPut(0, bytes("b"), bytes("b1"))
        XCTAssertNil(try value(reader, 0, "a"), "staged entries are not read before the flip")
        let f = try producer.nsFlip(0)
        XCTAssertEqual([f.version, f.previous], [1, 0])
        XCTAssertEqual(try value(reader, 0, "a"), "a1")
        XCTAssertEqual(try value(reader, 0, "b"), "b1")
        _ = try producer.nsStage(0)
        _ = try producer.nsPut(0, bytes("a"), bytes("a2"))
        XCTAssertEqual(try value(reader, 0, "a"), "a1", "readers keep reading 1 while 2 is staged")
        XCTAssertEqual(try producer.nsFlip(0).previous, 1)
        let r = try reader.nsGet(0, bytes("a"))
        XCTAssertEqual([r.version], [2]); XCTAssertFalse(r.pinned)
        XCTAssertNil(try value(reader, 0, "b"), "version 2 has no b: no mix of versions")
        XCTAssertEqual(try reader.nsGet(1, bytes("a")).version, 0, "namespaces are independent")
        XCTAssertEqual(reader.get(nskey(0, 1, bytes("b"))).value, bytes("b1"), "a namespace key is an ordinary key")
        XCTAssertEqual(try reader.nsState(0), NsState(current: 2, previous: 1, last: 2, stager: 0, pins: []))
    }

    func testRollbackReturnsToThePreviousVersionOnce() throws {
        let c = try make()
        XCTAssertEqual(failure { try c.nsRollback(0) }, .noPrevious)
        try publish(c, 0, [("k", "v1")])
        try publish(c, 0, [("k", "v2")])
        let r = try c.nsRollback(0)
        XCTAssertEqual([r.version, r.retired], [1, 2])
        XCTAssertEqual(try value(c, 0, "k"), "v1")
        XCTAssertEqual(failure { try c.nsRollback(0) }, .noPrevious, "N5 leaves no previous")
        XCTAssertEqual(try publish(c, 0, [("k", "v3")]), 3, "the retired version 2 never comes back")
    }

    func testAPinKeepsItsVersionThroughFlipsAndReclaims() throws {
        let producer = try make(), reader = try join()
        try publish(producer, 0, [("a", "a1"), ("b", "b1")])
        XCTAssertEqual(try reader.nsPin(0), 1)
        XCTAssertEqual(failure { try reader.nsPin(0) }, .pinned)
        try publish(producer, 0, [("a", "a2")])
        try publish(producer, 0, [("a", "a3")])
        XCTAssertEqual(try producer.nsReclaim(0), NsReclaimed(removed: 0, kept: [1, 2, 3]))
        let got = try reader.nsGet(0, bytes("b"))
        XCTAssertEqual(got.version, 1); XCTAssertTrue(got.pinned); XCTAssertEqual(got.hit?.value, bytes("b1"))
        XCTAssertEqual(try producer.nsState(0).pins.map(\.version), [1])
        XCTAssertEqual(try reader.nsUnpin().version, 1)
        XCTAssertEqual(try reader.nsUnpin().version, 0)
        XCTAssertEqual(try producer.nsReclaim(0), NsReclaimed(removed: 2, kept: [2, 3]))
        XCTAssertNil(producer.get(nskey(0, 1, bytes("a"))).hit)
        XCTAssertEqual(try value(reader, 0, "a"), "a3")
    }

    func testReclaimKeepsALiveStageAndSparesOtherKeys() throws {
        let producer = try make(), other = try join()
        for v in ["1", "2", "3"] { try publish(producer, 0, [("a", v)]) }
        try publish(producer, 1, [("a", "x")])
        _ = producer.put(bytes("plain"), bytes("p"))
        _ = try producer.nsStage(0)
        _ = try producer.nsPut(0, bytes("a"), bytes("4"))
        XCTAssertEqual(try other.nsReclaim(0), NsReclaimed(removed: 1, kept: [2, 3, 4]))
        XCTAssertNotNil(producer.get(bytes("plain")).hit)
        XCTAssertEqual(try value(other, 1, "a"), "x")
        XCTAssertNotNil(producer.get(nskey(0, 4, bytes("a"))).hit, "the open stage's entries stay")
    }

    func testDeadStagersAndPinnersHoldNothing() throws {
        let survivor = try make()
        try publish(survivor, 0, [("a", "1")])
        var pinner: WarmCache? = try join()
        let index = pinner!.participantId
        _ = try pinner!.nsPin(0)
        XCTAssertEqual(try survivor.nsState(0).pins.count, 1)
        pinner!.close(); pinner = nil
        XCTAssertEqual(try survivor.nsState(0).pins.count, 0, "a dead pinner's pin is not live")
        let again = try join()
        XCTAssertEqual(again.participantId, index)
        XCTAssertEqual(try again.nsUnpin().version, 0, "the successor cleared the leftover pin (§5 step 3)")
        again.close()
        let stager = try join()
        _ = try stager.nsStage(0)
        XCTAssertEqual(failure { try survivor.nsStage(0) }, .busy, "one open stage per namespace")
        stager.close()
        XCTAssertEqual(try survivor.nsStage(0), NsStaged(version: 3, tookOver: true), "N2: version 2 is abandoned")
    }

    func testEveryFailureCode() throws {
        let c = try make()
        XCTAssertEqual(failure { try c.nsStage(8) }, .badNamespace)
        XCTAssertEqual(failure { try c.nsGet(-1, bytes("k")) }, .badNamespace)
        XCTAssertEqual(failure { try c.nsPut(0, bytes("k"), bytes("v")) }, .notStaging)
        XCTAssertEqual(failure { try c.nsFlip(0) }, .notStaging)
        XCTAssertEqual(failure { try c.nsPin(0) }, .notFound)
        _ = try c.nsStage(0)
        XCTAssertEqual(failure { try c.nsStage(0) }, .busy)
        XCTAssertEqual(failure { try c.nsPut(0, [], bytes("v")) }, .tooLarge)
        XCTAssertEqual(failure { try c.nsPut(0, [UInt8](repeating: 7, count: 17), bytes("v")) }, .tooLarge)
        _ = try c.nsPut(0, [UInt8](repeating: 7, count: 16), bytes("v"))
        patchWord(path, at: Layout.NS_TABLE_OFFSET + 16 * 3, 5 | 9 << 32)   // previous 9 ≥ current 5
        XCTAssertEqual(failure { try c.nsGet(3, bytes("k")) }, .badNamespace)
        XCTAssertEqual(failure { try c.nsRollback(3) }, .badNamespace)
        XCTAssertEqual(readWord(path, at: Layout.NS_TABLE_OFFSET + 16 * 3), 5 | 9 << 32, "an ill-formed word changes nothing")
        patchWord(path, at: Layout.NS_TABLE_OFFSET + 16 * 4 + 8, 1 << 48)
        XCTAssertEqual(failure { try c.nsStage(4) }, .badNamespace)
        XCTAssertEqual(Array(nskey(2, 5, bytes("k")).prefix(8)), withUnsafeBytes(of: (Layout.NS_KEY_MAGIC | 2 << 48).littleEndian) { Array($0) })
    }

    func testFaultReclaimIgnoresPinsRemovesAPinnedVersion() throws {
        let producer = try make(), reader = try join()
        try publish(producer, 0, [("a", "1")])
        _ = try reader.nsPin(0)
        try publish(producer, 0, [("a", "2")])
        try publish(producer, 0, [("a", "3")])
        XCTAssertEqual(try join(WarmCacheOptions().harness(faults: .nsReclaimIgnoresPins)).nsReclaim(0).removed, 1)
        XCTAssertNil(try value(reader, 0, "a"), "the pinned read misses: the bug the fault plants")
    }

    /// Without the fault a reader between the stage's puts still reads the old version whole;
    /// with `ns_flip_before_entries` the staged version is current at once, half written.
    func testTheFlipIsAtomicUnlessTheFaultFlipsAtTheStage() throws {
        for fault: Faults in [[], .nsFlipBeforeEntries] {
            removeFile(path)
            let reader = try make()
            let stager = try join(WarmCacheOptions().harness(faults: fault))
            try publish(stager, 0, [("a", "a1"), ("b", "b1")])
            _ = try stager.nsStage(0)
            _ = try stager.nsPut(0, bytes("a"), bytes("a2"))
            if fault.isEmpty {
                XCTAssertEqual([try value(reader, 0, "a"), try value(reader, 0, "b")], ["a1", "b1"], "version 1 whole while 2 is staged")
            } else {
                XCTAssertEqual([try value(reader, 0, "a"), try value(reader, 0, "b")], ["a2", nil], "the fault shows version 2 half written")
            }
            _ = try stager.nsPut(0, bytes("b"), bytes("b2"))
            let f = try stager.nsFlip(0)
            XCTAssertEqual([f.version, f.previous], [2, 1], "\(fault)")
            XCTAssertEqual(try value(reader, 0, "b"), "b2")
            XCTAssertEqual(try reader.nsState(0).stager, 0, "\(fault): the stage is closed")
        }
    }

    func testNamespaceEntriesArePlainEntriesToA10Handle() throws {
        let c = try make()
        try publish(c, 0, [("a", "1")])
        let old = try join(WarmCacheOptions(protocolVersion: .v1_0))
        XCTAssertEqual(old.get(nskey(0, 1, bytes("a"))).value, bytes("1"))
    }

    /// `ns_pin.before_store`: a reclaimer retires and removes the version the pinner saw before
    /// its pin is stored; the second head load notices, and the pin moves to the current version.
    func testAPinThatLostItsVersionBeforeTheStorePinsTheCurrentOne() throws {
        let producer = try make()
        try publish(producer, 0, [("a", "1")])
        final class Once: @unchecked Sendable { var fired = false; var removed = -1 }
        let once = Once()
        let reader = try join(WarmCacheOptions().harness(pauseHook: { p in
            guard p == .nsPinBeforeStore, !once.fired else { return }
            once.fired = true
            for v in ["2", "3"] {
                _ = try? producer.nsStage(0)
                _ = try? producer.nsPut(0, Array("a".utf8), Array(v.utf8))
                _ = try? producer.nsFlip(0)
            }
            once.removed = (try? producer.nsReclaim(0).removed) ?? -1
        }))
        XCTAssertEqual(try reader.nsPin(0), 3)
        XCTAssertEqual(once.removed, 1, "version 1 was unprotected: its pin was not stored yet")
        XCTAssertEqual(try value(reader, 0, "a"), "3")
    }
}
