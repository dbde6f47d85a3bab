import ArgumentParser
import Foundation
import WarmcheckCore

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Health probe for a segment file: header, geometry, occupancy, counters, problems.",
        discussion: "Exit 0 healthy, 1 problems found, 2 not a readable segment (the reason is printed).")

    @Argument(help: "The segment file.")
    var file: String

    @Flag(help: "Print the report as JSON instead of text.")
    var json = false

    @Option(help: "The size bound: refuse a segment whose total_len is larger (bad_geometry rule 9, PROTOCOL.md §13.2). 0: the default, 2^34 bytes.")
    var maxTotalLen: UInt64 = 0

    func run() throws {
        let report = InspectReport.make(path: file, maxTotalLen: maxTotalLen)
        print(json ? report.jsonText : report.text, terminator: json ? "\n" : "")
        throw ExitCode(report.exitStatus)
    }
}
