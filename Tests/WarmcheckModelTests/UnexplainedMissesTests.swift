import XCTest

@testable import WarmcheckModel

/// `unexplainedMisses`: the count behind the upgrade pass criterion. A miss is counted only when
/// the history proves the key was there: each test pins one way a miss is explained.
final class UnexplainedMissesTests: XCTestCase {
    let k: [UInt8] = Array("k".utf8)

    func op(_ input: CacheInput, _ call: UInt64, _ ret: UInt64?, _ out: CacheOutput, client: Int = 0) -> CacheOperation {
        CacheOperation(clientId: client, input: input, call: call, output: out, returnAt: ret)
    }

    func put(_ call: UInt64, _ ret: UInt64?, ttl: UInt64? = 0, out: CacheOutput = .ok(version: 1)) -> CacheOperation {
        op(.put(key: k, value: [1], version: nil, ttl: ttl), call, ret, out)
    }

    func getMiss(_ call: UInt64, _ ret: UInt64, client: Int = 1) -> CacheOperation {
        op(.get(key: k), call, ret, .miss, client: client)
    }

    func testAMissAfterAnAcknowledgedWriteIsCounted() {
        XCTAssertEqual(unexplainedMisses([put(0, 10), getMiss(20, 30)]), [1])
        // Before the write, or overlapping it, the miss is legal.
        XCTAssertEqual(unexplainedMisses([getMiss(0, 5), put(10, 20)]), [])
        XCTAssertEqual(unexplainedMisses([put(0, 25), getMiss(20, 30)]), [])
        // A write that failed or whose outcome is unknown proves nothing.
        XCTAssertEqual(unexplainedMisses([put(0, 10, out: .fail(.full)), getMiss(20, 30)]), [])
        XCTAssertEqual(unexplainedMisses([put(0, nil, out: .unknown), getMiss(20, 30)]), [])
        // Another key's write proves nothing about this one.
        let other = op(.put(key: [9], value: [1], version: nil, ttl: 0), 0, 10, .ok(version: 1))
        XCTAssertEqual(unexplainedMisses([other, getMiss(20, 30)]), [])
    }

    func testARemovalThatMayComeBetweenExplainsTheMiss() {
        let inv = { (c: UInt64, r: UInt64?, o: CacheOutput) in self.op(.invalidate(key: self.k), c, r, o, client: 2) }
        XCTAssertEqual(unexplainedMisses([put(0, 10), inv(12, 14, .removed(true)), getMiss(20, 30)]), [])
        XCTAssertEqual(unexplainedMisses([put(0, 10), inv(25, 40, .removed(true)), getMiss(20, 30)]), [], "concurrent with the get")
        XCTAssertEqual(unexplainedMisses([put(0, 10), inv(15, nil, .unknown), getMiss(20, 30)]), [], "may have removed")
        XCTAssertEqual(unexplainedMisses([put(0, 10), op(.evict(key: k), 12, 14, .removed(true)), getMiss(20, 30)]), [])
        // A removal that found nothing, one before the write, and one after the get explain nothing.
        XCTAssertEqual(unexplainedMisses([put(0, 10), inv(12, 14, .removed(false)), getMiss(20, 30)]), [2])
        XCTAssertEqual(unexplainedMisses([inv(0, 2, .removed(true)), put(5, 10), getMiss(20, 30)]), [2])
        XCTAssertEqual(unexplainedMisses([put(0, 10), getMiss(20, 30), inv(31, 40, .removed(true))]), [1])
        // The removal must be able to follow every write that is certainly before the get.
        XCTAssertEqual(unexplainedMisses([put(0, 4), inv(2, 6, .removed(true)), put(8, 10), getMiss(20, 30)]), [3])
    }

    func testExpiryAndTheStartTime() {
        XCTAssertEqual(unexplainedMisses([put(0, 10, ttl: 5_000), getMiss(20, 30)]), [], "a TTL may run out")
        XCTAssertEqual(unexplainedMisses([put(0, 10, ttl: nil), getMiss(20, 30)]), [], "an unrecorded TTL may too")
        XCTAssertEqual(unexplainedMisses([put(0, 10), getMiss(20, 30)], silentRemoval: true), [])
        XCTAssertEqual(unexplainedMisses([put(0, 10), getMiss(20, 30), getMiss(40, 50)], from: 35), [2])
    }
}
