import Foundation
import WarmcheckSegment
import Yams

/// Step lists (`init`, `parallel`, `final`), one step, control steps, and a scalar's tokens.
extension Parser {
    func parseStepList(_ node: Node, part: Part, what: String) -> [Step] {
        guard let seq = node.sequence else {
            error(.wrongType, loc(node), "`\(what)` must be a list of steps")
            return []
        }
        return seq.compactMap { parseStep($0, part: part) }
    }

    func parseParallel(_ node: Node) -> [ParallelList] {
        guard let m = node.mapping else {
            error(.wrongType, loc(node), "`parallel` must be a mapping ROLE: [steps…]")
            return []
        }
        var out: [ParallelList] = []
        for (k, v) in m {
            guard let role = k.scalar?.string else {
                error(.wrongType, loc(k), "a role name must be a plain word")
                continue
            }
            guard roles.contains(role) else {
                error(.undeclaredRole, loc(k), "role '\(role)' is not declared in processes")
                continue
            }
            guard let seq = v.sequence else {
                error(.wrongType, loc(v), "the parallel list of '\(role)' must be a list of steps")
                continue
            }
            let steps = seq.compactMap { parseStep($0, part: .parallel(role: role)) }
            out.append(ParallelList(role: role, steps: steps, location: loc(k)))
        }
        return out
    }

    func parseStep(_ node: Node, part: Part) -> Step? {
        if let s = node.scalar {
            // Only inside a role's parallel list: "OPERATION ARGS…" for that role.
            guard case .parallel(let role) = part else {
                error(.wrongType, loc(node), "a step is a mapping `ROLE: OPERATION ARGS…` (or a control step such as `advance: 1s`)")
                return nil
            }
            return parseOperation(role: role, at: loc(node), scalarNode: node, text: s.string, expect: nil, part: part)
                .map(Step.operation)
        }
        guard let m = node.mapping else {
            error(.wrongType, loc(node), "a step is a mapping `ROLE: OPERATION ARGS…` (or a control step such as `advance: 1s`)")
            return nil
        }
        var main: (key: Node, value: Node, name: String)?
        var expect: Node?
        for (k, v) in m {
            guard let name = k.scalar?.string else {
                error(.wrongType, loc(k), "step keys must be plain words")
                return nil
            }
            if name == "expect" {
                expect = v
            } else if main == nil {
                main = (k, v, name)
            } else {
                error(.unknownKey, loc(k), "unknown key '\(name)' in a step (a step is one `ROLE: OPERATION` or control step, with an optional `expect:`)")
                return nil
            }
        }
        guard let main else {
            error(.missing, loc(node), "a step needs `ROLE: OPERATION ARGS…` besides `expect:`")
            return nil
        }
        if ScenarioParser.controlSteps.contains(main.name) {
            if let expect {
                error(.notApplicable, loc(expect), "`expect` does not apply to the control step `\(main.name)`")
                return nil
            }
            return parseControl(name: main.name, key: main.key, value: main.value, part: part).map(Step.control)
        }
        guard roles.contains(main.name) else {
            error(.undeclaredRole, loc(main.key), "role '\(main.name)' is not declared in processes")
            return nil
        }
        if case .parallel(let listRole) = part, listRole != main.name {
            error(.badSequence, loc(main.key), "a step for role '\(main.name)' in the parallel list of '\(listRole)'")
            return nil
        }
        guard let text = main.value.scalar?.string else {
            error(.wrongType, loc(main.value), "the operation must be one line `OPERATION ARGS…`")
            return nil
        }
        return parseOperation(role: main.name, at: loc(main.key), scalarNode: main.value, text: text, expect: expect, part: part)
            .map(Step.operation)
    }

    func parseControl(name: String, key: Node, value: Node, part: Part) -> ControlStep? {
        let at = loc(key)
        switch name {
        case "advance", "sleep":
            // The simulated clock is the segment's, one for every role: moved from one role's
            // thread while the others run, what each of their operations saw of it would be the
            // operating system's choice, and the case's expiry expectations with it.
            if name == "advance", case .parallel = part {
                error(.badSequence, at, "`advance` is not allowed in a parallel list: the simulated clock belongs to sequential parts (init, final)")
                return nil
            }
            guard let s = value.scalar?.string else {
                error(.wrongType, loc(value), "`\(name)` takes a duration")
                return nil
            }
            guard let ns = ScenarioDuration.nanoseconds(s) else {
                error(.badDuration, loc(value), "bad duration '\(s)' (e.g. 10s, 250ms, 5us, 100ns, 2m)")
                return nil
            }
            return ControlStep(kind: name == "advance" ? .advance(ns: ns) : .sleep(ns: ns), location: at)
        case "restart", "crash", "start":
            guard let role = value.scalar?.string else {
                error(.wrongType, loc(value), "`\(name)` takes a role")
                return nil
            }
            guard roles.contains(role) else {
                error(.undeclaredRole, loc(value), "role '\(role)' is not declared in processes")
                return nil
            }
            if case .parallel(let listRole) = part, listRole != role {
                error(.badSequence, at, "`\(name): \(role)` in the parallel list of '\(listRole)' (a list may only \(name) its own role)")
                return nil
            }
            let kind: ControlKind = name == "restart" ? .restart(role: role) : name == "crash" ? .crash(role: role) : .start(role: role)
            return ControlStep(kind: kind, location: at)
        case "upgrade":
            // `upgrade: ROLE to=IMPL[@VERSION]`: the role's process is replaced by another build.
            guard let s = value.scalar else {
                error(.wrongType, loc(value), "`upgrade` takes `ROLE to=IMPL[@VERSION]` (e.g. upgrade: reader to=rust@1.0)")
                return nil
            }
            let toks = tokens(of: value, text: s.string)
            guard let roleTok = toks.first else {
                error(.missing, loc(value), "`upgrade` takes `ROLE to=IMPL[@VERSION]`")
                return nil
            }
            guard roles.contains(roleTok.text) else {
                error(.undeclaredRole, roleTok.location, "role '\(roleTok.text)' is not declared in processes")
                return nil
            }
            if case .parallel(let listRole) = part, listRole != roleTok.text {
                error(.badSequence, at, "`upgrade: \(roleTok.text)` in the parallel list of '\(listRole)' (a list may only upgrade its own role)")
                return nil
            }
            guard toks.count == 2, toks[1].text.hasPrefix("to=") else {
                error(.badArgument, (toks.count > 1 ? toks[1] : roleTok).location, "`upgrade` takes exactly `to=IMPL[@VERSION]` after the role")
                return nil
            }
            let target = String(toks[1].text.dropFirst(3))
            let parts = target.split(separator: "@", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
                error(.badValue, toks[1].location, "bad upgrade target '\(target)': expected IMPL or IMPL@VERSION (e.g. rust, go@1.0)")
                return nil
            }
            return ControlStep(kind: .upgrade(role: roleTok.text, to: target), location: at)
        case "patch_header":
            // `patch_header: FIELD:VALUE,…`: a segment claiming another version or feature, for
            // the refusal cases; in `final` only, since the segment is not the one the earlier
            // steps' checks describe any more.
            guard case .final = part else {
                error(.badSequence, at, "`patch_header` is only allowed in `final` (the segment is another version afterwards)")
                return nil
            }
            guard let s = value.scalar?.string, !s.isEmpty else {
                error(.wrongType, loc(value), "`patch_header` takes FIELD:VALUE,… (e.g. patch_header: major:2)")
                return nil
            }
            var words: [HeaderWord] = []
            for item in s.split(separator: ",") {
                let kv = item.split(separator: ":", maxSplits: 1).map(String.init)
                let v = kv.count == 2 ? (kv[1].hasPrefix("0x") ? UInt64(kv[1].dropFirst(2), radix: 16) : UInt64(kv[1])) : nil
                guard kv.count == 2, HeaderWord.fields.contains(kv[0]), let v else {
                    error(.badValue, loc(value), "bad header patch '\(item)': expected FIELD:VALUE with FIELD one of \(HeaderWord.fields.joined(separator: ", "))")
                    return nil
                }
                if (kv[0] == "major" || kv[0] == "minor") && v > 0xFFFF {
                    error(.badValue, loc(value), "bad header patch '\(item)': \(kv[0]) is 16 bits")
                    return nil
                }
                words.append(HeaderWord(field: kv[0], value: v))
            }
            return ControlStep(kind: .patchHeader(words), location: at)
        case "wipe":
            if case .parallel = part {
                error(.badSequence, at, "`wipe` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
                return nil
            }
            guard value.scalar?.string == "segment" else {
                error(.wrongType, loc(value), "`wipe` takes the word segment (wipe: segment)")
                return nil
            }
            return ControlStep(kind: .wipe, location: at)
        case "store_disk":
            if case .parallel = part {
                error(.badSequence, at, "`store_disk` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
                return nil
            }
            guard let w = value.scalar?.string, w == "full" || w == "room" else {
                error(.wrongType, loc(value), "`store_disk` takes full or room (store_disk: full)")
                return nil
            }
            return ControlStep(kind: .storeDisk(full: w == "full"), location: at)
        case "remove_segment":
            if case .parallel = part {
                error(.badSequence, at, "`remove_segment` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
                return nil
            }
            guard let name = value.scalar?.string, name == "main" || isIdentifier(Substring(name)) else {
                error(.wrongType, loc(value), "`remove_segment` takes main or the NAME of a `segment=NAME` (e.g. remove_segment: main)")
                return nil
            }
            return ControlStep(kind: .removeSegment(name: name), location: at)
        case "patch_hint":
            return parsePatchHint(value, part: part, at: at)
        case "corrupt", "corrupt_state", "duplicate":
            if case .parallel = part {
                error(.badSequence, at, "`\(name)` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
                return nil
            }
            if name == "duplicate" {
                guard case .final = part else {
                    error(.badSequence, at, "`duplicate` is only allowed in `final`: the model does not follow the copy it makes")
                    return nil
                }
            }
            guard let s = value.scalar else {
                error(.wrongType, loc(value), "`\(name)` takes a key (e.g. \(name): k1)")
                return nil
            }
            let toks = tokens(of: value, text: s.string)
            guard let keyTok = toks.first else {
                error(.missing, loc(value), "`\(name)` takes a key (e.g. \(name): k1)")
                return nil
            }
            let wrapped = name == "duplicate" && toks.count == 2 && toks[1].text == "wrapped"
            if toks.count > (wrapped ? 2 : 1) {
                error(.badArgument, toks[1].location, name == "duplicate" ? "`duplicate` takes one key and optionally `wrapped`" : "`\(name)` takes one key")
                return nil
            }
            guard let bytes = parseBytes(keyTok, what: "key") else { return nil }
            if bytes.isEmpty {
                error(.badValue, keyTok.location, "bad key: a key has at least one byte")
                return nil
            }
            switch name {
            case "corrupt": return ControlStep(kind: .corrupt(key: bytes), location: at)
            case "duplicate": return ControlStep(kind: .duplicate(key: bytes, wrapped: wrapped), location: at)
            default: return ControlStep(kind: .corruptState(key: bytes), location: at)
            }
        case "patch_ns":
            return parsePatchNamespace(value, part: part, at: at)
        case "collide":
            return parseCollide(value, part: part, at: at)
        default: // check
            guard case .final = part else {
                error(.badSequence, at, "`check` is only allowed in `final`")
                return nil
            }
            guard let m = value.mapping, m.count == 1, let (k, v) = m.first.map({ ($0.key, $0.value) }) else {
                error(.wrongType, loc(value), "`check` takes one check, e.g. {created_once: open_or_create}")
                return nil
            }
            guard k.scalar?.string == "created_once" else {
                error(.unknownKey, loc(k), "unknown check '\(k.scalar?.string ?? "")' (known: created_once)")
                return nil
            }
            guard let opName = v.scalar?.string, let op = Operation(rawValue: opName) else {
                error(.unknownOperation, loc(v), "unknown operation '\(v.scalar?.string ?? "")'")
                return nil
            }
            guard [.openOrCreate, .put, .restore].contains(op) else {
                error(.notApplicable, loc(v), "created_once does not apply to \(op.rawValue) (only open_or_create and put answer `created`)")
                return nil
            }
            return ControlStep(kind: .check(.createdOnce(op)), location: at)
        }
    }

    /// `patch_ns: NS last=N` (docs/SCENARIOS.md "Control steps"): sequential parts only, NS a
    /// namespace of §18.2, N a version of 32 bits.
    func parsePatchNamespace(_ value: Node, part: Part, at: SourceLocation) -> ControlStep? {
        if case .parallel = part {
            error(.badSequence, at, "`patch_ns` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
            return nil
        }
        let usage = "`patch_ns` takes a namespace and its new last version (e.g. patch_ns: 1 last=4294967294)"
        guard let s = value.scalar?.string else {
            error(.wrongType, loc(value), usage)
            return nil
        }
        let toks = tokens(of: value, text: s)
        guard toks.count == 2, toks[1].text.hasPrefix("last=") else {
            error(toks.isEmpty ? .missing : .badArgument, toks.first?.location ?? loc(value), usage)
            return nil
        }
        guard let ns = Int(toks[0].text), (0..<8).contains(ns) else {
            error(.badValue, toks[0].location, "bad namespace '\(toks[0].text)': a namespace is 0..7 (PROTOCOL.md §18.2)")
            return nil
        }
        guard let last = UInt64(toks[1].text.dropFirst(5)), last <= 0xFFFF_FFFF else {
            error(.badValue, toks[1].location, "bad last '\(toks[1].text.dropFirst(5))': a namespace version is 0..4294967295 (32 bits)")
            return nil
        }
        return ControlStep(kind: .patchNamespace(ns: ns, last: last), location: at)
    }

    /// Splits a scalar into whitespace-separated tokens with their columns. Columns are exact for
    /// one-line plain and quoted scalars; other scalars report the scalar's own position.
    func tokens(of node: Node, text: String) -> [Token] {
        let base = loc(node)
        var offset = 0
        var exact = !text.contains("\n")
        if let style = node.scalar?.style {
            switch style {
            case .plain, .any: offset = 0
            case .singleQuoted, .doubleQuoted: offset = 1
            default: exact = false
            }
        }
        var out: [Token] = []
        var current = ""
        var startCol = 0
        var col = 0
        for u in text.unicodeScalars {
            if u == " " || u == "\t" || u == "\n" || u == "\r" {
                if !current.isEmpty {
                    out.append(Token(text: current, location: exact ? SourceLocation(file: file, line: base.line, column: base.column + offset + startCol) : base))
                    current = ""
                }
            } else {
                if current.isEmpty { startCol = col }
                current.unicodeScalars.append(u)
            }
            col += 1
        }
        if !current.isEmpty {
            out.append(Token(text: current, location: exact ? SourceLocation(file: file, line: base.line, column: base.column + offset + startCol) : base))
        }
        return out
    }

    /// `collide: KEY as=OTHER` (docs/SCENARIOS.md "Control steps"): a sequential step naming two
    /// different keys; that OTHER is written by no step is checked on the whole scenario
    /// (checkCollisions).
    func parseCollide(_ value: Node, part: Part, at: SourceLocation) -> ControlStep? {
        if case .parallel = part {
            error(.badSequence, at, "`collide` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
            return nil
        }
        let usage = "`collide` takes a key and as=OTHER (e.g. collide: a as=b)"
        guard let s = value.scalar else {
            error(.wrongType, loc(value), usage)
            return nil
        }
        let toks = tokens(of: value, text: s.string)
        guard toks.count == 2, !toks[0].text.hasPrefix("as="), toks[1].text.hasPrefix("as=") else {
            error(toks.isEmpty ? .missing : .badArgument, (toks.count > 1 ? toks[1] : toks.first)?.location ?? loc(value), usage)
            return nil
        }
        var otherTok = toks[1]
        otherTok.text = String(otherTok.text.dropFirst(3))
        guard let key = parseBytes(toks[0], what: "key"), let other = parseBytes(otherTok, what: "key") else { return nil }
        for (b, t) in [(key, toks[0]), (other, toks[1])] where b.isEmpty {
            error(.badValue, t.location, "bad key: a key has at least one byte")
            return nil
        }
        if key == other {
            error(.badValue, toks[1].location, "`collide` needs two different keys: a slot of KEY holding KEY's own bytes is no collision")
            return nil
        }
        return ControlStep(kind: .collide(key: key, as: other), location: at)
    }

    func isIdentifier(_ s: Substring) -> Bool {
        guard let f = s.unicodeScalars.first, f.isASCIILowercase || f == "_" else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCIILowercase || $0.isASCIIDigit || $0 == "_" }
    }

    func parseBytes(_ t: Token, what: String) -> [UInt8]? {
        switch ScenarioValue.parse(t.text) {
        case .success(let b): return b
        case .failure(let e):
            error(.badValue, t.location, "bad \(what): \(e.message)")
            return nil
        }
    }
}
