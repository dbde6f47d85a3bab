import Foundation
import WarmcheckScenario

/// Operations of a role after its `close` (DRIVER.md "After close", PROTOCOL.md §15 `closed`):
/// the fixture keeps the closed library handle and passes every handle operation to it, which
/// answers `fail(closed)` without touching the segment. Judged here: the answer (`fail(closed)`,
/// never a driver error, a crash or a hang), no transitions, and, for a sequential step, not one
/// byte of the segment changed by it. Such a call is no operation on the segment, so it stays out
/// of the history, the counters and the audits; and `closed` from a handle that is open is a
/// conformance failure of its own.
extension CaseRunner {
    /// What a call on a closed handle is judged against: the segment's bytes before it (nil in a
    /// parallel list, where the other roles change them meanwhile).
    struct ClosedCall {
        let segmentBefore: Data?
        let closedAt: String
    }

    /// Whether `rp`'s current process closed its handle and has not opened one since.
    func handleIsClosed(_ rp: RoleProcess) -> Bool {
        guard let fx = rp.fixture, let c = rp.closedHandle else { return false }
        return c.process == ObjectIdentifier(fx)
    }

    /// Called before `o` is sent: non-nil when it goes to a closed handle.
    func closedCall(_ o: OperationStep, _ rp: RoleProcess, inParallel: Bool) -> ClosedCall? {
        guard o.op != .resume, !o.overlap, handleIsClosed(rp), let at = rp.closedHandle?.at,
              ![.create, .open, .openOrCreate, .restore, .close, .compact].contains(o.op) else { return nil }
        return ClosedCall(segmentBefore: inParallel ? nil : FileManager.default.contents(atPath: segmentPath), closedAt: at)
    }

    /// The handle's state after `o` answered `r`: closed by an `ok` close, open again by an `ok`
    /// create, open, open_or_create or restore (a failed one leaves it as it was, DRIVER.md).
    func noteHandleState(_ o: OperationStep, _ r: DriverResponse, _ rp: RoleProcess, _ fx: FixtureProcess) {
        guard r.isOK else { return }
        if o.op == .close {
            rp.closedHandle = RoleProcess.ClosedHandle(process: ObjectIdentifier(fx), at: o.location.description)
        } else if [.create, .open, .openOrCreate, .restore].contains(o.op) {
            rp.closedHandle = nil
        }
    }

    /// A driver error in answer to an operation on a closed handle: the fixture follows the
    /// contract from before closed handles were judged (it dropped its handle and answers `no
    /// open segment`), or its library failed on the closed handle.
    func closedHandleErrored(_ text: String, _ kind: String, _ r: DriverResponse, _ c: ClosedCall, at location: String) throws -> Never {
        let why = kind == "bad_request"
            ? "a fixture that drops its handle at `close` and answers `bad_request` follows the contract from before closed handles were judged"
            : "the closed handle failed instead of answering `closed` (a method of the library that does not check for a closed handle first?)"
        try harness("\(text) answered error(\(kind)) at \(location), on the handle it closed at \(c.closedAt)",
                    "A fixture keeps its closed handle and passes every later handle operation to the library, whose closed handle "
                        + "answers `fail(closed)` (docs/DRIVER.md \"After close\", PROTOCOL.md §15); \(why). The fixture said: \(r.message ?? "")")
    }

    /// The hint added when a fixture crashed or hung on an operation of its closed handle.
    func closedHandleFailed(_ c: ClosedCall?) -> String {
        guard let c else { return "" }
        return "\nThe operation went to the handle closed at \(c.closedAt): a closed handle answers `fail(closed)` at once, "
            + "never crashing on the unmapped segment nor blocking (docs/DRIVER.md \"After close\")."
    }

    /// Judges the answer of an operation on a closed handle, and a `closed` from an open one.
    func checkClosedAnswer(_ o: OperationStep, _ r: DriverResponse, _ c: ClosedCall?, text: String) {
        let said = r.outcome.map { "\($0)" } ?? "?"
        guard let c else {
            if r.outcome == .fail && r.reason == "closed" {
                conformance("\(text) answered fail(closed) on an open handle at \(o.location)",
                            "`closed` is the answer of a handle after its `close` only (PROTOCOL.md §15): \(r.message ?? "")")
            }
            return
        }
        if r.outcome != .fail || r.reason != "closed" {
            conformance("\(text) answered \(said)\(r.reason.map { "(\($0))" } ?? "") on the handle closed at \(c.closedAt)",
                        "At \(o.location): every operation of a closed handle fails with `closed` (PROTOCOL.md §15, docs/DRIVER.md "
                            + "\"After close\"). Result: \(r.result) \(r.message ?? "")")
        }
        if !r.transitions.isEmpty {
            conformance("\(text) on the handle closed at \(c.closedAt) reported \(r.transitions.count) transition(s)",
                        "At \(o.location): a closed handle changes nothing (PROTOCOL.md §15): \(r.transitions)")
        }
        if let before = c.segmentBefore, let after = FileManager.default.contents(atPath: segmentPath), before != after {
            let at = zip(before, after).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(before.count, after.count)
            conformance("\(text) on the handle closed at \(c.closedAt) changed the segment (first at byte \(at))",
                        "At \(o.location): a closed handle touches no byte of the segment (PROTOCOL.md §15); the step ran alone, so "
                            + "the change is its own.")
        }
    }
}
