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

    /// RFC 8259's number grammar, exactly: each of these was accepted (or turned into infinity)
    /// by the parser before it was made strict.
    func testNumbersFollowTheGrammar() {
        for bad in ["01", "-01", "+1", ".5", "1.", "-.5", "1.e3", "1e", "1e+", "--1", "00", "1e400", "-1e400", "[1e999]", "0x10", "1_000"] {
            XCTAssertThrowsError(try JSON.parse(bad), bad) { e in
                XCTAssertTrue("\(e)".contains("at byte"), "\(bad): \(e)")
            }
        }
        XCTAssertEqual(try JSON.parse("0"), .int(0))
        XCTAssertEqual(try JSON.parse("-0.0"), .double(-0.0))
        XCTAssertEqual(try JSON.parse("1E+2"), .double(100))
        XCTAssertEqual(try JSON.parse("1e-2"), .double(0.01))
        XCTAssertEqual(try JSON.parse("10"), .int(10))
        XCTAssertThrowsError(try JSON.parse("1e400")) { e in XCTAssertTrue("\(e)".contains("out of range"), "\(e)") }
    }

    /// A high surrogate followed by a `\u` escape that is not a low surrogate trapped the parser
    /// (arithmetic overflow) and so crashed the harness; lone surrogates were passed on as U+FFFD.
    func testSurrogatesMustPairUp() throws {
        for bad in [#""\ud83d\u0041""#, #""\ud83d\ud83d""#, #""\ud83d""#, #""\ud83dx""#, #""\ude00""#, #""\udbff\u0000""#, #""\ud800\uffff""#] {
            XCTAssertThrowsError(try JSON.parse(bad), bad) { e in XCTAssertTrue("\(e)".contains("surrogate"), "\(bad): \(e)") }
        }
        XCTAssertEqual(try JSON.parse(#""\ud83d\ude00\u00e9\u0041""#), .string("😀éA"))
        XCTAssertEqual(try JSON.parse(#""\udbff\udfff""#), .string("\u{10FFFF}"))
    }

    func testStringsAreValidUTF8WithoutRawControlCharacters() {
        for bad: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x0A, 0x22], [0x22, 0x7F - 0x60, 0x22]] {
            XCTAssertThrowsError(try JSON.parse(bad), "\(bad)")
        }
        XCTAssertEqual(try JSON.parse(Array("\"é\\n\"".utf8)), .string("é\n"))
    }

    func testTrailingGarbageIsAnError() {
        for bad in ["{} {}", "1 2", "[]]", "\"a\"\"b\"", "null x", "true\u{0}"] {
            XCTAssertThrowsError(try JSON.parse(bad), bad)
        }
        XCTAssertEqual(try JSON.parse(" \t\r\n[1]\n "), .array([.int(1)]))
    }
}
