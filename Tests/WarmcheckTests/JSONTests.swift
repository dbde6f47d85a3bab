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
