import Foundation

/// The outcome of one expanded scenario case, as every reporter sees it.
public struct CaseResult: Sendable {
    public enum Verdict: String, Sendable {
        case pass
        /// A conformance failure: the implementation broke the protocol.
        case fail
        /// The case could not run as written (a fixture lacks an operation).
        case skip
        /// A harness or fixture problem (crash, hang, garbage), not a protocol verdict.
        case error
        /// Failed as an expected-failure list says it would: reported, does not fail the run.
        case expectedFailure = "xfail"
        /// Listed as an expected failure but passed: the list is stale, which fails the run.
        case unexpectedPass = "xpass"
    }

    public var name: String
    public var scenario: String
    public var file: String
    public var assignment: [(role: String, impl: String)]
    public var verdict: Verdict
    /// One line: what went wrong (empty on a pass).
    public var reason: String
    /// Prose: what was observed, what the spec allows there, and the steps that led there.
    public var details: String
    public var seconds: Double
    public var rerun: String
    public var stats: [String: Int] = [:]
    /// What this verdict did not cover, said plainly (e.g. "transitions not reported by mine:
    /// the state machine was not checked"): a pass with notes is a weaker pass, and reports show it.
    public var notes: [String] = []

    public init(name: String, scenario: String, file: String, assignment: [(role: String, impl: String)],
                verdict: Verdict, reason: String = "", details: String = "", seconds: Double = 0, rerun: String = "") {
        self.name = name
        self.scenario = scenario
        self.file = file
        self.assignment = assignment
        self.verdict = verdict
        self.reason = reason
        self.details = details
        self.seconds = seconds
        self.rerun = rerun
    }

    /// Whether this case makes the run fail (exit status 1).
    public var failsRun: Bool { verdict == .fail || verdict == .unexpectedPass }
}

/// Summary counts; `line` is the plain closing line CI systems read.
public struct RunSummary: Sendable {
    public var passed = 0, failed = 0, skipped = 0, errors = 0, expectedFailures = 0, unexpectedPasses = 0

    public init(_ results: [CaseResult]) {
        for r in results {
            switch r.verdict {
            case .pass: passed += 1
            case .fail: failed += 1
            case .skip: skipped += 1
            case .error: errors += 1
            case .expectedFailure: expectedFailures += 1
            case .unexpectedPass: unexpectedPasses += 1
            }
        }
    }

    /// `N passed, N failed, N errors`: conformance failures (and stale expected-failure
    /// entries) apart from harness/fixture errors, which say nothing about the protocol.
    public var line: String {
        var s = "\(passed) passed, \(failed + unexpectedPasses) failed, \(errors) errors"
        if skipped > 0 { s += ", \(skipped) skipped" }
        return s
    }

    public var detailLine: String {
        var parts: [String] = []
        if expectedFailures > 0 { parts.append("\(expectedFailures) expected failures") }
        if unexpectedPasses > 0 { parts.append("\(unexpectedPasses) unexpected passes") }
        return parts.joined(separator: ", ")
    }
}
