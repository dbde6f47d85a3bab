// `--filter` patterns over case names: `*` matches any run of characters, `?` exactly one.

/// A glob over case names (`*` any run, `?` one character; everything else literal, case-sensitive).
public struct CaseFilter: Sendable, Hashable {
    public var pattern: String
    private let chars: [Character]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.chars = Array(pattern)
    }

    /// True if the whole of `name` matches the pattern.
    public func matches(_ name: String) -> Bool {
        globMatch(chars, Array(name))
    }

    /// True if `c.name` matches.
    public func matches(_ c: ScenarioCase) -> Bool { matches(c.name) }
}

/// True if `name` matches any of `patterns` (no patterns: everything matches).
public func matchesAny(_ name: String, patterns: [String]) -> Bool {
    patterns.isEmpty || patterns.contains { CaseFilter($0).matches(name) }
}

/// The cases whose names match any of `patterns` (no patterns: all of them), order kept.
public func filter(_ cases: [ScenarioCase], patterns: [String]) -> [ScenarioCase] {
    let filters = patterns.map(CaseFilter.init)
    if filters.isEmpty { return cases }
    return cases.filter { c in filters.contains { $0.matches(c.name) } }
}

/// Iterative glob match with backtracking to the last `*` (linear in practice, no recursion).
func globMatch(_ p: [Character], _ s: [Character]) -> Bool {
    var pi = 0, si = 0
    var star = -1, mark = 0
    while si < s.count {
        if pi < p.count && (p[pi] == "?" || (p[pi] != "*" && p[pi] == s[si])) {
            pi += 1
            si += 1
        } else if pi < p.count && p[pi] == "*" {
            star = pi
            mark = si
            pi += 1
        } else if star >= 0 {
            pi = star + 1
            mark += 1
            si = mark
        } else {
            return false
        }
    }
    while pi < p.count && p[pi] == "*" { pi += 1 }
    return pi == p.count
}

/// Same as `filter(_:patterns:)`, under a name that a type's own `filter` member cannot shadow.
public func filterCases(_ cases: [ScenarioCase], patterns: [String]) -> [ScenarioCase] {
    filter(cases, patterns: patterns)
}

/// The cases in which any of `implementations` plays at least one role (none given: all cases),
/// order kept: `--only NAME` selects everything that concerns one implementation without globs
/// over role names.
public func involving(_ cases: [ScenarioCase], anyOf implementations: [String]) -> [ScenarioCase] {
    if implementations.isEmpty { return cases }
    return cases.filter { c in c.assignments.contains { implementations.contains($0.implementation) } }
}
