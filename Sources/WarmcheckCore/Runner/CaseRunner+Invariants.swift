import Foundation
import Warmcache
import WarmcheckModel
import WarmcheckScenario
import WarmcheckSegment

extension CaseRunner {
    /// Reads the segment with warmcheck's own decoder (WarmcheckSegment, written from the spec and
    /// sharing no code with any implementation) after a step, and checks the invariants of
    /// PROTOCOL.md §8.3 / §13, the words each reported transition constrains, provenance, the
    /// counters, and the fixtures' own `dump` against what the decoder sees.
    func checkInvariants(after step: Step?) throws {
        let audits = takeAudits()
        if let v = audits.violation {
            try harness(v.description, v.description + "\n(an answer that cannot be decoded cannot be judged: the case stops here)")
        }
        guard FileManager.default.fileExists(atPath: segmentPath) else { return }
        let where_ = step.map { "after the step at \($0.location)" } ?? "after the parallel part"
        let snap: SegmentSnapshot
        switch SegmentSnapshot.read(path: segmentPath) {
        case .failure(let refusal):
            conformance("the segment is unreadable \(where_): \(refusal.code)",
                        "warmcheck's own decoder refused the segment \(where_) (PROTOCOL.md §4.2): \(refusal)")
            return
        case .success(let s):
            snap = s
        }
        let someoneDied = roles.values.contains { $0.crashed }
        let problems = snap.problems
        for p in problems {
            // A process that died holding a claim legitimately leaves it until someone reclaims it.
            if someoneDied && p.isLeftByACrash { continue }
            // A slot the scenario corrupted on purpose fails its checksum until it is rewritten.
            if case .checksumMismatch(let at, _, _, _) = p, corrupted.contains(at.description) { continue }
            conformance("invariant broken \(where_): \(p)",
                        "The segment, read by warmcheck's own decoder \(where_), breaks PROTOCOL.md §8.3 / §13 / §1:\n  \(p)")
        }
        checkCounters(Counters(snap.totals), where_: where_)
        audit(audits, in: snap, where_: where_)
        if !someoneDied { crossCheckDump(snap, problems: problems, where_: where_) }
        lock.lock()
        defer { lock.unlock() }
        // Snapshots of every state word let the checker compare the segment with the reported
        // transitions. Not while an operation is paused: its claim is in the segment already
        // but will only be reported with its response.
        if !roles.values.contains(where: { $0.pending != nil }) && untraced.isEmpty {
            for s in 0..<snap.geometry.shardCount {
                for j in 0..<snap.geometry.slotsPerShard { checker.snapshot(shard: s, slot: j, word: snap.stateWord(s, j).raw) }
            }
            lock.unlock()
            checkTransitions()
            lock.lock()
        }
        // Only removals no answer reported: explicit evicts count in `evictions` too (§6).
        let paused = roles.values.filter { $0.pending != nil }.count
        if accounting.silentRemovalReason(Counters(snap.totals), inFlight: paused) != nil {
            silentRemovalPossible = true
        }
        lastSnapshot = snap
    }

    /// Counters agree with what happened: every get, put and removal the fixtures answered is
    /// counted exactly once; operations of unknown outcome widen the allowed range.
    func checkCounters(_ t: Counters, where_: String) {
        // An operation stopped at a pause point may already have counted itself.
        let paused = roles.values.filter { $0.pending != nil }.count
        let wrong = accounting.disagreements(with: t, inFlight: paused)
        guard !wrong.isEmpty else { return }
        conformance("counters disagree with what happened \(where_): \(wrong[0])",
                    "PROTOCOL.md §6 defines each counter; from the answers the fixtures gave, \(where_):\n"
                        + wrong.map { "  \($0)" }.joined(separator: "\n") + "\n  (seen: \(accounting.seen))")
    }

    func checkCoverage() {
        guard untraced.isEmpty else { return }  // said in the result's notes
        let required = Set(scenario.covers.compactMap(SlotEvent.init(name:)))
        let missing = checker.missingCoverage(required)
        guard !missing.isEmpty else { return }
        let names = missing.map(\.name).sorted().joined(separator: ", ")
        conformance("never observed \(names), which the scenario must cover",
                    "The scenario declares `covers: [\(scenario.covers.joined(separator: ", "))]`, but no fixture reported "
                        + "\(names). A case that never reaches the transitions it is about proves nothing about them. "
                        + "Observed: \(checker.coverage().map(\.name).sorted().joined(separator: ", ")).")
    }

    /// Reports violations found since the last call (it runs after every step and at the end).
    func checkTransitions() {
        let all = checker.violations
        guard all.count > reportedViolations else { return }
        let fresh = all[reportedViolations...]
        reportedViolations = all.count
        for v in fresh {
            conformance("illegal transition at shard \(v.shard) slot \(v.slot) seq \(v.seq): \(v.kind.rawValue)",
                        v.explanation + (v.expectedRule.map { "\n  (spec: \($0))" } ?? ""))
        }
    }

    /// Per-key linearizability of every get/put/refresh/invalidate/evict of the case. In purely
    /// sequential cases it still checks that every value read was written whole by some put, at
    /// a version that never goes back; with a parallel part it is the real Wing–Gong search.
    func checkLinearizability() {
        guard !history.isEmpty else { return }
        let model = CacheModel(allowSilentRemoval: silentRemovalPossible)
        let report = WarmcheckModel.checkLinearizability(
            history, model: model, budget: SearchBudget(maxExploredStates: options.linearizabilityStates))
        switch report.verdict {
        case .ok:
            log.add("linearizability: ok (\(history.count) operations, \(report.exploredStates) states explored)")
        case .illegal(let f):
            conformance("the history of key \(ScenarioValue.render(f.key)) is not linearizable",
                        "No order of the operations on key \(ScenarioValue.render(f.key)) that respects their real-time "
                            + "intervals explains every answer (checked against the sequential cache model"
                            + "\(model.allowSilentRemoval ? ", entries may vanish by eviction or expiry" : "")).\n" + f.explanation,
                        event: history.indices.contains(f.unplaced) ? unplacedEventTime(history[f.unplaced]) : nil)
        case .unknown(let reason):
            addFinding(Finding(kind: .inconclusive, summary: "linearizability check inconclusive: \(reason)",
                                    details: "The search ran out of budget (\(report.exploredStates) states); this is not a pass."))
        }
    }

    /// The timeline time of the operation the search could not place: its answer, or its call
    /// when it never answered.
    func unplacedEventTime(_ op: CacheOperation) -> UInt64 { op.outcomeUnknown ? op.call : op.return }

    func result(seconds: Double) -> CaseResult {
        let assignment = testCase.assignments.map { (role: $0.role, impl: $0.implementation) }
        let rerun = "\(options.rerunPrefix) \(shellQuote(scenario.file)) --filter \(shellQuote(testCase.name)) --seed \(options.seed)"
        var r = CaseResult(name: testCase.name, scenario: scenario.name, file: scenario.file, assignment: assignment,
                           verdict: .pass, seconds: seconds, rerun: rerun)
        let conf = auditQueue.violation == nil ? findings.filter { $0.kind == .conformance } : []
        let harn = findings.filter { $0.kind == .harness || $0.kind == .inconclusive }
        if let first = conf.first {
            r.verdict = .fail
            r.reason = first.summary
            r.details = explain(conf)
        } else if let first = harn.first {
            r.verdict = .error
            r.reason = first.summary
            r.details = explain(harn)
        } else if let skip = findings.first(where: { $0.kind == .skip }) {
            r.verdict = .skip
            r.reason = skip.summary
        }
        return r
    }

    func explain(_ fs: [Finding]) -> String {
        var out = ""
        for (i, f) in fs.prefix(5).enumerated() {
            out += "\(i == 0 ? "What went wrong" : "Also"): \(f.summary)\n\(f.details)\n\n"
        }
        if fs.count > 5 { out += "(\(fs.count - 5) more findings)\n\n" }
        out += "Roles: " + testCase.assignments.map { a in
            "\(a.role) = \(a.implementation) (pid \(roles[a.role]?.pids.map(String.init).joined(separator: ", ") ?? "-"))"
        }.joined(separator: "; ") + "\n"
        out += "Steps that led there:\n" + log.render()
        return out
    }
}

func shellQuote(_ s: String) -> String {
    if s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=,".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
