import Foundation
import WarmcheckSegment
import Yams

/// A step's `expect:` tokens: each one parsed, checked against its operation, and against the others.
extension Parser {
    /// Parses and checks a step's `expect:` against its operation (not `resume`).
    func parseExpectations(_ node: Node, op: Operation, pauseAt: String?) -> [Expectation] {
        let out = parseExpectationTokens(node, op: op, pauseAt: pauseAt)
        checkContradictions(out, op: op)
        return out.map(\.0)
    }

    /// Parses `expect:` tokens and checks that each applies to `op` (with `pause_at=` given:
    /// only `paused`). For `resume` only `paused` is refused here; the rest is checked against
    /// the paused operation in `checkSequence`.
    func parseExpectationTokens(_ node: Node, op: Operation, pauseAt: String?) -> [(Expectation, SourceLocation)] {
        var toks: [Token] = []
        if let s = node.scalar {
            toks = tokens(of: node, text: s.string)
        } else if let seq = node.sequence {
            for item in seq {
                guard let s = item.scalar else {
                    error(.wrongType, loc(item), "an expectation must be a word such as ok, hit, version=3")
                    continue
                }
                toks += tokens(of: item, text: s.string)
            }
        } else {
            error(.wrongType, loc(node), "`expect` must be words such as `ok created version=1`")
            return []
        }
        var out: [(Expectation, SourceLocation)] = []
        for t in toks {
            guard let e = parseExpectation(t) else { continue }
            if op == .resume {
                if e == .paused {
                    error(.notApplicable, t.location,
                          "expectation 'paused' does not apply to resume (a resumed operation runs to its response)")
                    continue
                }
            } else if e == .paused {
                guard pauseAt != nil else {
                    error(.notApplicable, t.location, "expectation 'paused' needs pause_at=POINT on the step")
                    continue
                }
            } else if pauseAt != nil {
                error(.notApplicable, t.location,
                      "expectation '\(t.text)' does not apply to a step with pause_at (only `paused`): "
                      + "the response arrives at the role's `resume`; write it there")
                continue
            } else if !e.applicableOperations.contains(op) {
                error(.notApplicable, t.location, "expectation '\(t.text)' does not apply to \(op.rawValue)")
                continue
            }
            out.append((e, t.location))
        }
        return out
    }

    /// Every expectation a step may carry, as an unknown one is answered with (docs/SCENARIOS.md).
    static let expectationWords = (["ok", "fail", "fail(REASON)", "unknown", "hit", "miss", "stale", "fresh", "created", "not_created",
                                    "removed", "not_removed", "refresh_requested", "no_refresh_requested", "woken", "timed_out", "paused",
                                    "value=V", "version=N", "version>N", "origin=N", "writer=ROLE", "rule=N",
                                    "ns_version=N", "pinned", "not_pinned", "reclaimed=N", "kept=V,V…", "previous=N",
                                    "locks_freed=N", "quarantined=N", "unrepairable=N", "quarantined_total=N", "found=N"]
                                   + StatsCounter.allCases.map { "\($0.rawValue)=N" }).joined(separator: ", ")

    func parseExpectation(_ t: Token) -> Expectation? {
        let s = t.text
        switch s {
        case "ok": return .ok
        case "fail": return .fail(reason: nil)
        case "unknown": return .unknown
        case "hit": return .hit
        case "miss": return .miss
        case "stale": return .stale
        case "fresh": return .fresh
        case "created": return .created(true)
        case "not_created": return .created(false)
        case "removed": return .removed(true)
        case "not_removed": return .removed(false)
        case "durable": return .durable(true)
        case "not_durable": return .durable(false)
        case "refresh_requested": return .refreshRequested(true)
        case "no_refresh_requested": return .refreshRequested(false)
        case "woken": return .timedOut(false)
        case "timed_out": return .timedOut(true)
        case "paused": return .paused
        case "pinned": return .pinned(true)
        case "not_pinned": return .pinned(false)
        default: break
        }
        if s.hasPrefix("fail(") && s.hasSuffix(")") {
            let reason = String(s.dropFirst(5).dropLast())
            guard ScenarioParser.failureReasons.contains(reason) else {
                error(.unknownExpectation, t.location, "unknown failure reason '\(reason)' (PROTOCOL.md §15: \(ScenarioParser.failureReasons.sorted().joined(separator: ", ")))")
                return nil
            }
            return .fail(reason: reason)
        }
        if s.hasPrefix("version>") {
            guard let n = ScenarioValue.parseDecimal(s.dropFirst(8)) else {
                error(.badArgument, t.location, "bad expectation '\(s)': version>N with an integer N")
                return nil
            }
            return .versionGreaterThan(n)
        }
        guard let eq = s.firstIndex(of: "=") else {
            error(.unknownExpectation, t.location, "unknown expectation '\(s)' (expected one of: \(Self.expectationWords))")
            return nil
        }
        let name = String(s[..<eq])
        let raw = String(s[s.index(after: eq)...])
        switch name {
        case "value":
            switch ScenarioValue.parse(raw) {
            case .success(let b): return .value(b)
            case .failure(let e):
                error(.badValue, t.location, "bad value in '\(s)': \(e.message)")
                return nil
            }
        case "version":
            guard let n = ScenarioValue.parseDecimal(raw) else {
                error(.badArgument, t.location, "bad expectation '\(s)': version=N with an integer N")
                return nil
            }
            return .version(n)
        case "origin":
            guard let n = ScenarioValue.parseDecimal(raw), n <= UInt64(UInt32.max) else {
                error(.badArgument, t.location, "bad expectation '\(s)': origin=N with an integer 0…\(UInt32.max)")
                return nil
            }
            return .origin(n)
        case "rule":
            guard let n = ScenarioValue.parseDecimal(raw), (1...8).contains(n) else {
                error(.badArgument, t.location, "bad expectation '\(s)': rule=N with N a geometry rule 1…8 of PROTOCOL.md §3")
                return nil
            }
            return .rule(Int(n))
        case "found":
            guard let n = ScenarioValue.parseDecimal(raw) else {
                error(.badArgument, t.location, "bad expectation '\(s)': found=N with an integer N")
                return nil
            }
            return .found(n)
        case "ns_version", "reclaimed", "previous":
            guard let n = ScenarioValue.parseDecimal(raw) else {
                error(.badArgument, t.location, "bad expectation '\(s)': \(name)=N with an integer N")
                return nil
            }
            return name == "ns_version" ? .nsVersion(n) : name == "reclaimed" ? .reclaimed(n) : .previous(n)
        case _ where Expectation.repairLists.contains(name):
            guard let n = ScenarioValue.parseDecimal(raw) else {
                error(.badArgument, t.location, "bad expectation '\(s)': \(name)=N with an integer N")
                return nil
            }
            return .repairActions(list: name, count: n)
        case "kept":
            let parts = raw.isEmpty ? [] : raw.split(separator: ",", omittingEmptySubsequences: false).map { ScenarioValue.parseDecimal($0) }
            guard parts.allSatisfy({ $0 != nil }) else {
                error(.badArgument, t.location, "bad expectation '\(s)': kept=V,V… with integer versions (kept= for none)")
                return nil
            }
            return .kept(parts.map { $0! })
        case "writer":
            guard roles.contains(raw) else {
                error(.undeclaredRole, t.location, "role '\(raw)' is not declared in processes")
                return nil
            }
            return .writer(role: raw)
        default:
            if let c = StatsCounter(rawValue: name) {
                guard let n = ScenarioValue.parseDecimal(raw) else {
                    error(.badArgument, t.location, "bad expectation '\(s)': \(name)=N with an integer N")
                    return nil
                }
                return .counter(c, n)
            }
            error(.unknownExpectation, t.location, "unknown expectation '\(s)' (expected one of: \(Self.expectationWords))")
            return nil
        }
    }

    /// Reports two expectations of one step that cannot both hold (e.g. `hit miss`, `fail created`).
    func checkContradictions(_ list: [(Expectation, SourceLocation)], op: Operation) {
        var seen: [String: (Expectation, SourceLocation)] = [:]
        func claim(_ field: String, _ e: Expectation, _ at: SourceLocation, sameAs other: Expectation? = nil) {
            if let prev = seen[field], prev.0 != (other ?? e) {
                error(.contradictoryExpectations, at, "expectation '\(e.token)' contradicts '\(prev.0.token)'")
            } else if seen[field] == nil {
                seen[field] = (other ?? e, at)
            }
        }
        for (e, at) in list {
            switch e {
            case .ok, .fail, .unknown:
                let normal: Expectation = { if case .fail = e { return .fail(reason: nil) }; return e }()
                if let prev = seen["outcome"], case .fail(let r1) = prev.0, case .fail(let r2) = e, r1 != nil, r2 != nil, r1 != r2 {
                    error(.contradictoryExpectations, at, "expectation '\(e.token)' contradicts '\(prev.0.token)'")
                }
                claim("outcome", e, at, sameAs: normal)
            case .paused:
                claim("outcome", e, at)
            case .rule:
                claim("outcome", e, at, sameAs: .fail(reason: nil))  // it qualifies a fail
            default:
                claim("outcome", e, at, sameAs: .ok)
            }
            switch e {
            case .hit: claim("hit", e, at, sameAs: .hit)
            case .miss: claim("hit", e, at, sameAs: .miss)
            case .stale, .fresh, .value, .version, .versionGreaterThan, .origin, .writer, .refreshRequested:
                // On a get these need a hit (on put/refresh `version` belongs to the result).
                guard op == .get || op == .nsGet else { break }
                claim("hit", e, at, sameAs: .hit)
            default: break
            }
            switch e {
            case .stale, .fresh: claim("stale", e, at)
            case .created: claim("created", e, at)
            case .removed: claim("removed", e, at)
            case .durable: claim("durable", e, at)
            case .refreshRequested: claim("refresh_requested", e, at)
            case .timedOut: claim("timed_out", e, at)
            case .value: claim("value", e, at)
            case .version: claim("version", e, at)
            case .origin: claim("origin", e, at)
            case .writer: claim("writer", e, at)
            case .counter(let c, _): claim("counter." + c.rawValue, e, at)
            case .nsVersion: claim("ns_version", e, at)
            case .pinned: claim("pinned", e, at)
            case .reclaimed: claim("reclaimed", e, at)
            case .kept: claim("kept", e, at)
            case .previous: claim("previous", e, at)
            case .repairActions(let l, _): claim("repair." + l, e, at)
            case .found: claim("found", e, at)
            default: break
            }
        }
    }
}
