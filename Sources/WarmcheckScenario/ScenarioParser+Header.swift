import Foundation
import WarmcheckSegment
import Yams

/// The header of a scenario: names, `processes:`, `covers:`, `geometry:`.
extension Parser {
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

    /// `disk:`, a mapping ROLE: FAULT over declared roles.
    func parseDisks(_ node: Node) -> [String: DiskFault] {
        let names = DiskFault.allCases.map(\.rawValue).joined(separator: ", ")
        guard let m = node.mapping else {
            error(.wrongType, loc(node), "`disk` must be a mapping ROLE: \(names)")
            return [:]
        }
        var out: [String: DiskFault] = [:]
        for (k, v) in m {
            guard let role = k.scalar?.string, roles.contains(role) else {
                error(.invalid, loc(k), "`disk` names '\(k.scalar?.string ?? "?")', which is not a role of `processes`")
                continue
            }
            guard let s = v.scalar?.string, let f = DiskFault(rawValue: s) else {
                error(.invalid, loc(v), "bad disk fault for role '\(role)' (expected one of: \(names))")
                continue
            }
            out[role] = f
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
}
