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

@main
struct Warmcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warmcheck",
        abstract: "Conformance harness for the warmcache shared-memory cache protocol.",
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
            CheckCommand.self,
            StressCommand.self,
            ReplayCommand.self,
            BenchCommand.self,
            VectorsCommand.self,
            FuzzCommand.self,
            FFIWorkerCommand.self,
        ]
    )
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
