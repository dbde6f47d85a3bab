import ArgumentParser
import Foundation
import WarmcheckCore

struct CrashSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crashsweep",
        abstract: "Kill every implementation at every pause point of every role, recover through every other implementation, and check that nothing was lost.",
        discussion: "Each crash point: a fresh segment, the victim SIGKILLed at the point (crash_at), a keeper of the recoverer's "
            + "implementation writes the key again (timed from the death), a fresh registrant of it opens, both read every key; "
            + "then no claim may be held, inspect must find the segment healthy and the history (the dead's outcome unknown) "
            + "must be linearizable. docs/CRASHSWEEP.md. Exit 0 only if every crash point recovered.")

    @OptionGroup var reference: ReferenceFixtureOptions

    @Option(name: .customLong("role"), help: "Only this role (repeatable): \(CrashRole.allCases.map(\.rawValue).joined(separator: ", ")).")
    var roles: [String] = []

    @Option(help: "Run only N crash points drawn at random (by --seed) from all of them.")
    var sample: Int?

    @Option(help: "Seed of --sample's draw.")
    var seed: UInt64 = 1

    @Flag(help: "Print the crash points and exit.")
    var list = false

    @Option(help: "Write every crash point and its outcome as JSON to this file.")
    var json: String?

    @Option(help: "Directory for the segments (default: /dev/shm when present).")
    var workDir: String?

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    @Option(help: "Crash points run at once, each worker with its own processes and segments (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var build: BuildOptions

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let specs = try reference.specs()
            if !build.noBuild { try Repo.buildFixtures(for: specs) }
            let sweep = CrashSweep(fixtures: specs, workDir: workDir ?? Repo.defaultWorkDir)
            sweep.timeout = timeout
            guard jobs >= 1 else { throw UsageError("--jobs \(jobs): expected at least 1") }
            sweep.jobs = jobs
            if !roles.isEmpty {
                sweep.roles = try roles.map { r in
                    guard let role = CrashRole(rawValue: r) else {
                        throw UsageError("--role \(r): expected one of \(CrashRole.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return role
                }
            }
            if let n = sample, n < 1 { throw UsageError("--sample \(n): expected at least 1") }
            Shutdown.watch(workDir: sweep.workDir)
            let started = Date()
            var points = try sweep.points()
            let discovery = Date().timeIntervalSince(started)
            let all = points.count
            if let n = sample, n < points.count { points = CrashSweepReport.sample(points, count: n, seed: seed) }
            if list {
                for p in points { print(p.name) }
                return
            }
            let isTTY = isatty(2) != 0
            sweep.log = { msg in if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K… \(msg)".utf8)) } }
            let t0 = Date()
            let outcomes = try sweep.run(points)
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let report = CrashSweepReport(outcomes: outcomes, seconds: Date().timeIntervalSince(t0), discoverySeconds: discovery, allPoints: all)
            for l in report.lines { print(l) }
            if let f = json { try writeOutput(report.json.pretty + "\n", to: f) }
            print(report.lastLine)
            if !report.ok { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            print("crashsweep: harness error: \(e.description)")
            throw ExitCode(Status.harnessError)
        } catch let f as FixtureFailure {
            print("crashsweep: harness error: \(f)")
            throw ExitCode(Status.harnessError)
        }
    }
}
