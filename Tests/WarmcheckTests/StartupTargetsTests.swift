import XCTest
@testable import WarmcheckCore

/// `warmcheck bench startup`'s first-hit target (issue 12 §1: ≤ 1.5× the exec floor) is judged
/// against the empty-program runs alternated with that row's restarts when there are any, so
/// that a load that changes during the run moves both sides of the ratio (docs/BENCHMARKS.md
/// "Startup").
final class StartupTargetsTests: XCTestCase {
    func row(_ r: String, _ lang: String, _ n: UInt64, firstHitMs: Int64) -> StartupRow {
        StartupRow(row: r, what: r, language: lang, entries: n, status: "measured", note: nil, segmentBytes: nil,
                   firstHit: StartupSummary(nanoseconds: [firstHitMs * 1_000_000]), served99: nil, warm: nil)
    }

    func testFirstHitIsJudgedAgainstThePairedFloor() throws {
        let rows = [row("f", "go", 0, firstHitMs: 1), row("a", "go", 10_000, firstHitMs: 3)]
        let paired = try XCTUnwrap(StartupBench.targets(rows, pairedFloor: ["go-10000": 2.5]).first)
        XCTAssertEqual(paired.ratio, 1.2, accuracy: 0.01)
        XCTAssertTrue(paired.met)
        XCTAssertTrue(paired.what.contains("alternately"))
        // Without paired samples, row f's floor: 3× is missed.
        let alone = try XCTUnwrap(StartupBench.targets(rows).first)
        XCTAssertEqual(alone.ratio, 3, accuracy: 0.01)
        XCTAssertFalse(alone.met)
        // Another size's pairing is not this row's.
        XCTAssertEqual(try XCTUnwrap(StartupBench.targets(rows, pairedFloor: ["go-100000": 2.5]).first).ratio, 3, accuracy: 0.01)
    }
}
