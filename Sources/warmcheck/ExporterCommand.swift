import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckSegment

struct ExporterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exporter",
        abstract: "Serve /metrics (Prometheus text format) for one or more live segments.",
        discussion: """
            Each scrape reads every segment afresh through a read-only mapping (docs/OBSERVING.md \
            lists the metrics). Prints `listening on http://HOST:PORT/metrics` on stdout once bound. \
            Exit 2 if a file is not a readable segment or the address cannot be bound (in use); exit 1 \
            as soon as a segment is deleted, replaced or truncated (checked every second and before \
            every scrape): a scrape target that silently reported a segment nobody can open any more \
            would look healthy.
            """)

    @Option(help: "IPV4:PORT to listen on (port 0: any free port, printed at start).")
    var listen: String

    @Argument(help: "The segment files.")
    var segments: [String]

    @Option(help: "Exit 0 after serving this many requests (0: until interrupted).")
    var requests = 0

    @Flag(help: "Skip the walk over every slot's state word (no warmcache_entries).")
    var noOccupancy = false

    func validate() throws {
        guard !segments.isEmpty else { throw ValidationError("name at least one segment file") }
        guard requests >= 0 else { throw ValidationError("--requests must be ≥ 0") }
    }

    func run() throws { try runObserving(serve) }

    private func serve() throws {
        let address = try ListenAddress(parsing: listen)
        var segs = [LiveSegment]()
        for path in segments { segs.append(try LiveOpen.open(path)) }
        let server = try MetricsServer(listen: address)
        FileHandle.standardOutput.write(Data("listening on http://\(address.host):\(server.boundPort)/metrics\n".utf8))
        let names = LanguageNames.fromRepo()
        var served = 0
        while requests == 0 || served < requests {
            for s in segs { try LiveOpen.ensurePresent(s) }
            var lost: ObserveError?
            let answered = server.serveOne(timeout: 1.0) { method, path in
                guard method == "GET" || method == "HEAD" else { return (405, "text/plain", "only GET /metrics\n") }
                guard path == "/metrics" || path.hasPrefix("/metrics?") else { return (404, "text/plain", "only /metrics is served\n") }
                if let gone = segs.lazy.compactMap({ $0.loss() }).first {
                    lost = ObserveError(description: gone.description, status: 1)
                    return (503, "text/plain", "\(gone.description)\n")
                }
                let samples = segs.map { StatsSample.take($0, languages: names, occupancy: !noOccupancy) }
                return (200, "text/plain; version=0.0.4; charset=utf-8", PrometheusExposition.render(samples))
            }
            if let lost { throw lost }
            if answered { served += 1 }
        }
    }
}
