import XCTest
@testable import WarmcheckModel

/// The namespace model (NamespaceModel.swift) on hand-made histories: one correct history, and
/// one broken history per rule, each of which it must reject.
final class NamespaceModelTests: XCTestCase {
    var t: UInt64 = 0
    /// An operation of `client` that took the next two ticks.
    func op(_ kind: NamespaceOperation.Kind, _ client: Int = 0, key: String = "", value: String = "", version: UInt64 = 0,
            replaced: UInt64 = 0, hit: Bool = false, pinned: Bool = false, read: String = "", slot: Int = 0, kept: [UInt64] = [],
            outcome: NamespaceOperation.Outcome = .ok) -> NamespaceOperation {
        t += 2
        return NamespaceOperation(kind: kind, client: client, ns: 0, key: Array(key.utf8), value: Array(value.utf8), call: t - 1,
                                  returnAt: t, outcome: outcome, version: version, replaced: replaced, hit: hit, pinned: pinned,
                                  readValue: Array(read.utf8), slots: [SlotRef(shard: 0, slot: slot)], kept: kept)
    }

    /// Versions 1 and 2 of key a staged and flipped; client 1 pins 1.
    func base() -> [NamespaceOperation] {
        [op(.stage, version: 1), op(.put, key: "a", value: "a1", version: 1, slot: 1), op(.flip, version: 1),
         op(.pin, 1, version: 1),
         op(.stage, version: 2), op(.put, key: "a", value: "a2", version: 2, slot: 2), op(.flip, version: 2, replaced: 1)]
    }

    func testACorrectHistoryPasses() {
        var h = base()
        h += [op(.get, 1, key: "a", version: 1, hit: true, pinned: true, read: "a1"),
              op(.get, 0, key: "a", version: 2, hit: true, read: "a2"),
              op(.stage, version: 3), op(.put, key: "a", value: "a3", version: 3, slot: 3), op(.flip, version: 3, replaced: 2),
              op(.reclaim, 2, slot: 0, kept: [1, 2, 3]),
              op(.get, 1, key: "a", version: 1, hit: true, pinned: true, read: "a1"),
              op(.unpin, 1, version: 1),
              op(.get, 1, key: "a", version: 3, hit: true, read: "a3")]
        var r = op(.reclaim, 2, kept: [2, 3])
        r.slots = [SlotRef(shard: 0, slot: 1)]
        h.append(r)
        XCTAssertEqual(checkNamespaces(h), [])
    }

    func testAPinnedSequenceThatMixesVersionsFails() {
        let h = base() + [op(.get, 1, key: "a", version: 2, hit: true, pinned: true, read: "a2")]
        XCTAssertTrue(checkNamespaces(h).first?.summary.contains("mixed versions") == true)
    }

    func testAnUnpinnedReadOfTheOldVersionAfterTheFlipFails() {
        let h = base() + [op(.get, 0, key: "a", version: 1, hit: true, read: "a1")]
        XCTAssertTrue(checkNamespaces(h).first?.summary.contains("not current at any instant") == true)
    }

    func testAReadOfAStagedVersionBeforeItsFlipFails() {
        var h = Array(base().prefix(6))  // version 2 staged, not flipped
        h.append(op(.get, 0, key: "a", version: 2, hit: true, read: "a2"))
        XCTAssertTrue(checkNamespaces(h).first?.summary.contains("not current at any instant") == true)
    }

    func testAReadConcurrentWithTheFlipMayReadEither() {
        var h = Array(base().prefix(6))
        var flip = op(.flip, version: 2, replaced: 1)
        var get = op(.get, 0, key: "a", version: 2, hit: true, read: "a2")
        get.call = flip.call + 1  // overlaps the flip
        flip.returnAt = get.call + 5
        h += [flip, get]
        XCTAssertEqual(checkNamespaces(h), [])
    }

    func testAMissOfAStagedEntryFailsUnlessAPlainInsertEvictedIt() {
        let h = base() + [op(.get, 0, key: "a", version: 2, hit: false)]
        XCTAssertTrue(checkNamespaces(h).first?.summary.contains("missed in version 2") == true)
        XCTAssertEqual(checkNamespaces(h, disturbed: [SlotDisturbance(slot: SlotRef(shard: 0, slot: 2), at: t)]), [])
    }

    func testAValueOfAnotherVersionFails() {
        let h = base() + [op(.get, 0, key: "a", version: 2, hit: true, read: "a1")]
        XCTAssertTrue(checkNamespaces(h).first?.summary.contains("which no stage of that version wrote last") == true)
    }

    func testAReclaimThatDropsAPinnedVersionFails() {
        let h = base()
        var r = op(.reclaim, 2, kept: [2])  // after the pin of version 1
        r.slots = [SlotRef(shard: 0, slot: 1)]
        let found = checkNamespaces(h + [r]).map(\.summary)
        XCTAssertTrue(found.contains { $0.contains("did not keep version 1") }, "\(found)")
        XCTAssertTrue(found.contains { $0.contains("removed the entry a of version 1") }, "\(found)")
    }

    func testADeadPinnersPinIsNotProtected() {
        var h = base()
        h.append(op(.reset, 1))
        h.append(op(.reclaim, 2, kept: [2]))
        XCTAssertEqual(checkNamespaces(h), [])
    }

    func testAVersionHandedOutTwiceFails() {
        let h = [op(.stage, version: 1), op(.flip, version: 1), op(.stage, version: 1)]
        XCTAssertTrue(checkNamespaces(h).first?.summary.contains("after a stage that had answered 1") == true)
    }
}
