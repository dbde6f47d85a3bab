import XCTest
@testable import WarmcheckModel

// One test per answer the spec rules out (PROTOCOL.md §8.3, §9.4, §9.5, §12, §15): each history
// is illegal because of that one rule, and a neighbouring history that the rule allows is ok,
// so that removing the rule from the model turns the test red.

private let K: [UInt8] = Array("k".utf8)
private let K2: [UInt8] = Array("k2".utf8)
private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private func op(_ c: Int, _ input: CacheInput, _ call: UInt64, _ output: CacheOutput, _ ret: UInt64?) -> CacheOperation {
    CacheOperation(clientId: c, input: input, call: call, output: output, returnAt: ret)
}
private func put(_ v: String, _ key: [UInt8] = K, version: UInt64? = nil, ttl: UInt64? = 0) -> CacheInput {
    .put(key: key, value: b(v), version: version, ttl: ttl)
}
private func refresh(_ v: String, _ key: [UInt8] = K, version: UInt64? = nil) -> CacheInput {
    .refresh(key: key, value: b(v), version: version, ttl: 0)
}
private let get = CacheInput.get(key: K)

private func verdict(_ ops: [CacheOperation], silent: Bool = false, acrossKeys: Bool = false) -> LinearizabilityVerdict {
    checkLinearizability(ops, model: CacheModel(allowSilentRemoval: silent, automaticVersionsAcrossKeys: acrossKeys)).verdict
}

private func assertIllegal(_ ops: [CacheOperation], silent: Bool = false, acrossKeys: Bool = false, cites: String,
                           file: StaticString = #filePath, line: UInt = #line) {
    guard case .illegal(let f) = verdict(ops, silent: silent, acrossKeys: acrossKeys) else {
        return XCTFail("expected a violation", file: file, line: line)
    }
    XCTAssertTrue(f.explanation.contains(cites), "the explanation must cite \(cites):\n\(f.explanation)", file: file, line: line)
}

final class SpecRuleTests: XCTestCase {
    func testAutomaticVersionNeverGoesBackAfterInvalidate() {
        let before = [op(0, put("a"), 0, .ok(version: 5), 10), op(0, .invalidate(key: K), 20, .removed(true), 30)]
        assertIllegal(before + [op(0, put("b"), 40, .ok(version: 3), 50)], cites: "§8.3 invariant 3")
        assertIllegal(before + [op(0, put("b"), 40, .ok(version: 5), 50)], cites: "§8.3 invariant 3")
        XCTAssertEqual(verdict(before + [op(0, put("b"), 40, .ok(version: 6), 50)]), .ok)
        // Explicit versions may restart after an invalidation (§8.3 invariant 3).
        XCTAssertEqual(verdict(before + [op(0, put("b", version: 3), 40, .ok(version: 3), 50)]), .ok)
    }

    func testAutomaticVersionNeverGoesBackAfterSilentRemoval() {
        let ops = [op(0, put("a"), 0, .ok(version: 5), 10), op(1, get, 20, .miss, 30), op(0, put("b"), 40, .ok(version: 2), 50)]
        assertIllegal(ops, silent: true, cites: "never go back")
        var fine = ops
        fine[2].output = .ok(version: 9)
        XCTAssertEqual(verdict(fine, silent: true), .ok)
    }

    func testFloorLearnedFromAReadOfAnUnknownWrite() {
        let ops = [
            op(0, put("a"), 0, .unknown, nil),
            op(1, get, 20, .hit(value: b("a"), version: 7, stale: false), 30),
            op(1, .invalidate(key: K), 40, .removed(true), 50),
            op(1, put("b"), 60, .ok(version: 6), 70),
        ]
        assertIllegal(ops, cites: "clock had reached 7")
        var fine = ops
        fine[3].output = .ok(version: 8)
        XCTAssertEqual(verdict(fine), .ok)
    }

    func testStaleHitNeedsATTL() {
        let stale = CacheOutput.hit(value: b("a"), version: 1, stale: true)
        assertIllegal([op(0, put("a", ttl: 0), 0, .ok(version: 1), 10), op(1, get, 20, stale, 30)], cites: "§12")
        XCTAssertEqual(verdict([op(0, put("a", ttl: 100), 0, .ok(version: 1), 10), op(1, get, 20, stale, 30)]), .ok)
        XCTAssertEqual(verdict([op(0, put("a", ttl: nil), 0, .ok(version: 1), 10), op(1, get, 20, stale, 30)]), .ok)
        // The TTL is the current entry's: a later write without one cannot be read stale.
        assertIllegal([op(0, put("b", ttl: 100), 0, .ok(version: 1), 10), op(0, put("a", ttl: 0), 12, .ok(version: 2), 15),
                       op(1, get, 20, .hit(value: b("a"), version: 2, stale: true), 30)], cites: "§12")
    }

    func testGetNeverFails() {
        for r in FailReason.allCases {
            assertIllegal([op(0, get, 0, .fail(r), 10)], cites: "§15")
        }
        XCTAssertEqual(verdict([op(0, get, 0, .unknown, nil)]), .ok)
    }

    func testRemovalFailsOnlyBusy() {
        let present = [op(0, put("a"), 0, .ok(version: 1), 10)]
        for remove in [CacheInput.invalidate(key: K), .evict(key: K)] {
            for r in FailReason.allCases where r != .busy && r != .other {
                assertIllegal(present + [op(1, remove, 20, .fail(r), 30)], silent: true, cites: "§9.5")
            }
            XCTAssertEqual(verdict(present + [op(1, remove, 20, .fail(.busy), 30)]), .ok)
        }
    }

    func testAutomaticWriteIsNeverVersionNotNewer() {
        let present = [op(0, put("a"), 0, .ok(version: 4), 10)]
        assertIllegal(present + [op(1, put("b"), 20, .fail(.versionNotNewer), 30)], silent: true, cites: "§9.4")
        assertIllegal(present + [op(1, refresh("b"), 20, .fail(.versionNotNewer), 30)], silent: true, cites: "§9.4")
        XCTAssertEqual(verdict(present + [op(1, put("b", version: 3), 20, .fail(.versionNotNewer), 30)]), .ok)
        // §13.1: at version 2^64 − 1 no automatic version is newer, and that answer is the right one.
        let atMax = [op(0, put("a", version: .max), 0, .ok(version: .max), 10)]
        XCTAssertEqual(verdict(atMax + [op(1, put("b"), 20, .fail(.versionNotNewer), 30)]), .ok)
        XCTAssertEqual(verdict(atMax + [op(1, refresh("b"), 20, .fail(.versionNotNewer), 30)]), .ok)
    }

    func testFullOnlyWhenTheKeyIsAbsent() {
        let present = [op(0, put("a"), 0, .ok(version: 1), 10)]
        assertIllegal(present + [op(1, put("b"), 20, .fail(.full), 30)], cites: "insert path")
        XCTAssertEqual(verdict(present + [op(1, put("b"), 20, .fail(.full), 30)], silent: true), .ok)
        XCTAssertEqual(verdict([op(1, put("b"), 20, .fail(.full), 30)]), .ok)
        // A refresh never takes the insert path.
        assertIllegal(present + [op(1, refresh("b"), 20, .fail(.full), 30)], silent: true, cites: "refresh path only")
        // After full the key is absent: a hit of the old value is then illegal.
        assertIllegal(present + [op(1, put("b"), 20, .fail(.full), 30),
                                 op(1, get, 40, .hit(value: b("a"), version: 1, stale: false), 50)], silent: true,
                      cites: "needs the key present")
    }

    func testRefreshNotFoundOnlyWhenAbsent() {
        let present = [op(0, put("a"), 0, .ok(version: 1), 10)]
        assertIllegal(present + [op(1, refresh("b"), 20, .fail(.notFound), 30)], cites: "not_found")
        XCTAssertEqual(verdict(present + [op(1, refresh("b"), 20, .fail(.notFound), 30)], silent: true), .ok)
        assertIllegal(present + [op(1, put("b"), 20, .fail(.notFound), 30)], silent: true, cites: "only a refresh")
    }

    func testReasonsOutsideTheSpecAreViolations() {
        assertIllegal([op(0, put("a"), 0, .fail(.other), 10)], cites: "§15")
        assertIllegal([op(0, .invalidate(key: K), 0, .fail(.other), 10)], cites: "§15")
        XCTAssertEqual(FailReason(wire: "no_such_reason"), .other)
    }

    func testAutomaticVersionsAreUniqueAcrossKeys() {
        let ops = [op(0, put("a", K), 0, .ok(version: 3), 10), op(1, put("b", K2), 0, .ok(version: 3), 10)]
        XCTAssertEqual(verdict(ops), .ok)   // per key, nothing is wrong
        assertIllegal(ops, acrossKeys: true, cites: "same automatic version 3")
        // Explicit versions are not the clock's.
        let explicit = [op(0, put("a", K), 0, .ok(version: 3), 10), op(1, put("b", K2, version: 3), 0, .ok(version: 3), 10)]
        XCTAssertEqual(verdict(explicit, acrossKeys: true), .ok)
    }

    func testAutomaticVersionsFollowRealTimeAcrossKeys() {
        let ops = [op(0, put("a", K), 0, .ok(version: 5), 10), op(1, refresh("b", K2), 5, .fail(.notFound), 8),
                   op(1, put("b", K2), 20, .ok(version: 3), 30)]
        XCTAssertEqual(verdict(ops), .ok)
        assertIllegal(ops, acrossKeys: true, cites: "smaller automatic version 3")
        // Overlapping writes may take the clock in either order.
        var overlapping = ops
        overlapping[2].call = 9
        XCTAssertEqual(verdict(overlapping, acrossKeys: true), .ok)
        // Gaps (an unknown write took a value) are fine.
        XCTAssertEqual(verdict([op(0, put("a", K), 0, .ok(version: 2), 10), op(2, put("c", K), 11, .unknown, nil),
                                op(1, put("b", K2), 20, .ok(version: 9), 30)], acrossKeys: true), .ok)
    }
}
