import Foundation
import XCTest

@testable import WarmcheckCore

/// The mutation engine on small sources: what the tokenizer skips, what each operator writes,
/// and that mutant identities are stable.
final class MutationEngineTests: XCTestCase {
    func tokens(_ lang: MutationLanguage, _ text: String) -> [String] {
        Tokenizer(language: lang).tokenize(text).filter { $0.kind != .literal }.map(\.text)
    }

    /// Every mutant of `body` wrapped in a function, as (operator, mutated text of the function).
    func mutants(_ lang: MutationLanguage, _ source: String) -> [(op: String, text: String)] {
        MutantGenerator.mutants(file: "f", text: source, language: lang).map { ($0.op, $0.apply(to: source)) }
    }

    func has(_ ms: [(op: String, text: String)], _ op: MutationOperator, _ fragment: String,
             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(ms.contains { $0.op == op.rawValue && $0.text.contains(fragment) },
                      "no \(op.rawValue) mutant containing \(fragment); got:\n" + ms.filter { $0.op == op.rawValue }.map(\.text).joined(separator: "\n---\n"),
                      file: file, line: line)
    }

    func testTokenizerSkipsCommentsAndStringsOfEachLanguage() {
        let go = "a // x < y\n/* p == q */ b := \"c < d\" + `e\n== f` + 'g'\n"
        XCTAssertEqual(tokens(.go, go), ["a", "b", ":=", "+", "+"])
        let rust = "let s = r#\"a \" < b\"#; let c = '<'; let b = b\"x==y\"; /* a /* nested < */ == */ fn f<'a>(x: &'a u8) {}"
        XCTAssertEqual(tokens(.rust, rust), ["let", "s", "=", ";", "let", "c", "=", ";", "let", "b", "=", ";",
                                             "fn", "f", "<", "'", "a", ">", "(", "x", ":", "&", "'", "a", "u8", ")", "{", "}"])
        let swift = "let s = \"\"\"\n  a < b \"quoted\" \\(x == y)\n  \"\"\"\nlet r = #\"raw \" == \"#\nlet i = \"v \\(f(\"<\")) w\" /* a /* b */ < */ ; z"
        XCTAssertEqual(tokens(.swift, swift), ["let", "s", "=", "let", "r", "=", "let", "i", "=", ";", "z"])
    }

    func testTokenPositionsAreLinesAndColumns() {
        let t = Tokenizer(language: .go).tokenize("x\n  // c\n\ty <= z")
        XCTAssertEqual(t.map(\.line), [1, 3, 3, 3])
        XCTAssertEqual(t[2].column, 4)
        XCTAssertTrue(t[1].newlineBefore)
        XCTAssertFalse(t[2].newlineBefore)
    }

    func testComparisonAndNumberOperators() {
        let src = "package p\nfunc f(a []int, i int) int {\n\tif i < len(a) && a[i] == 3 {\n\t\treturn a[i] + 1\n\t}\n\treturn 0\n}\n"
        let ms = mutants(.go, src)
        has(ms, .cmpBoundary, "i <= len(a)")
        has(ms, .cmpEq, "a[i] != 3")
        has(ms, .constOff, "== 4")
        has(ms, .constOff, "== 2")
        has(ms, .seqAdd, "a[i] + 2")
        has(ms, .constOff, "a[i] + 0")
        has(ms, .indexOff, "a[(i) + 1] == 3")
        has(ms, .negateCond, "if !(i < len(a) && a[i] == 3) {")
        has(ms, .dropCheck, "{\n\t\n\treturn 0")
        // Generics and slices are never taken for comparisons or indices.
        let generic = mutants(.rust, "fn f(v: Vec<Vec<u8>>) -> usize { v[1..].len() }\n")
        XCTAssertFalse(generic.contains { $0.op == MutationOperator.cmpBoundary.rawValue || $0.op == MutationOperator.indexOff.rawValue })
    }

    func testStatementOperators() {
        let src = "package p\nfunc f(x *int, n int) {\n\tfor i := 0; i < n; i++ {\n\t\tif i == 2 {\n\t\t\tcontinue\n\t\t}\n\t\t*x = i\n\t\tg(i)\n\t}\n}\n"
        let ms = mutants(.go, src)
        has(ms, .dropStmt, "\t\t\n\t\tg(i)")
        has(ms, .dropReturn, "if i == 2 {\n\t\t\t\n\t\t}")
        has(ms, .swapStmt, "\t\tg(i)\n\t\t*x = i\n")
        has(ms, .loopBound, "i < n - 1; i++")
        // The `for` header is one statement: its clauses are never dropped on their own.
        XCTAssertFalse(ms.contains { $0.op == MutationOperator.dropStmt.rawValue && $0.text.contains("for i := 0;  i++") })
        let rust = "fn f(v: &mut Vec<u64>, n: usize) {\n    for i in 0..n {\n        v.push(i as u64);\n    }\n    while v.len() < n {\n        v.pop();\n    }\n}\n"
        let rs = mutants(.rust, rust)
        has(rs, .loopBound, "for i in 0..n - 1 {")
        has(rs, .loopBound, "while v.len() < n - 1 {")
        has(rs, .dropStmt, "{\n        \n    }\n    while")
        let swift = "func f(_ a: inout [Int], n: Int) {\n    guard n > 0 else { return }\n    for i in 0..<n {\n        a[i] = i\n    }\n}\n"
        let sw = mutants(.swift, swift)
        has(sw, .dropCheck, "{\n    \n    for")
        has(sw, .negateCond, "guard !(n > 0) else")
        has(sw, .loopBound, "0..<n - 1 {")
        has(sw, .indexOff, "a[(i) + 1] = i")
    }

    func testAtomicOperators() {
        let rust = "fn f(w: &AtomicU64) -> bool {\n    let v = w.load(Ordering::Acquire);\n    fence(Ordering::SeqCst);\n    w.fetch_add(1, Ordering::Relaxed);\n    w.compare_exchange(v, 1, Ordering::AcqRel, Ordering::Relaxed).is_ok()\n}\n"
        let rs = mutants(.rust, rust)
        has(rs, .atomicOrder, "w.load(Ordering::Relaxed)")
        XCTAssertFalse(rs.contains { $0.op == MutationOperator.atomicOrder.rawValue && $0.text.contains("fence(Ordering::Relaxed)") },
                       "a relaxed fence does not exist")
        has(rs, .atomicCAS, "({ let m = &w; let c = m.load(std::sync::atomic::Ordering::SeqCst); if c == (v) { m.store(1, std::sync::atomic::Ordering::SeqCst); Ok(c) } else { Err(c) } }).is_ok()")
        has(rs, .atomicRMW, "m.store(v.wrapping_add(1)")
        let go = "package p\nfunc f(p *uint64) bool {\n\tatomic.AddUint64(p, 2)\n\treturn atomic.CompareAndSwapUint64(p, 1, 2)\n}\n"
        let gs = mutants(.go, go)
        has(gs, .atomicCAS, "return func() bool { if atomic.LoadUint64(p) == 1 { atomic.StoreUint64(p, 2); return true }; return false }()")
        has(gs, .atomicRMW, "func() uint64 { v := atomic.LoadUint64(p) + 2; atomic.StoreUint64(p, v); return v }()")
        XCTAssertFalse(gs.contains { $0.op == MutationOperator.atomicOrder.rawValue }, "Go has only sequentially consistent atomics")
        let swift = "func f(w: UnsafeAtomic<UInt64>) -> Bool {\n    w.compareExchange(expected: 1, desired: 2, successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring).exchanged\n}\n"
        let sw = mutants(.swift, swift)
        has(sw, .atomicOrder, "successOrdering: .relaxed, failureOrdering: .acquiring")
        has(sw, .atomicCAS, "let o = m.load(ordering: .sequentiallyConsistent); if o == 1 { m.store(2,")
    }

    func testFieldConstantsMoveByOneWord() {
        let ms = mutants(.go, "package p\nconst (\n\tOffA = 16\n\tOffB = 3\n)\nconst Size = 64\n")
        has(ms, .fieldConst, "OffA = 24")
        has(ms, .fieldConst, "OffB = 4")
        has(ms, .fieldConst, "Size = 72")
        let rs = mutants(.rust, "pub const SLOT_STATE: usize = 8;\n")
        has(rs, .fieldConst, "= 16;")
    }

    func testFaultBranchesAndPauseHooksAreNotMutated() {
        let src = """
            package p
            func f(c *C) int {
            \tif c.faults.has(FaultX) {
            \t\treturn 1
            \t}
            \tc.hooks.at(PointX)
            \tlocked := !c.faults.has(FaultY)
            \treturn g(locked) + 1
            }

            """
        let ms = MutantGenerator.mutants(file: "f", text: src, language: .go)
        XCTAssertFalse(ms.contains { $0.line >= 3 && $0.line <= 7 }, ms.filter { $0.line <= 7 }.map(\.id).joined(separator: ", "))
        XCTAssertTrue(ms.contains { $0.line == 8 })
        // A fault test in expression position: its branch is masked, the else branch is not.
        let rs = MutantGenerator.mutants(file: "f.rs", text: """
            fn f(faults: Faults) -> S {
                S {
                    seed: if faults.has(Fault::WrongHash) { SEED.wrapping_add(1) } else { SEED + 2 },
                }
            }

            """, language: .rust)
        XCTAssertFalse(rs.contains { $0.after.contains("wrapping_add(2)") || $0.after.contains("wrapping_add(0)") }, rs.map(\.id).joined(separator: ", "))
        XCTAssertTrue(rs.contains { $0.after.contains("SEED + 3") }, rs.map(\.id).joined(separator: ", "))
        // A #[doc(hidden)] test hook is not mutated; the function after it is.
        let hook = MutantGenerator.mutants(file: "h.rs", text: """
            impl C {
                #[doc(hidden)]
                pub fn publish_staged(&self) -> u64 { self.leave(1) }
                pub fn put(&self) -> u64 { self.leave(1) }
            }

            """, language: .rust)
        XCTAssertFalse(hook.contains { $0.function == "publish_staged" }, hook.map(\.id).joined(separator: ", "))
        XCTAssertTrue(hook.contains { $0.function == "put" }, hook.map(\.id).joined(separator: ", "))
        // A Swift test hook (`testStopAfterClaim`): its `if` is not mutated, nor the hook operand of
        // a larger condition; the code after them is.
        let sw = MutantGenerator.mutants(file: "h.swift", text: """
            func f() -> Int {
                if testStopAfterClaim { return 1 }
                if legacy || testStopAfterClaim { return 2 }
                return g(3)
            }

            """, language: .swift)
        XCTAssertFalse(sw.contains { $0.line == 2 }, sw.map(\.id).joined(separator: ", "))
        XCTAssertFalse(sw.contains { $0.line == 3 && $0.before.contains("testStopAfterClaim") && !$0.after.contains("testStopAfterClaim") }, sw.map(\.id).joined(separator: ", "))
        XCTAssertTrue(sw.contains { $0.line == 4 }, sw.map(\.id).joined(separator: ", "))
    }

    func testIDsAndKeysAreStableAndSurviveUnrelatedEdits() {
        let src = "package p\nfunc f(a int) int {\n\tif a < 3 {\n\t\treturn a\n\t}\n\treturn a + 1\n}\n"
        let one = MutantGenerator.mutants(file: "x.go", text: src, language: .go)
        let two = MutantGenerator.mutants(file: "x.go", text: src, language: .go)
        XCTAssertEqual(one.map(\.id), two.map(\.id))
        XCTAssertEqual(Set(one.map(\.key)).count, one.count, "keys are unique within a file")
        XCTAssertTrue(one.contains { $0.id == "x.go:3:7:cmp-boundary:0" }, one.map(\.id).joined(separator: " "))
        // Lines added above move every id but no key.
        let moved = MutantGenerator.mutants(file: "x.go", text: "// a comment\n\n" + src, language: .go)
        XCTAssertEqual(one.map(\.key), moved.map(\.key))
        XCTAssertNotEqual(one.map(\.id), moved.map(\.id))
        // Two identical lines: the occurrence tells their mutants apart.
        let twice = "package p\nfunc f(a int) int {\n\tg(a + 1)\n\tg(a + 1)\n\treturn 0\n}\n"
        let keys = MutantGenerator.mutants(file: "y.go", text: twice, language: .go).filter { $0.op == "seq-add" }.map(\.key)
        XCTAssertEqual(keys.count, 2)
        XCTAssertEqual(keys.map { $0.hasSuffix(":1") }, [true, false])
    }

    func testEveryMutantOfTheRealSourcesChangesTheText() throws {
        let root = try XCTUnwrap(Repo.root())
        for lang in MutationLanguage.allCases {
            let files = MutationTargets.files(root: root, language: lang)
            XCTAssertFalse(files.isEmpty)
            XCTAssertFalse(files.contains { MutationTargets.excluded[$0] != nil })
            for f in files {
                let text = try String(contentsOf: root.appendingPathComponent(f), encoding: .utf8)
                let ms = MutantGenerator.mutants(file: f, text: text, language: lang)
                XCTAssertEqual(Set(ms.map(\.id)).count, ms.count, "\(f): ids are unique")
                for m in ms.prefix(50) { XCTAssertNotEqual(m.apply(to: text), text, m.id) }
            }
        }
    }
}

extension MutationEngineTests {
    func testRustUnitTestModulesAreNotMutated() {
        let src = "fn f(a: u64) -> u64 {\n    a + 1\n}\n#[cfg(test)]\nmod tests {\n    fn t() { assert!(f(1) == 2); }\n}\n"
        let ms = MutantGenerator.mutants(file: "f.rs", text: src, language: .rust)
        XCTAssertTrue(ms.contains { $0.line == 2 })
        XCTAssertFalse(ms.contains { $0.line > 3 }, ms.map(\.id).joined(separator: " "))
    }
}
