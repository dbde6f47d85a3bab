// Errors of malformed scenario files, each with the file, line and column it is about.

/// A problem in a scenario file; `description` is `FILE:LINE:COL: message`.
public struct ScenarioError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The class of problem, for callers and tests that branch on it.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The file is not valid YAML (or not readable).
        case syntax
        /// A mapping key the format does not define (top level, geometry, step).
        case unknownKey
        /// A required part is missing (`processes`, all of init/parallel/final, a step's operation).
        case missing
        /// A node has the wrong YAML type (mapping expected, …).
        case wrongType
        /// An operation name that is not in the table of docs/SCENARIOS.md.
        case unknownOperation
        /// A role used (step, control step, `writer=`) but not declared in `processes`.
        case undeclaredRole
        /// A malformed duration.
        case badDuration
        /// A malformed key or value (`hex:`, `bytes:`).
        case badValue
        /// Wrong positional arguments, unknown or malformed option.
        case badArgument
        /// An expectation token that does not exist.
        case unknownExpectation
        /// An expectation that does not apply to the step's operation.
        case notApplicable
        /// Two expectations of one step that cannot both hold.
        case contradictoryExpectations
        /// Any other invalid value (geometry rule, event name, expand mode, name, …).
        case invalid
        /// A step that cannot run where it is (crashed role, `check` outside final, …).
        case badSequence
        /// Two scenario files with the same name (library).
        case duplicateName
    }

    public var kind: Kind
    public var location: SourceLocation
    public var message: String

    public init(_ kind: Kind, _ location: SourceLocation, _ message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }

    /// `FILE:LINE:COL: message`.
    public var description: String { "\(location): \(message)" }
}
