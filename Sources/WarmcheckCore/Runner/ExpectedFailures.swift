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
/// `warmcheck run --write-expected-failures FILE` starts such a list (docs/SCENARIOS.md).
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

    /// An expected-failure list of `results` (the failed and errored cases of a run): one entry
    /// per case, its exact name as the glob and the stable head of its reason, the part before
    /// anything run-specific (numbers: pids, schedule numbers, byte counts).
    public static func listing(_ results: [CaseResult], command: String) -> String {
        var out = "# Expected failures written by: \(command)\n"
        out += "# Format: CASE-GLOB | REASON-SUBSTRING (docs/SCENARIOS.md, \"Expected-failure lists\").\n"
        out += "# Use it with --expected-failures IMPL=FILE; a listed case that passes fails the run.\n"
        for r in results {
            out += "\(r.name) | \(stableReason(r.reason))\n"
        }
        return out
    }

    /// The head of a reason that another run of the same failure repeats.
    static func stableReason(_ reason: String) -> String {
        var whole = reason
        if let r = whole.range(of: "schedule [0-9]+ of [a-z]+: ", options: .regularExpression) { whole.removeSubrange(r) }
        whole = whole.replacingOccurrences(of: "#", with: " ")
        var s = whole
        if let cut = s.firstIndex(where: { $0.isNumber }) { s = String(s[..<cut]) }
        s = s.trimmingCharacters(in: CharacterSet(charactersIn: " \t:;,(-=[{\"'`"))
        // Too little before the first number to identify anything: the whole reason.
        if s.count < 8 { s = whole }
        return String(s.prefix(80)).trimmingCharacters(in: .whitespaces)
    }
}
