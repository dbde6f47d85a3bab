import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckModel

struct StressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Drive several fixture processes with random operations on one segment, then check the whole run.",
        discussion: """
            Checks per-key linearizability of the history, every reported slot transition, and the \
            invariants of the final segment. Exit 0 all ok, 1 a violation, 2 a harness error or an \
            inconclusive check. See docs/STRESS.md.
            """)

    @Option(help: "How long to run (30s, 500ms, 2m). Default 30s unless --ops is given.")
    var duration: String?

    @Option(name: .customLong("ops"), help: "Stop after this many operations overall (instead of --duration).")
    var ops: Int?

    @Option(help: "Fixture processes running at once.")
    var processes = 4

    @Option(name: .customLong("fixture"), help: "go, rust, swift or NAME=COMMAND; repeatable; processes take them in turn (default go and rust).")
    var fixtures: [String] = []

    @Option(help: "Number of distinct keys.")
    var keys = 64

    @Option(name: .customLong("hot-keys"), help: "Contention: a hot set of this many keys (the first N) that --hot-fraction of the operations go to.")
    var hotKeys = 0

    @Option(name: .customLong("hot-fraction"), help: "Contention: the fraction of operations (0…1) that pick a hot key.")
    var hotFraction = 0.0

    @Option(name: .customLong("value-size"), help: "Value sizes in bytes, MIN-MAX or N.")
    var valueSize = "16-64"

    @Option(help: "Operation weights, e.g. get=70,put=20,refresh=5,invalidate=5 (evict too).")
    var mix = "get=70,put=20,refresh=5,invalidate=5"

    @Option(help: "Seed of the per-process operation generators.")
    var seed: UInt64 = 1

    @Option(name: .customLong("kill-every"), help: "SIGKILL one process in the middle of a call every N operations, then start a replacement (0 = never).")
    var killEvery = 0

    @Option(name: .customLong("kill-inside"), help: "Probability (0–1) that a fixture SIGKILLs itself at each pause point an operation reaches (crash_chance_ppm, DRIVER.md); each death is recovered by another implementation and timed.")
    var killInside: Double = 0

    @Option(name: .customLong("export-history"), help: "Write the history, with the model's parameters, to this file (docs/HISTORY.md; judge it with warmcheck check FILE).")
    var exportHistory: String?

    @Option(name: .customLong("export-porcupine"), help: "Write the history in porcupine's Operation JSON shape (values inline, no model parameters) to this file.")
    var exportPorcupine: String?

    @Option(name: .customLong("step-log"), help: "Write every operation as JSON lines to this file, and replay scenarios to FILE.yaml (free-running) and FILE.race.yaml (controlled).")
    var stepLog: String?

    @Option(help: "Write the summary and verdicts as JSON to this file.")
    var json: String?

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    @Option(help: "Directory for the segment file (default: /dev/shm when present).")
    var workDir: String?

    @OptionGroup var build: BuildOptions

    func validate() throws { try checkTimeout(timeout) }

    func run() throws {
        installFixtureCleanupOnSignals()
        let code: Int32
        do {
            code = try execute()
        } catch let e as UsageError {
            print("stress: FAIL (harness error: \(e.description.split(separator: "\n").first ?? ""))")
            throw fail(e.description)
        }
        if code != 0 { throw ExitCode(code) }
    }

    func options() throws -> StressOptions {
        let specs = try (fixtures.isEmpty ? ["go", "rust"] : fixtures).map(Repo.parseFixture)
        let dir = workDir ?? Repo.defaultWorkDir
        var o = StressOptions(fixtures: specs, workDir: dir)
        if let d = duration { o.duration = try StressOptions.parseDuration(d) }
        o.operations = ops
        if ops != nil && duration != nil { throw UsageError("give --duration or --ops, not both") }
        o.processes = processes
        o.keys = keys
        o.hotKeys = hotKeys
        o.hotFraction = hotFraction
        o.valueSize = try StressOptions.parseValueSize(valueSize)
        o.mix = try OperationMix.parse(mix)
        o.seed = seed
        o.killEvery = killEvery
        guard (0...1).contains(killInside) else { throw UsageError("--kill-inside \(killInside): expected a probability 0..1") }
        o.killInsidePPM = Int((killInside * 1_000_000).rounded())
        if killInside > 0 && o.killInsidePPM == 0 { throw UsageError("--kill-inside \(killInside): below one in a million") }
        o.timeout = timeout
        try o.validate()
        for s in specs where !s.argv.isEmpty && s.argv[0].hasPrefix("/") && !FileManager.default.isExecutableFile(atPath: s.argv[0]) {
            if build.noBuild || !["go", "rust"].contains(s.name) { throw UsageError("fixture \(s.name): \(s.argv[0]) is not an executable") }
        }
        return o
    }

    func execute() throws -> Int32 {
        let o = try options()
        if !build.noBuild { try Repo.buildFixtures(for: o.fixtures) }
        let limit = o.operations.map { "\($0) operations" } ?? String(format: "%.1f s", o.duration)
        print("stress: \(o.processes) processes (\(o.fixtures.map(\.name).joined(separator: ", ")) in turn), \(o.keys) keys, "
              + "values \(o.valueSize.lowerBound)-\(o.valueSize.upperBound) B, mix \(o.mix), seed \(o.seed), \(limit)"
              + (o.hotKeys > 0 ? String(format: ", %.0f%% of operations on %d hot keys", o.hotFraction * 100, o.hotKeys) : "")
              + (o.killEvery > 0 ? ", SIGKILL every \(o.killEvery) operations" : "")
              + (o.killInsidePPM > 0 ? ", SIGKILL at each pause point with probability \(killInside)" : ""))
        fflush(nil)
        Shutdown.watch(workDir: o.workDir)
        let ticker = ProgressTicker(total: o.operations == nil ? o.duration : nil)
        let run = StressRunner.run(o) { line in ticker.clear(); print(line); fflush(nil) }
        ticker.stop()
        let n = run.history.count
        let rate = run.elapsed > 0 ? Double(n) / run.elapsed : 0
        print(String(format: "%d operations in %.2f s: %.0f ops/s", n, run.elapsed, rate))
        print("  " + StressCheck.counts(run).map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        if run.kills > 0 {
            print("  \(run.kills) processes SIGKILLed and replaced (\(run.kills - run.killsAfterResponse) before their operation answered: "
                  + "outcome unknown; \(run.killsAfterResponse) just after the answer); \(run.processes.count) processes started in all")
        }
        fflush(nil)

        let rep = StressCheck.evaluate(run)
        if let c = rep.contention { print("  contention: " + c.summary) }
        for l in rep.lines { print(l) }

        var command = "warmcheck stress" + (o.operations.map { " --ops \($0)" } ?? " --duration \(duration ?? "30s")")
        command += " --processes \(o.processes)" + o.fixtures.map { " --fixture \(quote(fixtureArg($0)))" }.joined()
        if o.hotKeys > 0 { command += " --hot-keys \(o.hotKeys) --hot-fraction \(o.hotFraction)" }
        command += " --keys \(o.keys) --value-size \(valueSize) --mix \(o.mix) --seed \(o.seed)"
        if o.killEvery > 0 { command += " --kill-every \(o.killEvery)" }
        if o.killInsidePPM > 0 { command += " --kill-inside \(killInside)" }
        if let f = exportHistory {
            try writeOutput(StressExport.historyFile(run, rep, command: command).render(), to: f)
            print("history: \(f) (check it alone with: warmcheck check \(f))")
        }
        if let f = exportPorcupine {
            try writeOutput(HistoryExport.porcupineJSON(run.history), to: f)
            print("history (porcupine JSON): \(f)")
        }
        if let f = stepLog {
            try writeOutput(StressExport.stepLog(run), to: f)
            try writeOutput(StressExport.scenario(run, name: "stress-replay-seed-\(o.seed)", command: command), to: f + ".yaml")
            try writeOutput(StressExport.scenario(run, name: "stress-race-seed-\(o.seed)", command: command, controlled: true),
                            to: f + ".race.yaml")
            print("step log: \(f); replay scenarios: \(f).yaml (free-running) and \(f).race.yaml (controlled interleavings); "
                  + "run either with warmcheck run")
        }
        if let f = json { try writeOutput(StressExport.summary(run, rep).pretty + "\n", to: f) }
        if rep.verdict == .fail { print("reproduce the operation sequences with: \(command) --step-log FILE") }
        print("stress: \(rep.verdict == .pass ? "PASS" : "FAIL") (\(n) operations, \(o.processes) processes, "
              + String(format: "%.1f", run.elapsed) + " s)")
        return rep.exitCode
    }

    func fixtureArg(_ s: FixtureSpec) -> String {
        Repo.referenceNames.contains(s.name) && Repo.referenceFixture(s.name) == s ? s.name : "\(s.name)=\(s.argv.joined(separator: " "))"
    }

    func quote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=,".contains($0) } ? s : "'\(s)'"
    }
}

/// A one-line "elapsed / total" on stderr while a stress run works, when stderr is a terminal
/// (nothing in a log): the run prints nothing for its whole duration otherwise.
final class ProgressTicker: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var shown = false
    private let enabled = isatty(2) != 0
    private let done = DispatchSemaphore(value: 0)

    init(total: Double?) {
        guard enabled else { return }
        let start = Date()
        let t = Thread { [self] in
            while true {
                usleep(250_000)
                lock.lock()
                defer { lock.unlock() }
                guard running else { break }
                let s = Date().timeIntervalSince(start)
                let text = total.map { String(format: "stress: %.1f / %.1f s (%.0f %%)", s, $0, min(100, 100 * s / max($0, 0.001))) }
                    ?? String(format: "stress: %.1f s", s)
                FileHandle.standardError.write(Data("\r\u{1B}[K… \(text)".utf8))
                shown = true
            }
            done.signal()
        }
        t.start()
    }

    /// Erases the line before something else is printed.
    func clear() {
        lock.lock(); defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); shown = false }
    }

    func stop() {
        guard enabled else { return }
        lock.lock(); running = false; lock.unlock()
        done.wait()
        clear()
    }
}
