import ArgumentParser
import Foundation
import WarmcheckCore

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a saved failing case again, exactly (a .replay.json file left by run, selftest or a race).",
        discussion: "Exit 0 if it reproduced the same violation every time, 1 if not, 2 on a harness or input error.")

    @Argument(help: "The replay file.")
    var file: String

    @Option(help: "Run it this many times and count the reproductions.")
    var times = 1

    @Option(name: .customLong("fixture"), help: "Override an implementation: NAME=COMMAND (default: the commands the file recorded).")
    var fixtures: [String] = []

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            let replay = try Replay.load(file)
            var specs = Dictionary(replay.fixtures.map { ($0.key, FixtureSpec(name: $0.key, argv: $0.value)) }, uniquingKeysWith: { a, _ in a })
            for f in fixtures { let s = try Repo.parseFixture(f); specs[s.name] = s }
            var options = RunOptions(fixtures: specs, workDir: Repo.defaultWorkDir)
            options.seed = replay.seed
            let want = Replay.signature(replay.reason)
            let dropped = replay.droppedOps.isEmpty ? "" : ", without " + replay.droppedOps.map { "`\($0.text)` of \($0.role)" }.joined(separator: ", ")
            print("replaying \(replay.caseName): \(replay.schedule.count) scheduling choices, \(replay.preemptions) context switches\(dropped)")
            print("expected violation: \(replay.reason)")
            var same = 0
            var last = ""
            for i in 0..<times {
                let (r, runner) = try replay.run(options: options)
                last = r.verdict == .pass ? "passed" : r.reason
                if r.verdict != .pass && Replay.signature(r.reason) == want { same += 1 }
                if times == 1 || i == times - 1 {
                    if r.verdict != .pass { print(r.details) }
                    if let s = runner.scheduler?.inner as? ReplayScheduler, s.diverged {
                        print("note: the run diverged from the saved schedule (the scenario or a fixture changed)")
                    }
                }
            }
            print("reproduced \(same)/\(times)" + (same < times ? " (last run: \(last))" : ""))
            if same != times { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        }
    }
}
