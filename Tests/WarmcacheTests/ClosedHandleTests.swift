import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// PROTOCOL.md §15 `closed` for the Swift API: after `close()` every operation of the handle
/// answers `closed` by its type (`fail(.closed)`, `UsageError.closed`, `Lookup.closed`,
/// `NsFailure` of `.closed`) without touching the unmapped segment, and a second close is a no-op.
final class ClosedHandleTests: XCTestCase {
    func testEveryOperationAnswersClosed() throws {
        let p = tempPath(#function)
        defer { removeFile(p) }
        let c = try WarmCache.create(path: p, geometry: small, options: WarmCacheOptions().harness(simClockStartNs: 1_000, trace: true))
        try c.attachStore(StoreOptions(directory: p + ".store", policy: .none))
        defer { try? FileManager.default.removeItem(atPath: p + ".store") }
        c.close()
        let k = bytes("k"), v = bytes("v")
        XCTAssertEqual(c.get(k), .closed)
        XCTAssertEqual(c.put(k, v), .fail(.closed))
        XCTAssertEqual(c.refresh(k, v), .fail(.closed))
        XCTAssertEqual(c.invalidate(k), .fail(.closed))
        XCTAssertEqual(c.evict(k), .fail(.closed))
        XCTAssertEqual(c.durablePut(k, v).outcome, .fail(.closed))
        XCTAssertEqual(c.durableInvalidate(k).outcome, .fail(.closed))
        let usage: [(String, () throws -> Void)] = [
            ("stats", { _ = try c.stats() }), ("generation", { _ = try c.generation() }),
            ("waitForChange", { _ = try c.waitForChange(seen: 0, timeoutNs: 10_000_000) }),
            ("setSimClock", { try c.setSimClock(1) }), ("dump", { _ = try c.dump() }),
            ("participants", { _ = try c.participants() }), ("repair", { _ = try c.repair() }),
            ("nsUnpin", { _ = try c.nsUnpin() }), ("journalState", { _ = try c.journalState }),
        ]
        for (name, call) in usage {
            XCTAssertThrowsError(try call(), name) { XCTAssertEqual($0 as? UsageError, .closed, name) }
        }
        let ns: [(String, () throws -> Void)] = [
            ("nsStage", { _ = try c.nsStage(0) }), ("nsPut", { _ = try c.nsPut(0, k, v) }), ("nsFlip", { _ = try c.nsFlip(0) }),
            ("nsRollback", { _ = try c.nsRollback(0) }), ("nsPin", { _ = try c.nsPin(0) }), ("nsGet", { _ = try c.nsGet(0, k) }),
            ("nsReclaim", { _ = try c.nsReclaim(0) }), ("nsState", { _ = try c.nsState(0) }),
        ]
        for (name, call) in ns {
            XCTAssertThrowsError(try call(), name) { XCTAssertEqual(($0 as? NsFailure)?.failure, .closed, name) }
        }
        XCTAssertNil(c.storeOptions, "the closed handle journals nowhere")
        c.close()
    }
}
