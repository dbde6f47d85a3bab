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

    func run() throws {
        let report = InspectReport.make(path: file)
        print(json ? report.jsonText : report.text, terminator: json ? "\n" : "")
        throw ExitCode(report.exitStatus)
    }
}
