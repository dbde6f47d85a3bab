import Foundation
import WarmcheckScenario

/// `restart:`, `crash:` and `start:` steps: a role's process stopped or killed, and a new one
/// that opens the same segment.
extension CaseRunner {
    /// Closes the role's process, starts a new one of the same implementation, and opens.
    func restart(_ role: String) throws {
        let rp = roles[role]!
        rp.stop()
        try startProcess(rp)
        let r = try call(rp.fixture!, rp, "open", ["path": .string(segmentPath)], text: "open")
        rp.participant = r.result["participant"]?.int.map(Int.init)
        if let p = rp.participant { rp.participants.append(p) }
        log.add("restart \(role) (\(rp.impl)): new pid \(rp.pids.last!), open → \(r.summary)")
        if !r.isOK { conformance("\(role) could not reopen the segment", "open after restart: \(r.summary) \(r.message ?? "")") }
    }

    /// SIGKILL to the role's process; a paused operation's outcome becomes unknown.
    func crash(_ role: String) {
        let rp = roles[role]!
        rp.fixture?.crash()
        rp.fixture = nil
        rp.crashed = true
        if let p = rp.pending {
            // Killed inside a paused operation: its outcome is unknown, and the transitions
            // it made before the pause were never reported.
            noteHistory(p.step, nil, rp: rp, call: p.callAt, ret: MonotonicClock.now())
            rp.pending = nil
            if let id = rp.participant { checker.participantDied(id) }
        }
        log.add("crash \(role) (\(rp.impl)) with SIGKILL")
    }

    /// Starts the role's process again after a crash and opens the segment.
    func startAgain(_ role: String) throws {
        let rp = roles[role]!
        try startProcess(rp)
        let r = try call(rp.fixture!, rp, "open", ["path": .string(segmentPath)], text: "open")
        rp.participant = r.result["participant"]?.int.map(Int.init)
        if let p = rp.participant { rp.participants.append(p) }
        log.add("start \(role) (\(rp.impl)) again: pid \(rp.pids.last!), open → \(r.summary)")
    }
}
