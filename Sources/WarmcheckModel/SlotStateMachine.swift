// The transition table of PROTOCOL.md §8.2, as data.
//
// Keeping the table as data (not as a switch) lets the checker answer the developer's real
// question — "what was allowed here instead?" — by querying the same rows it judged with, so
// the explanation can never drift from the verdict.

/// Who may make a transition (§8.2 column "who").
public enum TransitionActor: String, Sendable, Hashable {
    /// Only the participant named as owner in the word (T2, T3, T5, T6, T9).
    case ownerOnly = "owner only"
    /// Any participant; for a claim it becomes the owner (T1, T4, T7, T8, T10, T11).
    case any = "any participant"
    /// Any participant, but only when the owner named in the word is dead (T12–T14).
    case anyWithDeadOwner = "anyone, owner dead"
}

/// What happens to the active-record bit `A` (§7.1). Reports do not carry `A`, so this is
/// documentation for snapshot checks and people, not something the event checker can verify.
public enum ActiveRecordChange: String, Sendable, Hashable {
    case unchanged = "same A"
    case flipped = "A flipped"
    case setToWritten = "A = record written"
    case irrelevant = "A irrelevant"
}

/// One row of §8.2.
public struct TransitionRule: Sendable, Hashable, CustomStringConvertible {
    /// "T1" … "T14".
    public let id: String
    public let event: SlotEvent
    public let from: Set<SlotState>
    public let to: SlotState
    public let actor: TransitionActor
    public let active: ActiveRecordChange
    /// Needs the shard insert lock (T1, T10, T11).
    public let holdsInsertLock: Bool
    /// Made without being tied to a harness request, so fixtures may not report it (§8.2
    /// "Silent changes": mark_stale by a reader, reclaims of dead owners).
    public let silent: Bool

    /// Whether the active record flips (the brief's "does A flip" bit).
    public var flipsActive: Bool { active == .flipped }

    public var description: String {
        let froms = SlotState.allCases.filter { from.contains($0) }.map(\.name).joined(separator: "/")
        return "\(id) `\(event.name)` \(froms) → \(to.name) (\(actor.rawValue))"
    }
}

/// The slot state machine of §8.
public enum SlotStateMachine {
    /// §8.2, in table order.
    public static let rules: [TransitionRule] = [
        TransitionRule(id: "T1", event: .claim, from: [.empty], to: .writing,
                       actor: .any, active: .irrelevant, holdsInsertLock: true, silent: false),
        TransitionRule(id: "T2", event: .publish, from: [.writing], to: .ready,
                       actor: .ownerOnly, active: .setToWritten, holdsInsertLock: false, silent: false),
        TransitionRule(id: "T3", event: .abort, from: [.writing], to: .empty,
                       actor: .ownerOnly, active: .irrelevant, holdsInsertLock: false, silent: false),
        TransitionRule(id: "T4", event: .refreshClaim, from: [.ready, .stale], to: .refreshing,
                       actor: .any, active: .unchanged, holdsInsertLock: false, silent: false),
        TransitionRule(id: "T5", event: .refreshPublish, from: [.refreshing], to: .ready,
                       actor: .ownerOnly, active: .flipped, holdsInsertLock: false, silent: false),
        TransitionRule(id: "T6", event: .refreshAbort, from: [.refreshing], to: .ready,
                       actor: .ownerOnly, active: .unchanged, holdsInsertLock: false, silent: false),
        TransitionRule(id: "T7", event: .markStale, from: [.ready], to: .stale,
                       actor: .any, active: .unchanged, holdsInsertLock: false, silent: true),
        TransitionRule(id: "T8", event: .invalidateClaim, from: [.ready, .stale], to: .invalidated,
                       actor: .any, active: .unchanged, holdsInsertLock: false, silent: false),
        TransitionRule(id: "T9", event: .clear, from: [.invalidated], to: .empty,
                       actor: .ownerOnly, active: .irrelevant, holdsInsertLock: false, silent: false),
        TransitionRule(id: "T10", event: .evict, from: [.ready, .stale], to: .writing,
                       actor: .any, active: .irrelevant, holdsInsertLock: true, silent: false),
        TransitionRule(id: "T11", event: .expire, from: [.ready, .stale], to: .writing,
                       actor: .any, active: .irrelevant, holdsInsertLock: true, silent: false),
        TransitionRule(id: "T12", event: .reclaim, from: [.writing], to: .empty,
                       actor: .anyWithDeadOwner, active: .irrelevant, holdsInsertLock: false, silent: true),
        TransitionRule(id: "T13", event: .reclaim, from: [.refreshing], to: .ready,
                       actor: .anyWithDeadOwner, active: .unchanged, holdsInsertLock: false, silent: true),
        TransitionRule(id: "T14", event: .reclaim, from: [.invalidated], to: .empty,
                       actor: .anyWithDeadOwner, active: .irrelevant, holdsInsertLock: false, silent: true),
    ]

    /// The rows for an event (reclaim has three).
    public static func rules(for event: SlotEvent) -> [TransitionRule] {
        rules.filter { $0.event == event }
    }

    /// The rows that may start in `state`: what the spec allows next.
    public static func rules(from state: SlotState) -> [TransitionRule] {
        rules.filter { $0.from.contains(state) }
    }

    /// The legal events from `state`, in table order, without duplicates.
    public static func legalEvents(from state: SlotState) -> [SlotEvent] {
        var seen: [SlotEvent] = []
        for r in rules(from: state) where !seen.contains(r.event) { seen.append(r.event) }
        return seen
    }

    /// The row that allows exactly (event, from, to), if any.
    public static func rule(event: SlotEvent, from: SlotState, to: SlotState) -> TransitionRule? {
        rules.first { $0.event == event && $0.from.contains(from) && $0.to == to }
    }

    /// The silent rows (T7, T12–T14): transitions that may happen without being reported.
    public static let silentRules: [TransitionRule] = rules.filter(\.silent)

    /// The states reachable from `state` in exactly `steps` silent transitions.
    /// Silent rows have no cycle, so this empties after a few steps whatever `steps` is.
    public static func silentlyReachable(from state: SlotState, steps: UInt64) -> Set<SlotState> {
        var current: Set<SlotState> = [state]
        var n: UInt64 = 0
        while n < steps && !current.isEmpty {
            var next: Set<SlotState> = []
            for s in current {
                for r in silentRules where r.from.contains(s) { next.insert(r.to) }
            }
            current = next
            n += 1
        }
        return current
    }

    /// One concrete silent path of exactly `steps` steps from `from` to `to`, or nil.
    public static func silentPath(from: SlotState, to: SlotState, steps: UInt64) -> [TransitionRule]? {
        if steps == 0 { return from == to ? [] : nil }
        for r in silentRules where r.from.contains(from) {
            if let rest = silentPath(from: r.to, to: to, steps: steps - 1) { return [r] + rest }
        }
        return nil
    }

    /// One path of exactly `steps` transitions of any kind from `from` to `to`, or nil. Used only
    /// when a participant died mid-operation; gaps longer than 8 are never explained this way.
    public static func anyPath(from: SlotState, to: SlotState, steps: UInt64) -> [TransitionRule]? {
        if steps == 0 { return from == to ? [] : nil }
        if steps > 8 { return nil }
        for r in rules where r.from.contains(from) {
            if let rest = anyPath(from: r.to, to: to, steps: steps - 1) { return [r] + rest }
        }
        return nil
    }

    /// Prose list of what may happen from `state`: "refresh_claim (T4, → REFRESHING), …".
    public static func describeLegal(from state: SlotState) -> String {
        let rs = rules(from: state)
        if rs.isEmpty { return "nothing" }
        return rs.map { r in
            "`\(r.event.name)` (\(r.id), → \(r.to.name)\(r.actor == .ownerOnly ? ", owner only" : r.actor == .anyWithDeadOwner ? ", dead owner only" : ""))"
        }.joined(separator: ", ")
    }

    /// Judges one observed transition on its own: does a row of §8.2 allow it, and may the
    /// reporting participant make it? Continuity with the slot's earlier transitions is the
    /// `TransitionChecker`'s job.
    ///
    /// - Parameter reporter: the participant id of the fixture that reported the transition,
    ///   when known. Owner-only rows must be made by the owner named in the word; a claim
    ///   must name its maker as the new owner.
    /// - Returns: nil when legal, else a violation with a prose explanation.
    public static func judge(_ t: ObservedTransition, reporter: Int?) -> Violation? {
        let at = "Slot (shard \(t.shard), slot \(t.slot)) at seq \(t.seq): observed \(t)"
        func v(_ kind: Violation.Kind, _ rule: String?, _ text: String) -> Violation {
            Violation(kind: kind, shard: t.shard, slot: t.slot, seq: t.seq, expectedRule: rule,
                      explanation: "\(at). \(text)")
        }
        guard let event = t.event else {
            let names = SlotEvent.allCases.map(\.name).joined(separator: ", ")
            var text = "`\(t.eventName)` is not an event of PROTOCOL.md §8.2; the events are: \(names)."
            if let from = t.from {
                text += " From \(from.name) the spec allows: \(describeLegal(from: from))."
            }
            return v(.unknownEvent, nil, text)
        }
        guard let from = t.from, let to = t.to else {
            let bad = t.from == nil ? t.fromName : t.toName
            let names = SlotState.allCases.map(\.name).joined(separator: ", ")
            return v(.unknownState, nil,
                     "`\(bad)` is not a state of PROTOCOL.md §8.1; the states are: \(names).")
        }
        let eventRows = rules(for: event)
        guard let rule = rule(event: event, from: from, to: to) else {
            let rowText = eventRows.map(\.description).joined(separator: "; ")
            let expected: TransitionRule? = eventRows.first { $0.from.contains(from) } ?? eventRows.first
            var text: String
            if let r = eventRows.first(where: { $0.from.contains(from) }) {
                text = "`\(event.name)` from \(from.name) must lead to \(r.to.name) (\(r.id)), not \(to.name)."
            } else {
                text = "The spec has no `\(event.name)` from \(from.name): it is only \(rowText)."
            }
            text += " From \(from.name) the legal events are: \(describeLegal(from: from))."
            if from == to {
                text += " (A transition must change the word; \(from.name) → \(from.name) is no row of the table.)"
            }
            text += " Expected row: \(expected.map(\.description) ?? "none")."
            return v(.illegalTransition, expected?.id, text)
        }
        // Owners. An owned target state must name an owner (§8.1: otherwise the word is impossible).
        if to.isOwned && t.owner == 0 && event != .reclaim {
            return v(.wrongOwner, rule.id,
                     "\(rule.id) leaves the slot in \(to.name), which must name its owner, but the reported owner is 0 (PROTOCOL.md §8.1 calls such a word impossible).")
        }
        if let r = reporter {
            switch rule.actor {
            case .ownerOnly:
                if t.owner != 0 && t.owner != r {
                    return v(.wrongOwner, rule.id,
                             "Only the owner named in the word may make \(rule.id) `\(event.name)`: the word names participant \(t.owner) but participant \(r) reported making it.")
                }
            case .any:
                if to.isOwned && t.owner != r {
                    return v(.wrongOwner, rule.id,
                             "\(rule.id) `\(event.name)` makes its maker the owner, so the new word should name participant \(r) (the reporter), but it names \(t.owner).")
                }
            case .anyWithDeadOwner:
                // The dead owner may even be the reporter: a new participant at the same index
                // sweeps its predecessor's claims (§5), so there is nothing to check here.
                break
            }
        }
        return nil
    }
}
