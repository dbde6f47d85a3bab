import XCTest
@testable import WarmcheckCore

/// Driver answers are decoded once; a missing or mistyped field is the fixture's contract
/// violation, named by fixture, op and field, never a default the checker would misjudge.
final class DriverAnswerTests: XCTestCase {
    func response(_ text: String) throws -> DriverResponse { try DriverResponse(JSON.parse(text)) }

    func violation(_ text: String, op: String, file: StaticString = #filePath, line: UInt = #line) throws -> DriverContractViolation? {
        do {
            _ = try DriverAnswer.decode(try response(text), op: op, fixture: "fx")
            XCTFail("decoded", file: file, line: line)
            return nil
        } catch let v as DriverContractViolation {
            return v
        }
    }

    func testWellFormedAnswersDecode() throws {
        XCTAssertEqual(try DriverAnswer.decode(response(#"{"id":1,"outcome":"ok","result":{"version":3,"created":true,"shard":1,"slot":2},"transitions":[]}"#),
                                               op: "put", fixture: "fx"), .put(version: 3, created: true, shard: 1, slot: 2))
        XCTAssertEqual(try DriverAnswer.decode(response(#"{"id":1,"outcome":"ok","result":{"hit":false}}"#), op: "get", fixture: "fx"), .get(nil))
        // Past 2^53 a number travels as a decimal string (DRIVER.md).
        XCTAssertEqual(try DriverAnswer.decode(response(#"{"id":1,"outcome":"ok","result":{"version":"18446744073709551615","created":false,"shard":0,"slot":0}}"#),
                                               op: "refresh", fixture: "fx"), .put(version: UInt64.max, created: false, shard: 0, slot: 0))
        XCTAssertEqual(try DriverAnswer.decode(response(#"{"id":1,"outcome":"fail","reason":"busy"}"#), op: "put", fixture: "fx"), .notDone)
    }

    /// Exact past 2^63 as numbers; a negative number is no unsigned field.
    func testUnsignedFieldsAreExactAndNeverNegative() throws {
        XCTAssertEqual(try DriverAnswer.decode(response(#"{"id":1,"outcome":"ok","result":{"version":18446744073709551615,"created":false,"shard":0,"slot":0}}"#),
                                               op: "put", fixture: "fx"), .put(version: UInt64.max, created: false, shard: 0, slot: 0))
        XCTAssertEqual(try DriverAnswer.decode(response(#"{"id":1,"outcome":"ok","result":{"version":9223372036854775808,"created":false,"shard":0,"slot":0}}"#),
                                               op: "put", fixture: "fx"), .put(version: 1 << 63, created: false, shard: 0, slot: 0))
        let v = try XCTUnwrap(try violation(#"{"id":1,"outcome":"ok","result":{"version":-1,"created":false,"shard":0,"slot":0}}"#, op: "put"))
        XCTAssertEqual(v.field, "version")
        XCTAssertTrue("\(v)".contains("not a non-negative integer"), "\(v)")
    }

    func testMissingOrMistypedFieldsNameTheFixtureOpAndField() throws {
        let v = try XCTUnwrap(try violation(#"{"id":1,"outcome":"ok","result":{"created":true,"shard":1,"slot":2}}"#, op: "put"))
        XCTAssertEqual(v, DriverContractViolation(fixture: "fx", op: "put", field: "version", problem: "is missing"))
        XCTAssertEqual(try violation(#"{"id":1,"outcome":"ok","result":{"hit":"yes"}}"#, op: "get")?.field, "hit")
        XCTAssertEqual(try violation(#"{"id":1,"outcome":"ok","result":{"hit":true,"stale":false,"refresh_requested":false,"value_hex":"zz","version":1,"origin_tag":0,"expires_at_ns":0,"stale_until_ns":0,"written_at_ns":0,"writer":{"pid":1,"language":1,"protocol_major":1,"protocol_minor":0,"participant":1,"start_time":1},"shard":0,"slot":0}}"#, op: "get")?.field, "value_hex")
        XCTAssertEqual(try violation(#"{"id":1,"outcome":"ok","result":{"hit":true,"stale":false,"refresh_requested":false,"value_hex":"00","version":1,"origin_tag":0,"expires_at_ns":0,"stale_until_ns":0,"written_at_ns":0,"writer":{"pid":1,"language":1,"protocol_major":1,"protocol_minor":0,"participant":1},"shard":0,"slot":0}}"#, op: "get")?.field, "writer.start_time")
        XCTAssertEqual(try violation(#"{"id":1,"outcome":"ok","result":{"removed":true},"transitions":[{"event":"clear","shard":0,"slot":"x","from":"INVALIDATED","to":"EMPTY","seq":2,"owner":1}]}"#, op: "invalidate")?.field, "transitions[0].slot")
        XCTAssertEqual(try violation(#"{"id":1,"outcome":"fail"}"#, op: "put")?.field, "reason")
        XCTAssertEqual(try violation(#"{"id":1,"outcome":"ok","result":{"participant":0}}"#, op: "open")?.field, "participant")
        XCTAssertEqual(try violation(#"{"id":1,"outcome":"ok","result":{"entries":[{"shard":0,"slot":0,"state":"READY","key_hex":"61"}],"problems":[]}}"#, op: "dump")?.field, "entries[0].seq")
    }

    func testAMistypedAnswerNeverBecomesAMissOrVersionZero() throws {
        let r = try response(#"{"id":1,"outcome":"ok","result":{"hit":true}}"#)
        XCTAssertEqual(DriverResponse.cacheOutput(r, op: "get"), .unknown)
        XCTAssertEqual(DriverResponse.cacheOutput(try response(#"{"id":1,"outcome":"ok","result":{}}"#), op: "put"), .unknown)
    }

    func testHelloMayOnlyListVocabularyPausePoints() throws {
        let hello = #"{"id":1,"outcome":"ok","result":{"language":"go","implementation":"x","protocol":{"major":1,"minor":0},"features":[],"operations":["get"],"pause_points":["put.after_claim","put.after_claimed"],"faults":[]}}"#
        do {
            try HelloAnswer.checked(try response(hello), fixture: "fx")
            XCTFail("accepted a pause point the vocabulary does not define")
        } catch let v as DriverContractViolation {
            XCTAssertEqual(v.field, "pause_points[1]")
        }
        XCTAssertNoThrow(try HelloAnswer.checked(try response(hello.replacingOccurrences(of: #","put.after_claimed""#, with: "")), fixture: "fx"))
    }
}
