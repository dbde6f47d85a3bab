// Loading every scenario of a directory, reporting all problems of all files at once.

import Foundation

/// The scenarios of a directory (every `*.yaml`, sorted by file name) and every problem found.
public struct ScenarioLibrary: Sendable {
    /// Scenarios that parsed without error, in file-name order.
    public var scenarios: [Scenario]
    /// Every problem of every file (files in name order, each file's problems by position).
    /// The run should exit 2 when this is not empty.
    public var errors: [ScenarioError]
    /// The `*.yaml` files read, in order.
    public var files: [URL]

    public init(scenarios: [Scenario], errors: [ScenarioError], files: [URL]) {
        self.scenarios = scenarios
        self.errors = errors
        self.files = files
    }

    /// Loads every `*.yaml` file directly in `directory` (not recursive), collecting all errors
    /// rather than stopping at the first; two files with the same scenario name are an error too.
    public static func load(directory: URL) -> ScenarioLibrary {
        let fm = FileManager.default
        let dirPath = directory.path
        guard let names = try? fm.contentsOfDirectory(atPath: dirPath) else {
            return ScenarioLibrary(scenarios: [], errors: [
                ScenarioError(.syntax, SourceLocation(file: dirPath, line: 1, column: 1), "cannot read the scenario directory"),
            ], files: [])
        }
        let files = names.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }.sorted()
            .map { directory.appendingPathComponent($0) }
        var scenarios: [Scenario] = []
        var errors: [ScenarioError] = []
        var byName: [String: Scenario] = [:]
        for url in files {
            let r = ScenarioParser.parseCollectingErrors(contentsOf: url)
            errors += r.errors
            guard let s = r.scenario else { continue }
            if let first = byName[s.name] {
                errors.append(ScenarioError(.duplicateName, s.location,
                                            "scenario name '\(s.name)' is already used by \(first.file)"))
                continue
            }
            byName[s.name] = s
            scenarios.append(s)
        }
        return ScenarioLibrary(scenarios: scenarios, errors: errors, files: files)
    }

    /// The scenario called `name`, if loaded.
    public func scenario(named name: String) -> Scenario? { scenarios.first { $0.name == name } }

    /// Every case of every scenario over `implementations`, filtered by `patterns` (glob; none = all).
    public func cases(implementations: [String], patterns: [String] = []) -> [ScenarioCase] {
        filter(expand(scenarios, implementations: implementations), patterns: patterns)
    }
}
