import Foundation

/// JUnit XML as Jenkins, GitLab and GitHub's test reporters read it: one <testsuite> per scenario
/// file, one <testcase> per expanded case; failures carry the one-line reason as the message and
/// the prose explanation as the body.
public enum JUnitReport {
    public static func render(_ results: [CaseResult], suiteName: String = "warmcheck") -> String {
        let groups = Dictionary(grouping: results, by: \.scenario)
        let total = RunSummary(results)
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        // The root's totals are the sums of the suites' (an expected failure is reported as skipped
        // in both), which is what JUnit readers add up and compare.
        x += "<testsuites name=\"\(esc(suiteName))\" tests=\"\(results.count)\" failures=\"\(total.failed + total.unexpectedPasses)\" "
            + "errors=\"\(total.errors)\" skipped=\"\(total.skipped + total.expectedFailures)\" time=\"\(fmt(results.reduce(0) { $0 + $1.seconds }))\">\n"
        for scenario in groups.keys.sorted() {
            let cases = groups[scenario]!
            let s = RunSummary(cases)
            x += "  <testsuite name=\"\(esc(scenario))\" tests=\"\(cases.count)\" failures=\"\(s.failed + s.unexpectedPasses)\" "
                + "errors=\"\(s.errors)\" skipped=\"\(s.skipped + s.expectedFailures)\" time=\"\(fmt(cases.reduce(0) { $0 + $1.seconds }))\">\n"
            for c in cases {
                x += "    <testcase classname=\"\(esc(scenario))\" name=\"\(esc(c.name))\" file=\"\(esc(c.file))\" time=\"\(fmt(c.seconds))\">\n"
                switch c.verdict {
                case .pass: break
                case .fail, .unexpectedPass:
                    x += "      <failure message=\"\(esc(c.reason))\" type=\"\(c.verdict.rawValue)\">\(esc(c.details + "\n\nrerun: " + c.rerun))</failure>\n"
                case .error:
                    x += "      <error message=\"\(esc(c.reason))\" type=\"fixture\">\(esc(c.details + "\n\nrerun: " + c.rerun))</error>\n"
                case .skip:
                    x += "      <skipped message=\"\(esc(c.reason))\"/>\n"
                case .expectedFailure:
                    x += "      <skipped message=\"\(esc("expected failure: " + c.reason))\"/>\n"
                }
                // What the verdict did not cover (e.g. transitions not reported), where CI shows output.
                if !c.notes.isEmpty {
                    x += "      <system-out>\(esc(c.notes.map { "note: " + $0 }.joined(separator: "\n")))</system-out>\n"
                }
                x += "    </testcase>\n"
            }
            x += "  </testsuite>\n"
        }
        x += "</testsuites>\n"
        return x
    }

    static func fmt(_ s: Double) -> String { String(format: "%.3f", s) }

    /// XML-escapes text; characters XML 1.0 cannot carry (fixture stderr may hold any byte)
    /// become U+FFFD. The same escaping as the HTML report's, which must also parse as XML.
    static func esc(_ s: String) -> String { HTMLReport.esc(s) }
}

/// The JSON report: every case with its verdict and duration, and the summary.
public enum JSONReport {
    /// `shard`: which slice of the run this was (`Shard.json`), so that `warmcheck merge` can
    /// check that the slices add up; nil for an unsplit run.
    public static func render(_ results: [CaseResult], seed: UInt64, fixtures: [String: [String]], shard: JSON? = nil) -> JSON {
        let s = RunSummary(results)
        return .object([
            "shard": shard ?? .null,
            "seed": .string(String(seed)),
            "fixtures": .object(fixtures.mapValues { .array($0.map { .string($0) }) }),
            "summary": .object([
                "passed": .int(Int64(s.passed)), "failed": .int(Int64(s.failed)), "skipped": .int(Int64(s.skipped)),
                "errors": .int(Int64(s.errors)), "expected_failures": .int(Int64(s.expectedFailures)),
                "unexpected_passes": .int(Int64(s.unexpectedPasses)),
            ]),
            "cases": .array(results.map { c in
                .object([
                    "name": .string(c.name), "scenario": .string(c.scenario), "file": .string(c.file),
                    "assignment": .object(Dictionary(c.assignment.map { ($0.role, JSON.string($0.impl)) }, uniquingKeysWith: { a, _ in a })),
                    "verdict": .string(c.verdict.rawValue), "reason": .string(c.reason), "details": .string(c.details),
                    "seconds": .double(c.seconds), "rerun": .string(c.rerun),
                    "stats": .object(c.stats.mapValues { .int(Int64($0)) }),
                    "notes": .array(c.notes.map { .string($0) }),
                ])
            }),
        ])
    }
}
