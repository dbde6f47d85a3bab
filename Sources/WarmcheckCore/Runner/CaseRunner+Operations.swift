import Foundation
import WarmcheckModel
import WarmcheckScenario

/// One operation step sent to its role's fixture (or a paused one resumed), and what its answer
/// changes: the timeline, the checker, the participant ids, the history.
extension CaseRunner {
    /// What became of one operation step.
    enum StepOutcome {
        case answered(DriverResponse)
        /// The fixture died at the step's `crash_at` point, as asked: the outcome is unknown.
        case died
        /// The operation stopped at its `pause_at` point; a later `resume` step finishes it.
        case paused(String)

        var response: DriverResponse? { if case .answered(let r) = self { return r }; return nil }
    }

    /// Sends one operation step (or resumes a paused one) and records what it did.
    func perform(_ o: OperationStep, inParallel: Bool) throws -> StepOutcome {
        let rp = roles[o.role]!
        guard let fx = rp.fixture else {
            try harness("\(o.role) has no running process at \(o.location)", "the scenario uses \(o.role) after it crashed; add `start: \(o.role)`")
        }
        // A resume finishes the operation that paused earlier: the history keeps that
        // operation's call time, so its interval spans everything that happened meanwhile.
        let step = o.op == .resume ? rp.pending?.step : o
        guard let step else { try harness("\(o.role) has nothing to resume at \(o.location)", "no paused operation") }
        let callAt = o.op == .resume ? rp.pending!.callAt : MonotonicClock.now()
        lock.lock()
        timeline.append(.init(lane: lane(o.role), kind: o.op == .resume ? .resume : .call, label: o.text, t: MonotonicClock.now()))
        lock.unlock()
        if o.op == .resume, let early = rp.pending?.finishedEarly {
            // The operation finished without reaching its pause point; its answer was kept for
            // this step, which then sends nothing (docs/SCENARIOS.md, controlled interleavings).
            rp.pending = nil
            lock.lock()
            defer { lock.unlock() }
            log.add("\(o.role) (\(rp.impl)) resume → \(describe(step, early)) (it had finished without pausing)")
            return .answered(early)
        }
        let text = "\(o.role) (\(rp.impl)) \(o.text)"
        // On a side-by-side segment (its own `segment=` or an earlier one's handle): judged by its
        // expectations only; the rest of the case describes the case's own segment.
        let onSide = step.segment != nil || (rp.side != nil && ![.create, .open, .openOrCreate, .restore].contains(step.op))
        var outcome: StepOutcome
        // What a sequential compact's answer is judged against (CaseRunner+Compaction).
        let storeBefore = o.op == .compact && !inParallel && o.pauseAt == nil && o.crashAt == nil ? storeListing() : nil
        // What a sequential restore's counts are judged against (CaseRunner+RestoreCounts).
        let restoreStoreBefore = o.op == .restore && !onSide && !inParallel && o.pauseAt == nil && o.crashAt == nil
            ? StoreReading.storeFiles(storeDir) : nil
        // An operation of a handle after its close (CaseRunner+ClosedHandles).
        let closed = onSide ? nil : closedCall(o, rp, inParallel: inParallel)
        do {
            // A `wait` may legitimately take its whole timeout before answering.
            let extra = step.op == .wait ? Double(step.timeoutNs ?? 5_000_000_000) / 1e9 : 0
            let result: FixtureProcess.CallResult
            // For a resume, the operation that answers: a resumed open or restore opens the handle.
            var answering = o
            if o.op == .resume {
                answering = rp.pending!.step
                result = try fx.resume(rp.pending!.id, timeout: options.timeout + extra)
                rp.pending = nil
            } else {
                result = try fx.start(o.op.rawValue, arguments(o), timeout: options.timeout + extra)
            }
            switch result {
            case .paused(let point, let id):
                guard o.op != .resume else { try harness("\(text) paused a second time at \(point)", "each request pauses at most once (docs/DRIVER.md)") }
                guard o.pauseAt != nil else {
                    try harness("\(text) answered paused at \(point) although the request named no pause point",
                                "a contract violation by the fixture (docs/DRIVER.md: only a request with pause_at pauses), not a verdict")
                }
                rp.pending = RoleProcess.Pending(step: o, id: id, callAt: callAt, finishedEarly: nil)
                outcome = .paused(point)
            case .response(let r):
                if let kind = r.errorKind {
                    if kind == "unsupported" {
                        addFinding(Finding(kind: .skip, summary: "\(rp.impl) does not support \(o.text)", details: r.message ?? ""))
                        throw Abort()
                    }
                    if let closed { try closedHandleErrored(text, kind, r, closed, at: o.location.description) }
                    try harness("\(text) answered error(\(kind)) at \(o.location)", r.message ?? "")
                }
                if !onSide { checkClosedAnswer(o, r, closed, text: text) }
                noteHandleState(answering, r, rp, fx)
                // What may end the role's journal part (checkSamePart): anything but reads and
                // acknowledged durable writes of its handle, and any role's compaction.
                if answering.op == .compact || inParallel {
                    journalParts = [:]
                } else if ![.put, .refresh, .invalidate, .evict, .get, .getMany, .stats, .generation, .wait, .participants].contains(answering.op)
                            || (answering.durable && r.result["durable"]?.bool != true) {
                    journalParts[o.role] = nil
                }
                if !onSide { record(r.transitions, reporter: rp.participant, lane: lane(o.role)) }
                if let storeBefore { checkCompaction(r, before: storeBefore, role: o.role, at: o.location) }
                if let restoreStoreBefore { checkRestoreCounts(r, before: restoreStoreBefore, role: o.role, at: o.location) }
                if (o.op == .put || o.op == .refresh) && o.durable && !onSide && !inParallel && o.pauseAt == nil {
                    checkJournalRecord(r, step: o, role: o.role)
                }
                if o.op == .stats && !onSide && !inParallel && o.pauseAt == nil && r.isOK {
                    statsToCheck = StatsAnswerToCheck(result: r.result, role: o.role, impl: rp.impl, location: o.location)
                }
                // An answer that does not decode is the audit's contract violation, not this check's.
                if o.op == .participants && !onSide && !inParallel && o.pauseAt == nil && r.isOK,
                   case .participants(let listed)? = try? DriverAnswer.decode(r, op: "participants", fixture: rp.impl) {
                    participantsToCheck = ParticipantsAnswerToCheck(listed: listed, role: o.role, impl: rp.impl, location: o.location)
                }
                if o.durable && !onSide && !inParallel && o.pauseAt == nil { checkFailingDisk(r, step: o, rp) }
                if o.op == .close && !onSide && !inParallel && r.isOK {
                    checkNoDescriptorsHeld(pid: processID(of: rp, fx), role: o.role, impl: rp.impl, after: "after `close` at \(o.location)")
                }
                if [.create, .open, .openOrCreate, .restore].contains(o.op) && !onSide && !inParallel && !r.isOK && holdsNoHandle(rp, fx) {
                    checkNoDescriptorsHeld(pid: processID(of: rp, fx), role: o.role, impl: rp.impl,
                                           after: "after the refused `\(o.op.rawValue)` at \(o.location)")
                }
                outcome = .answered(r)
                // Answered beside the paused operation, which stays in flight (CaseRunner+Overlap).
                if o.overlap { rp.pending?.overlaps.append(o) }
                if o.pauseAt != nil && !o.expect.contains(.paused) {
                    rp.pending = RoleProcess.Pending(step: o, id: id(of: r), callAt: callAt, finishedEarly: r)
                }
            }
        } catch let f as FixtureFailure {
            guard step.crashAt != nil, case .exited = f else {
                try harness("fixture \(rp.impl) playing \(o.role) failed during `\(o.text)` (\(o.location))",
                            f.description + closedHandleFailed(closed))
            }
            // The fixture killed itself at the pause point, as asked: the outcome is unknown, and
            // the transitions it made before dying were never reported.
            rp.fixture = nil
            rp.crashed = true
            rp.pending = nil
            lock.lock(); noteHandleReplaced(rp, at: MonotonicClock.now()); lock.unlock()  // its pin died with it
            if let p = rp.participant { lock.lock(); checker.participantDied(p); lock.unlock() }
            outcome = .died
        }
        let returnAt = MonotonicClock.now()
        rp.lastDurationNs = returnAt - callAt
        lock.lock()
        defer { lock.unlock() }
        if case .paused(let point) = outcome {
            log.add("\(text) → paused at \(point)")
            timeline.append(.init(lane: lane(o.role), kind: .pause, label: point, t: returnAt))
            return outcome
        }
        if case .died = outcome { timeline.append(.init(lane: lane(o.role), kind: .died, label: "killed at \(step.crashAt ?? "?")", t: returnAt)) }
        if let r = outcome.response { timeline.append(.init(lane: lane(o.role), kind: .returned, label: describe(step, r), t: returnAt)) }
        let r = outcome.response
        if let r, onSide, r.isOK, step.segment != nil {
            // Its handle is on the side segment now: no participant of the case's segment.
            rp.side = step.segment
            rp.participant = nil
            // A migration begins with its new segment: misses from then on are counted as an
            // upgrade's are (CaseRunner+Verdict). The runner's lock is held here, so this sets
            // the mark directly (noteLiveUpgrade takes the lock, which is not recursive).
            if step.op != .open, firstLiveUpgradeAt == nil { firstLiveUpgradeAt = MonotonicClock.now() }
        }
        if let r, !onSide, [.create, .open, .openOrCreate, .restore].contains(step.op) {
            if r.isOK { rp.side = nil }
            rp.participant = r.result["participant"]?.int.map(Int.init)
            if let p = rp.participant { rp.participants.append(p) }
            if r.isOK { noteStore(step, rp) }
            if r.isOK {
                // Provenance names the version the handle speaks (PROTOCOL.md §14): `protocol=`.
                rp.speaksMinor = step.protocolVersion.flatMap { Int($0.split(separator: ".").last ?? "") }
                // A future-version image that the decoder must refuse, made on purpose (§14).
                if step.op == .create, let f = step.future { checkFutureImage(f, role: o.role, at: o.location) }
                if step.op == .create || (step.op == .openOrCreate && r.result["created"]?.bool == true), step.future == nil {
                    checkCreatedVersion(rp, step: step, at: o.location)
                }
                switch step.future {
                case "incompat": futureRefusal = "unsupported_features"
                case "major": futureRefusal = "unsupported_major"
                default: break
                }
            }
        }
        if let r, step.op == .generation { rp.rememberedGeneration = r.result["generation"]?.uint }
        log.add("\(text)\(inParallel ? " [parallel]" : "")\(onSide ? " [segment \(step.segment ?? rp.side ?? "?")]" : "") → \(describe(step, r))")
        // A closed handle's answer is no operation on the segment (CaseRunner+ClosedHandles).
        if !onSide, closed == nil || r?.reason != "closed" { noteHistory(step, r, rp: rp, call: callAt, ret: returnAt) }
        return outcome
    }

    func call(_ fx: FixtureProcess, _ rp: RoleProcess, _ op: String, _ args: JSON, text: String) throws -> DriverResponse {
        do {
            let r = try fx.call(op, args)
            if let kind = r.errorKind {
                if kind == "unsupported" {
                    addFinding(Finding(kind: .skip, summary: "\(rp.impl) does not support \(text)", details: r.message ?? ""))
                    throw Abort()
                }
                try harness("\(rp.role) (\(rp.impl)) answered \(text) with error(\(kind))", r.message ?? "")
            }
            record(r.transitions, reporter: rp.participant)
            // Under `lock`: a parallel list's restart or upgrade calls `open` on its own thread.
            lock.lock()
            queueAudit(op: op, step: nil, r, rp: rp)
            lock.unlock()
            if ["open", "create", "open_or_create", "restore"].contains(op) {
                lock.lock()
                noteHandleReplaced(rp, at: MonotonicClock.now())
                lock.unlock()
            }
            return r
        } catch let f as FixtureFailure {
            try harness("fixture \(rp.impl) playing \(rp.role) failed during \(text)", f.description)
        }
    }

    func record(_ transitions: [JSON], reporter: Int?, lane: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        let now = MonotonicClock.now()
        for t in transitions {
            if let lane {
                let label = "\(t["event"]?.string ?? "?") \(t["from"]?.string ?? "?")→\(t["to"]?.string ?? "?") shard \(t["shard"]?.int ?? 0) slot \(t["slot"]?.int ?? 0) seq \(t["seq"]?.int ?? 0)"
                timeline.append(.init(lane: lane, kind: .transition, label: label, t: now))
            }
            checker.observe(ObservedTransition(driverJSON: t), reporter: reporter)
        }
    }
}
