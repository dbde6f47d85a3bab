// Checks the transitions fixtures report against §8 — TLA+-style trace validation per slot.
//
// Reports arrive in any order (several fixtures answer concurrently), so `observe` only
// records; the analysis runs over everything recorded when `violations` is read. Per slot the
// order is `seq`, which is exact (§7.1: every transition is one CAS that bumps it); `gseq`
// is never used to order a slot's events.
//
// Continuity: the `to` of seq n must be the `from` of seq n+1. Missing seqs are accepted only
// when the transitions the spec lets go unreported (mark_stale, reclaim of a dead owner) lead
// from the last known state to the next reported one in exactly the missing number of steps.
//
// Limitation: seq wraps mod 2^32 (§7.1); a run that wraps one slot's seq is not supported.

public final class TransitionChecker {
    /// What is known about slots before any report.
    public enum InitialKnowledge: Sendable {
        /// The segment was just created by the harness: every slot is EMPTY at seq 0.
        case freshSegment
        /// Nothing: a slot's history starts at its first report or snapshot.
        case unknown
    }

    private struct Report {
        var t: ObservedTransition
        var reporter: Int?
    }

    private struct Snapshot {
        var seq: UInt64
        var state: SlotState?
        var owner: Int
        var word: SlotWord?
    }

    private struct SlotLog {
        var reports: [Report] = []
        var snapshots: [Snapshot] = []
    }

    private let initial: InitialKnowledge
    private var logs: [SlotAddress: SlotLog] = [:]
    private var seen: Set<SlotEvent> = []
    private var cached: [Violation]?

    public init(initial: InitialKnowledge = .unknown) {
        self.initial = initial
    }

    /// Participants that died in the middle of an operation (killed at a pause point): the
    /// transitions they made just before dying were never reported, so gaps may hide any
    /// transition, not only silent ones (Jepsen's :info operations, at the slot level).
    public private(set) var diedMidOperation: Set<Int> = []

    public func participantDied(_ id: Int) {
        diedMidOperation.insert(id)
        cached = nil
    }

    /// Whether `steps` unreported transitions can lead from `from` to `to`.
    private func gapExplained(from: SlotState, to: SlotState, steps: UInt64) -> Bool {
        if SlotStateMachine.silentPath(from: from, to: to, steps: steps) != nil { return true }
        return !diedMidOperation.isEmpty && SlotStateMachine.anyPath(from: from, to: to, steps: steps) != nil
    }

    /// Records one reported transition.
    /// - Parameter reporter: the participant id of the fixture that reported it, when known.
    public func observe(_ t: ObservedTransition, reporter: Int?) {
        logs[SlotAddress(shard: t.shard, slot: t.slot), default: SlotLog()].reports
            .append(Report(t: t, reporter: reporter))
        if let e = t.event { seen.insert(e) }
        cached = nil
    }

    /// Records a snapshot of one slot's state word, read from the segment between steps.
    public func snapshot(shard: Int, slot: Int, seq: UInt64, state: SlotState, owner: Int) {
        logs[SlotAddress(shard: shard, slot: slot), default: SlotLog()].snapshots
            .append(Snapshot(seq: seq, state: state, owner: owner, word: nil))
        cached = nil
    }

    /// Records a snapshot from the raw 64-bit state word (§7.1); impossible words are reported.
    public func snapshot(shard: Int, slot: Int, word: UInt64) {
        let w = SlotWord(raw: word)
        logs[SlotAddress(shard: shard, slot: slot), default: SlotLog()].snapshots
            .append(Snapshot(seq: UInt64(w.seq), state: w.state, owner: w.owner, word: w))
        cached = nil
    }

    /// Events seen so far (parsed names only). Scenarios compare it with what they must cover.
    public func coverage() -> Set<SlotEvent> { seen }

    /// The events of `required` never seen: a race scenario that never reached its target
    /// proves nothing ("sometimes" assertions), so the caller should fail on a non-empty result.
    public func missingCoverage(_ required: Set<SlotEvent>) -> Set<SlotEvent> {
        required.subtracting(seen)
    }

    /// Every violation found so far, by slot then seq.
    public var violations: [Violation] {
        if let c = cached { return c }
        var out: [Violation] = []
        for addr in logs.keys.sorted() {
            out.append(contentsOf: analyze(addr, logs[addr]!))
        }
        cached = out
        return out
    }

    // MARK: - Analysis

    /// What the checker knows about a slot at some seq.
    private struct Known {
        var seq: UInt64
        var state: SlotState
        var owner: Int          // 0 = none or not known
        var source: String      // for prose: "seq 4 (`publish`)", "the snapshot at seq 6"
    }

    private enum Point {
        case report(Report)
        case snapshot(Snapshot)
        var seq: UInt64 {
            switch self {
            case .report(let r): return r.t.seq
            case .snapshot(let s): return s.seq
            }
        }
        var isSnapshot: Bool { if case .snapshot = self { return true } else { return false } }
    }

    private func analyze(_ addr: SlotAddress, _ log: SlotLog) -> [Violation] {
        var out: [Violation] = []
        func violation(_ kind: Violation.Kind, _ seq: UInt64, _ rule: String? = nil, _ text: String) {
            out.append(Violation(kind: kind, shard: addr.shard, slot: addr.slot, seq: seq,
                                 expectedRule: rule, explanation: text))
        }
        let slotName = "Slot (shard \(addr.shard), slot \(addr.slot))"

        // Drop exact duplicate reports (the same transition delivered twice is not a finding);
        // keep different transitions with one seq, which is.
        var reports: [Report] = []
        var seenKeys: Set<ObservedTransition> = []
        for r in log.reports where seenKeys.insert(r.t).inserted { reports.append(r) }

        // Order: by seq; at equal seq the transition comes before the snapshot taken after it.
        var points: [Point] = reports.map { .report($0) } + log.snapshots.map { .snapshot($0) }
        points = points.enumerated().sorted { a, b in
            if a.element.seq != b.element.seq { return a.element.seq < b.element.seq }
            if a.element.isSnapshot != b.element.isSnapshot { return !a.element.isSnapshot }
            return a.offset < b.offset
        }.map(\.element)

        var known: Known? = initial == .freshSegment
            ? Known(seq: 0, state: .empty, owner: 0, source: "the freshly created segment (EMPTY at seq 0)")
            : nil
        var lastReportSeq: UInt64? = nil
        var lastReport: ObservedTransition? = nil


        for p in points {
            switch p {
            case .report(let r):
                let t = r.t
                if let v = SlotStateMachine.judge(t, reporter: r.reporter) { out.append(v) }
                if let last = lastReportSeq, last == t.seq, let lt = lastReport {
                    violation(.duplicateSeq, t.seq, nil,
                              "\(slotName): two different transitions were reported with seq \(t.seq): \(lt) and \(t). Each transition is one CAS that increments seq by exactly 1 (§7.1, §8.2), so two transitions cannot share a seq; one of the two CASes must have succeeded on a stale word.")
                    continue
                }
                lastReportSeq = t.seq
                lastReport = t
                let event = t.event
                guard let from = t.from, let to = t.to else { known = nil; continue }
                if let k = known, t.seq > k.seq {
                    let missing = t.seq - 1 - k.seq
                    if missing == 0 {
                        if k.state != from {
                            violation(.brokenChain, t.seq, nil,
                                      "\(slotName): \(k.source) left the slot in \(k.state.name) at seq \(k.seq), but the next transition, seq \(t.seq) \(t), starts from \(from.name). Consecutive transitions must chain (the `to` of seq n is the `from` of seq n+1). From \(k.state.name) the legal events are: \(SlotStateMachine.describeLegal(from: k.state)).")
                        } else if let e = event, let rule = SlotStateMachine.rule(event: e, from: from, to: to),
                                  k.state.isOwned, k.owner != 0 {
                            checkOwnerContinuity(rule: rule, t: t, reporter: r.reporter, wordOwner: k.owner,
                                                 slotName: slotName, violation: violation)
                        }
                    } else if !gapExplained(from: k.state, to: from, steps: missing) {
                        violation(.unexplainedGap, t.seq, nil,
                                  "\(slotName): cannot explain the \(missing) unreported transition\(missing == 1 ? "" : "s") between seq \(k.seq) and seq \(t.seq). \(k.source) left the slot in \(k.state.name) at seq \(k.seq); the next report, seq \(t.seq) \(t), starts from \(from.name). Only silent transitions may go unreported (mark_stale T7 and reclaim of a dead owner T12–T14, §8.2), and \(describeSilent(from: k.state, steps: missing)).")
                    }
                }
                let newOwner = to.isOwned ? t.owner : 0
                known = Known(seq: t.seq, state: to, owner: newOwner, source: "seq \(t.seq) \(t)")

            case .snapshot(let s):
                let what = "the snapshot of the segment at seq \(s.seq)"
                if let w = s.word, let why = w.impossibility {
                    violation(.impossibleWord, s.seq, nil,
                              "\(slotName): \(what) read the state word \(w) (0x\(String(w.raw, radix: 16))), which is impossible: \(why) (PROTOCOL.md §8.1).")
                    if w.state == nil { known = nil; continue }
                } else if let st = s.state, s.word == nil {
                    if st.isOwned && s.owner == 0 {
                        violation(.impossibleWord, s.seq, nil,
                                  "\(slotName): \(what) shows \(st.name) with owner 0; an owned state must name its owner (PROTOCOL.md §8.1).")
                    } else if !st.isOwned && s.owner != 0 {
                        violation(.impossibleWord, s.seq, nil,
                                  "\(slotName): \(what) shows \(st.name) with owner \(s.owner); only WRITING, REFRESHING and INVALIDATED name an owner (PROTOCOL.md §8.1).")
                    }
                }
                guard let st = s.state else { known = nil; continue }
                let shown = "\(st.name)\(s.owner != 0 ? "(owner \(s.owner))" : "")"
                let before = out.count
                if let k = known {
                    if s.seq == k.seq {
                        if k.state != st || (st.isOwned && k.owner != 0 && s.owner != k.owner) {
                            violation(.snapshotMismatch, s.seq, nil,
                                      "\(slotName): \(what) shows \(shown), but \(k.source) left the slot in \(k.state.name)\(k.owner != 0 ? "(owner \(k.owner))" : "") at that same seq. The segment and the reported transitions disagree.")
                        }
                    } else if s.seq > k.seq {
                        let steps = s.seq - k.seq
                        if !gapExplained(from: k.state, to: st, steps: steps) {
                            violation(.snapshotMismatch, s.seq, nil,
                                      "\(slotName): \(what) shows \(shown), \(steps) transition\(steps == 1 ? "" : "s") after \(k.source) left the slot in \(k.state.name) at seq \(k.seq), and none of those transitions was reported. Only silent transitions may go unreported (mark_stale T7 and reclaim of a dead owner T12–T14), and \(describeSilent(from: k.state, steps: steps)); so \(shown) at seq \(s.seq) cannot be explained.")
                        }
                    }
                }
                let mismatch = out.count > before && out.last?.kind == .snapshotMismatch
                // After a disagreement it is unclear whether the report or the segment is
                // right; resynchronise at the next point instead of reporting a cascade.
                known = mismatch ? nil : Known(seq: s.seq, state: st, owner: s.owner, source: what)
            }
        }
        return out
    }

    /// Owner continuity for a transition that directly follows an owned word.
    private func checkOwnerContinuity(rule: TransitionRule, t: ObservedTransition, reporter: Int?,
                                      wordOwner: Int, slotName: String,
                                      violation: (Violation.Kind, UInt64, String?, String) -> Void) {
        switch rule.actor {
        case .ownerOnly:
            if t.owner != 0 && t.owner != wordOwner {
                violation(.wrongOwner, t.seq, rule.id,
                          "\(slotName): seq \(t.seq) \(t) names owner \(t.owner), but the word it replaced was claimed by participant \(wordOwner). Only the owner named in the word may make \(rule.id) `\(rule.event.name)` (§8.2).")
            } else if t.owner == 0, let r = reporter, r != wordOwner {
                violation(.wrongOwner, t.seq, rule.id,
                          "\(slotName): seq \(t.seq) \(t) was made by participant \(r), but the word was claimed by participant \(wordOwner). Only the owner named in the word may make \(rule.id) `\(rule.event.name)` (§8.2).")
            }
        case .anyWithDeadOwner:
            if t.owner != 0 && t.owner != wordOwner {
                violation(.wrongOwner, t.seq, rule.id,
                          "\(slotName): seq \(t.seq) \(t) reclaims from owner \(t.owner), but the word was claimed by participant \(wordOwner).")
            }
        case .any:
            break
        }
    }

    private func describeSilent(from state: SlotState, steps: UInt64) -> String {
        let reach = SlotStateMachine.silentlyReachable(from: state, steps: steps)
        let step = "\(steps) silent step\(steps == 1 ? "" : "s")"
        if reach.isEmpty { return "no sequence of \(step) starts from \(state.name)" }
        let names = SlotState.allCases.filter { reach.contains($0) }.map(\.name).joined(separator: " or ")
        return "\(step) from \(state.name) can only reach \(names)"
    }
}
