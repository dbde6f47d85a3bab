import Foundation
import XCTest
@testable import WarmcheckScenario

final class ExpansionTests: XCTestCase {
    func scenario(_ processes: String, expand: String = "pairs") throws -> Scenario {
        try ScenarioParser.parse(yaml: "name: s\nexpand: \(expand)\nprocesses: \(processes)\ninit: [{advance: 1s}]\n", file: "s.yaml")
    }

    func testPairsOfTwoAnyRoles() throws {
        let cases = expand(try scenario("{writer: any, reader: any}"), implementations: ["go", "rust"])
        XCTAssertEqual(cases.map(\.name), ["s[writer=go,reader=go]", "s[writer=go,reader=rust]",
                                           "s[writer=rust,reader=go]", "s[writer=rust,reader=rust]"])
        XCTAssertEqual(cases[1].implementation(for: "reader"), "rust")
        XCTAssertEqual(cases[1].implementationsByRole, ["writer": "go", "reader": "rust"])
        XCTAssertEqual(cases[1].implementations, ["go", "rust"])
        XCTAssertEqual(expand(try scenario("{a: any, b: any, c: any}"), implementations: ["go", "rust", "swift"]).count, 27)
    }

    func testRoleOrderIsDeclarationOrder() throws {
        let cases = expand(try scenario("{zeta: [go], alpha: [rust]}"), implementations: ["go", "rust"])
        XCTAssertEqual(cases.map(\.name), ["s[zeta=go,alpha=rust]"])
    }

    func testExplicitListsAreLimitedToTheRun() throws {
        let s = try scenario("{producer: rust, consumer: [go, swift]}")
        XCTAssertEqual(expand(s, implementations: ["go", "rust", "swift"]).map(\.name),
                       ["s[producer=rust,consumer=go]", "s[producer=rust,consumer=swift]"])
        XCTAssertEqual(expand(s, implementations: ["go", "swift"]).count, 0)
        XCTAssertEqual(expand(s, implementations: []).count, 0)
    }

    func testSame() throws {
        let s = try scenario("{a: any, b: [go, rust]}", expand: "same")
        XCTAssertEqual(expand(s, implementations: ["go", "rust", "swift"]).map(\.name), ["s[a=go,b=go]", "s[a=rust,b=rust]"])
    }

    func testDiagonalPlusOne() throws {
        let two = try scenario("{a: any, b: any}", expand: "diagonal+one")
        XCTAssertEqual(Set(expand(two, implementations: ["go", "rust"]).map(\.name)),
                       Set(expand(try scenario("{a: any, b: any}"), implementations: ["go", "rust"]).map(\.name)))
        let three = try scenario("{a: any, b: any, c: any}", expand: "diagonal+one")
        let cases = expand(three, implementations: ["go", "rust", "swift"])
        // 3 diagonal cases + 3 roles × 3 bases × 2 others = 21 (no duplicates with 3 roles).
        XCTAssertEqual(cases.count, 21)
        XCTAssertEqual(Array(cases.prefix(4).map(\.name)),
                       ["s[a=go,b=go,c=go]", "s[a=rust,b=rust,c=rust]", "s[a=swift,b=swift,c=swift]", "s[a=rust,b=go,c=go]"])
        XCTAssertEqual(Set(cases.map(\.name)).count, cases.count)
    }

    func testDuplicateImplementationsInRunAreIgnored() throws {
        XCTAssertEqual(expand(try scenario("{a: any}"), implementations: ["go", "go"]).count, 1)
    }

    func testFilter() throws {
        XCTAssertTrue(CaseFilter("s[*]").matches("s[a=go,b=rust]"))
        XCTAssertTrue(CaseFilter("*").matches(""))
        XCTAssertTrue(CaseFilter("*rust*").matches("s[a=go,b=rust]"))
        XCTAssertFalse(CaseFilter("*rust").matches("s[a=go,b=rust]"))
        XCTAssertTrue(CaseFilter("s[a=g?,b=*]").matches("s[a=go,b=rust]"))
        XCTAssertFalse(CaseFilter("s[a=g?,b=*]").matches("s[a=gox,b=rust]"))
        XCTAssertTrue(CaseFilter("refresh-*[writer=go,*]").matches("refresh-while-reading[writer=go,reader=rust]"))
        XCTAssertFalse(CaseFilter("refresh").matches("refresh-while-reading[writer=go]"))
        XCTAssertTrue(CaseFilter("a*b*c").matches("aXXbYYbZZc"))
        XCTAssertFalse(CaseFilter("a*b*c").matches("aXXbYYbZZ"))
        XCTAssertTrue(CaseFilter("??").matches("ab"))
        XCTAssertFalse(CaseFilter("??").matches("abc"))
        XCTAssertTrue(CaseFilter("**x").matches("x"))

        let cases = expand(try scenario("{writer: any, reader: any}"), implementations: ["go", "rust"])
        XCTAssertEqual(filter(cases, patterns: ["*writer=go,*"]).map(\.name), ["s[writer=go,reader=go]", "s[writer=go,reader=rust]"])
        XCTAssertEqual(filter(cases, patterns: []).count, 4)
        XCTAssertEqual(filterCases(cases, patterns: ["*reader=go]"]).count, 2)
        XCTAssertEqual(filter(cases, patterns: ["*reader=go]", "*=rust,*"]).count, 3)
        XCTAssertTrue(matchesAny("x", patterns: []))
        XCTAssertFalse(matchesAny("x", patterns: ["y"]))
    }
}
