import Foundation

/// Summaries, the JSON file, the survivors' report and the score line of a mutation run.
public struct MutationReport {
    public var outcomes: [MutationOutcome]

    public init(_ outcomes: [MutationOutcome]) { self.outcomes = outcomes }

    /// Detected: killed or timed out.
    public var killed: Int { outcomes.filter { $0.verdict == .killed || $0.verdict == .timedOut }.count }
    public var equivalent: Int { outcomes.filter(\.equivalent).count }
    public var survivors: [MutationOutcome] { outcomes.filter { $0.verdict == .survived && !$0.equivalent } }
    /// Mutants that count: built, and not listed as equivalent.
    public var counted: Int { outcomes.filter { $0.verdict != .didNotBuild && !$0.equivalent }.count }

    /// `mutation score: K/N (E equivalent)`: K detected of the N built, non-equivalent mutants.
    public var scoreLine: String { "mutation score: \(killed)/\(counted) (\(equivalent) equivalent)" }
    public var percent: Double { counted == 0 ? 100 : 100 * Double(killed) / Double(counted) }

    public func line(_ o: MutationOutcome) -> String {
        let t = String(format: "%.1f s", o.seconds)
        switch o.verdict {
        case .killed, .timedOut:
            return "\(o.verdict == .killed ? "killed   " : "timed-out") \(o.mutant.id) by \(o.killer ?? "?") after \(o.casesRun) case(s), \(t)"
        case .survived:
            return "\(o.equivalent ? "equivalent" : "SURVIVED ") \(o.mutant.id) \(o.mutant.key) (\(o.casesRun) cases, \(t))"
        case .didNotBuild:
            return "no-build  \(o.mutant.id) (\(t))"
        }
    }

    /// Per file and per operator: detected / counted, survivors, builds that failed.
    public func summary() -> String {
        func table(_ title: String, _ by: (MutationOutcome) -> String) -> String {
            var rows: [String: (k: Int, n: Int, s: Int, b: Int, e: Int)] = [:]
            for o in outcomes {
                var r = rows[by(o)] ?? (0, 0, 0, 0, 0)
                if o.verdict == .didNotBuild { r.b += 1 } else if o.equivalent { r.e += 1 } else {
                    r.n += 1
                    if o.verdict == .survived { r.s += 1 } else { r.k += 1 }
                }
                rows[by(o)] = r
            }
            var out = "\(title)\n"
            let w = max(10, rows.keys.map(\.count).max() ?? 0)
            for (name, r) in rows.sorted(by: { $0.key < $1.key }) {
                out += "  " + name.padding(toLength: w, withPad: " ", startingAt: 0)
                    + String(format: "  %3d/%-3d killed  %3d survived  %3d equivalent  %3d did not build\n", r.k, r.n, r.s, r.e, r.b)
            }
            return out
        }
        return table("by file:", { $0.mutant.file }) + table("by operator:", { $0.mutant.op })
            + table("by language:", { $0.mutant.language.rawValue })
    }

    public func survivorsText() -> String {
        var out = "# Surviving mutants (\(survivors.count))\n\n"
        for o in survivors {
            out += "\(o.mutant.id)  [\(o.mutant.function)]\n  key: \(o.mutant.key)\n"
            out += o.mutant.diff.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n\n"
        }
        return out
    }

    public func json(seed: UInt64?, selection: String) -> JSON {
        .object([
            "selection": .string(selection),
            "seed": seed.map { JSON(unsigned: $0) } ?? .null,
            "killed": .int(Int64(killed)), "counted": .int(Int64(counted)), "equivalent": .int(Int64(equivalent)),
            "mutants": .array(outcomes.map { o in
                .object([
                    "id": .string(o.mutant.id), "key": .string(o.mutant.key), "file": .string(o.mutant.file),
                    "line": .int(Int64(o.mutant.line)), "column": .int(Int64(o.mutant.column)), "operator": .string(o.mutant.op),
                    "function": .string(o.mutant.function), "language": .string(o.mutant.language.rawValue),
                    "diff": .string(o.mutant.diff), "verdict": .string(o.verdict.rawValue), "equivalent": .bool(o.equivalent),
                    "killer": o.killer.map(JSON.string) ?? .null, "reason": .string(o.reason),
                    "seconds": .double(o.seconds), "build_seconds": .double(o.buildSeconds), "cases_run": .int(Int64(o.casesRun)),
                ])
            }),
        ])
    }

    /// Median seconds per mutant (built ones), for projecting a full run.
    public var medianSeconds: Double {
        let s = outcomes.map(\.seconds).sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }
}
