import XCTest
@testable import WarmcheckModel

private let K: [UInt8] = Array("k".utf8)
private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private func op(_ c: Int, _ input: CacheInput, _ call: UInt64, _ output: CacheOutput, _ ret: UInt64?) -> CacheOperation {
    CacheOperation(clientId: c, input: input, call: call, output: output, returnAt: ret)
}
private func put(_ v: String) -> CacheInput { .put(key: K, value: b(v), version: nil) }
private func get() -> CacheInput { .get(key: K) }
private func hit(_ v: String, _ ver: UInt64) -> CacheOutput { .hit(value: b(v), version: ver, stale: false) }

/// Time-window partitioning (TimeWindows.swift): split and unsplit checks judge alike, the state
/// at a cut is every state a window can end in, and a key too long for one search is decided.
final class TimeWindowTests: XCTestCase {
    private func both(_ ops: [CacheOperation], budget: SearchBudget = SearchBudget()) -> (LinearizabilityVerdict, LinearizabilityReport) {
        let unsplit = checkLinearizability(ops, budget: budget).verdict
        let split = checkLinearizability(ops, budget: budget, windows: .always)
        return (unsplit, split)
    }

    /// Window 1: put a (v3), invalidate → removed, put b (v5), all concurrent. It can end with
    /// b (a, invalidate, b) or absent (a, b, invalidate); b before a cannot be (automatic
    /// versions only grow). The search finds the b ending first.
    private func window1() -> [CacheOperation] {
        [op(0, put("a"), 0, .ok(version: 3), 100),
         op(1, .invalidate(key: K), 0, .removed(true), 100),
         op(2, put("b"), 0, .ok(version: 5), 100)]
    }

    func testLinearizableOnlyThroughTheSecondStateAtTheCut() throws {
        // A miss after the cut: only the absent ending explains it. One carried guess (the
        // first ending found) would call this a violation.
        let ops = window1() + [op(3, get(), 200, .miss, 210)]
        let (unsplit, split) = both(ops)
        XCTAssertEqual(unsplit, .ok)
        XCTAssertEqual(split.verdict, .ok)
        let w = try XCTUnwrap(split.partitions.first?.windows)
        XCTAssertEqual(w.windows, 2)
        XCTAssertEqual(w.carried, [2], "both endings of window 1 are carried: \(w.text)")
        // The b ending explains a hit on b just as well.
        XCTAssertEqual(both(window1() + [op(3, get(), 200, hit("b", 5), 210)]).1.verdict, .ok)
    }

    func testAViolationSpanningACutIsFound() {
        // a (v3) is no ending of window 1: b must follow a. Both checkers say illegal.
        let ops = window1() + [op(3, get(), 200, hit("a", 3), 210)]
        let (unsplit, split) = both(ops)
        XCTAssertTrue(unsplit.isIllegal, "\(unsplit)")
        XCTAssertTrue(split.verdict.isIllegal, "\(split.verdict)")
        // The absent ending, then b seen again: only the b ending leads on, and then a miss
        // two windows later after nothing removed it is illegal.
        let twice = window1() + [op(3, get(), 200, hit("b", 5), 210), op(3, get(), 300, .miss, 310)]
        XCTAssertTrue(both(twice).0.isIllegal)
        XCTAssertTrue(both(twice).1.verdict.isIllegal)
    }

    func testUnknownOutcomesAreCarriedAcrossCuts() throws {
        // put b of a killed caller: open forever, carried into every later window. It may take
        // effect after the first read (which still sees a), never after a read that saw it.
        let ops = [op(0, put("a"), 0, .ok(version: 3), 10),
                   op(1, put("b"), 20, .unknown, nil),
                   op(2, get(), 40, hit("a", 3), 50),
                   op(2, get(), 60, hit("b", 7), 70),
                   op(2, get(), 80, hit("b", 7), 90)]
        let (unsplit, split) = both(ops)
        XCTAssertEqual(unsplit, .ok)
        XCTAssertEqual(split.verdict, .ok)
        XCTAssertEqual(try XCTUnwrap(split.partitions.first?.windows).windows, 5)
        // Seen with two versions across a cut: illegal, split or not.
        var bad = ops
        bad[4].output = hit("b", 8)
        let (u2, s2) = both(bad)
        XCTAssertTrue(u2.isIllegal)
        XCTAssertTrue(s2.verdict.isIllegal)
        // Seen, then gone while nothing else could remove it: illegal.
        var gone = ops
        gone[4].output = .miss
        XCTAssertTrue(both(gone).0.isIllegal)
        XCTAssertTrue(both(gone).1.verdict.isIllegal)
    }

    /// Split and unsplit agree on generated histories and on one read mutated in each.
    func testAgreesWithTheUnsplitCheckOnGeneratedHistories() {
        for seed in UInt64(1)...30 {
            let ops = generateHistory(count: 300, keys: 2, spread: 2, seed: seed)
            var mutated = ops
            if let i = (150..<300).first(where: { if case .hit = ops[$0].output { return true } else { return false } }) {
                mutated[i].output = hit("never", 1)
            }
            for h in [ops, mutated] {
                let (u, s) = both(h)
                XCTAssertEqual(u.isOk, s.verdict.isOk, "seed \(seed): unsplit \(u), split \(s.verdict)")
                XCTAssertEqual(u.isIllegal, s.verdict.isIllegal, "seed \(seed)")
            }
        }
    }

    /// One key with 20,000 operations: one search must memoize a state per operation at least,
    /// so a budget of 2,000 runs out; cut into windows each memo stays small and it is decided.
    func testAKeyTooLongForTheBudgetIsDecidedInWindows() throws {
        let ops = generateHistory(count: 20_000, keys: 1, spread: 2, seed: 5)
        let budget = SearchBudget(maxExploredStates: 2_000)
        let unsplit = checkLinearizability(ops, budget: budget)
        XCTAssertTrue(unsplit.verdict.isUnknown, "\(unsplit.verdict)")
        let again = checkLinearizability(ops, budget: budget, windows: .whenUndecided)
        XCTAssertEqual(again.verdict, .ok)
        let w = try XCTUnwrap(again.partitions.first?.windows)
        XCTAssertGreaterThan(w.windows, 100, w.text)
        XCTAssertTrue(w.unsplitVerdict?.isUnknown ?? false)
        // And a violation in it is still found.
        var bad = ops
        let i = try XCTUnwrap((15_000..<20_000).first { if case .hit = ops[$0].output { return true } else { return false } })
        bad[i].output = hit("never", 1)
        XCTAssertTrue(checkLinearizability(bad, budget: budget, windows: .whenUndecided).verdict.isIllegal)
    }

    func testBudgetExhaustedInAWindowIsUnknownNeverOk() {
        var ops: [CacheOperation] = []
        for i in 0..<12 { ops.append(op(i, put("v\(i)"), 0, .ok(version: UInt64(i + 1)), 1000)) }
        ops.append(op(20, get(), 2000, hit("v11", 12), 2001))
        let r = checkLinearizability(ops, budget: SearchBudget(maxExploredStates: 3), windows: .always)
        guard case .unknown(let why) = r.verdict else { return XCTFail("expected unknown, got \(r.verdict)") }
        XCTAssertTrue(why.contains("window 1 of 2"), why)
    }
}
