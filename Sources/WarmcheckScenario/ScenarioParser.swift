// The scenario file parser: YAML (through Yams' node API, so every node keeps its line and
// column) to `Scenario`, reporting every problem as `FILE:LINE:COL: message`.

import Foundation
import WarmcheckSegment
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
                                                    "corrupt", "upgrade", "patch_header", "wipe",
                                                    "remove_segment", "store_disk",
                                                    "corrupt_state", "duplicate", "patch_ns", "collide", "patch_hint"]

    /// The control steps' keys (docs/SCENARIOS.md "Control steps").
    public static let controlSteps: [String] = ["advance", "sleep", "restart", "crash", "start", "check", "corrupt", "upgrade", "patch_header", "wipe",
                                                "remove_segment", "store_disk",
                                                "corrupt_state", "duplicate", "patch_ns", "collide", "patch_hint"]

    /// Pause points `crash_at=` and `pause_at=` accept (PROTOCOL.md §17).
    /// Pause points and failure reasons come from spec/vocabulary.json (PROTOCOL.md §15, §17),
    /// the one list every implementation is tested against: a renamed point is a parse error.
    public static let pausePoints: Set<String> = Set(vocabulary?.pausePoints ?? [])

    /// Failure reasons `fail(REASON)` accepts: operation results and open errors (PROTOCOL.md §15).
    public static let failureReasons: Set<String> = Set((vocabulary?.operationErrors ?? []) + (vocabulary?.openErrors ?? []))

    static let vocabulary = try? Vocabulary.standard.get()
}

// MARK: - Implementation

/// A whitespace-separated word of a scalar with its position.
struct Token {
    var text: String
    var location: SourceLocation
}

enum Part { case initial, parallel(role: String), final }

/// One file's parse: the document structure here; the header, steps, operations, races,
/// expectations and whole-scenario checks in the ScenarioParser+*.swift files beside it.
final class Parser {
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

        let known = ["name", "description", "covers", "geometry", "clock", "processes", "disk", "expand", "init", "parallel", "race", "final"]
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

        var scenario = Scenario(name: name, description: description, covers: covers, geometry: geometry,
                                clock: clock, processes: processes, expand: expand, initSteps: initSteps,
                                parallel: parallel, finalSteps: finalSteps, race: race, file: file, location: loc(root))
        scenario.getOrdinals = scenario.countedGets
        if let d = fields["disk"] { scenario.disks = parseDisks(d.value) }
        if let e = fields["expand"], expand == .same { checkSameExpansion(scenario, at: loc(e.value)) }
        checkSequence(scenario)
        checkCollisions(scenario)
        checkDuplicates(scenario)
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
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIILowercase: Bool { ("a"..."z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIIAlnum: Bool { isASCIILetter || isASCIIDigit }
}
