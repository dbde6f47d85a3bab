import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckModel

/// `warmcheck check FILE`: judges an exported history on its own, with the model parameters the
/// file carries, so that a verdict of `stress` can be reproduced (or compared with another
/// checker's) without a run.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check an exported history (warmcheck stress --export-history) for linearizability.",
        discussion: """
            Exit 0 linearizable, 1 not linearizable, 2 bad input or an inconclusive search. The file \
            format is docs/HISTORY.md.
            """)

    @Argument(help: "The history file.")
    var file: String

    @Option(name: .customLong("states"), help: "Explored-state budget per key.")
    var states = 5_000_000

    @Option(name: .customLong("time-limit"), help: "Seconds for the whole search (0 = none).")
    var timeLimit: Double = 600

    @Option(name: .customLong("time-windows"), help: "Cut a key's history at instants when none of its operations is in flight and check window by window: never, undecided (only keys the whole search left undecided; default), always.")
    var timeWindows = "undecided"

    func run() throws {
        let windows: TimeWindowPolicy
        switch timeWindows {
        case "never": windows = .never
        case "undecided": windows = .whenUndecided
        case "always": windows = .always
        default:
            print("check: bad input — --time-windows \(timeWindows): expected never, undecided or always")
            throw ExitCode(Status.harnessError)
        }
        let h: HistoryFile
        do {
            h = try HistoryFile.read(path: file)
        } catch let e as HistoryFile.ReadError {
            print("check: bad input — \(e.description)")
            throw ExitCode(Status.harnessError)
        }
        let impls = Dictionary(grouping: h.clients, by: \.implementation).map { "\($0.value.count) \($0.key)" }.sorted()
        print("check: \(h.operations.count) operations by \(h.clients.count) clients (\(impls.joined(separator: ", "))); "
              + "silent removal \(h.model.allowSilentRemoval ? "allowed (\(h.model.silentRemovalReason))" : "not allowed"); "
              + "automatic versions \(h.model.automaticVersionsAcrossKeys ? "also checked across keys" : "checked per key only")")
        let budget = SearchBudget(maxExploredStates: states, timeLimit: timeLimit > 0 ? .milliseconds(Int64(timeLimit * 1000)) : nil)
        let r = checkLinearizability(h.operations, model: h.model, budget: budget, windows: windows)
        let secs = Double(r.elapsed.components.seconds) + Double(r.elapsed.components.attoseconds) / 1e18
        let prep = Double(r.prepareElapsed.components.seconds) + Double(r.prepareElapsed.components.attoseconds) / 1e18
        let how = String(format: "%d keys, %d states explored in %.2f s (%.2f s of it interning values)",
                         r.partitions.count, r.exploredStates, secs, prep)
        for p in r.partitions {
            if let w = p.windows { print("check: key \(String(decoding: p.key, as: UTF8.self).debugDescription) in time windows: \(w.text)") }
        }
        switch r.verdict {
        case .ok:
            print("check: linearizable (\(how))")
        case .illegal(let f):
            print("check: NOT linearizable (\(how))\n\(f.explanation)")
            let involved = Set(([f.unplaced] + f.prefix.suffix(12)).map { h.operations[$0].clientId })
            let who = h.clients.filter { involved.contains($0.id) }
                .map { "client \($0.id) = \($0.implementation) (pid \($0.pid.map(String.init) ?? "?")\($0.killed ? ", killed" : ""))" }
            if !who.isEmpty { print("Clients: " + who.joined(separator: "; ")) }
            throw ExitCode(Status.failed)
        case .unknown(let why):
            print("check: inconclusive (\(how)): \(why)")
            throw ExitCode(Status.harnessError)
        }
    }
}
