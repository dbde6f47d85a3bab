@_spi(Harness) import Warmcache
import XCTest

@testable import WarmcheckCore

/// The matrix's model must match docs/MATRIX.md; these figures are the ones the document states.
final class MatrixModelTests: XCTestCase {
    func testModelMatchesTheDocumentedSequence() {
        let table = MatrixSequence.model()
        XCTAssertEqual(table.count, 23, "24 keys + big − 3 removed + 07 re-added")
        XCTAssertEqual(table[MatrixSequence.key(0)]?.version, 26)
        XCTAssertEqual(table[MatrixSequence.key(5)]?.version, 31)
        XCTAssertEqual(table[MatrixSequence.key(6)]?.version, 501)
        XCTAssertEqual(table[MatrixSequence.key(7)]?.version, 33)
        XCTAssertNil(table[MatrixSequence.key(8)])
        XCTAssertNil(table[MatrixSequence.key(9)])
        XCTAssertEqual(table[MatrixSequence.bigKey]?.value.count, 256)
        XCTAssertEqual(MatrixSequence.bigKey.count, 32)
    }

    /// Steps 33–35 of docs/MATRIX.md, with every argument the table names (origin, TTL, version),
    /// so that the sequence can be reproduced from the document alone.
    func testStepsThirtyThreeToThirtyFiveAreAsDocumented() {
        let steps = MatrixSequence.steps
        let want: [(op: String, origin: Int64, version: Int64?, expect: String)] = [
            ("put", 2006, 500, "ok"), ("refresh", 2106, 400, "fail:version_not_newer"), ("refresh", 2206, nil, "ok"),
        ]
        for (n, w) in want.enumerated() {
            let s = steps[32 + n]
            XCTAssertEqual(s.op, w.op, "step \(33 + n)")
            XCTAssertEqual(s.args["key_hex"]?.string, Hex.encode(MatrixSequence.key(6)), "step \(33 + n)")
            XCTAssertEqual(s.args["origin_tag"]?.int, w.origin, "step \(33 + n)")
            XCTAssertEqual(s.args["ttl_ns"]?.int ?? 0, 0, "step \(33 + n): no TTL")
            XCTAssertEqual(s.args["grace_ns"]?.int ?? 0, 0, "step \(33 + n): no grace")
            XCTAssertEqual(s.args["version"]?.int, w.version, "step \(33 + n)")
            XCTAssertEqual(s.expect, w.expect, "step \(33 + n)")
        }
        XCTAssertEqual(MatrixSequence.model()[MatrixSequence.key(6)]?.originTag, 2206)
    }

    func testReadsAtTwoSecondsFollowTheTTLClasses() {
        let table = MatrixSequence.model()
        XCTAssertEqual(MatrixSequence.expectedRead(MatrixSequence.key(4), in: table), .fresh(table[MatrixSequence.key(4)]!))
        XCTAssertEqual(MatrixSequence.expectedRead(MatrixSequence.key(1), in: table), .fresh(table[MatrixSequence.key(1)]!))
        XCTAssertEqual(MatrixSequence.expectedRead(MatrixSequence.key(2), in: table), .stale(table[MatrixSequence.key(2)]!))
        XCTAssertEqual(MatrixSequence.expectedRead(MatrixSequence.key(3), in: table), .miss)
        XCTAssertEqual(MatrixSequence.expectedRead(MatrixSequence.key(8), in: table), .miss)
    }

    func testExpectedViewCatchesEachKindOfDifference() {
        let v = ExpectedView.make(writerLanguage: 1, writerPID: 42)
        let want = v.json["reads"]!.array!.first { $0["hit"]?.bool == true && $0["stale"]?.bool == true }!
        var actual = want.object!
        actual["writer"] = ["language": 1, "pid": 42, "participant": 1, "protocol_major": 1, "protocol_minor": 0]
        XCTAssertEqual(v.checkRead(want, actual: .object(actual)), [], "language code 1 is go")
        var wrong = actual
        wrong["version"] = .int(want["version"]!.int! - 1)
        XCTAssertEqual(v.checkRead(want, actual: .object(wrong)).count, 1)
        wrong = actual
        wrong["refresh_requested"] = false
        XCTAssertEqual(v.checkRead(want, actual: .object(wrong)).count, 1)
        wrong = actual
        wrong["writer"] = ["language": "rust", "pid": 42, "participant": 1, "protocol_major": 1, "protocol_minor": 0]
        XCTAssertEqual(v.checkRead(want, actual: .object(wrong)).count, 1)
        wrong = actual
        wrong["writer"] = ["language": "go", "pid": 42, "participant": 1, "protocol_major": 1, "protocol_minor": 0]
        let named = v.checkRead(want, actual: .object(wrong))
        XCTAssertEqual(named.count, 1)
        XCTAssertTrue(named.first?.hasSuffix("writer language must be the §7.3 code as a JSON number, got \"go\"") == true,
                      "provenance carries the code, never the name: \(named)")
        XCTAssertEqual(v.checkRead(want, actual: ["hit": false]).count, 1)
        XCTAssertEqual(v.checkDump(["entries": [], "problems": []]).count, 23, "every missing entry is named")
    }

    /// A third-party writer is judged by the code its hello declared, not by the harness's table.
    func testUnregisteredLanguageCodeIsCheckedAgainstTheDeclaredOne() {
        let v = ExpectedView.make(writerLanguage: 7, writerPID: 42)
        let want = v.json["reads"]!.array!.first { $0["hit"]?.bool == true }!
        var actual = want.object!
        actual["stale"] = want["stale"]
        actual["writer"] = ["language": 7, "pid": 42, "participant": 1, "protocol_major": 1, "protocol_minor": 0]
        XCTAssertEqual(v.checkRead(want, actual: .object(actual)), [])
        actual["writer"] = ["language": 1, "pid": 42, "participant": 1, "protocol_major": 1, "protocol_minor": 0]
        XCTAssertEqual(v.checkRead(want, actual: .object(actual)).count, 1)
    }
}
