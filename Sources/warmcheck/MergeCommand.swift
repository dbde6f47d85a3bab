import ArgumentParser
import Foundation
import WarmcheckCore

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the --json or --junit reports of the shards of one `warmcheck run` (or `selftest`) into one report and one exit status.",
        discussion: """
            Each shard (`warmcheck run --shard I/N --json shard-I.json`, or Bazel's TEST_SHARD_INDEX) \
            records which slice it ran and how many cases the whole run has; merge refuses a set of \
            reports that misses a shard, repeats a case, mixes seeds or does not add up to the run \
            (exit 2). Otherwise it exits as the unsplit run would have: 0 pass, 1 a conformance \
            failure, 2 a harness error. JUnit reports (`run --junit`, told from JSON by their \
            content) merge too, into --junit only: they record no shard, seed or case count, so \
            only a case given twice is caught; a malformed or truncated one is refused (exit 2).
            """)

    @Argument(help: "The shards' JSON reports, or their JUnit XML reports.")
    var reports: [String]

    @Option(help: "Write the merged JSON report to this file.")
    var json: String?

    @Option(help: "Write the merged JUnit XML to this file.")
    var junit: String?

    func run() throws {
        do {
            guard !reports.isEmpty else { throw UsageError("no report given") }
            var parsed: [(file: String, json: JSON)] = []
            var junitReports: [(file: String, results: [CaseResult])] = []
            for f in reports {
                guard let data = FileManager.default.contents(atPath: f) else { throw UsageError("cannot read \(f)") }
                if JUnitReport.looksLikeXML(data) {
                    do { junitReports.append((f, try JUnitReport.parse(data, file: f))) } catch { throw UsageError("\(error)") }
                } else {
                    do { parsed.append((f, try JSON.parse(data))) } catch { throw UsageError("\(f): \(error)") }
                }
            }
            if !junitReports.isEmpty, !parsed.isEmpty {
                throw UsageError("\(junitReports[0].file) is JUnit XML, \(parsed[0].file) is JSON: give the shards' reports of one kind")
            }
            if !junitReports.isEmpty, json != nil {
                throw UsageError("--json: JUnit reports carry no seed or fixture command lines to rebuild a JSON report from; use --junit")
            }
            if junitReports.isEmpty, parsed.allSatisfy({ $0.json.array != nil }) { return try mergeSelftest(parsed) }
            let m = junitReports.isEmpty ? ShardedRun.merge(parsed) : ShardedRun.merge(junit: junitReports)
            if let json {
                try writeOutput(JSONReport.render(m.results, seed: m.seed, fixtures: m.fixtures).pretty + "\n", to: json)
            }
            if let junit { try writeOutput(JUnitReport.render(m.results), to: junit) }
            for p in m.problems { FileHandle.standardError.write(Data("warmcheck merge: \(p)\n".utf8)) }
            let s = RunSummary(m.results)
            print("merged \(reports.count) report(s): \(m.results.count) cases" + (s.detailLine.isEmpty ? "" : "; " + s.detailLine))
            for r in m.results where r.failsRun || r.verdict == .error { print("\(r.verdict.rawValue.uppercased()) \(r.name): \(r.reason)\n    rerun: \(r.rerun)") }
            print(s.line)
            let status = m.exitStatus
            if status != 0 { throw ExitCode(status) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }

    /// Self-test shards: the kills side by side, and the score over all of them.
    func mergeSelftest(_ parsed: [(file: String, json: JSON)]) throws {
        let m = ShardedSelftest.merge(parsed)
        if junit != nil { throw UsageError("--junit: self-test reports have no JUnit form; use --json") }
        if let json { try writeOutput(JSON.array(m.kills).pretty + "\n", to: json) }
        for p in m.problems { FileHandle.standardError.write(Data("warmcheck merge: \(p)\n".utf8)) }
        for k in m.kills where k["killed"]?.bool != true {
            print("SURVIVED  \(k["fixture"]?.string ?? "?") \(k["fault"]?.string ?? "?")")
        }
        print("mutation score: \(m.killed)/\(m.kills.count)")
        if m.exitStatus != 0 { throw ExitCode(m.exitStatus) }
    }
}
