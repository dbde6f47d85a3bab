import Foundation
import WarmcheckScenario

/// `restart:`, `crash:`, `start:` and `upgrade:` steps: a role's process stopped or killed, and a
/// new one that opens the same segment.
///
/// Each returns its log line instead of adding it, and touches only its own role's record (and
/// the shared state `call` guards with `lock`), so that a role's own parallel list may replace
/// its process while the other lists run (CaseRunner+Parts adds the line under `lock`).
extension CaseRunner {
    /// Closes the role's process, starts a new one of the same implementation, and opens.
    func restart(_ role: String) throws -> String {
        let rp = roles[role]!
        rp.stop()
        try startProcess(rp)
        let r = try call(rp.fixture!, rp, "open", ["path": .string(segmentPath)], text: "open")
        rp.participant = r.result["participant"]?.int.map(Int.init)
        if let p = rp.participant { rp.participants.append(p) }
        if !r.isOK { conformance("\(role) could not reopen the segment", "open after restart: \(r.summary) \(r.message ?? "")") }
        return "restart \(role) (\(rp.impl)): new pid \(rp.pids.last!), open → \(r.summary)"
    }

    /// SIGKILL to the role's process; a paused operation's outcome becomes unknown (a role in a
    /// parallel list is never paused: pauses belong to the sequential parts).
    func crash(_ role: String) -> String {
        let rp = roles[role]!
        rp.fixture?.crash()
        rp.fixture = nil
        rp.crashed = true
        noteHandleReplaced(rp, at: MonotonicClock.now())  // its pin died with it (§18.3)
        if let p = rp.pending {
            // Killed inside a paused operation: its outcome is unknown, and the transitions
            // it made before the pause were never reported.
            noteHistory(p.step, nil, rp: rp, call: p.callAt, ret: MonotonicClock.now())
            rp.pending = nil
            if let id = rp.participant { checker.participantDied(id) }
        }
        return "crash \(role) (\(rp.impl)) with SIGKILL"
    }

    /// Starts the role's process again after a crash and opens the segment.
    func startAgain(_ role: String) throws -> String {
        let rp = roles[role]!
        try startProcess(rp)
        // The open names no `protocol`: the new handle speaks the fixture's own version, whatever
        // an earlier `open protocol=1.0` of the role made its predecessor speak (the open's audit
        // judges its participant entry by this).
        rp.speaksMinor = nil
        let r = try call(rp.fixture!, rp, "open", ["path": .string(segmentPath)], text: "open")
        rp.participant = r.result["participant"]?.int.map(Int.init)
        if let p = rp.participant { rp.participants.append(p) }
        return "start \(role) (\(rp.impl)) again: pid \(rp.pids.last!), open → \(r.summary)"
    }

    /// `upgrade: ROLE to=TARGET`: stops the role's process, starts TARGET's fixture (another
    /// implementation, or a release built from history) in its place and opens the segment, if
    /// one exists yet (an upgrade before `create` picks the build a role starts as). Returns the
    /// log line. Touches only the role's own record, so a parallel list may upgrade its role.
    func upgrade(_ role: String, to: String, at: SourceLocation) throws -> String {
        let rp = roles[role]!
        guard var spec = options.fixtures[to] else {
            try harness("no fixture for the upgrade target \(to) at \(at)",
                        "`upgrade: \(role) to=\(to)` needs a fixture named \(to): a reference implementation, a --fixture, "
                            + "or IMPL@VERSION with VERSION in `releases` (built from history, docs/UPGRADING.md)")
        }
        spec.argv += options.extraFixtureArgs[to] ?? []
        let from = rp.impl
        if FileManager.default.fileExists(atPath: segmentPath) { noteLiveUpgrade() }
        rp.stop()
        rp.pastHellos.append(rp.hello)
        rp.impl = to
        rp.spec = spec
        try startProcess(rp)
        let version = "protocol \(rp.hello.protocolMajor.map(String.init) ?? "?").\(rp.hello.protocolMinor.map(String.init) ?? "?")"
        guard FileManager.default.fileExists(atPath: segmentPath) else {
            return "upgrade \(role): \(from) → \(to) (\(version)), new pid \(rp.pids.last!), no segment yet"
        }
        let r = try call(rp.fixture!, rp, "open", ["path": .string(segmentPath)], text: "open")
        rp.participant = r.result["participant"]?.int.map(Int.init)
        if let p = rp.participant { rp.participants.append(p) }
        if !r.isOK { conformance("\(role) could not open the segment after its upgrade to \(to)", "open: \(r.summary) \(r.message ?? "")") }
        return "upgrade \(role): \(from) → \(to) (\(version)), new pid \(rp.pids.last!), open → \(r.summary)"
    }
}
