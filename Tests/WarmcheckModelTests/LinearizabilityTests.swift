import XCTest
@testable import WarmcheckModel

private let K: [UInt8] = Array("k".utf8)
private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private func op(_ c: Int, _ input: CacheInput, _ call: UInt64, _ output: CacheOutput, _ ret: UInt64?) -> CacheOperation {
    CacheOperation(clientId: c, input: input, call: call, output: output, returnAt: ret)
}
private func put(_ v: String, _ key: [UInt8] = K, version: UInt64? = nil) -> CacheInput { .put(key: key, value: b(v), version: version) }
private func get(_ key: [UInt8] = K) -> CacheInput { .get(key: key) }
private func hit(_ v: String, _ ver: UInt64) -> CacheOutput { .hit(value: b(v), version: ver, stale: false) }

private func check(_ ops: [CacheOperation], silent: Bool = false, budget: SearchBudget = SearchBudget()) -> LinearizabilityVerdict {
    checkLinearizability(ops, model: CacheModel(allowSilentRemoval: silent), budget: budget).verdict
}

/// Deterministic generator (SplitMix64).
struct SplitMix {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A history produced by a real sequential execution: operation i takes effect at time 100*i,
/// and its interval is stretched around that point, so intervals overlap but a linearization
/// (the execution order) exists.
func generateHistory(count: Int, keys: Int, spread: Int, seed: UInt64) -> [CacheOperation] {
    var rng = SplitMix(s: seed)
    var store: [[UInt8]: ([UInt8], UInt64)] = [:]
    var clock: UInt64 = 0
    var ops: [CacheOperation] = []
    ops.reserveCapacity(count)
    for i in 0..<count {
        let key = b("key\(rng.below(keys))")
        let at = UInt64(100 * (i + 1)) + UInt64(spread * 100)
        let call = at - UInt64(rng.below(spread * 100 + 1))
        let ret = at + UInt64(rng.below(spread * 100 + 1))
        let r = rng.below(10)
        let input: CacheInput
        let output: CacheOutput
        switch r {
        case 0..<5:
            input = .get(key: key)
            if let (v, ver) = store[key] { output = .hit(value: v, version: ver, stale: false) } else { output = .miss }
        case 5..<8:
            let v = b("v\(i)")
            clock += 1 + UInt64(rng.below(3))
            let ver = max(clock, (store[key]?.1 ?? 0) + 1)
            store[key] = (v, ver)
            input = .put(key: key, value: v, version: nil)
            output = .ok(version: ver)
        case 8:
            let v = b("r\(i)")
            input = .refresh(key: key, value: v, version: nil)
            if let (_, cur) = store[key] {
                clock += 1
                let ver = max(clock, cur + 1)
                store[key] = (v, ver)
                output = .ok(version: ver)
            } else { output = .fail(.notFound) }
        default:
            input = .invalidate(key: key)
            output = .removed(store.removeValue(forKey: key) != nil)
        }
        ops.append(CacheOperation(clientId: i % 8, input: input, call: call, output: output, returnAt: ret))
    }
    return ops
}

final class CacheModelTests: XCTestCase {
    func testStepRules() {
        let m = CacheModel()
        let a = CacheState(value: b("a"), version: 3, autoFloor: 3)
        let gone = CacheState(value: nil, version: 0, autoFloor: 3)   // absent, the floor kept
        XCTAssertEqual(m.step(.absent, put("a"), .ok(version: 3)), a)
        XCTAssertNil(m.step(a, put("b"), .ok(version: 3)))                       // not newer
        XCTAssertEqual(m.step(a, put("b"), .ok(version: 9))?.version, 9)         // gaps fine
        XCTAssertNil(m.step(.absent, .refresh(key: K, value: b("x"), version: nil), .ok(version: 4)))
        XCTAssertEqual(m.step(.absent, .refresh(key: K, value: b("x"), version: nil), .fail(.notFound)), .absent)
        XCTAssertNil(m.step(a, .refresh(key: K, value: b("x"), version: nil), .fail(.notFound)))
        XCTAssertEqual(m.step(a, put("z"), .fail(.busy)), a)
        XCTAssertEqual(m.step(.absent, put("z"), .fail(.full)), .absent)
        XCTAssertEqual(m.step(a, put("z", version: 2), .fail(.versionNotNewer)), a)
        XCTAssertNil(m.step(a, put("z", version: 4), .fail(.versionNotNewer)))
        XCTAssertNil(m.step(a, put("z", version: 5), .ok(version: 6)))            // explicit must be honoured
        XCTAssertEqual(m.step(a, .invalidate(key: K), .removed(true)), gone)
        XCTAssertNil(m.step(.absent, .invalidate(key: K), .removed(true)))
        XCTAssertNil(m.step(a, .evict(key: K), .removed(false)))
        XCTAssertEqual(m.step(a, get(), hit("a", 3)), a)
        XCTAssertNil(m.step(a, get(), hit("a", 4)))
        XCTAssertNil(m.step(a, get(), .miss))
        XCTAssertNil(m.step(a, get(), .ok(version: 3)))                           // wrong kind of answer
        let s = CacheModel(allowSilentRemoval: true)
        XCTAssertEqual(s.step(a, get(), .miss), gone)
        // Vanished silently, the key may come back at an explicit version, but its automatic
        // versions still come from the one clock (§8.3 invariant 3).
        XCTAssertEqual(s.step(a, put("b", version: 1), .ok(version: 1)), CacheState(value: b("b"), version: 1, autoFloor: 3))
        XCTAssertNil(s.step(a, put("b"), .ok(version: 1)))
        XCTAssertEqual(s.step(gone, put("b"), .ok(version: 4)), CacheState(value: b("b"), version: 4, autoFloor: 4))
    }
}

final class LinearizabilityTests: XCTestCase {
    func testEmptyAndSequentialHistoriesAreOk() {
        XCTAssertEqual(check([]), .ok)
        let ops = [
            op(0, get(), 0, .miss, 1),
            op(0, put("a"), 2, .ok(version: 1), 3),
            op(1, get(), 4, hit("a", 1), 5),
            op(1, .refresh(key: K, value: b("b"), version: nil), 6, .ok(version: 4), 7),
            op(0, get(), 8, hit("b", 4), 9),
            op(0, .invalidate(key: K), 10, .removed(true), 11),
            op(1, .evict(key: K), 12, .removed(false), 13),
            op(1, .refresh(key: K, value: b("c"), version: nil), 14, .fail(.notFound), 15),
            op(0, get(), 16, .miss, 17),
            op(0, put("c", version: 2), 18, .ok(version: 2), 19),   // explicit restart after removal
            op(1, put("d", version: 2), 20, .fail(.versionNotNewer), 21),
        ]
        XCTAssertEqual(check(ops), .ok)
    }

    func testConcurrentLinearizableHistories() {
        // A read during a put may see either side.
        XCTAssertEqual(check([
            op(0, put("a"), 0, .ok(version: 1), 100),
            op(1, get(), 10, .miss, 20),
            op(2, get(), 30, hit("a", 1), 40),
            op(1, get(), 50, .miss, 60),  // still concurrent with the put... but after a hit: illegal below
        ]).isIllegal, true)
        XCTAssertEqual(check([
            op(0, put("a"), 0, .ok(version: 1), 100),
            op(1, get(), 10, .miss, 20),
            op(2, get(), 30, hit("a", 1), 40),
            op(1, get(), 50, hit("a", 1), 60),
        ]), .ok)
        // Two concurrent puts, readers agree on the order given by versions.
        XCTAssertEqual(check([
            op(0, put("a"), 0, .ok(version: 1), 100),
            op(1, put("b"), 0, .ok(version: 2), 100),
            op(2, get(), 10, hit("a", 1), 50),
            op(3, get(), 60, hit("b", 2), 120),
            op(2, get(), 130, hit("b", 2), 140),
        ]), .ok)
        // The read may return before the put it sees returns; the second put's completion
        // doesn't force an order the versions forbid. A miss concurrent with an invalidate.
        XCTAssertEqual(check([
            op(0, put("a"), 0, .ok(version: 1), 10),
            op(1, .invalidate(key: K), 20, .removed(true), 50),
            op(2, get(), 25, hit("a", 1), 30),
            op(3, get(), 40, .miss, 45),
        ]), .ok)
        // Different keys are independent.
        let k2 = b("k2")
        XCTAssertEqual(check([
            op(0, put("a"), 0, .ok(version: 5), 10),
            op(1, put("x", k2), 0, .ok(version: 1), 10),
            op(0, get(k2), 20, hit("x", 1), 30),
            op(1, get(), 20, hit("a", 5), 30),
        ]), .ok)
    }

    private func assertIllegal(_ ops: [CacheOperation], silent: Bool = false, unplaced: Int,
                               mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
        let v = check(ops, silent: silent)
        guard case .illegal(let f) = v else { return XCTFail("expected illegal, got \(v)", file: file, line: line) }
        XCTAssertEqual(f.unplaced, unplaced, f.explanation, file: file, line: line)
        XCTAssertEqual(f.key, K, file: file, line: line)
        for m in mentions {
            XCTAssertTrue(f.explanation.contains(m), "missing \(m) in:\n\(f.explanation)", file: file, line: line)
        }
    }

    func testStaleReadAfterCompletedPut() {
        assertIllegal([
            op(0, put("a"), 0, .ok(version: 1), 10),
            op(0, put("b"), 20, .ok(version: 2), 30),
            op(1, get(), 40, hit("a", 1), 50),
        ], unplaced: 2, mentions: ["longest linearizable prefix", "places 2 operations", "#2", "\"b\" at version 2", "get(\"k\") → hit(\"a\", v1)"])
    }

    func testReadOfValueNeverWritten() {
        assertIllegal([
            op(0, put("a"), 0, .ok(version: 1), 10),
            op(1, get(), 5, hit("zzz", 1), 50),
        ], unplaced: 1)
        assertIllegal([op(1, get(), 5, hit("zzz", 1), 50)], unplaced: 0, mentions: ["places 0 operations", "absent"])
    }

    func testVersionGoingBackwards() {
        assertIllegal([
            op(0, put("a"), 0, .ok(version: 5), 10),
            op(1, put("b"), 20, .ok(version: 3), 30),
        ], unplaced: 1, mentions: ["version must be greater"])
    }

    func testReadSeesLoserAfterWinner() {
        assertIllegal([
            op(0, put("a"), 0, .ok(version: 1), 100),
            op(1, put("b"), 0, .ok(version: 2), 100),
            op(2, get(), 110, hit("b", 2), 120),
            op(2, get(), 130, hit("a", 1), 140),
        ], unplaced: 3)
    }

    func testHitAfterInvalidateRemoved() {
        let ops = [
            op(0, put("a"), 0, .ok(version: 1), 10),
            op(1, .invalidate(key: K), 20, .removed(true), 30),
            op(2, get(), 40, hit("a", 1), 50),
        ]
        assertIllegal(ops, unplaced: 2)
        assertIllegal(ops, silent: true, unplaced: 2)  // silent removal never brings a value back
    }

    func testSilentRemoval() {
        let ops = [
            op(0, put("a"), 0, .ok(version: 1), 10),
            op(1, get(), 20, .miss, 30),
            op(1, .refresh(key: K, value: b("b"), version: nil), 40, .fail(.notFound), 50),
        ]
        XCTAssertTrue(check(ops).isIllegal)
        XCTAssertEqual(check(ops, silent: true), .ok)
    }

    func testUnknownOutcomes() {
        // Took effect: a later read sees it (automatic version unknown, any newer one fits).
        XCTAssertEqual(check([
            op(0, put("a"), 0, .ok(version: 3), 10),
            op(1, put("b"), 20, .unknown, nil),
            op(2, get(), 40, hit("b", 7), 50),
            op(2, get(), 60, hit("b", 7), 70),
        ]), .ok)
        // Did not take effect.
        XCTAssertEqual(check([
            op(0, put("a"), 0, .ok(version: 3), 10),
            op(1, put("b"), 20, .unknown, nil),
            op(2, get(), 40, hit("a", 3), 50),
        ]), .ok)
        // Took effect late (after a read that did not see it).
        XCTAssertEqual(check([
            op(1, .invalidate(key: K), 0, .unknown, nil),
            op(0, put("a"), 10, .ok(version: 3), 20),
            op(2, get(), 40, hit("a", 3), 50),
            op(2, get(), 60, .miss, 70),
        ]), .ok)
        // But an unknown write cannot excuse a version that goes back, nor be seen at an older version.
        XCTAssertTrue(check([
            op(0, put("a"), 0, .ok(version: 3), 10),
            op(1, put("b"), 20, .unknown, nil),
            op(2, get(), 40, hit("b", 3), 50),
        ]).isIllegal)
        // Nor be seen with two different versions.
        XCTAssertTrue(check([
            op(1, put("b"), 0, .unknown, nil),
            op(2, get(), 40, hit("b", 8), 50),
            op(2, get(), 60, hit("b", 9), 70),
        ]).isIllegal)
    }

    func testBudgetExhaustedIsUnknownNeverOk() {
        var ops: [CacheOperation] = []
        for i in 0..<12 { ops.append(op(i, put("v\(i)"), 0, .ok(version: UInt64(i + 1)), 1000)) }
        ops.append(op(20, get(), 2000, hit("v11", 12), 2001))
        XCTAssertEqual(check(ops), .ok)
        let v = check(ops, budget: SearchBudget(maxExploredStates: 3))
        guard case .unknown(let why) = v else { return XCTFail("expected unknown, got \(v)") }
        XCTAssertTrue(why.contains("budget"), why)
        let t = check(generateHistory(count: 20000, keys: 1, spread: 6, seed: 9),
                      budget: SearchBudget(timeLimit: .zero))
        XCTAssertTrue(t.isUnknown, "\(t)")
    }

    func testMalformedHistoryIsNotAVerdict() {
        XCTAssertTrue(check([op(0, get(), 10, .miss, 5)]).isUnknown)
    }

    func testGeneratedHistoryOkAndMutatedReadIllegal() throws {
        let ops = generateHistory(count: 4000, keys: 4, spread: 5, seed: 42)
        XCTAssertEqual(check(ops), .ok)
        XCTAssertEqual(check(ops, silent: true), .ok)
        // Mutate one read in the middle into a value never written.
        var bad = ops
        let idx = try XCTUnwrap((2000..<4000).first { if case .get = ops[$0].input { return true } else { return false } })
        bad[idx].output = .hit(value: b("never"), version: 1, stale: false)
        guard case .illegal(let f) = check(bad) else { return XCTFail("mutated history must be illegal") }
        XCTAssertEqual(f.unplaced, idx, f.explanation)
        // Mutate a hit into an older version of the same key.
        var older = ops
        var seen: [[UInt8]: (Int, CacheOutput)] = [:]
        var target: Int?
        for i in 0..<ops.count {
            if case .hit(let v, let ver, _) = ops[i].output {
                if let (j, prevOut) = seen[ops[i].input.key], case .hit(_, let pv, _) = prevOut, pv < ver,
                   ops[j].return + 2000 < ops[i].call {
                    older[i].output = prevOut
                    _ = v
                    target = i
                    break
                }
                seen[ops[i].input.key] = (i, ops[i].output)
            }
        }
        XCTAssertNotNil(target)
        XCTAssertTrue(check(older).isIllegal)
    }

    func testExportShape() {
        let ops = [op(3, put("a", version: 7), 10, .ok(version: 7), 20), op(4, get(), 15, .unknown, nil)]
        let s = HistoryExport.porcupineJSON(ops)
        XCTAssertEqual(s, """
        [
        {"client_id":3,"input":{"op":"put","key_hex":"6b","value_hex":"61","version":7},"call":10,"output":{"type":"ok","version":7},"return":20},
        {"client_id":4,"input":{"op":"get","key_hex":"6b"},"call":15,"output":{"type":"unknown"},"return":9223372036854775807}
        ]

        """)
    }

    /// Prints the speed on a generated 100k-op history (not a timed assertion).
    func testSpeed100k() {
        let ops = generateHistory(count: 100_000, keys: 100, spread: 8, seed: 7)
        let r = checkLinearizability(ops)
        XCTAssertEqual(r.verdict, .ok)
        print("linearizability: 100k ops, \(r.partitions.count) keys, \(r.exploredStates) states explored in \(r.elapsed)")
    }

    /// More concurrency per key: 100k ops on 10 keys (10k ops per key), ~40 overlapping calls.
    func testSpeed100kHotKeys() {
        let ops = generateHistory(count: 100_000, keys: 10, spread: 20, seed: 11)
        let r = checkLinearizability(ops, model: CacheModel(allowSilentRemoval: true))
        XCTAssertEqual(r.verdict, .ok)
        print("linearizability: 100k ops, \(r.partitions.count) hot keys, silent removal, \(r.exploredStates) states explored in \(r.elapsed)")
        var bad = ops
        let idx = (50_000..<100_000).first { if case .get = ops[$0].input { return true } else { return false } }!
        bad[idx].output = .hit(value: b("never"), version: 1, stale: false)
        let t = checkLinearizability(bad, model: CacheModel(allowSilentRemoval: true))
        XCTAssertTrue(t.verdict.isIllegal)
        print("linearizability: same with one mutated read → illegal in \(t.elapsed)")
        if case .illegal(let f) = t.verdict { print(f.explanation) }
    }

    /// 1M operations; only with WARMCHECK_BENCH=1 (run it with -c release).
    func testSpeed1M() throws {
        guard getenv("WARMCHECK_BENCH") != nil else { throw XCTSkip("set WARMCHECK_BENCH=1 to run") }
        for (keys, spread) in [(1000, 8), (100, 20)] {
            let ops = generateHistory(count: 1_000_000, keys: keys, spread: spread, seed: 3)
            let r = checkLinearizability(ops)
            XCTAssertEqual(r.verdict, .ok)
            print("linearizability: 1M ops, \(keys) keys, spread \(spread), \(r.exploredStates) states in \(r.elapsed)")
        }
    }
}
