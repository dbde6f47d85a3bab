// Server+Overlap.swift — DRIVER.md "Two operations of one handle (overlap)": a request with
// `overlap: true` that arrives while an operation is paused runs to completion on another
// thread, on the same handle, while the paused operation stays in flight (stopped inside its
// pause hook on the main thread). That is the only way a driven handle ever has two write
// operations in flight at once, which is what `claim_hint`'s `in_flight` and `W` are for
// (PROTOCOL.md §5.1); WarmCache allows it (its operations are thread-safe, Segment.swift).

import Foundation
@_spi(Harness) import Warmcache

/// The overlapping request, handed to its thread, and its answer, handed back (the semaphore
/// orders both hand-overs).
private final class OverlapBox: @unchecked Sendable {
    let op: String
    let args: [String: Any]
    var outcome: Result<Outcome, Error> = .failure(RequestError.bad("not run"))
    init(op: String, args: [String: Any]) { self.op = op; self.args = args }
}

extension Server {
    /// The operations an overlap may run: the cache operations of one key (DRIVER.md).
    static let overlapOperations: Set<String> = ["get", "put", "refresh", "invalidate", "evict"]

    /// Whether a request asks to overlap the paused operation (`args.overlap` true).
    static func isOverlap(_ request: [String: Any]) -> Bool {
        ((request["args"] as? [String: Any])?["overlap"] as? Bool) == true
    }

    /// Runs an overlap request while the operation of the calling thread is paused, and answers
    /// it. Its own `pause_at`, `crash_at` and `crash_chance_ppm` are refused: the paused
    /// operation's hook stays armed, and it ignores every point reached while `overlapping`
    /// (the paused thread is blocked in the hook meanwhile, so every call it gets then comes
    /// from the overlapping thread).
    func overlap(_ request: [String: Any]) -> String {
        let id = request["id"] ?? NSNull()
        let op = request["op"] as? String ?? ""
        var args = (request["args"] as? [String: Any]) ?? [:]
        guard Server.overlapOperations.contains(op) else {
            return encode(["id": id, "error": ["kind": "bad_request",
                                              "message": "overlap: \(op) cannot overlap a paused operation (only get, put, refresh, invalidate, evict)"]])
        }
        for k in ["pause_at", "crash_at", "crash_chance_ppm", "crash_seed"] where args[k] != nil && !(args[k] is NSNull) {
            return encode(["id": id, "error": ["kind": "bad_request", "message": "overlap: \(k) is not allowed on an overlapping request"]])
        }
        args["overlap"] = nil
        // The paused operation's transitions so far belong to its own response, not this one.
        let prior = drainTransitions()
        let box = OverlapBox(op: op, args: args)
        let done = DispatchSemaphore(value: 0)
        overlapping = true
        let thread = Thread { [unowned self] in
            box.outcome = Result { try self.dispatch(op: box.op, args: box.args) }
            done.signal()
        }
        thread.start()
        done.wait()
        overlapping = false
        let mine = drainTransitions()
        stashedTransitions = prior
        switch box.outcome {
        case .success(.ok(let result)):
            return encode(["id": id, "outcome": "ok", "result": result, "transitions": mine])
        case .success(.fail(let reason, let message)):
            return encode(["id": id, "outcome": "fail", "reason": reason, "message": message, "transitions": mine])
        case .failure(let e as RequestError):
            return encode(["id": id, "error": ["kind": e.kind, "message": e.message]])
        case .failure(let e):
            return encode(["id": id, "error": ["kind": "runtime", "message": "\(e)"]])
        }
    }
}
