import Foundation
import WarmcheckModel
import WarmcheckScenario

/// The checks made once the steps are done, and the verdict with its explanation.
extension CaseRunner {
    func checkCoverage() {
        guard untraced.isEmpty else { return }  // said in the result's notes
        let required = Set(scenario.covers.compactMap(SlotEvent.init(name:)))
        let seen = (retiredCheckers + [checker]).reduce(into: Set<SlotEvent>()) { $0.formUnion($1.coverage()) }
        let missing = required.subtracting(seen)
        guard !missing.isEmpty else { return }
        let names = missing.map(\.name).sorted().joined(separator: ", ")
        conformance("never observed \(names), which the scenario must cover",
                    "The scenario declares `covers: [\(scenario.covers.joined(separator: ", "))]`, but no fixture reported "
                        + "\(names). A case that never reaches the transitions it is about proves nothing about them. "
                        + "Observed: \(seen.map(\.name).sorted().joined(separator: ", ")).")
    }

    /// Reports violations found since the last call (it runs after every step and at the end).
    func checkTransitions() {
        let all = retiredCheckers.flatMap(\.violations) + checker.violations
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

    /// The upgrade pass criterion (issue 8 §4, docs/UPGRADING.md): in a case with `upgrade:`
    /// steps or a side-by-side segment (a major migration), the gets after the first live
    /// upgrade (or the new segment's creation) that missed a key which was present and neither
    /// removed, evicted nor expired (`unexplainedMisses`). Any such miss fails the case, each one
    /// named; nil for a case with neither.
    func checkUpgradeMisses() -> Int? {
        guard !scenario.upgradeTargets.isEmpty || scenario.allOperations.contains(where: { $0.segment != nil }) else { return nil }
        lock.lock()
        let ops = history, from = firstLiveUpgradeAt
        lock.unlock()
        guard let from else {
            log.add("upgrade misses: 0 (no process was replaced while the segment existed)")
            return 0
        }
        let misses = unexplainedMisses(ops, from: from, silentRemoval: silentRemovalPossible)
        log.add("upgrade misses: \(misses.count) (gets after the first live upgrade that missed a key present and neither removed, evicted nor expired)")
        guard !misses.isEmpty else { return 0 }
        let listed = misses.prefix(8).map { i in
            "get \(ScenarioValue.render(ops[i].input.key)) by \(scenario.roles.indices.contains(ops[i].clientId) ? scenario.roles[ops[i].clientId] : "?")"
        }
        conformance("\(misses.count) miss\(misses.count == 1 ? "" : "es") caused by the upgrade",
                    "After a process was replaced (`upgrade:`), these gets missed a key that an acknowledged write had put there "
                        + "before they began, that no invalidate or evict could have removed, and that could not have expired: "
                        + listed.joined(separator: "; ") + (misses.count > 8 ? "; …" : "")
                        + ". An upgrade must lose nothing (docs/UPGRADING.md): a rolling upgrade that recreates or misreads the "
                        + "segment shows up here.",
                    event: unplacedEventTime(ops[misses[0]]))
        return misses.count
    }

    /// Records the start of an upgrade that replaces a process on an existing segment.
    func noteLiveUpgrade() {
        lock.lock()
        if firstLiveUpgradeAt == nil { firstLiveUpgradeAt = MonotonicClock.now() }
        lock.unlock()
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

    /// The timeline with the event that shows the first conformance violation marked, for the
    /// HTML report. Done once at the end: the parallel roles append to the timeline under
    /// `lock`, which a finding's reporter may not hold.
    var markedTimeline: [Timeline.Event] {
        var events = timeline
        guard let f = findings.first(where: { $0.kind == .conformance }) else { return events }
        let i = f.event.flatMap { t in events.lastIndex { $0.t == t && [.returned, .died, .call].contains($0.kind) } }
            ?? events.lastIndex { $0.t <= f.at }
        if let i { events[i].violating = true }
        return events
    }
}

func shellQuote(_ s: String) -> String {
    if s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=,".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
