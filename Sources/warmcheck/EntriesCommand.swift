import ArgumentParser
import Foundation
import WarmcheckCore

struct EntriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entries",
        abstract: "List a live segment's entries with their writer (provenance), and who wrote what.",
        discussion: """
            Each occupied slot is read with the consistent snapshot of PROTOCOL.md §9.2 through a \
            read-only mapping; values are not read. Filters combine (all must hold); the summary is \
            over every matching entry, whatever --limit. Exit 0; 2 if the file is not a readable segment.
            """)

    @Argument(help: "The segment file.")
    var segment: String

    @Option(help: "Only keys starting with this text (or these hex digits).")
    var key: String?

    @Option(help: "Only slots in this state (READY, REFRESHING, STALE, WRITING, INVALIDATED; repeatable).")
    var state: [String] = []

    @Option(help: "Only entries written by this language (go, rust, swift, …).")
    var language: String?

    @Option(help: "Only entries written by this pid.")
    var pid: UInt32?

    @Option(help: "Only entries with this origin tag.")
    var origin: UInt32?

    @Option(help: "Entries listed at most (0: all).")
    var limit = 50

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        let known = ["EMPTY", "WRITING", "READY", "REFRESHING", "STALE", "INVALIDATED"]
        for s in state where !known.contains(s.uppercased()) {
            throw ValidationError("--state \(s): expected one of \(known.dropFirst().joined(separator: ", "))")
        }
        guard limit >= 0 else { throw ValidationError("--limit must be ≥ 0") }
    }

    func run() throws {
        try runObserving {
            let seg = try LiveOpen.open(segment)
            let filter = EntryFilter(keyPrefix: key, states: Set(state.map { $0.uppercased() }), language: language, pid: pid, originTag: origin)
            let report = EntriesReport.make(seg, filter: filter, limit: limit, languages: .fromRepo())
            try LiveOpen.ensurePresent(seg)
            print(json ? report.json : report.text, terminator: json ? "\n" : "")
        }
    }
}
