import XCTest
@testable import WarmcheckSegment

/// The decoder's reading of PROTOCOL.md §18: namespace keys, table words, pin words. The key
/// vector is the Go library's (TestNsKeyLayout), so both readers build the same bytes.
final class NamespaceDecodeTests: XCTestCase {
    func hex(_ b: [UInt8]) -> String { b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    func testNamespaceKeys() {
        XCTAssertEqual(hex(SpecNamespace.key(ns: 3, version: 7, user: Array("k".utf8))), "ff57434e5301" + "0300" + "0700000000000000" + "6b")
        let p = SpecNamespace.parse(SpecNamespace.key(ns: 5, version: 0xFFFF_FFFF, user: Array("abc".utf8)))
        XCTAssertEqual(p?.ns, 5)
        XCTAssertEqual(p?.version, 0xFFFF_FFFF)
        XCTAssertEqual(p?.user, Array("abc".utf8))
        XCTAssertNil(SpecNamespace.parse(SpecNamespace.key(ns: 3, version: 7, user: [])), "no user key")
        XCTAssertNil(SpecNamespace.parse(SpecNamespace.key(ns: 8, version: 7, user: [1])), "ns ≥ NS_COUNT")
        XCTAssertNil(SpecNamespace.parse(SpecNamespace.key(ns: 3, version: 0, user: [1])), "version 0")
        XCTAssertNil(SpecNamespace.parse(SpecNamespace.key(ns: 3, version: 1 << 32, user: [1])), "version past 32 bits")
    }

    func testTableWordsAreCheckedAsSection18_2Says() {
        func view(_ cur: UInt64, _ prev: UInt64, _ last: UInt64, _ stager: UInt64 = 0, high: UInt64 = 0) -> NamespaceView {
            NamespaceView(ns: 0, headWord: cur | prev << 32, stageWord: last | stager << 32 | high << 48)
        }
        XCTAssertNil(view(0, 0, 0).illFormed(participantCapacity: 4))
        XCTAssertNil(view(3, 2, 4, 1).illFormed(participantCapacity: 4))
        XCTAssertNil(view(1, 0, 3).illFormed(participantCapacity: 4), "after a rollback: (p, 0)")
        XCTAssertNotNil(view(2, 2, 3).illFormed(participantCapacity: 4), "previous not below current")
        XCTAssertNotNil(view(4, 2, 3).illFormed(participantCapacity: 4), "current above last")
        XCTAssertNotNil(view(1, 0, 1, 5).illFormed(participantCapacity: 4), "stager beyond capacity")
        XCTAssertNotNil(view(1, 0, 1, high: 1).illFormed(participantCapacity: 4), "bits 48..63")
    }

    func testPinsAreLiveOnlyForTheirOwnersRegistration() {
        let w: UInt64 = 7 | 2 << 32 | 5 << 40  // version 7 of namespace 2, pin_epoch 5
        XCTAssertTrue(PinView(participant: 1, word: w, epoch: 5, alive: true).isLive)
        XCTAssertFalse(PinView(participant: 1, word: w, epoch: 6, alive: true).isLive, "a successor's epoch voids it")
        XCTAssertFalse(PinView(participant: 1, word: w, epoch: 5, alive: false).isLive, "a dead pinner's pin is void")
        XCTAssertFalse(PinView(participant: 1, word: w | 1 << 36, epoch: 5, alive: true).isLive, "bits 35..39")
        XCTAssertEqual(PinView(participant: 1, word: w, epoch: 5, alive: true).ns, 2)
    }
}
