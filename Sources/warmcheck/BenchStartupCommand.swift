import ArgumentParser
import Foundation
import WarmcheckCore

/// `warmcheck bench startup`: warm restart against cold start, Redis and memcached (docs/BENCHMARKS.md "Startup").
struct BenchStartupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Time a restarted consumer from exec to its first hit, 99 % served and warm hit ratio.",
        discussion: """
            Rows: (a) a warm segment kept by a producer of the other language, a-batched the same \
            request stream through the library's batched get, 100 at a time (the depth of the d/e pipelines), a-legacy the same \
            with the 1.0 full registration sweep (the before/after of PROTOCOL.md §5.1), (b) a \
            segment restored from a durable store another language wrote, (c) a cold start recomputing every entry, (d) Redis and \
            (e) memcached on loopback (started and always stopped by the bench), (f) the exec of \
            an empty program. Needs scripts/build-fixtures.sh (consumers) and scripts/setup.sh \
            (redis-server, memcached). Exit 0 when it ran (targets are reported, not enforced), \
            2 on a harness error (a server missing or failing to start, a port in use, a consumer failing).
            """)

    @Option(name: .customLong("entries"), help: "Working-set sizes (repeatable; default 10000 and 1000000).")
    var entries: [UInt64] = []

    @Option(name: .customLong("language"), help: "Consumer languages: go, rust, swift (repeatable; default go and rust; swift needs its release build, see docs/BENCHMARKS.md).")
    var languages: [String] = []

    @Option(help: "Restarts per row (cold rows: --cold-restarts, and 1 from 100000 entries).")
    var restarts = 10

    @Option(help: "Restarts of the cold rows under 100000 entries.")
    var coldRestarts = 2

    @Option(help: "CPU cost of recomputing one entry in the cold rows, µs.")
    var coldCostUs: UInt64 = 20

    @Flag(help: "Leave out rows (d) and (e) (no Redis or memcached).")
    var withoutServers = false

    @Flag(help: "Leave out the a-legacy rows (the 1.0 sweep).")
    var withoutLegacy = false

    @Option(help: "Port for redis-server (default: a free one).")
    var redisPort: UInt16 = 0

    @Option(help: "Port for memcached (default: a free one).")
    var memcachedPort: UInt16 = 0

    @Option(help: "Directory of the segments and stores (default /dev/shm). A tmpfs mounted with huge=always or huge=within_size measures 2 MiB pages (docs/BENCHMARKS.md).")
    var segmentDir: String?

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Option(help: "Write the SVG plot (drawn from the JSON report) to this file.")
    var plot: String?

    @Option(help: "Only draw the plot of an existing JSON report (no measurement).")
    var plotFrom: String?

    func run() throws {
        installFixtureCleanupOnSignals()
        if let from = plotFrom {
            guard let out = plot else { throw fail("--plot-from needs --plot FILE") }
            guard let data = FileManager.default.contents(atPath: from) else { throw fail("cannot read \(from)") }
            try write(StartupPlot.svg(fromJSON: data), to: out)
            return
        }
        var o = StartupOptions()
        if !entries.isEmpty { o.sizes = entries }
        if !languages.isEmpty { o.languages = languages }
        o.restarts = restarts
        o.coldRestarts = coldRestarts
        o.coldCostNs = coldCostUs * 1000
        o.servers = !withoutServers
        o.legacyCurve = !withoutLegacy
        o.redisPort = redisPort
        o.memcachedPort = memcachedPort
        if let d = segmentDir { o.workDir = d }
        o.command = (["warmcheck"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let report: StartupReport
        do {
            let bench = try StartupBench(o) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            report = try bench.run()
        } catch {
            throw fail("bench startup: \(error)")
        }
        print(StartupRender.table(report))
        print("load average \(report.loadBefore) → \(report.loadAfter) on \(report.cores) cores")
        let text = report.json.pretty
        let data = Data(text.utf8)
        if let json { try write(text + "\n", to: json) }
        if let plot { try write(StartupPlot.svg(fromJSON: data), to: plot) }
    }

    private func write(_ s: String, to path: String) throws {
        do { try s.write(toFile: path, atomically: true, encoding: .utf8) } catch { throw fail("cannot write \(path): \(error)") }
    }
}
