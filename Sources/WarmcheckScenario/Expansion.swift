// Expansion of a scenario over the implementations of a run (docs/SCENARIOS.md, "Expansion").

/// One role played by one implementation in a case.
public struct RoleAssignment: Sendable, Hashable {
    public var role: String
    public var implementation: String

    public init(role: String, implementation: String) {
        self.role = role
        self.implementation = implementation
    }
}

/// One runnable case: a scenario with an implementation for every role.
public struct ScenarioCase: Sendable, Hashable {
    public var scenario: Scenario
    /// One entry per role, in the roles' declaration order.
    public var assignments: [RoleAssignment]

    public init(scenario: Scenario, assignments: [RoleAssignment]) {
        self.scenario = scenario
        self.assignments = assignments
    }

    /// `SCENARIO[role=impl,…]`, roles in declaration order.
    public var name: String {
        scenario.name + "[" + assignments.map { "\($0.role)=\($0.implementation)" }.joined(separator: ",") + "]"
    }

    /// The implementation playing `role`, nil if the scenario has no such role.
    public func implementation(for role: String) -> String? {
        assignments.first { $0.role == role }?.implementation
    }

    /// Role → implementation.
    public var implementationsByRole: [String: String] {
        Dictionary(uniqueKeysWithValues: assignments.map { ($0.role, $0.implementation) })
    }

    /// Distinct implementations used by this case, in role order.
    public var implementations: [String] {
        var out: [String] = []
        for a in assignments where !out.contains(a.implementation) { out.append(a.implementation) }
        return out
    }
}

/// Expands `s` over `implementations` (the run's `--fixture` names, in run order).
///
/// A role allows `any` of `implementations` or those of its list that the run has (in run order);
/// a role left with none makes zero cases. `pairs`: every combination (first role varies
/// slowest). `same`: one case per implementation allowed for every role. `diagonal+one`: the
/// `same` cases, then for each of them and each role every other allowed implementation of that
/// role with all the rest unchanged (duplicates removed).
public func expand(_ s: Scenario, implementations: [String]) -> [ScenarioCase] {
    var run: [String] = []
    for i in implementations where !run.contains(i) { run.append(i) }
    let roles = s.processes.map(\.role)
    let allowed = s.processes.map { $0.allowed.filter(run) }
    if roles.isEmpty || allowed.contains(where: \.isEmpty) { return [] }

    func make(_ impls: [String]) -> ScenarioCase {
        ScenarioCase(scenario: s, assignments: zip(roles, impls).map { RoleAssignment(role: $0, implementation: $1) })
    }

    switch s.expand {
    case .pairs:
        var combos: [[String]] = [[]]
        for list in allowed {
            combos = combos.flatMap { prefix in list.map { prefix + [$0] } }
        }
        return combos.map(make)
    case .same:
        return run.filter { impl in allowed.allSatisfy { $0.contains(impl) } }
            .map { impl in make(Array(repeating: impl, count: roles.count)) }
    case .diagonalPlusOne:
        let diagonal = run.filter { impl in allowed.allSatisfy { $0.contains(impl) } }
        var seen: Set<[String]> = []
        var out: [[String]] = []
        func add(_ c: [String]) { if seen.insert(c).inserted { out.append(c) } }
        for impl in diagonal { add(Array(repeating: impl, count: roles.count)) }
        for impl in diagonal {
            for (r, list) in allowed.enumerated() {
                for other in list where other != impl {
                    var c = Array(repeating: impl, count: roles.count)
                    c[r] = other
                    add(c)
                }
            }
        }
        return out.map(make)
    }
}

/// Expands every scenario and returns the cases in scenario order.
public func expand(_ scenarios: [Scenario], implementations: [String]) -> [ScenarioCase] {
    scenarios.flatMap { expand($0, implementations: implementations) }
}
