import Foundation
import WarmcheckSegment
import Yams

/// Checks of the whole scenario once it is parsed: expansions, the order of crashes, starts,
/// pauses and resumes, and what a `resume` may expect.
extension Parser {
    func checkSameExpansion(_ s: Scenario, at: SourceLocation) {
        var common: Set<String>?
        for p in s.processes {
            if case .only(let list) = p.allowed {
                common = common.map { $0.intersection(list) } ?? Set(list)
            }
        }
        if let common, common.isEmpty {
            error(.invalid, at, "expand: same, but no implementation is allowed for every role")
        }
    }

    /// Crash/start order, `wait` without `seen=` after a `generation`, `check` targets, and
    /// controlled pauses: each `pause_at=` step is followed by its role's `resume` before any other
    /// operation of that role (or cleared by `crash:`), and `resume` expectations apply to the
    /// paused operation.
    func checkSequence(_ s: Scenario) {
        var crashed: [String: SourceLocation] = [:]
        var remembered: Set<String> = []
        var paused: [String: OperationStep] = [:]

        func visit(_ step: Step, crashed: inout [String: SourceLocation], remembered: inout Set<String>,
                   paused: inout [String: OperationStep]) {
            switch step {
            case .operation(let o):
                if let at = crashed[o.role] {
                    error(.badSequence, o.location, "role '\(o.role)' has no process: it crashed at line \(at.line); add `start: \(o.role)` first")
                    if o.op == .resume { return }
                }
                if o.op == .resume {
                    guard let p = paused[o.role] else {
                        error(.badSequence, o.location,
                              "`\(o.role): resume`, but role '\(o.role)' has no paused operation (give an earlier step pause_at=POINT)")
                        return
                    }
                    paused[o.role] = nil
                    checkResumeExpectations(o, resuming: p)
                    return
                }
                if o.overlap {
                    // Runs beside the paused operation (DRIVER.md "Two operations of one handle").
                    if let p = paused[o.role] {
                        // Without `paused` the operation may finish without pausing, and nothing
                        // would be in flight to overlap: the fixture would refuse the request.
                        if !p.expect.contains(.paused) {
                            error(.badSequence, o.location,
                                  "overlap=true beside the step at line \(p.location.line), which does not expect `paused`: the operation must stop at its point")
                        }
                    } else {
                        error(.badSequence, o.location,
                              "overlap=true, but role '\(o.role)' has no paused operation to overlap (give an earlier step pause_at=POINT)")
                    }
                    return
                }
                if let p = paused[o.role] {
                    error(.badSequence, o.location,
                          "role '\(o.role)' is paused at \(p.pauseAt ?? "?") (line \(p.location.line)); add `\(o.role): resume` before its next operation"
                          + " (or give this step overlap=true to run it beside the paused one)")
                }
                if o.op == .generation { remembered.insert(o.role) }
                if o.op == .wait, o.seen == nil, !remembered.contains(o.role) {
                    error(.badSequence, o.location, "wait without seen= needs an earlier `generation` of role '\(o.role)'")
                }
                if o.crashAt != nil { crashed[o.role] = o.location }
                if o.pauseAt != nil { paused[o.role] = o }
            case .control(let c):
                switch c.kind {
                case .crash(let r):
                    if crashed[r] != nil { error(.badSequence, c.location, "role '\(r)' already crashed") }
                    crashed[r] = c.location
                    paused[r] = nil // the paused operation dies with the process
                case .start(let r):
                    if crashed[r] == nil {
                        error(.badSequence, c.location, "`start: \(r)` but role '\(r)' has not crashed (use restart)")
                    }
                    crashed[r] = nil
                case .restart(let r), .upgrade(let r, _):
                    if let at = crashed[r] {
                        error(.badSequence, c.location, "role '\(r)' crashed at line \(at.line); use `start: \(r)`")
                    } else if let p = paused[r] {
                        error(.badSequence, c.location,
                              "role '\(r)' is paused at \(p.pauseAt ?? "?") (line \(p.location.line)); `\(r): resume` (or `crash: \(r)`) before restart")
                    }
                default: break
                }
            }
        }
        func reportStillPaused(_ paused: [String: OperationStep], part: String) {
            for (role, p) in paused {
                error(.badSequence, p.location,
                      "role '\(role)' is still paused at \(p.pauseAt ?? "?") at the end of \(part); add `\(role): resume`")
            }
        }
        for st in s.initSteps { visit(st, crashed: &crashed, remembered: &remembered, paused: &paused) }
        reportStillPaused(paused, part: "init")
        paused = [:]
        var afterCrashed = crashed
        var afterRemembered = remembered
        for list in s.parallel {
            var c = crashed
            var r = remembered
            var p: [String: OperationStep] = [:] // pause_at is refused in parallel lists
            for st in list.steps { visit(st, crashed: &c, remembered: &r, paused: &p) }
            afterCrashed[list.role] = c[list.role]
            if r.contains(list.role) { afterRemembered.insert(list.role) }
        }
        crashed = afterCrashed
        remembered = afterRemembered
        for st in s.finalSteps {
            visit(st, crashed: &crashed, remembered: &remembered, paused: &paused)
            if case .control(let c) = st, case .check(.createdOnce(let op)) = c.kind {
                let n = s.parallel.flatMap(\.steps).compactMap(\.operation).filter { $0.op == op }.count
                if n == 0 {
                    error(.badSequence, c.location, "check created_once: \(op.rawValue), but the parallel part has no \(op.rawValue)")
                }
            }
        }
        reportStillPaused(paused, part: "final")
    }

    /// After `duplicate: KEY` only reads follow: a removal of the original would uncover the
    /// copy, an insert could reuse it and a repair would judge it, none of which the model follows.
    func checkDuplicates(_ s: Scenario) {
        let reads: Set<Operation> = [.get, .getMany, .stats, .generation, .participants, .close]
        guard let i = s.finalSteps.firstIndex(where: { if case .control(let c) = $0, case .duplicate = c.kind { return true } else { return false } })
        else { return }
        for st in s.finalSteps[(i + 1)...] {
            switch st {
            case .operation(let o) where !reads.contains(o.op):
                error(.badSequence, o.location, "`\(o.op.rawValue)` after `duplicate` (line \(s.finalSteps[i].location.line)): only get, get_many, stats, generation, participants and close may follow it")
            case .control(let c):
                if case .duplicate = c.kind { continue }
                error(.badSequence, c.location, "a control step after `duplicate` (line \(s.finalSteps[i].location.line)): only reads may follow it")
            default:
                continue
            }
        }
    }

    /// `collide: KEY as=OTHER` borrows OTHER's bytes for a key no scenario can type (one with
    /// KEY's hash): a real OTHER written anywhere in the scenario, or a second collision with the
    /// same OTHER, would put those bytes into two readable slots, which is a duplicate key to the
    /// decoder (invariant 1) rather than the collision the step stands for.
    func checkCollisions(_ s: Scenario) {
        let steps = s.initSteps + s.parallel.flatMap(\.steps) + (s.race?.ops.flatMap(\.steps) ?? []) + s.finalSteps
        let written = Set(s.allOperations.filter { $0.op == .put || $0.op == .refresh }.compactMap(\.key))
        var borrowed: [[UInt8]: SourceLocation] = [:]
        for case .control(let c) in steps {
            guard case .collide(_, let other) = c.kind else { continue }
            let name = ScenarioValue.render(other)
            if let first = borrowed[other] {
                error(.invalid, c.location, "`collide` borrows \(name) a second time (first at line \(first.line)): give each collision its own OTHER")
            } else if written.contains(other) {
                error(.invalid, c.location, "`collide` borrows \(name), which a put or refresh of the scenario writes: OTHER must be a key no step writes")
            }
            borrowed[other] = borrowed[other] ?? c.location
        }
    }

    /// A `resume` step's expectations are judged against the paused operation's response.
    func checkResumeExpectations(_ r: OperationStep, resuming p: OperationStep) {
        guard let list = resumeExpectations[r.location] else { return }
        var valid: [(Expectation, SourceLocation)] = []
        for (e, at) in list {
            guard e.applicableOperations.contains(p.op) else {
                error(.notApplicable, at,
                      "expectation '\(e.token)' does not apply to \(p.op.rawValue) (the operation this resume continues, line \(p.location.line))")
                continue
            }
            valid.append((e, at))
        }
        checkContradictions(valid, op: p.op)
    }
}
