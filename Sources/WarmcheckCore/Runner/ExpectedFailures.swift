import Foundation
import WarmcheckScenario

/// Strict expected-failure lists, one per implementation (protobuf's conformance runner does the
/// same): a listed case that fails with the listed reason is reported but does not fail the run;
/// a listed case that passes does fail it, so a list can never go stale silently.
///
/// File format, one entry per line, `#` starts a comment:
///
///     CASE-GLOB | REASON-SUBSTRING
///
/// e.g. `wait-woken-by-other-language[*consumer=go*] | timed out`. An entry applies to a case when
/// the list's implementation plays some role in it and the glob matches the case name.
public struct ExpectedFailures: Sendable {
    public struct Entry: Sendable {
        public var implementation: String
        public var glob: String
        public var reason: String
        public var location: String
    }

    public var entries: [Entry] = []

    public init() {}

    public mutating func load(implementation: String, path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw UsageError("cannot read the expected-failure list \(path)")
        }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw UsageError("\(path):\(n + 1): expected `CASE-GLOB | REASON`, got `\(trimmed)`")
            }
            entries.append(Entry(implementation: implementation, glob: parts[0], reason: parts[1], location: "\(path):\(n + 1)"))
        }
    }

    /// Applies the lists to a finished case.
    public func apply(_ r: CaseResult) -> CaseResult {
        let impls = Set(r.assignment.map(\.impl))
        guard let e = entries.first(where: { impls.contains($0.implementation) && CaseFilter($0.glob).matches(r.name) }) else {
            return r
        }
        var out = r
        switch r.verdict {
        case .fail, .error:
            if r.reason.contains(e.reason) || r.details.contains(e.reason) {
                out.verdict = .expectedFailure
                out.reason = "listed in \(e.location): \(r.reason)"
            } else {
                out.reason = "listed in \(e.location) as failing with “\(e.reason)”, but failed with: \(r.reason)"
            }
        case .pass:
            out.verdict = .unexpectedPass
            out.reason = "listed as an expected failure in \(e.location) but passed: remove the entry"
            out.details = out.reason
        default:
            break
        }
        return out
    }
}
