@_spi(Harness) import Warmcache
import XCTest

@testable import WarmcheckCore
import WarmcheckSegment

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

    /// docs/MATRIX.md promises that every key lands in its probe window without an eviction, so
    /// that the model needs no placement; a namespace key that evicted a plain one once failed
    /// every cell (`matrix/15` went missing). Replays both sequences' inserts and removals on
    /// an occupancy map placed by the spec's hash (§2, §6): first free slot of the window.
    func testNoStepOfEitherSequenceEvicts() {
        let g = (shards: 4, slots: 16, window: 4)
        for namespaces in [false, true] {
            var occupied: [Int: [UInt8]] = [:], slotOf: [[UInt8]: Int] = [:]
            var staged: [Int64: Int64] = [:]
            func insert(_ k: [UInt8], at step: Int) {
                guard slotOf[k] == nil else { return }
                let h = SpecHash.wch64(k, seed: SpecHash.keySeed)
                let shard = Int((h >> 32) % UInt64(g.shards)), home = Int((h & 0xFFFF_FFFF) % UInt64(g.slots))
                guard let j = (0..<g.window).map({ (home + $0) % g.slots }).first(where: { occupied[shard * g.slots + $0] == nil }) else {
                    return XCTFail("namespaces=\(namespaces): step \(step + 1) needs an eviction for key \(Hex.encode(k))")
                }
                occupied[shard * g.slots + j] = k
                slotOf[k] = shard * g.slots + j
            }
            for (n, st) in MatrixSequence.steps(namespaces: namespaces).enumerated() where st.expect == "ok" {
                let key = st.args["key_hex"]?.string.flatMap(Hex.decode)
                let ns = st.args["ns"]?.int ?? 0
                switch st.op {
                case "put", "refresh": insert(key!, at: n)
                case "invalidate", "evict": if let k = key, let j = slotOf.removeValue(forKey: k) { occupied[j] = nil }
                case "ns_stage": staged[ns] = st.result?["version"]?.int
                case "ns_put": insert(MatrixNamespaces.key(Int(ns), staged[ns]!, key!), at: n)
                default: break
                }
            }
            XCTAssertEqual(slotOf.count, namespaces ? 29 : 23, "namespaces=\(namespaces): the 23 plain entries, and 6 namespace entries (the reclaim is not replayed here)")
        }
    }

    /// The 1.1 part: what the table and a 1.1 reader's `ns_get`s must say, and that the dump of a
    /// 1.1 writer's segment lists the namespace entries under their full keys (§18.1).
    func testNamespaceStepsModel() {
        let table = MatrixSequence.model(namespaces: true)
        XCTAssertEqual(table.count, 23 + 5, "6 namespace puts, 1 reclaimed (ns 1 version 2)")
        XCTAssertNil(table[MatrixNamespaces.key(1, 2, MatrixNamespaces.userKey("x1"))], "reclaimed")
        XCTAssertEqual(table[MatrixNamespaces.key(0, 1, MatrixNamespaces.userKey("item/a1"))]?.version, 34, "the version clock goes on from step 40's 33")
        XCTAssertEqual(MatrixNamespaces.key(3, 2, [0x61]).prefix(8), [0xFF, 0x57, 0x43, 0x4E, 0x53, 0x01, 3, 0], "NS_KEY_MAGIC | ns << 48, little-endian")
        let v = ExpectedView.make(writerLanguage: 2, writerPID: 1, protocolVersion: (1, 1))
        let ns = v.json["namespaces"]!.array!
        XCTAssertEqual(ns.map { $0["current"]!.int! }, [2, 1, 0])
        let reads = ns[0]["reads"]!.array!
        XCTAssertEqual(reads.map { $0["hit"]!.bool! }, [true, false, true, false], "v2 of the catalog: a1 and c1")
        XCTAssertEqual(reads[0]["value_hex"], table[MatrixNamespaces.key(0, 2, MatrixNamespaces.userKey("item/a1"))].map { .string(Hex.encode($0.value)) })
        XCTAssertNil(ExpectedView.make(writerLanguage: 2, writerPID: 1).json["namespaces"], "a 1.0 writer runs no namespace step")
        var wrong = reads[0].object!
        wrong["writer"] = v.json["writer"]
        XCTAssertEqual(v.checkNamespaceRead(reads[0], ns: 0, actual: .object(wrong)), [])
        wrong["ns_version"] = 1
        XCTAssertEqual(v.checkNamespaceRead(reads[0], ns: 0, actual: .object(wrong)).count, 1)
        XCTAssertEqual(v.checkNamespaceState(ns[1], actual: ["current": 1, "previous": 0, "last": 2, "stager": 0, "pins": []]), [])
        XCTAssertEqual(v.checkNamespaceState(ns[1], actual: ["current": 2, "previous": 1, "last": 2, "stager": 0, "pins": []]).count, 2)
    }
}
