import Foundation
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import WarmcheckCore

final class ReportTests: XCTestCase {
    func results() -> [CaseResult] {
        [
            CaseResult(name: "a[w=go]", scenario: "a", file: "scenarios/a.yaml", assignment: [("w", "go")], verdict: .pass, seconds: 0.5),
            CaseResult(name: "a[w=rust]", scenario: "a", file: "scenarios/a.yaml", assignment: [("w", "rust")], verdict: .fail,
                       reason: "expected <hit> & got \"miss\"", details: "prose\u{1}with a control byte", seconds: 0.25, rerun: "warmcheck run x"),
            CaseResult(name: "b[w=go]", scenario: "b", file: "scenarios/b.yaml", assignment: [("w", "go")], verdict: .skip, reason: "lacks wait"),
            CaseResult(name: "b[w=rust]", scenario: "b", file: "scenarios/b.yaml", assignment: [("w", "rust")], verdict: .error, reason: "hung"),
            CaseResult(name: "c[w=go]", scenario: "c", file: "scenarios/c.yaml", assignment: [("w", "go")], verdict: .expectedFailure, reason: "known"),
            CaseResult(name: "c[w=rust]", scenario: "c", file: "scenarios/c.yaml", assignment: [("w", "rust")], verdict: .unexpectedPass, reason: "stale entry"),
        ]
    }

    /// Errors apart from failures; stale entries are failures. The line still starts
    /// `N passed, N failed` for the scripts that read it.
    func testSummaryLineCountsErrorsApartAndStaleEntriesAsFailures() {
        let s = RunSummary(results())
        XCTAssertEqual(s.line, "1 passed, 2 failed, 1 errors, 1 skipped")
    }

    func testJUnitIsWellFormedAndCountsEachVerdict() throws {
        let xml = JUnitReport.render(results())
        let doc = try XMLDocument(xmlString: xml)
        let root = try XCTUnwrap(doc.rootElement())
        XCTAssertEqual(root.name, "testsuites")
        XCTAssertEqual(root.attribute(forName: "tests")?.stringValue, "6")
        XCTAssertEqual(root.attribute(forName: "failures")?.stringValue, "2")
        XCTAssertEqual(root.attribute(forName: "errors")?.stringValue, "1")
        XCTAssertEqual(root.attribute(forName: "skipped")?.stringValue, "2", "a skip and an expected failure")
        // The root's totals are the sums of its suites', for every attribute a reader adds up.
        for attr in ["tests", "failures", "errors", "skipped"] {
            let sum = root.elements(forName: "testsuite").reduce(0) { $0 + (Int($1.attribute(forName: attr)?.stringValue ?? "") ?? 0) }
            XCTAssertEqual(root.attribute(forName: attr)?.stringValue, String(sum), attr)
        }
        let suites = root.elements(forName: "testsuite")
        XCTAssertEqual(suites.map { $0.attribute(forName: "name")?.stringValue ?? "" }, ["a", "b", "c"])
        let failure = try XCTUnwrap(suites[0].elements(forName: "testcase")[1].elements(forName: "failure").first)
        XCTAssertEqual(failure.attribute(forName: "message")?.stringValue, "expected <hit> & got \"miss\"")
        XCTAssertTrue(failure.stringValue?.contains("rerun: warmcheck run x") == true)
        XCTAssertFalse(xml.unicodeScalars.contains { $0.value == 1 }, "control bytes must not reach the XML")
    }

    func testNotesReachJUnitAsOutput() throws {
        var r = results()[0]
        r.notes = ["transitions not reported by mine"]
        let doc = try XMLDocument(xmlString: JUnitReport.render([r]))
        let out = try XCTUnwrap(doc.rootElement()?.elements(forName: "testsuite").first?.elements(forName: "testcase").first?
            .elements(forName: "system-out").first)
        XCTAssertEqual(out.stringValue, "note: transitions not reported by mine")
    }

    func testJSONReportListsEveryCase() throws {
        let j = JSONReport.render(results(), seed: 7, fixtures: ["go": ["/bin/go-fixture", "serve"]])
        let back = try JSON.parse(j.serialized)
        XCTAssertEqual(back["cases"]?.array?.count, 6)
        XCTAssertEqual(back["seed"]?.string, "7")
        XCTAssertEqual(back["summary"]?["unexpected_passes"]?.int, 1)
        XCTAssertEqual(back["cases"]?.array?[1]["verdict"]?.string, "fail")
        XCTAssertEqual(back["cases"]?.array?[0]["seconds"], .double(0.5))
    }

    func testExpectedFailuresAreStrict() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xf-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rust.txt")
        try "# known bugs of the rust fixture\na[*] | got \"miss\"\nc[*] | stale\n".write(to: file, atomically: true, encoding: .utf8)
        var ef = ExpectedFailures()
        try ef.load(implementation: "rust", path: file.path)
        let rs = results()
        XCTAssertEqual(ef.apply(rs[1]).verdict, .expectedFailure, "listed, failed with the listed reason")
        XCTAssertEqual(ef.apply(rs[0]).verdict, .pass, "the entry names rust; a go case is untouched")
        var passing = rs[5]
        passing.verdict = .pass
        XCTAssertEqual(ef.apply(passing).verdict, .unexpectedPass, "a listed case that passes fails the run")
        var otherReason = rs[1]
        otherReason.reason = "version went back"
        otherReason.details = ""
        let r = ef.apply(otherReason)
        XCTAssertEqual(r.verdict, .fail, "a different failure than the listed one stays a failure")
        XCTAssertTrue(r.reason.contains("listed"), r.reason)

        try "no separator here\n".write(to: file, atomically: true, encoding: .utf8)
        var bad = ExpectedFailures()
        XCTAssertThrowsError(try bad.load(implementation: "rust", path: file.path)) { e in
            XCTAssertTrue("\(e)".contains("rust.txt:1"), "\(e)")
        }
    }
}
