// The scenario file parser: YAML (through Yams' node API, so every node keeps its line and
// column) to `Scenario`, reporting every problem as `FILE:LINE:COL: message`.

import Foundation
import Yams

/// Parses scenario files (docs/SCENARIOS.md) into `Scenario` values.
public enum ScenarioParser {
    /// Parses one scenario; throws the first `ScenarioError` (in file order) if it is malformed.
    public static func parse(yaml: String, file: String) throws -> Scenario {
        let result = parseCollectingErrors(yaml: yaml, file: file)
        if let first = result.errors.first { throw first }
        return result.scenario!
    }

    /// Reads and parses one scenario file; throws the first `ScenarioError`.
    public static func parse(contentsOf url: URL) throws -> Scenario {
        let result = parseCollectingErrors(contentsOf: url)
        if let first = result.errors.first { throw first }
        return result.scenario!
    }

    /// Reads and parses one scenario file, returning every problem found (sorted by position).
    public static func parseCollectingErrors(contentsOf url: URL) -> (scenario: Scenario?, errors: [ScenarioError]) {
        let file = url.path
        guard let data = FileManager.default.contents(atPath: file) else {
            return (nil, [ScenarioError(.syntax, SourceLocation(file: file, line: 1, column: 1), "cannot read the file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return (nil, [ScenarioError(.syntax, SourceLocation(file: file, line: 1, column: 1), "the file is not UTF-8")])
        }
        return parseCollectingErrors(yaml: text, file: file)
    }

    /// Parses one scenario, returning every problem found (sorted by position). `scenario` is
    /// nil exactly when `errors` is not empty.
    public static func parseCollectingErrors(yaml: String, file: String) -> (scenario: Scenario?, errors: [ScenarioError]) {
        let p = Parser(file: file)
        let scenario = p.parseDocument(yaml)
        let errors = p.errors.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
        return errors.isEmpty ? (scenario, []) : (nil, errors)
    }

    /// Words that are control steps or step keys, so they cannot be role names.
    public static let reservedWords: Set<String> = ["expect", "advance", "sleep", "restart", "crash", "start", "check",
                                                    "corrupt"]

    /// The control steps' keys (docs/SCENARIOS.md "Control steps").
    public static let controlSteps: [String] = ["advance", "sleep", "restart", "crash", "start", "check", "corrupt"]

    /// Pause points `crash_at=` and `pause_at=` accept (PROTOCOL.md §17).
    public static let pausePoints: Set<String> = [
        "lock.after_acquire", "put.after_claim", "put.after_key", "put.after_payload", "refresh.after_claim",
        "refresh.after_payload", "get.after_key_match", "get.between_seq_reads", "invalidate.after_claim",
        "evict.after_victim", "reclaim.before_cas", "wait.before_park",
        "put.before_lock", "put.before_claim", "refresh.before_claim", "invalidate.before_claim",
        "get.before_mark_stale",
    ]

    /// Failure reasons `fail(REASON)` accepts: operation results and open errors (PROTOCOL.md §15).
    public static let failureReasons: Set<String> = [
        "too_large", "not_found", "full", "version_not_newer", "busy",
        "symlink", "not_regular_file", "foreign_owner", "too_short", "bad_magic", "unsupported_major",
        "not_ready", "bad_header_checksum", "unsupported_features", "layout_mismatch", "bad_geometry",
        "truncated", "no_space", "exists", "participants_full", "io",
    ]
}

// MARK: - Implementation

/// A whitespace-separated word of a scalar with its position.
struct Token {
    var text: String
    var location: SourceLocation
}

private enum Part { case initial, parallel(role: String), final }

private final class Parser {
    let file: String
    var errors: [ScenarioError] = []
    var roles: [String] = []
    /// Expectations of `resume` steps (by step location) with their token positions: they are
    /// checked in `checkSequence`, against the operation the role paused.
    var resumeExpectations: [SourceLocation: [(Expectation, SourceLocation)]] = [:]
    /// The scenario's `geometry:`, which a step's overrides start from.
    var scenarioGeometry = Geometry.default

    init(file: String) { self.file = file }

    func error(_ kind: ScenarioError.Kind, _ loc: SourceLocation, _ message: String) {
        errors.append(ScenarioError(kind, loc, message))
    }

    func loc(_ node: Node) -> SourceLocation {
        guard let m = node.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: m.line, column: m.column)
    }

    func loc(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }

    var start: SourceLocation { SourceLocation(file: file, line: 1, column: 1) }

    // MARK: document

    func parseDocument(_ yaml: String) -> Scenario? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let e as YamlError {
            reportYamlError(e)
            return nil
        } catch {
            self.error(.syntax, start, "YAML: \(error)")
            return nil
        }
        guard let root else {
            error(.missing, start, "empty file: a scenario needs at least `processes` and one of init, parallel, final")
            return nil
        }
        guard let top = root.mapping else {
            error(.wrongType, loc(root), "a scenario file must be a mapping (name, description, processes, init, …)")
            return nil
        }

        let known = ["name", "description", "covers", "geometry", "clock", "processes", "expand", "init", "parallel", "race", "final"]
        var fields: [String: (key: Node, value: Node)] = [:]
        for (k, v) in top {
            guard let name = k.scalar?.string else {
                error(.wrongType, loc(k), "keys of a scenario must be plain words")
                continue
            }
            if !known.contains(name) {
                error(.unknownKey, loc(k), "unknown key '\(name)' (expected one of: \(known.joined(separator: ", ")))")
                continue
            }
            fields[name] = (k, v)
        }

        // processes first: steps refer to the roles.
        var processes: [RoleDeclaration] = []
        if let p = fields["processes"] {
            processes = parseProcesses(p.value)
        } else {
            error(.missing, loc(root), "missing `processes` (the roles and the implementations that may play them)")
        }
        roles = processes.map(\.role)

        var name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        if let n = fields["name"] {
            if let s = scalarString(n.value, what: "name") {
                if isValidName(s) { name = s } else {
                    error(.invalid, loc(n.value), "bad scenario name '\(s)' (letters, digits, '.', '_', '-'; starting with a letter or digit)")
                }
            }
        }
        var description = ""
        if let d = fields["description"], let s = scalarString(d.value, what: "description") { description = s }

        var covers: [String] = []
        if let c = fields["covers"] { covers = parseCovers(c.value) }

        var geometry = Geometry.default
        if let g = fields["geometry"] { geometry = parseGeometry(g.value) }
        scenarioGeometry = geometry

        var clock = ScenarioClock.default
        if let c = fields["clock"], let s = scalarString(c.value, what: "clock") {
            if s == "real" {
                clock = .real
            } else if let ns = ScenarioDuration.nanoseconds(s) {
                clock = .simulated(startNs: ns)
            } else {
                error(.badDuration, loc(c.value), "bad clock '\(s)': a duration (e.g. 1000s, 250ms, 5us, 100ns, 2m) or `real`")
            }
        }

        var expand = ExpandMode.pairs
        if let e = fields["expand"], let s = scalarString(e.value, what: "expand") {
            if let m = ExpandMode(rawValue: s) { expand = m } else {
                error(.invalid, loc(e.value), "unknown expand mode '\(s)' (expected pairs, same or diagonal+one)")
            }
        }

        if fields["parallel"] != nil, let r = fields["race"] {
            error(.invalid, loc(r.key), "a scenario has either a `parallel` part or a `race` block, not both")
        }
        if fields["init"] == nil && fields["parallel"] == nil && fields["final"] == nil && fields["race"] == nil {
            error(.missing, loc(root), "a scenario needs at least one of `init`, `parallel`, `final`")
        }

        let initSteps = fields["init"].map { parseStepList($0.value, part: .initial, what: "init") } ?? []
        let parallel = fields["parallel"].map { parseParallel($0.value) } ?? []
        let race = fields["race"].flatMap { parseRace($0.value) }
        let finalSteps = fields["final"].map { parseStepList($0.value, part: .final, what: "final") } ?? []

        let scenario = Scenario(name: name, description: description, covers: covers, geometry: geometry,
                                clock: clock, processes: processes, expand: expand, initSteps: initSteps,
                                parallel: parallel, finalSteps: finalSteps, race: race, file: file, location: loc(root))
        if let e = fields["expand"], expand == .same { checkSameExpansion(scenario, at: loc(e.value)) }
        checkSequence(scenario)
        return scenario
    }

    func reportYamlError(_ e: YamlError) {
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let ctx = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            error(.syntax, loc(mark), "YAML syntax: \(problem)\(ctx)")
        case let .duplicatedKeysInMapping(duplicates, context):
            error(.syntax, loc(context.mark), "duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) in a mapping")
        case let .reader(problem, _, _, _):
            error(.syntax, start, "YAML: \(problem)")
        default:
            error(.syntax, start, "YAML: \(e)")
        }
    }

    // MARK: header parts

    func scalarString(_ node: Node, what: String) -> String? {
        guard let s = node.scalar else {
            error(.wrongType, loc(node), "`\(what)` must be a single value")
            return nil
        }
        return s.string
    }

    func isValidName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCIIAlnum else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCIIAlnum || $0 == "." || $0 == "_" || $0 == "-" }
    }

    func parseProcesses(_ node: Node) -> [RoleDeclaration] {
        guard let m = node.mapping else {
            error(.wrongType, loc(node), "`processes` must be a mapping ROLE: any | IMPL | [IMPL, …]")
            return []
        }
        if m.count == 0 { error(.missing, loc(node), "`processes` declares no role") }
        var out: [RoleDeclaration] = []
        for (k, v) in m {
            guard let role = k.scalar?.string else {
                error(.wrongType, loc(k), "a role name must be a plain word")
                continue
            }
            let roleOK = role.unicodeScalars.first.map { $0.isASCIILetter } == true
                && role.unicodeScalars.allSatisfy { $0.isASCIIAlnum || $0 == "_" || $0 == "-" }
            if !roleOK {
                error(.invalid, loc(k), "bad role name '\(role)' (a letter, then letters, digits, '_' or '-')")
                continue
            }
            if ScenarioParser.reservedWords.contains(role) {
                error(.invalid, loc(k), "'\(role)' is a reserved word and cannot name a role")
                continue
            }
            var allowed = AllowedImplementations.any
            if let s = v.scalar {
                if s.string == "any" {
                    allowed = .any
                } else if isImplName(s.string) {
                    allowed = .only([s.string])
                } else {
                    error(.invalid, loc(v), "bad implementation '\(s.string)' for role '\(role)' (any, an implementation name, or a list)")
                    continue
                }
            } else if let seq = v.sequence {
                var list: [String] = []
                for item in seq {
                    guard let s = item.scalar?.string, isImplName(s), s != "any" else {
                        error(.invalid, loc(item), "bad implementation name in the list of role '\(role)'")
                        continue
                    }
                    if !list.contains(s) { list.append(s) }
                }
                if seq.count == 0 { error(.invalid, loc(v), "role '\(role)' allows no implementation (empty list)") }
                allowed = .only(list)
            } else {
                error(.wrongType, loc(v), "role '\(role)': expected any, an implementation name, or a list")
                continue
            }
            out.append(RoleDeclaration(role: role, allowed: allowed, location: loc(k)))
        }
        return out
    }

    func isImplName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { $0.isASCIIAlnum || $0 == "_" || $0 == "-" || $0 == "." }
    }

    func parseCovers(_ node: Node) -> [String] {
        let items: [Node]
        if node.scalar != nil { items = [node] } else if let seq = node.sequence { items = Array(seq) } else {
            error(.wrongType, loc(node), "`covers` must be a list of event names")
            return []
        }
        var out: [String] = []
        for item in items {
            guard let s = item.scalar?.string else {
                error(.wrongType, loc(item), "an event name must be a plain word")
                continue
            }
            if Scenario.knownEvents.contains(s) {
                if !out.contains(s) { out.append(s) }
            } else {
                error(.invalid, loc(item), "unknown event '\(s)' in covers (PROTOCOL.md §8.2: \(Scenario.knownEvents.joined(separator: ", ")))")
            }
        }
        return out
    }

    func parseGeometry(_ node: Node) -> Geometry {
        guard let m = node.mapping else {
            error(.wrongType, loc(node), "`geometry` must be a mapping {shards, slots, key_capacity, value_capacity, window, participants}")
            return .default
        }
        var g = Geometry.default
        let keys = Geometry.fields
        var ok = true
        for (k, v) in m {
            let name = k.scalar?.string ?? ""
            guard let path = keys.first(where: { $0.0 == name })?.1 else {
                error(.unknownKey, loc(k), "unknown geometry key '\(name)' (expected \(keys.map(\.0).joined(separator: ", ")))")
                ok = false
                continue
            }
            guard let s = v.scalar?.string, let n = Int(s), n >= 0 else {
                error(.invalid, loc(v), "geometry `\(name)` must be a non-negative integer")
                ok = false
                continue
            }
            g[keyPath: path] = n
        }
        if ok, let rule = g.violatedRule {
            error(.invalid, loc(node), "bad geometry: violates \(rule) (PROTOCOL.md §3); "
                  + "to require a refusal, override the geometry on the step: `create shards=0` with `expect: fail(bad_geometry) rule=1`")
        }
        return g
    }

    // MARK: steps

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

    /// `race: {strategy, schedules, depth, preemptions, ops: {ROLE: [ops]}, sometimes: ["r@p r@p", …]}`.
    func parseRace(_ node: Node) -> RaceBlock? {
        guard let m = node.mapping else {
            error(.wrongType, loc(node), "`race` must be a mapping (strategy, schedules, ops, sometimes, …)")
            return nil
        }
        var strategy = "random", schedules = 100, depth = 2, preemptions = 2
        var ops: [ParallelList] = []
        var sometimes: [[RacePosition]] = []
        let known = ["strategy", "schedules", "depth", "preemptions", "ops", "sometimes"]
        for (k, v) in m {
            guard let key = k.scalar?.string, known.contains(key) else {
                error(.unknownKey, loc(k), "unknown key '\(k.scalar?.string ?? "?")' in race (expected one of: \(known.joined(separator: ", ")))")
                continue
            }
            switch key {
            case "strategy":
                guard let s = v.scalar?.string, ["random", "pct", "dfs"].contains(s) else {
                    error(.invalid, loc(v), "race strategy must be random, pct or dfs")
                    continue
                }
                strategy = s
            case "schedules", "depth", "preemptions":
                guard let n = v.scalar.flatMap({ Int($0.string) }), n >= (key == "preemptions" ? 0 : 1), n <= 1_000_000 else {
                    error(.invalid, loc(v), "race \(key) must be a whole number (\(key == "preemptions" ? "0" : "1")…1000000)")
                    continue
                }
                if key == "schedules" { schedules = n } else if key == "depth" { depth = n } else { preemptions = n }
            case "ops":
                ops = parseParallel(v)
                for list in ops {
                    for st in list.steps where st.operation == nil {
                        error(.invalid, st.location, "race ops are operations only (no control steps)")
                    }
                }
            default:  // sometimes
                guard let seq = v.sequence else {
                    error(.wrongType, loc(v), "`sometimes` must be a list of goals like \"reader@get.between_seq_reads writer@refresh.after_payload\"")
                    continue
                }
                for g in seq {
                    guard let text = g.scalar?.string else { error(.wrongType, loc(g), "a goal is a string of ROLE@POINT"); continue }
                    var goal: [RacePosition] = []
                    for tok in text.split(separator: " ") {
                        let parts = tok.split(separator: "@", maxSplits: 1).map(String.init)
                        guard parts.count == 2, roles.contains(parts[0]), ScenarioParser.pausePoints.contains(parts[1]) else {
                            error(.invalid, loc(g), "bad goal '\(tok)': ROLE@POINT with a declared role and a pause point of PROTOCOL.md §17")
                            continue
                        }
                        goal.append(RacePosition(role: parts[0], point: parts[1]))
                    }
                    if !goal.isEmpty { sometimes.append(goal) }
                }
            }
        }
        if ops.isEmpty { error(.missing, loc(node), "a race needs `ops`: the operations that race, per role") }
        return RaceBlock(strategy: strategy, schedules: schedules, depth: depth, preemptions: preemptions, ops: ops,
                         sometimes: sometimes, location: loc(node))
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
        case "corrupt":
            if case .parallel = part {
                error(.badSequence, at, "`corrupt` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
                return nil
            }
            guard let s = value.scalar else {
                error(.wrongType, loc(value), "`corrupt` takes a key (e.g. corrupt: k1)")
                return nil
            }
            let toks = tokens(of: value, text: s.string)
            guard let keyTok = toks.first else {
                error(.missing, loc(value), "`corrupt` takes a key (e.g. corrupt: k1)")
                return nil
            }
            if toks.count > 1 {
                error(.badArgument, toks[1].location, "`corrupt` takes one key")
                return nil
            }
            guard let key = parseBytes(keyTok, what: "key") else { return nil }
            if key.isEmpty {
                error(.badValue, keyTok.location, "bad key: a key has at least one byte")
                return nil
            }
            return ControlStep(kind: .corrupt(key: key), location: at)
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
            guard [.openOrCreate, .put].contains(op) else {
                error(.notApplicable, loc(v), "created_once does not apply to \(op.rawValue) (only open_or_create and put answer `created`)")
                return nil
            }
            return ControlStep(kind: .check(.createdOnce(op)), location: at)
        }
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

        var expectations: [Expectation] = []
        if let expectNode {
            // A pause_at= that was written but refused is reported once, not again by `paused`.
            let pauseWritten = toks.dropFirst().contains { $0.text.hasPrefix("pause_at=") }
            expectations = parseExpectations(expectNode, op: op, pauseAt: pauseWritten ? (options["pause_at"]?.stringValue ?? "") : nil)
        }
        if failed { return nil }
        let step = OperationStep(role: role, op: op, key: key, value: value, options: options, expect: expectations,
                                 location: stepLocation, text: text)
        checkRefusal(step, at: opTok.location)
        return step
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

    func parseOption(name: String, raw: String, at: SourceLocation) -> OptionValue? {
        switch name {
        case "ttl", "grace", "timeout":
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
        case "origin", "seen":
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
        case "group":
            guard raw == "true" || raw == "false" else {
                error(.badArgument, at, "bad group '\(raw)': true or false")
                return nil
            }
            return .bool(raw == "true")
        default: // crash_at, pause_at
            let ok = !raw.isEmpty && raw.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isIdentifier($0) }
            guard ok, ScenarioParser.pausePoints.contains(raw) else {
                error(.badArgument, at, "bad \(name) '\(raw)': a pause point of PROTOCOL.md §17 such as put.after_claim")
                return nil
            }
            return .string(raw)
        }
    }

    // MARK: expectations

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
        case "refresh_requested": return .refreshRequested(true)
        case "no_refresh_requested": return .refreshRequested(false)
        case "woken": return .timedOut(false)
        case "timed_out": return .timedOut(true)
        case "paused": return .paused
        default: break
        }
        if s.hasPrefix("fail(") && s.hasSuffix(")") {
            let reason = String(s.dropFirst(5).dropLast())
            guard ScenarioParser.failureReasons.contains(reason) else {
                error(.unknownExpectation, t.location, "unknown failure reason '\(reason)' (PROTOCOL.md §15)")
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
            error(.unknownExpectation, t.location, "unknown expectation '\(s)'")
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
            error(.unknownExpectation, t.location, "unknown expectation '\(s)'")
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
                guard op == .get else { break }
                claim("hit", e, at, sameAs: .hit)
            default: break
            }
            switch e {
            case .stale, .fresh: claim("stale", e, at)
            case .created: claim("created", e, at)
            case .removed: claim("removed", e, at)
            case .refreshRequested: claim("refresh_requested", e, at)
            case .timedOut: claim("timed_out", e, at)
            case .value: claim("value", e, at)
            case .version: claim("version", e, at)
            case .origin: claim("origin", e, at)
            case .writer: claim("writer", e, at)
            case .counter(let c, _): claim("counter." + c.rawValue, e, at)
            default: break
            }
        }
    }

    // MARK: whole-scenario checks

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
                if let p = paused[o.role] {
                    error(.badSequence, o.location,
                          "role '\(o.role)' is paused at \(p.pauseAt ?? "?") (line \(p.location.line)); add `\(o.role): resume` before its next operation")
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
                case .restart(let r):
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

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIILowercase: Bool { ("a"..."z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIIAlnum: Bool { isASCIILetter || isASCIIDigit }
}
