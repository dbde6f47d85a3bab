import ArgumentParser
import Foundation
import WarmcheckCore

struct RepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Act on what inspect finds (PROTOCOL.md §9.9): free dead holders' insert locks, reclaim dead owners' claims, quarantine corrupt slots.",
        discussion: "The repair is an implementation's: the first --fixture (default go) opens the segment as a participant "
            + "and runs its `repair` operation (DRIVER.md); warmcheck then inspects the result. Safe while other processes "
            + "use the segment (§9.9 \"Concurrency\"). A segment that does not open because its header or geometry is damaged "
            + "is rebuilt from the durable store given with --store (the fixture's `restore`: open_or_restore, "
            + "docs/PERSISTENCE.md §7, a fresh segment through the never-half-built create path, renamed over the damaged "
            + "file); without --store, or with a fixture that has no store, it is left alone and reported. "
            + "Exit 0 healthy afterwards, 1 problems remain, 2 not opened or a harness error.")

    @Argument(help: "The segment file.")
    var file: String

    @OptionGroup var reference: ReferenceFixtureOptions

    @Option(help: "The durable store directory to rebuild a segment whose header or geometry is damaged from (PERSISTENCE.md §7).")
    var store: String?

    @Flag(help: "Print the report as JSON instead of text.")
    var json = false

    @OptionGroup var build: BuildOptions

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            guard let spec = try reference.specs().first else { throw UsageError("no fixture") }
            if !build.noBuild && ["go", "rust"].contains(spec.name) { try Repo.buildFixtures() }
            var repair = SegmentRepair(fixture: spec, path: file)
            repair.storeDir = store
            let outcome = try repair.run()
            print(json ? outcome.json.pretty : outcome.text, terminator: json ? "\n" : "")
            throw ExitCode(outcome.exitStatus)
        } catch let e as UsageError {
            throw fail(e.description)
        } catch let e as FixtureFailure {
            throw fail(e.description)
        }
    }
}
