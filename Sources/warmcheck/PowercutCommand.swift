import ArgumentParser
import Foundation
import WarmcheckCore

struct PowercutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "powercut",
        abstract: "Simulated power cuts of the durable store (docs/PERSISTENCE.md): every implementation restores every writer's cut journal.",
        discussion: "Each writer journals --puts durable puts and reports its journal state after every answer; each cut "
            + "keeps the synced bytes plus a random part of the rest (possibly ending inside a record), and one in "
            + "eight flips a byte of a record in the middle. Then --compaction-cuts compactions are killed at each snapshot.* point in turn and cut as a power cut would at that instant. A restorer must restore exactly the complete records "
            + "before any damage, report the damage, and under --fsync always lose no answered put. A crafted store "
            + "of bad files is restored by every restorer first. Last line: `powercut: K/N cuts recovered`.")

    @Option(name: .customLong("fixture"), help: "Implementation that writes and restores: go, rust, swift, or NAME=COMMAND (repeatable; default: all three).")
    var fixtures: [String] = []

    @Option(help: "Number of simulated cuts, spread over the writers.")
    var cuts = 10_000

    @Option(help: "Compactions killed at a snapshot.* point and then cut (PERSISTENCE.md §8), after the journal cuts.")
    var compactionCuts = 100

    @Option(help: "Durable puts each writer journals before the cuts are taken.")
    var puts = 200

    @Option(help: "The store's fsync policy: always, interval (5 ms) or none.")
    var fsync = "always"

    @Option(help: "Seed of the cut positions.")
    var seed: UInt64 = 1

    @Option(help: "Directory for segments and stores (default: /dev/shm when present).")
    var workDir: String?

    @Flag(help: "Do not build the reference fixtures first.")
    var noBuild = false

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            guard ["always", "interval", "none"].contains(fsync) else { throw UsageError("--fsync \(fsync): always, interval or none") }
            guard cuts > 0, puts > 1 else { throw UsageError("--cuts must be > 0 and --puts > 1") }
            let specs = try (fixtures.isEmpty ? Repo.referenceNames : fixtures).map(Repo.parseFixture)
            if !noBuild { try Repo.buildFixtures(for: specs) }
            var sweep = PowerCutSweep(writers: specs, restorers: specs, cuts: cuts, workDir: workDir ?? Repo.defaultWorkDir)
            sweep.puts = puts
            sweep.policy = fsync
            sweep.seed = seed
            sweep.compactionCuts = compactionCuts
            let isTTY = isatty(2) != 0
            sweep.log = { msg in if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K… \(msg)".utf8)) } }
            let r = try sweep.run()
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            for f in r.failures.prefix(20) { print("FAIL  \(f.writer) → \(f.restorer): \(f.cut): \(f.problem)") }
            if r.failures.count > 20 { print("… \(r.failures.count - 20) more failures") }
            print(String(format: "powercut: fsync %@, %d cuts in %.1f s (%.0f cuts/s): %d torn, %d with a corrupt record in the middle; "
                         + "acknowledged puts lost: %d in all, at most %d by one cut; bad-input store restored by %d implementations",
                         fsync, r.cuts, r.seconds, Double(r.cuts) / max(r.seconds, 1e-9), r.tornCuts, r.corruptCuts,
                         r.lostAcknowledged, r.maxLostAcknowledged, r.badInputCases))
            print("powercut: \(r.compactionCuts) compactions killed at a snapshot point and cut; acknowledged puts lost: \(r.compactionLost)")
            let total = r.cuts + r.compactionCuts
            let ok = total - Set(r.failures.filter { !["crafted", "interval-timer"].contains($0.writer) }.map { $0.writer + $0.cut }).count
            print("powercut: \(ok)/\(total) cuts recovered" + (r.failures.contains { $0.writer == "crafted" } ? " (bad-input store FAILED)" : "")
                  + (r.failures.contains { $0.writer == "interval-timer" } ? " (interval timer FAILED)" : ""))
            if !r.failures.isEmpty { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        } catch let e as FixtureFailure {
            throw fail(e.description)
        }
    }
}
