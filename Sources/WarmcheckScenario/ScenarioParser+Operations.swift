import Foundation
import WarmcheckSegment
import Yams

/// An operation step (`ROLE: OP ARGS… OPTION=V…`), its options, and the geometry refusals it may expect.
extension Parser {
    func parseOperation(role: String, at stepLocation: SourceLocation, scalarNode: Node, text: String, expect expectNode: Node?,
                        part: Part) -> OperationStep? {
        let toks = tokens(of: scalarNode, text: text)
        guard let opTok = toks.first else {
            error(.missing, loc(scalarNode), "missing operation for role '\(role)'")
            return nil
        }
        guard let op = Operation(rawValue: opTok.text) else {
            error(.unknownOperation, opTok.location,
                  "unknown operation '\(opTok.text)' (expected one of: \(Operation.allCases.map(\.rawValue).joined(separator: ", ")))")
            return nil
        }
        if op == .resume, case .parallel = part {
            error(.badSequence, opTok.location,
                  "resume is not allowed in a parallel list: controlled pauses belong to sequential parts (init, final)")
            return nil
        }
        if op == .resume {
            // Reported, but the step is kept so that the sequence check still sees the resume
            // (no cascading "still paused" error).
            if let extra = toks.dropFirst().first {
                if let eq = extra.text.firstIndex(of: "="), isIdentifier(extra.text[..<eq]) {
                    error(.badArgument, extra.location, "unknown option '\(extra.text[..<eq])' for resume (it takes no options)")
                } else {
                    error(.badArgument, extra.location, "too many arguments: resume takes no KEY or VALUE")
                }
            }
            var expectations: [Expectation] = []
            if let expectNode {
                let list = parseExpectationTokens(expectNode, op: op, pauseAt: nil)
                resumeExpectations[stepLocation] = list
                expectations = list.map(\.0)
            }
            return OperationStep(role: role, op: op, expect: expectations, location: stepLocation, text: text)
        }
        var positional: [Token] = []
        var options: [String: OptionValue] = [:]
        var failed = false
        for t in toks.dropFirst() {
            if let eq = t.text.firstIndex(of: "="), isIdentifier(t.text[..<eq]) {
                let name = String(t.text[..<eq])
                let raw = String(t.text[t.text.index(after: eq)...])
                guard op.allowedOptions.contains(name) else {
                    error(.badArgument, t.location, "unknown option '\(name)' for \(op.rawValue) (accepted: \(op.allowedOptions.joined(separator: ", ")))")
                    failed = true
                    continue
                }
                if name == "pause_at", case .parallel = part {
                    error(.badSequence, t.location,
                          "pause_at is not allowed in a parallel list: controlled pauses belong to sequential parts (init, final)")
                    failed = true
                    continue
                }
                if (name == "pause_at" && options["crash_at"] != nil) || (name == "crash_at" && options["pause_at"] != nil) {
                    error(.badArgument, t.location, "pause_at and crash_at cannot both be given")
                    failed = true
                    continue
                }
                if name == "overlap", case .parallel = part {
                    error(.badSequence, t.location,
                          "overlap is not allowed in a parallel list: it runs beside a controlled pause, which belongs to sequential parts")
                    failed = true
                    continue
                }
                if (name == "overlap" && (options["crash_at"] != nil || options["pause_at"] != nil))
                    || ((name == "crash_at" || name == "pause_at") && options["overlap"] != nil) {
                    error(.badArgument, t.location,
                          "overlap cannot be combined with pause_at or crash_at (the paused operation's pause is the one in force)")
                    failed = true
                    continue
                }
                if options[name] != nil {
                    error(.badArgument, t.location, "option '\(name)' given twice")
                    failed = true
                    continue
                }
                if let v = parseOption(name: name, raw: raw, at: t.location) { options[name] = v } else { failed = true }
            } else {
                positional.append(t)
            }
        }
        if op == .getMany {
            var keys: [[UInt8]] = []
            for t in positional {
                if let r = parseKeyRange(t) {
                    if r.isEmpty { failed = true }
                    keys += r
                    continue
                }
                guard let k = parseBytes(t, what: "key") else { failed = true; continue }
                keys.append(k)
            }
            if positional.isEmpty {
                error(.badArgument, opTok.location, "get_many needs KEY…, at least one")
                return nil
            }
            let expectations = stepExpectations(expectNode, toks, op: op, options: options)
            if failed { return nil }
            var step = OperationStep(role: role, op: op, options: options, expect: expectations, location: stepLocation, text: text)
            step.keys = keys
            return step
        }
        let expected = op.positionalCount
        let usage: String = expected == 0 ? "no KEY or VALUE" : expected == 1 ? "KEY" : "KEY VALUE"
        if positional.count > expected {
            error(.badArgument, positional[expected].location, "too many arguments: \(op.rawValue) takes \(usage)")
            return nil
        }
        if positional.count < expected {
            error(.badArgument, opTok.location, "\(op.rawValue) needs \(usage)")
            return nil
        }
        var key: [UInt8]?
        var value: [UInt8]?
        if expected >= 1 { key = parseBytes(positional[0], what: "key"); if key == nil { failed = true } }
        if expected >= 2 { value = parseBytes(positional[1], what: "value"); if value == nil { failed = true } }

        let expectations = stepExpectations(expectNode, toks, op: op, options: options)
        if failed { return nil }
        let step = OperationStep(role: role, op: op, key: key, value: value, options: options, expect: expectations,
                                 location: stepLocation, text: text)
        checkRefusal(step, at: opTok.location)
        return step
    }

    /// The step's `expect:`, none without one.
    func stepExpectations(_ expectNode: Node?, _ toks: [Token], op: Operation, options: [String: OptionValue]) -> [Expectation] {
        guard let expectNode else { return [] }
        // A pause_at= that was written but refused is reported once, not again by `paused`.
        let pauseWritten = toks.dropFirst().contains { $0.text.hasPrefix("pause_at=") }
        return parseExpectations(expectNode, op: op, pauseAt: pauseWritten ? (options["pause_at"]?.stringValue ?? "") : nil)
    }

    /// `range:P:LO:HI` of `get_many`: the keys P‹LO›, …, P‹HI−1› (decimal suffixes; at most
    /// 4096 keys), nil for any other token. A malformed range is reported and stands for none.
    func parseKeyRange(_ t: Token) -> [[UInt8]]? {
        guard t.text.hasPrefix("range:") else { return nil }
        let parts = t.text.dropFirst(6).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let lo = Int(parts[1]), let hi = Int(parts[2]), 0 <= lo, lo < hi, hi - lo <= 4096 else {
            error(.badArgument, t.location, "bad key range '\(t.text)': range:PREFIX:LO:HI with 0 ≤ LO < HI, at most 4096 keys")
            return []
        }
        return (lo..<hi).map { Array((parts[0] + String($0)).utf8) }
    }

    func parseOption(name: String, raw: String, at: SourceLocation) -> OptionValue? {
        switch name {
        case "ttl", "grace", "timeout", "fsync_interval":
            guard let ns = ScenarioDuration.nanoseconds(raw) else {
                error(.badDuration, at, "bad duration '\(raw)' for \(name) (e.g. 10s, 250ms, 5us, 100ns, 2m)")
                return nil
            }
            return .duration(ns)
        case "shards", "slots", "key_capacity", "value_capacity", "window", "participants":
            guard let n = ScenarioValue.parseDecimal(raw), n <= UInt64(UInt32.max) else {
                error(.badArgument, at, "bad \(name) '\(raw)': an integer 0…\(UInt32.max) (a geometry field, PROTOCOL.md §3)")
                return nil
            }
            return .integer(n)
        case "origin", "seen", "ns":
            guard let n = ScenarioValue.parseDecimal(raw), n <= UInt64(UInt32.max) else {
                error(.badArgument, at, "bad \(name) '\(raw)': an integer 0…\(UInt32.max)")
                return nil
            }
            return .integer(n)
        case "version":
            guard let n = ScenarioValue.parseDecimal(raw), n >= 1 else {
                error(.badArgument, at, "bad version '\(raw)': an integer ≥ 1 (omit it for an automatic version)")
                return nil
            }
            return .integer(n)
        case "group", "fast_checksum", "durable", "store", "overlap":
            guard raw == "true" || raw == "false" else {
                error(.badArgument, at, "bad \(name) '\(raw)': true or false")
                return nil
            }
            return .bool(raw == "true")
        case "protocol":
            guard ["1.0", "1.1"].contains(raw) else {
                error(.badArgument, at, "bad protocol '\(raw)': 1.0 or 1.1 (the version the handle speaks, PROTOCOL.md §14)")
                return nil
            }
            return .string(raw)
        case "future":
            guard ["minor", "incompat", "major"].contains(raw) else {
                error(.badArgument, at, "bad future '\(raw)': minor, incompat or major (a future-version test image, PROTOCOL.md §14)")
                return nil
            }
            return .string(raw)
        case "segment":
            guard isIdentifier(Substring(raw)), raw != "main" else {
                error(.badArgument, at, "bad segment '\(raw)': a lower-case name other than main (a side-by-side segment of the case)")
                return nil
            }
            return .string(raw)
        case "fsync":
            guard ["always", "interval", "none"].contains(raw) else {
                error(.badArgument, at, "bad fsync '\(raw)': always, interval or none (docs/PERSISTENCE.md §6)")
                return nil
            }
            return .string(raw)
        default: // crash_at, pause_at
            let ok = !raw.isEmpty && raw.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isIdentifier($0) }
            guard ok, ScenarioParser.pausePoints.contains(raw) else {
                error(.badArgument, at, "bad \(name) '\(raw)': a pause point of PROTOCOL.md §17 such as put.after_claim")
                return nil
            }
            return .string(raw)
        }
    }

    /// A step geometry that breaks a rule is sent to the fixture only as an explicit expected
    /// refusal: `fail(bad_geometry) rule=N` with N the rule it breaks (docs/SCENARIOS.md "Refusals").
    func checkRefusal(_ step: OperationStep, at: SourceLocation) {
        let rules = step.expect.compactMap { if case .rule(let n) = $0 { return n }; return nil }
        let refused = step.expect.contains(.fail(reason: "bad_geometry"))
        if !rules.isEmpty && !refused {
            error(.notApplicable, at, "expectation 'rule=\(rules[0])' needs fail(bad_geometry) on the same step")
            return
        }
        let v = step.geometry(over: scenarioGeometry).violation
        switch (v, refused) {
        case (nil, true) where !rules.isEmpty:
            error(.invalid, at, "the step's geometry breaks no rule of PROTOCOL.md §3, so no fixture may answer rule=\(rules[0])")
        case (let v?, false):
            error(.invalid, at, "the step's geometry breaks rule \(v.rule) of PROTOCOL.md §3 (\(v.text)): a create that must be "
                  + "refused says so, `expect: fail(bad_geometry) rule=\(v.rule)`")
        case (let v?, true) where rules.first != v.rule:
            error(.invalid, at, rules.isEmpty
                  ? "the step's geometry breaks rule \(v.rule) of PROTOCOL.md §3 (\(v.text)): add `rule=\(v.rule)` to its expect"
                  : "the step's geometry breaks rule \(v.rule) of PROTOCOL.md §3 first (\(v.text)), not rule \(rules[0])")
        default:
            break
        }
    }
}
