import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reading back the JUnit XML that `JUnitReport.render` writes, so that `warmcheck merge` can
/// combine the `--junit` reports of shards. Only what render writes is understood: a case's
/// verdict is its child element (`failure` with type fail/xpass, `error`, `skipped`, where an
/// "expected failure: " message is an xfail), the body is "details\n\nrerun: command", and a
/// `system-out` holds the notes one per line.
public struct JUnitReadError: Error, CustomStringConvertible {
    public var description: String
}

extension JUnitReport {
    /// True when `data` looks like XML rather than JSON: its first non-blank byte is `<`.
    public static func looksLikeXML(_ data: Data) -> Bool {
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF]  // whitespace and a UTF-8 BOM
        return data.first { !blank.contains($0) } == UInt8(ascii: "<")
    }

    /// The cases of one JUnit report. `file` names the report in errors.
    public static func parse(_ data: Data, file: String) throws -> [CaseResult] {
        let reader = JUnitReader()
        let parser = XMLParser(data: data)
        parser.delegate = reader
        if !parser.parse() {
            if let problem = reader.problem { throw JUnitReadError(description: "\(file): \(problem)") }
            let why = parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown parser error"
            throw JUnitReadError(description: "\(file): not well-formed XML (line \(parser.lineNumber), column \(parser.columnNumber)): \(why)")
        }
        if let problem = reader.problem { throw JUnitReadError(description: "\(file): \(problem)") }
        // FoundationXML on Linux reports success on a document cut short after some complete
        // elements, so an element still open at the end is what tells a truncated report.
        if let open = reader.open.last {
            throw JUnitReadError(description: "\(file): truncated: <\(open)> is not closed at line \(parser.lineNumber) (not well-formed XML)")
        }
        guard reader.sawRoot else { throw JUnitReadError(description: "\(file): not a JUnit report (no <testsuites> or <testsuite>)") }
        return reader.results
    }
}

/// The XMLParser delegate: one case at a time, its text gathered until its element closes.
private final class JUnitReader: NSObject, XMLParserDelegate {
    var results: [CaseResult] = []
    var problem: String?
    var sawRoot = false
    /// The elements opened and not yet closed, outermost first.
    var open: [String] = []
    private var current: CaseResult?
    private var text = ""

    func fail(_ parser: XMLParser, _ what: String) {
        problem = "line \(parser.lineNumber): \(what)"
        parser.abortParsing()
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]) {
        text = ""
        open.append(name)
        switch name {
        case "testsuites", "testsuite":
            sawRoot = true
        case "testcase":
            guard sawRoot else { return fail(parser, "<testcase> outside a <testsuite>") }
            guard let caseName = a["name"], !caseName.isEmpty else { return fail(parser, "<testcase> without a name") }
            guard let seconds = Double(a["time"] ?? "0") else { return fail(parser, "<testcase \(caseName)>: time \"\(a["time"] ?? "")\" is not a number") }
            current = CaseResult(name: caseName, scenario: a["classname"] ?? "", file: a["file"] ?? "", assignment: [],
                                 verdict: .pass, seconds: seconds)
        case "failure", "error", "skipped":
            guard current != nil else { return fail(parser, "<\(name)> outside a <testcase>") }
            let message = a["message"] ?? ""
            switch name {
            case "failure":
                guard let v = CaseResult.Verdict(rawValue: a["type"] ?? "fail"), v == .fail || v == .unexpectedPass else {
                    return fail(parser, "<failure> of unknown type \"\(a["type"] ?? "")\"")
                }
                current!.verdict = v
                current!.reason = message
            case "error":
                current!.verdict = .error
                current!.reason = message
            default:
                let xfail = "expected failure: "
                current!.verdict = message.hasPrefix(xfail) ? .expectedFailure : .skip
                current!.reason = message.hasPrefix(xfail) ? String(message.dropFirst(xfail.count)) : message
            }
        default:
            break  // properties, system-err and the like: nothing render writes that merge needs
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
        switch name {
        case "failure", "error":
            // render writes details + "\n\nrerun: " + rerun; the last such marker splits them.
            if let r = text.range(of: "\n\nrerun: ", options: .backwards) {
                current?.details = String(text[..<r.lowerBound])
                current?.rerun = String(text[r.upperBound...])
            } else {
                current?.details = text
            }
        case "system-out":
            current?.notes = text.split(separator: "\n").map { $0.hasPrefix("note: ") ? String($0.dropFirst(6)) : String($0) }
        case "testcase":
            if let c = current { results.append(c) }
            current = nil
        default:
            break
        }
        text = ""
    }
}
