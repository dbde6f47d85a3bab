import ArgumentParser
import Foundation
import WarmcheckCore

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a saved failing case again, exactly (a .replay.json file left by run, selftest or a race).",
        discussion: """
            Exit 0 if it reproduced the same violation every time, 1 if not, 2 on a harness or input error. \
            A case whose verdict depends on timing (parallel steps, the real clock) is said to be one; \
            for it the line reads `reproduced K/N (P %)`, a rate, and the exit status is 0 when K ≥ 1 \
            (raise --times to measure the rate), 1 when K = 0.
            """)

    @Argument(help: "The replay file.")
    var file: String

    @Option(help: "Run it this many times and count the reproductions.")
    var times = 1

    @Option(name: .customLong("fixture"), help: "Override an implementation: NAME=COMMAND (default: the commands the file recorded).")
    var fixtures: [String] = []

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    func validate() throws {
        try checkTimeout(timeout)
        guard times >= 1 else { throw ValidationError("--times must be at least 1") }
    }

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let replay = try Replay.load(file)
            guard FileManager.default.fileExists(atPath: replay.scenarioFile) else {
                throw UsageError("\(file): its scenario file \(replay.scenarioFile) does not exist (run the replay from the directory it was written in)")
            }
            var specs = Dictionary(replay.fixtures.map { ($0.key, FixtureSpec(name: $0.key, argv: $0.value)) }, uniquingKeysWith: { a, _ in a })
            for f in fixtures { let s = try Repo.parseFixture(f); specs[s.name] = s }
            var options = RunOptions(fixtures: specs, workDir: Repo.defaultWorkDir)
            options.seed = replay.seed
            options.timeout = timeout
            Shutdown.watch(workDir: options.workDir)
            let want = Replay.signature(replay.reason)
            let dropped = replay.droppedOps.isEmpty ? "" : ", without " + replay.droppedOps.map { "`\($0.text)` of \($0.role)" }.joined(separator: ", ")
            print("replaying \(replay.caseName): \(replay.schedule.count) scheduling choices, \(replay.preemptions) context switches\(dropped)")
            print("expected violation: \(replay.reason)")
            let timing: String?
            do { timing = try replay.timingDependence() } catch { throw UsageError("\(replay.scenarioFile): \(error)") }
            if let timing { print("note: timing-dependent case: \(timing); the replay measures a reproduction rate") }
            var same = 0
            var last = ""
            for i in 0..<times {
                let (r, runner): (CaseResult, CaseRunner)
                do {
                    (r, runner) = try replay.run(options: options)
                } catch let e as UsageError {
                    throw e
                } catch {
                    throw UsageError("\(replay.scenarioFile): \(error)")
                }
                // A harness error (a fixture that cannot start, a hang) is no reproduction and no
                // failure to reproduce either: the replay could not be judged.
                if r.verdict == .error && Replay.signature(r.reason) != want {
                    print(r.details)
                    throw UsageError("replay \(i + 1) of \(times) could not run: \(r.reason)")
                }
                last = r.verdict == .pass ? "passed" : r.reason
                if r.verdict != .pass && Replay.signature(r.reason) == want { same += 1 }
                if times == 1 || i == times - 1 {
                    if r.verdict != .pass { print(r.details) }
                    if let s = runner.scheduler?.inner as? ReplayScheduler, s.diverged {
                        print("note: the run diverged from the saved schedule (the scenario or a fixture changed)")
                    }
                }
            }
            var verdict = "reproduced \(same)/\(times)"
            if timing != nil {
                verdict += String(format: " (%.0f %%), a timing-dependent case", 100 * Double(same) / Double(times))
            } else if same > 0 && same < times {
                verdict += ": the outcome varied although the replay controls every choice (a fixture is not deterministic)"
            }
            if same < times { verdict += " (last run: \(last))" }
            print(verdict)
            if timing != nil && same > 0 { return }
            if same != times { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }
}
