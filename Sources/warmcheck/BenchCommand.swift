import ArgumentParser
import Foundation
import WarmcheckCore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark: one driven operation round trip per fixture against a bare pipe ping-pong.",
        discussion: "Prints microseconds per round trip (p50, p99, mean) and the ratio of the means.")

    @Option(name: .customLong("fixture"), help: "go, rust or swift (repeatable; default go and rust).")
    var fixtures: [String] = []

    @Option(help: "Round trips of each kind.")
    var n = 5000

    func run() throws {
        installFixtureCleanupOnSignals()
        let names = fixtures.isEmpty ? ["go", "rust"] : fixtures
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        print("fixture   driven get µs (p50 / p99 / mean)   bare echo µs (p50 / p99 / mean)   mean ratio")
        for name in names {
            guard let spec = Repo.referenceFixture(name) else { throw fail("unknown fixture \(name)") }
            let f = try DriverBench.measure(spec, echo: [spec.argv[0], "echo"], n: n, workDir: dir)
            print(String(format: "%-8@  %7.1f / %7.1f / %7.1f          %7.1f / %7.1f / %7.1f          %.2f×",
                         name as NSString, f.opP50, f.opP99, f.opMean, f.echoP50, f.echoP99, f.echoMean, f.ratio))
        }
    }
}
