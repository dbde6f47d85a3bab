import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckScenario

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the driver and controlled races against a bare pipe ping-pong.",
        discussion: """
            driver: one driven operation round trip per fixture against a bare pipe ping-pong \
            (µs p50, p99, mean, ratio of the means). step: one controlled race step (a `resume` in \
            step mode) against the same ping-pong. race: schedules explored per second by the race \
            case of --scenario with every role played by one fixture, then where one schedule's \
            time goes. Uses the fixture binaries as they are (never builds them). \
            `warmcheck bench startup`: warm restarts against cold starts, Redis and memcached.
            """,
        // One per line, like the root command's list.
        subcommands: [
            BenchStartupCommand.self,
        ])

    @Option(name: .customLong("fixture"), help: "go, rust or swift (repeatable; default go and rust).")
    var fixtures: [String] = []

    @Option(help: "Round trips of each kind (driver and step parts).")
    var n = 5000

    @Option(help: "Parts to run: driver, step, race (repeatable; default all).")
    var only: [String] = []

    @Option(help: "Race scenario (default: the checkout's scenarios/race-refresh-vs-read.yaml).")
    var scenario: String?

    @Option(help: "Schedule budget of the race part (also the executions of its time breakdown).")
    var schedules = 50

    @Option(help: "Seed of the race schedules.")
    var seed: UInt64 = 1

    func run() throws {
        installFixtureCleanupOnSignals()
        let names = fixtures.isEmpty ? ["go", "rust"] : fixtures
        let parts = Set(only.isEmpty ? ["driver", "step", "race"] : only)
        if let bad = parts.subtracting(["driver", "step", "race"]).first { throw fail("--only \(bad): expected driver, step or race") }
        let dir = Repo.defaultWorkDir
        Shutdown.watch(workDir: dir)
        let specs = try names.map { name -> FixtureSpec in
            guard let spec = Repo.referenceFixture(name) else { throw fail("unknown fixture \(name)") }
            return spec
        }

        if parts.contains("driver") {
            print("fixture   driven get µs (p50 / p99 / mean)   bare echo µs (p50 / p99 / mean)   mean ratio")
            for spec in specs {
                let f = try DriverBench.measure(spec, echo: [spec.argv[0], "echo"], n: n, workDir: dir)
                print(pad(spec.name, 8) + String(format: "  %7.1f / %7.1f / %7.1f          %7.1f / %7.1f / %7.1f          %.2f×",
                             f.opP50, f.opP99, f.opMean, f.echoP50, f.echoP99, f.echoMean, f.ratio))
            }
            print("")
        }

        if parts.contains("step") {
            print("fixture   controlled step µs (p50 / p99 / mean)   bare echo µs (p50 / p99 / mean)   mean ratio   target ≤ 2×")
            for spec in specs {
                let f = try RaceBench.measureStep(spec, echo: [spec.argv[0], "echo"], n: n, workDir: dir)
                print(pad(spec.name, 8) + String(format: "  %7.1f / %7.1f / %7.1f               %7.1f / %7.1f / %7.1f          %.2f×        %@",
                             f.step.p50, f.step.p99, f.step.mean,
                             f.echo.p50, f.echo.p99, f.echo.mean, f.ratio, (f.ratio <= 2 ? "met" : "MISSED") as NSString))
                print(String(format: "          resume → next pause %.1f / %.1f / %.1f, resume → response %.1f / %.1f / %.1f; "
                             + "steps per operation: refresh %d, get %d",
                             f.toPause.p50, f.toPause.p99, f.toPause.mean, f.toResponse.p50, f.toResponse.p99, f.toResponse.mean,
                             f.refreshSteps, f.getSteps))
                print(String(format: "          orchestrator JSON alone per step: %.1f µs (pause line), %.1f µs (refresh response)",
                             f.jsonPause, f.jsonResponse))
            }
            print("")
        }

        if parts.contains("race") {
            guard let file = scenario ?? Repo.root()?.appendingPathComponent("scenarios/race-refresh-vs-read.yaml").path else {
                throw fail("cannot find the warmcache checkout (set WARMCACHE_ROOT) or pass --scenario")
            }
            var options = RunOptions(fixtures: Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }), workDir: dir)
            options.seed = seed
            options.artifactsDir = nil  // a benchmark leaves no replay files behind
            for spec in specs {
                let c: ScenarioCase
                do {
                    c = try RaceBench.raceCase(scenarioFile: file, impl: spec.name, schedules: schedules)
                } catch let e as UsageError {
                    throw fail(e.description)
                }
                let f = RaceBench.measureSchedules(c, options: options)
                print(String(format: "%@: %d schedules in %.2f s = %.0f schedules/s, %.2f ms per schedule (%@)   target ≥ 1000/s: %@",
                             f.caseName as NSString, f.schedules, f.seconds, f.perSecond, f.msPerSchedule,
                             f.verdict as NSString, (f.perSecond >= 1000 ? "met" : "MISSED") as NSString))
                if !f.reason.isEmpty { print("    verdict reason: \(f.reason)") }
                let b = try RaceBench.breakdown(c, options: options, executions: schedules)
                print("    one schedule, mean of \(b.executions) executions (\(b.steps) race steps each):")
                let total = b.phases.reduce(0) { $0 + $1.ms }
                for p in b.phases {
                    print("      " + pad(p.name, 46) + String(format: " %7.2f ms  %4.0f %%", p.ms, 100 * p.ms / total))
                }
                print("      " + pad("total", 46) + String(format: " %7.2f ms", total))
                print("    primitives, timed alone (mean µs):")
                for p in b.primitives { print("      " + pad(p.name, 55) + String(format: " %8.1f", p.us)) }
            }
        }
    }
}

/// Left-aligns in a column (String(format:) ignores the width of %@ on Linux).
private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
