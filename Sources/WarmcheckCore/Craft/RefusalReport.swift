import Foundation

/// One implementation's answer to one crafted case.
public struct RefusalResult: Sendable {
    public enum Verdict: String, Sendable { case pass, fail, knownFailure = "known_failure", skipped }
    public var caseName: String
    /// A fixture name, `inspect`, or `*` for a case skipped everywhere.
    public var implementation: String
    public var expected: RefusalExpectation
    public var answer: String
    public var verdict: Verdict
    public var detail: String
}

/// The gate's results: a table of case × implementation, JSON, and the counts.
public struct RefusalReport: Sendable {
    public var cases: [RefusalCase]
    public var implementations: [String]
    public var results: [RefusalResult]

    func results(of c: String) -> [RefusalResult] { results.filter { $0.caseName == c } }

    /// A case passes when no implementation (nor inspect) failed it; skipped cases count neither way.
    public var passCount: Int { cases.filter { caseVerdict($0.name) == .pass }.count }
    public var failCount: Int { cases.filter { caseVerdict($0.name) == .fail }.count }
    public var countedCases: Int { passCount + failCount }
    /// Passing cases that pass only because an implementation's failure is a listed known one.
    public var knownFailureCases: Int {
        cases.filter { c in caseVerdict(c.name) == .pass && results(of: c.name).contains { $0.verdict == .knownFailure } }.count
    }
    public var allPass: Bool { failCount == 0 }

    public func caseVerdict(_ name: String) -> RefusalResult.Verdict {
        let rs = results(of: name)
        if rs.contains(where: { $0.verdict == .fail }) { return .fail }
        if rs.allSatisfy({ $0.verdict == .skipped }) { return .skipped }
        return .pass
    }

    public func table() -> String {
        let width = max(28, (cases.map(\.name.count).max() ?? 0) + 1)
        let expectWidth = 26
        let colWidth = max(10, implementations.map(\.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var out = pad("case", width) + pad("expected", expectWidth) + implementations.map { pad($0, colWidth) }.joined() + "\n"
        for c in cases {
            let rs = results(of: c.name)
            out += pad(c.name, width) + pad(c.expect.description, expectWidth)
            if let s = rs.first, s.implementation == "*" {
                out += "skipped: \(s.detail)\n"
                continue
            }
            for impl in implementations {
                guard let r = rs.first(where: { $0.implementation == impl }) else { out += pad("-", colWidth); continue }
                switch r.verdict {
                case .pass: out += pad("ok", colWidth)
                case .knownFailure: out += pad("known", colWidth)
                case .skipped: out += pad("skip", colWidth)
                case .fail: out += pad("FAIL", colWidth)
                }
            }
            out += "\n"
        }
        let bad = results.filter { $0.verdict == .fail || $0.verdict == .knownFailure }
        for r in bad {
            out += "\n\(r.verdict == .fail ? "FAIL" : "known failure") \(r.caseName) [\(r.implementation)]: expected \(r.expected), answered \(r.answer)"
            if !r.detail.isEmpty { out += "\n    \(r.detail.split(separator: "\n").prefix(12).joined(separator: "\n    "))" }
        }
        if !bad.isEmpty { out += "\n" }
        return out
    }

    public func json() -> JSON {
        .object([
            "implementations": .array(implementations.map { .string($0) }),
            "passed": .int(Int64(passCount)), "failed": .int(Int64(failCount)),
            "cases": .array(cases.map { c in
                .object([
                    "name": .string(c.name), "what": .string(c.what), "spec": .string(c.spec),
                    "expected": .string(c.expect.description), "verdict": .string(caseVerdict(c.name).rawValue),
                    "answers": .array(results(of: c.name).map { r in
                        .object(["implementation": .string(r.implementation), "answer": .string(r.answer),
                                 "verdict": .string(r.verdict.rawValue), "detail": .string(r.detail)])
                    }),
                ])
            }),
        ])
    }

    /// The manifest alone (`--list`): every case with the answer the spec requires.
    public static func manifest(_ cases: [RefusalCase]) -> String {
        cases.map { "\($0.name)\t\($0.expect)\t\($0.spec)\t\($0.what)" }.joined(separator: "\n") + "\n"
    }
}
