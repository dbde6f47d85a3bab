import ArgumentParser
import Foundation
import WarmcheckCore

/// Exit statuses shared by every subcommand: 0 all good, 1 a conformance failure or an unhealthy
/// segment, 2 a harness or input error (bad arguments, unreadable files, fixtures that cannot run).
enum Status {
    static let ok: Int32 = 0
    static let failed: Int32 = 1
    static let harnessError: Int32 = 2
}

/// The harness's version, and the protocol and driver contract it checks against.
let warmcheckVersion = "warmcheck 0.11.0 (protocol 1.0, docs/PROTOCOL.md; driver contract docs/DRIVER.md)"

@main
struct Warmcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warmcheck",
        abstract: "Conformance harness for the warmcache shared-memory cache protocol.",
        discussion: """
            Exit status of every subcommand: 0 all good, 1 a conformance failure, 2 a harness or input \
            error (bad arguments included). Defaults differ where the work does: run, matrix and \
            selftest use the three reference fixtures (go, rust, swift), stress and bench go and rust \
            (the Swift fixture is a debug build there, too slow to load a stress run); the timeout is \
            15 s per fixture response everywhere but selftest (10 s, see its --help).
            """,
        version: warmcheckVersion,
        // One per line, so that a new command is a one-line change.
        subcommands: [
            RunCommand.self,
            ConformCommand.self,
            MergeCommand.self,
            MatrixCommand.self,
            InspectCommand.self,
            SelftestCommand.self,
            MutateCommand.self,
            RefusalsCommand.self,
            CompatCommand.self,
            UpgradeCommand.self,
            PowercutCommand.self,
            CheckCommand.self,
            StressCommand.self,
            CrashSweepCommand.self,
            ReplayCommand.self,
            BenchCommand.self,
            VectorsCommand.self,
            FuzzCommand.self,
            FFIWorkerCommand.self,
            StatsCommand.self,
            ExporterCommand.self,
            EntriesCommand.self,
            DashboardCommand.self,
            RepairCommand.self,
        ]
    )

    /// ArgumentParser's own main, with two changes: the stop signals are taken by a thread
    /// before any other thread exists (`Shutdown`), and every usage error exits 2 as documented
    /// (ArgumentParser's default is 64, EX_USAGE), as does an error no command caught.
    static func main() {
        let args = CommandLine.arguments
        if args.count > 1 && args[1] == DiskFaultLauncher.argument { DiskFaultLauncher.execMain(Array(args.dropFirst(2))) }
        Shutdown.install()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(Status.harnessError)
        }
        do {
            try command.run()
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch let e as UsageError {
            Foundation.exit(fail(e.description).rawValue)
        } catch {
            if error is CleanExit || exitCode(for: error) == .success { exit(withError: error) }
            if error is ValidationError {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(Status.harnessError)
            }
            Foundation.exit(fail("\(error)").rawValue)
        }
    }
}

/// Whether to colour output on this stream: a terminal, and NO_COLOR unset or empty (no-color.org).
func useColor(fd: Int32) -> Bool {
    isatty(fd) != 0 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
}

/// Refuses a timeout that would fire at once or never.
func checkTimeout(_ t: Double) throws {
    guard t.isFinite, t > 0 else { throw ValidationError("--timeout must be a positive number of seconds, got \(t)") }
}

/// Writes `text` to a file or fails with a harness error that names the file.
func writeOutput(_ text: String, to path: String) throws {
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw UsageError("cannot write \(path): \(error.localizedDescription)")
    }
}

func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("warmcheck: \(message)\n".utf8))
    return ExitCode(Status.harnessError)
}
