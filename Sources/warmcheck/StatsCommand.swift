import ArgumentParser
import Foundation
import WarmcheckCore

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Counters, rates, occupancy and participants of a live segment (read-only; never registers).",
        discussion: """
            Reads the segment through a read-only mapping with atomic loads while its participants \
            run (docs/OBSERVING.md). Without --watch: one reading. With --watch: on a terminal the \
            view is redrawn in place every interval; piped, one line (or one JSON object with --json) \
            per interval. Exit 0; 2 if the file is not a readable segment; 1 if it is deleted, replaced \
            or truncated while watched.
            """)

    @Argument(help: "The segment file.")
    var segment: String

    @Flag(help: "Keep reading every --interval seconds.")
    var watch = false

    @Option(help: "Seconds between readings with --watch.")
    var interval = 1.0

    @Option(help: "Stop after this many readings with --watch (0: until interrupted).")
    var count = 0

    @Flag(help: "JSON: one object, or one per line with --watch.")
    var json = false

    @Flag(help: "One Prometheus text-format scrape (the exporter's /metrics for this segment).")
    var prometheus = false

    @Option(help: "Shards shown in the table (the busiest ones when there are more).")
    var shards = 16

    @Flag(help: "Skip the walk over every slot's state word (occupancy); counters and participants only.")
    var noOccupancy = false

    func validate() throws {
        guard interval.isFinite, interval >= 0.05 else { throw ValidationError("--interval must be at least 0.05 s, got \(interval)") }
        guard count >= 0 else { throw ValidationError("--count must be ≥ 0") }
        guard shards >= 1 else { throw ValidationError("--shards must be ≥ 1") }
        if json && prometheus { throw ValidationError("--json and --prometheus are alternatives") }
        if prometheus && watch { throw ValidationError("--prometheus prints one scrape; use `warmcheck exporter` to serve them") }
    }

    func run() throws { try runObserving(observe) }

    private func observe() throws {
        let seg = try LiveOpen.open(segment)
        let names = LanguageNames.fromRepo()
        let take = { StatsSample.take(seg, languages: names, occupancy: !noOccupancy) }
        guard watch else {
            try LiveOpen.ensurePresent(seg)
            let s = take()
            print(prometheus ? PrometheusExposition.render([s]) : json ? StatsView.json(s, rates: nil) : StatsView.table(s, rates: nil, maxShards: shards),
                  terminator: prometheus || !json ? "" : "\n")
            return
        }
        let redraw = isatty(STDOUT_FILENO) != 0 && !json
        var previous: StatsSample?
        var n = 0
        while count == 0 || n < count {
            if n > 0 { LiveOpen.sleep(interval) }
            try LiveOpen.ensurePresent(seg)
            let s = take()
            let r = previous.map { StatsRates(from: $0, to: s) }
            // Home, clear to the end: on a terminal the view is redrawn in place, no scrolling.
            // Written unbuffered, so that a pipe sees each line when it is taken.
            let text = redraw ? "\u{1B}[H\u{1B}[J" + StatsView.table(s, rates: r, maxShards: shards)
                : (json ? StatsView.json(s, rates: r) : StatsView.line(s, rates: r)) + "\n"
            FileHandle.standardOutput.write(Data(text.utf8))
            previous = s
            n += 1
        }
    }
}

/// Runs an observing command's body (stats, exporter, entries, dashboard): a segment that cannot
/// be read or is lost while read is reported on stderr and exits with its status (2 or 1).
func runObserving(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ObserveError {
        FileHandle.standardError.write(Data("warmcheck: \(e.description)\n".utf8))
        throw ExitCode(e.status)
    }
}
