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
        XCTAssertEqual(a[8], .uint(9_223_372_036_854_775_808))
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

    /// DRIVER.md: integers are exact up to 2^64 − 1, past 2^63 too; beyond that range one is
    /// refused with its field named, never rounded to a Double; a negative one is no unsigned.
    func testIntegersAreExactUpTo2To64Minus1() throws {
        let j = try JSON.parse(#"{"a":9223372036854775807,"b":9223372036854775808,"c":18446744073709551615,"d":-1,"e":-9223372036854775808}"#)
        XCTAssertEqual(j["a"], .int(Int64.max))
        XCTAssertEqual(j["b"], .uint(1 << 63))
        XCTAssertEqual(j["b"]?.uint, 9_223_372_036_854_775_808)
        XCTAssertEqual(j["c"], .uint(UInt64.max))
        XCTAssertEqual(j["c"]?.uint, UInt64.max)
        XCTAssertNil(j["c"]?.int, "2^64 − 1 is no Int64")
        XCTAssertEqual(j["d"]?.int, -1)
        XCTAssertNil(j["d"]?.uint, "−1 is no unsigned value (not its bit pattern 2^64 − 1)")
        XCTAssertEqual(j["e"], .int(Int64.min))
        XCTAssertEqual(j.serialized, #"{"a":9223372036854775807,"b":9223372036854775808,"c":18446744073709551615,"d":-1,"e":-9223372036854775808}"#)
        // One spelling per integer: JSON(unsigned:) picks .int while it fits.
        XCTAssertEqual(JSON(unsigned: 5), .int(5))
        XCTAssertEqual(JSON(unsigned: UInt64(Int64.max)), .int(Int64.max))
        XCTAssertEqual(JSON(unsigned: UInt64.max), .uint(UInt64.max))
        XCTAssertEqual(try JSON.parse(JSON.object(["v": JSON(unsigned: 5)]).serialized), ["v": 5])
        for (text, field) in [(#"{"version":18446744073709551616}"#, "version"), (#"{"x":{"seq":-9223372036854775809}}"#, "seq"),
                              (#"[99999999999999999999999]"#, nil)] {
            XCTAssertThrowsError(try JSON.parse(text), text) { e in
                XCTAssertTrue("\(e)".contains("outside −2^63 … 2^64 − 1"), "\(e)")
                if let field { XCTAssertTrue("\(e)".contains("in field \"\(field)\""), "\(e)") }
            }
        }
    }

    /// Random integers of the whole range survive serialization and parsing exactly.
    func testIntegerRoundTripFuzz() throws {
        var rng = SplitMix64(seed: 0x2_64)
        var wrong: [String] = []
        // 100,000 pairs; one assertion at the end (an XCTAssert per pair costs more than the parse).
        for i in 0..<100_000 {
            let u = rng.next() >> (i % 3 == 0 ? 0 : rng.below(64))
            let s = Int64(bitPattern: rng.next()) >> rng.below(64)
            let j = JSON.array([JSON(unsigned: u), .int(s)])
            let back = try JSON.parse(j.serialized)
            if back != j || back.array?[0].uint != u || back.array?[1].int != s { wrong.append(j.serialized + " → " + back.serialized) }
        }
        XCTAssertEqual(wrong.prefix(5), [])
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
