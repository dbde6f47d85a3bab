import ArgumentParser
import Foundation
import WarmcheckCore

struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "A self-contained HTML dashboard of a live segment, or of recorded `stats --watch --json` lines.",
        discussion: """
            With SEGMENT: reads it every --interval seconds for --duration seconds, then writes the \
            page. With --from FILE: draws a recording, e.g. `warmcheck stats SEG --watch --json > run.jsonl` \
            taken beside a stress or bench run. Charts: gets per second by result, hit ratio per \
            interval, inserts/refreshes/evictions/invalidations/expirations/reclaims per second; then \
            totals, occupancy and participants. No script and nothing fetched: the file opens anywhere.
            """)

    @Argument(help: "The segment file (or use --from).")
    var segment: String?

    @Option(help: "Draw these `stats --watch --json` lines instead of reading a segment.")
    var from: String?

    @Option(help: "Where to write the HTML page.")
    var out: String

    @Option(help: "Seconds to watch the segment.")
    var duration = 10.0

    @Option(help: "Seconds between readings.")
    var interval = 1.0

    func validate() throws {
        guard (segment == nil) != (from == nil) else { throw ValidationError("name a segment or --from FILE (one of them)") }
        guard interval.isFinite, interval >= 0.05 else { throw ValidationError("--interval must be at least 0.05 s") }
        guard duration.isFinite, duration >= 0 else { throw ValidationError("--duration must be ≥ 0") }
    }

    func run() throws {
        do {
            try runObserving(draw)
        } catch let e as Dashboard.InputError {
            throw fail(e.description)
        }
    }

    private func draw() throws {
        do {
            let lines: String
            let title: String
            if let from {
                guard let text = try? String(contentsOfFile: from, encoding: .utf8) else { throw fail("cannot read \(from)") }
                lines = text
                title = "warmcache dashboard: \(from)"
            } else {
                let seg = try LiveOpen.open(segment!)
                let names = LanguageNames.fromRepo()
                var readings = [String]()
                var previous: StatsSample?
                let n = max(1, Int(duration / interval) + 1)
                for i in 0..<n {
                    if i > 0 { LiveOpen.sleep(interval) }
                    try LiveOpen.ensurePresent(seg)
                    let s = StatsSample.take(seg, languages: names)
                    readings.append(StatsView.json(s, rates: previous.map { StatsRates(from: $0, to: s) }))
                    previous = s
                }
                lines = readings.joined(separator: "\n")
                title = "warmcache dashboard: \(segment!)"
            }
            let page = Dashboard.page(title: title, points: try Dashboard.points(jsonLines: lines, source: from ?? segment!))
            try writeOutput(page, to: out)
            print("wrote \(out)")
        }
    }
}
