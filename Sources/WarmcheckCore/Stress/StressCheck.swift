import Foundation
@_spi(Harness) import Warmcache
import WarmcheckModel
import WarmcheckScenario
import WarmcheckSegment

/// The verdicts of a stress run: linearizability, transitions, invariants.
public struct StressReport: Sendable {
    public enum Verdict: String, Sendable { case pass, fail, error }

    public var linearizability: LinearizabilityReport?
    public var allowSilentRemoval = false
    /// Why silent removal was allowed (counters that show removals no operation reported).
    public var silentRemovalReason = ""
    public var transitionViolations: [Violation] = []
    public var transitionsChecked = 0
    public var invariantProblems: [String] = []
    /// Final counters outside the range the answers allow (PROTOCOL.md §6).
    public var counterProblems: [String] = []
    /// Problems a killed process legitimately leaves behind (abandoned claims).
    public var ignoredProblems: [String] = []
    public var harnessError: String?
    /// How often writers met (overlapping writes of one key, busy answers).
    public var contention: Contention?
    /// `--kill-inside`: the deaths at pause points and the recovery from each.
    public var insideKills: InsideKillReport?
    /// One paragraph per check, in prose.
    public var lines: [String] = []

    public var verdict: Verdict {
        if let l = linearizability, l.verdict.isIllegal { return .fail }
        if !transitionViolations.isEmpty || !invariantProblems.isEmpty || !counterProblems.isEmpty { return .fail }
        if let k = insideKills, !k.ok { return .fail }
        if harnessError != nil { return .error }
        if let l = linearizability, l.verdict.isUnknown { return .error }
        return linearizability == nil ? .error : .pass
    }

    /// 0 all ok, 1 a violation, 2 harness error (or an inconclusive search).
    public var exitCode: Int32 {
        switch verdict {
        case .pass: return 0
        case .fail: return 1
        case .error: return 2
        }
    }
}

public enum StressCheck {
    /// Per-key linearizability of a stress history against the sequential cache model. Exposed
    /// on its own so that a history can be checked (or a mutated one re-checked) without a run.
    /// Stress writes only automatic versions to one fresh segment, so automatic versions are
    /// also checked across keys (§9.4).
    public static func linearizability(_ history: [CacheOperation], allowSilentRemoval: Bool, reason: String = "",
                                       budget: SearchBudget = SearchBudget()) -> LinearizabilityReport {
        checkLinearizability(history, model: model(allowSilentRemoval: allowSilentRemoval, reason: reason), budget: budget,
                             windows: .whenUndecided)
    }

    public static func model(allowSilentRemoval: Bool, reason: String = "") -> CacheModel {
        CacheModel(allowSilentRemoval: allowSilentRemoval, silentRemovalReason: reason, automaticVersionsAcrossKeys: true)
    }

    /// Judges a finished run.
    public static func evaluate(_ run: StressRun) -> StressReport {
        var rep = StressReport()
        rep.harnessError = run.harnessError
        if let e = run.harnessError {
            rep.lines.append("Harness error — the run stopped early and the checks below cover only what was recorded "
                             + "before it:\n  \(e)")
        }

        // Invariants of the final segment (PROTOCOL.md §8.3), read by warmcheck's own decoder
        // (WarmcheckSegment, which shares no code with any implementation).
        let killed = run.kills > 0
        if run.options.killInsidePPM > 0 {
            let k = InsideKillReport(kills: run.insideKills)
            rep.insideKills = k
            rep.lines += k.lines
        }
        switch run.decoded {
        case .failure(let refusal)?:
            rep.invariantProblems.append("the final segment is unreadable: \(refusal)")
        case .success(let snap)?:
            for p in snap.problems {
                if killed && p.isLeftByACrash { rep.ignoredProblems.append(p.description) } else { rep.invariantProblems.append(p.description) }
            }
        case nil:
            break
        }
        let totals = run.inspection?.totals
        // Counters against the answers; a harness error stops the run with operations in flight.
        if let t = totals, run.harnessError == nil { rep.counterProblems = run.accounting.disagreements(with: t) }
        if let g = generationDisagreement(run) { rep.counterProblems.append(g) }
        // Without final counters nothing shows that no entry vanished unseen: allow it.
        let silent = totals.map { run.accounting.silentRemovalReason($0) } ?? "no final counters to rule it out"
        rep.allowSilentRemoval = silent != nil
        rep.silentRemovalReason = silent ?? ""

        // Transitions: every reported transition, per slot by seq, plus the final state words.
        if run.untraced.isEmpty {
            let checker = TransitionChecker(initial: .freshSegment)
            for t in run.transitions { checker.observe(t.transition, reporter: t.reporter) }
            for p in run.diedParticipants { checker.participantDied(p) }
            for w in run.finalStateWords { checker.snapshot(shard: w.shard, slot: w.slot, word: w.word) }
            rep.transitionsChecked = run.transitions.count
            rep.transitionViolations = checker.violations
        }

        // Linearizability of the whole history.
        if !run.history.isEmpty {
            let budget = SearchBudget(maxExploredStates: run.options.linearizabilityStates,
                                      timeLimit: run.options.linearizabilityTimeLimit.map { .milliseconds(Int64($0 * 1000)) })
            rep.linearizability = linearizability(run.history, allowSilentRemoval: rep.allowSilentRemoval,
                                                  reason: rep.silentRemovalReason, budget: budget)
        }

        rep.contention = Contention(run.history)

        // Prose.
        if let l = rep.linearizability {
            let keys = l.partitions.count
            let secs = Double(l.elapsed.components.seconds) + Double(l.elapsed.components.attoseconds) / 1e18
            let how = "\(run.history.count) operations over \(keys) keys, \(l.exploredStates) states explored in "
                + String(format: "%.2f s", secs)
                + (rep.allowSilentRemoval ? "; entries may vanish unseen: \(rep.silentRemovalReason)"
                   : "; no entry vanished unseen (every eviction counted is an explicit evict), automatic versions checked across keys")
            switch l.verdict {
            case .ok:
                rep.lines.append("Linearizability: ok — for every key, some order of its operations that respects their "
                                 + "real-time intervals explains every answer (\(how))."
                                 + windowedKeys(l).joined(separator: "\n"))
            case .illegal(let f):
                rep.lines.append("Linearizability: VIOLATED on key \(ScenarioValue.render(f.key)) — no order of its "
                                 + "operations that respects their real-time intervals explains every answer (\(how)).\n"
                                 + f.explanation)
            case .unknown(let why):
                rep.lines.append("Linearizability: inconclusive — the search ran out of budget (\(how)): \(why). This is not a pass.\n"
                                 + inconclusiveKeys(l, run.history).joined(separator: "\n"))
            }
            if case .illegal = l.verdict, !windowedKeys(l).isEmpty { rep.lines.append(windowedKeys(l).joined(separator: "\n")) }
        } else {
            rep.lines.append("Linearizability: not checked — no operation was recorded.")
        }
        if !run.untraced.isEmpty {
            rep.lines.append("Transitions: not checked — not reported by \(run.untraced.sorted().joined(separator: ", ")) (hello.trace is not true).")
        } else if run.transitions.isEmpty && run.finalStateWords.isEmpty {
            rep.lines.append("Transitions: not checked — no transition was reported.")
        } else if rep.transitionViolations.isEmpty {
            rep.lines.append("Transitions: ok — \(rep.transitionsChecked) reported transitions chain per slot by seq, every one a "
                             + "row of PROTOCOL.md §8.2 made by a participant allowed to make it, and the final state words "
                             + "agree with them"
                             + (run.diedParticipants.isEmpty ? "." : " (gaps left by the \(run.diedParticipants.count) processes killed mid-call are allowed)."))
        } else {
            var s = "Transitions: \(rep.transitionViolations.count) VIOLATION\(rep.transitionViolations.count == 1 ? "" : "S") among "
                + "\(rep.transitionsChecked) reported transitions:"
            for v in rep.transitionViolations.prefix(5) {
                s += "\n  shard \(v.shard) slot \(v.slot) seq \(v.seq) (\(v.kind.rawValue)): \(v.explanation)"
            }
            if rep.transitionViolations.count > 5 { s += "\n  … \(rep.transitionViolations.count - 5) more" }
            rep.lines.append(s)
        }
        if !rep.counterProblems.isEmpty {
            rep.lines.append("Counters: DISAGREE with the answers (PROTOCOL.md §6):\n"
                             + rep.counterProblems.map { "  \($0)" }.joined(separator: "\n")
                             + "\n  (seen: \(run.accounting.seen))")
        } else if totals != nil && run.harnessError == nil {
            rep.lines.append("Counters: ok — every final counter lies in the range the answers allow (\(run.accounting.seen)).")
        }
        if run.inspection == nil {
            rep.lines.append("Invariants: not checked — there is no final segment to read.")
        } else if rep.invariantProblems.isEmpty {
            var s = "Invariants: ok — warmcheck's own decoder finds the final segment consistent (PROTOCOL.md §8.3)"
            if let t = totals {
                s += "; counters: \(t.hits) hits, \(t.misses) misses, \(t.inserts) inserts, \(t.refreshes) refreshes, "
                    + "\(t.invalidations) invalidations, \(t.evictions) evictions, \(t.expirations) expirations, \(t.reclaims) reclaims"
            }
            if !rep.ignoredProblems.isEmpty {
                s += ". \(rep.ignoredProblems.count) claim\(rep.ignoredProblems.count == 1 ? "" : "s") abandoned by killed processes "
                    + "remain (reclaimable, allowed after kills)"
            }
            rep.lines.append(s + ".")
        } else {
            var s = "Invariants: \(rep.invariantProblems.count) PROBLEM\(rep.invariantProblems.count == 1 ? "" : "S") in the final segment:"
            for p in rep.invariantProblems.prefix(10) { s += "\n  \(p)" }
            if rep.invariantProblems.count > 10 { s += "\n  … \(rep.invariantProblems.count - 10) more" }
            rep.lines.append(s)
        }
        return rep
    }

    /// Which keys the search gave up on and why, and what would make them conclusive: the search
    /// is exponential in how many operations of one key are open at once, and an operation of
    /// unknown outcome (a killed process) stays open to the end of the history.
    /// The keys the whole search left undecided and the time-window check then judged: how many
    /// windows, how many configurations were carried across the cuts, whether the budget ran out.
    static func windowedKeys(_ l: LinearizabilityReport) -> [String] {
        let split = l.partitions.filter { $0.windows != nil }
        guard !split.isEmpty else { return [] }
        return ["\n  \(split.count) key\(split.count == 1 ? "" : "s") undecided by one search, checked in time windows (cut where none of "
                + "the key's operations is in flight, every possible state carried across each cut):"]
            + split.prefix(10).map { p in
                let w = p.windows!
                let v = w.verdict.isOk ? "linearizable" : w.verdict.isIllegal ? "NOT linearizable" : "still undecided"
                return "    \(ScenarioValue.render(p.key)): \(v) — \(w.text)"
            }
    }

    static func inconclusiveKeys(_ l: LinearizabilityReport, _ history: [CacheOperation]) -> [String] {
        let open = l.partitions.filter { $0.verdict.isUnknown }
        var out = ["  \(open.count) of \(l.partitions.count) keys inconclusive:"]
        for p in open.prefix(10) {
            let ops = history.filter { $0.input.key == p.key }
            let unknown = ops.filter { $0.output == .unknown }.count
            // The most operations of this key in flight at one instant (an unknown one never ends).
            var events: [(UInt64, Int)] = []
            for o in ops { events.append((o.call, 1)); events.append((o.return, -1)) }
            events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            var now = 0, most = 0
            for e in events { now += e.1; most = max(most, now) }
            out.append("    \(ScenarioValue.render(p.key)): \(p.operationCount) operations, up to \(most) in flight at once, "
                       + "\(unknown) of unknown outcome (open to the end), \(p.exploredStates) states explored"
                       + (p.windows.map { "; in time windows: \($0.text)" } ?? ""))
        }
        out.append("  To make it conclusive: fewer processes per key (more --keys, or fewer --processes), so that a key has "
                   + "instants with nothing in flight to cut at (time windows were tried on these keys; a window is as hard as "
                   + "the most operations open at once in it); fewer unknown outcomes (a lower --kill-inside / --kill-every: "
                   + "each one is carried open into every later window); or a larger budget.")
        return out
    }

    /// Counts of the history by operation and outcome, for the summary.
    public static func counts(_ run: StressRun) -> [(String, Int)] {
        var byOp: [String: Int] = [:]
        var hits = 0, misses = 0, unknown = 0, failed = 0
        for h in run.history {
            byOp[h.input.opName, default: 0] += 1
            switch h.output {
            case .hit: hits += 1
            case .miss: misses += 1
            case .unknown: unknown += 1
            case .fail: failed += 1
            default: break
            }
        }
        return StressOp.allCases.compactMap { op in byOp[op.rawValue].map { (op.rawValue, $0) } }
            + [("hit", hits), ("miss", misses), ("fail", failed), ("unknown", unknown)]
    }
}
