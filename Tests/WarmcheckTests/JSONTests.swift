import XCTest

@testable import WarmcheckCore

final class JSONTests: XCTestCase {
    func testRoundTrip() throws {
        let text = #"{"a":[1,-2,3.5,true,false,null],"b":{"c":"x\"y\n\u00e9\ud83d\ude00"},"big":"18446744073709551615"}"#
        let j = try JSON.parse(text)
        XCTAssertEqual(j["a"]?.array?.count, 6)
        XCTAssertEqual(j["a"]?.array?[1].int, -2)
        XCTAssertEqual(j["a"]?.array?[2], .double(3.5))
        XCTAssertEqual(j["a"]?.array?[3], .bool(true))
        XCTAssertEqual(j["b"]?["c"]?.string, "x\"y\né😀")
        XCTAssertEqual(j["big"]?.uint, UInt64.max)
        XCTAssertEqual(try JSON.parse(j.serialized), j)
        XCTAssertEqual(try JSON.parse(j.pretty), j)
    }

    func testErrorsSayWhere() {
        for (bad, what) in [("{\"a\":", "unexpected end"), ("[1,2", "unterminated array"), ("{\"a\" 1}", "expected ':'"),
                            ("tru", "expected true"), ("\"abc", "unterminated string"), ("[1] x", "trailing")] {
            XCTAssertThrowsError(try JSON.parse(bad), bad) { e in
                XCTAssertTrue("\(e)".contains(what), "\(bad): \(e)")
                XCTAssertTrue("\(e)".contains("at byte"), "\(e)")
            }
        }
    }

    /// The parser's fast paths (plain strings, short integers) must agree with the careful ones.
    func testNumbersAndStringsAtTheEdges() throws {
        let j = try JSON.parse(#"[0,-0,7,-7,123456789012345678,1234567890123456789,-9223372036854775808,9223372036854775807,"#
            + #"9223372036854775808,1e3,-1.5,"","plain","a\tb","midAdle","é"]"#)
        let a = try XCTUnwrap(j.array)
        XCTAssertEqual(a[0], .int(0))
        XCTAssertEqual(a[1], .int(0))
        XCTAssertEqual(a[2], .int(7))
        XCTAssertEqual(a[3], .int(-7))
        XCTAssertEqual(a[4], .int(123_456_789_012_345_678))
        XCTAssertEqual(a[5], .int(1_234_567_890_123_456_789))
        XCTAssertEqual(a[6], .int(Int64.min))
        XCTAssertEqual(a[7], .int(Int64.max))
        XCTAssertEqual(a[8], .double(9_223_372_036_854_775_808))
        XCTAssertEqual(a[9], .double(1000))
        XCTAssertEqual(a[10], .double(-1.5))
        XCTAssertEqual(a[11], .string(""))
        XCTAssertEqual(a[12], .string("plain"))
        XCTAssertEqual(a[13], .string("a\tb"))
        XCTAssertEqual(a[14], .string("midAdle"))
        XCTAssertEqual(a[15], .string("é"))
        for bad in ["-", "[-]", "\"a\u{01}\"", "\"tab\there\"", "nul", "[tru]"] {
            XCTAssertThrowsError(try JSON.parse(bad), bad)
        }
    }

    func testDeepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try JSON.parse(deep))
    }

    func testHex() {
        XCTAssertEqual(Hex.encode([0, 1, 0xab, 0xff]), "0001abff")
        XCTAssertEqual(Hex.decode("0001ABff"), [0, 1, 0xab, 0xff])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
    }
}
