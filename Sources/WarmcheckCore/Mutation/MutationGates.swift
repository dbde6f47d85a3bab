import Foundation

/// A gate of scripts/test.sh other than the scenario cases, run against a mutated fixture like
/// one more case. Without these, a mutant only the crafted files of `refusals`, the power cuts of
/// `powercut` or the kills of `crashsweep` can expose (a dropped §4.2 check, a journal field at the
/// wrong offset, a sweep that misses a dead claim) counted as a survivor although CI catches it.
/// Each gate judges only the mutated language's answers: a failure of another implementation is
/// not this mutant's doing (and the baseline drops a gate that fails unmutated).
public struct MutationGate: Sendable {
    /// As kill history and reports name it: `gate:refusals`, …
    public var name: String
    /// Languages the gate can judge.
    public var languages: Set<String>
    /// Operations a mutated function or file must suggest for the gate to be tried early
    /// (CaseOrdering.themes(of: Mutant)).
    public var themes: Set<String>
    /// Runs the gate with `fixtures` (the mutated language's entry is its copy); returns why
    /// `language` failed, nil if it passed. A thrown error is a harness-level failure (like a
    /// case's ERROR: it must repeat to count).
    public var run: @Sendable (_ language: String, _ fixtures: [String: FixtureSpec], _ workDir: String) throws -> String?

    /// The gates a mutation run adds to the scenario cases.
    public static let all: [MutationGate] = [refusals, crashSweep, powerCut, stress]

    /// Every crafted bad file of `warmcheck refusals` must get its exact code (docs/REFUSALS.md).
    public static let refusals = MutationGate(name: "gate:refusals", languages: ["go", "rust", "swift"], themes: ["open"]) { lang, fx, dir in
        guard let spec = fx[lang] else { return nil }
        let report = try RefusalGate(fixtures: [spec], workDir: dir).run()
        let bad = report.results.filter { $0.implementation == lang && $0.verdict == .fail }
        guard let first = bad.first else { return nil }
        return "refusals: \(bad.count) crafted case(s) answered wrongly, first \(first.caseName): answered \(first.answer) (\(first.detail))"
    }

    /// Crash points of `warmcheck crashsweep` between the mutated language and one peer (the
    /// mutant as victim recovered by the peer, and the peer as victim recovered by the mutant),
    /// a fixed draw of 48 (seed 7) so that a gate run stays near a few scenario cases' cost.
    public static let crashSweep = MutationGate(name: "gate:crashsweep", languages: ["go", "rust", "swift"], themes: ["reclaim"]) { lang, fx, dir in
        let peer = lang == "go" ? "rust" : "go"
        guard let mine = fx[lang], let other = fx[peer] else { return nil }
        let sweep = CrashSweep(fixtures: [mine, other], workDir: dir)
        let outcomes = try sweep.run(CrashSweepReport.sample(try sweep.points(), count: 48, seed: 7))
        guard let f = outcomes.first(where: { !$0.recovered }) else { return nil }
        return "crashsweep: \(f.point.name): " + (f.notReached ? "crash point not reached" : f.problems.joined(separator: "; "))
    }

    /// Power cuts of the durable store (`warmcheck powercut`), written and restored across the
    /// mutated implementation and the other store-bearing one, so that a format both sides of a
    /// mutant agree on (a field moved in writer and reader alike) still meets an unmutated peer.
    public static let powerCut = MutationGate(name: "gate:powercut", languages: ["go", "rust"], themes: ["durable"]) { lang, fx, dir in
        let specs = ["go", "rust"].compactMap { fx[$0] }
        var sweep = PowerCutSweep(writers: specs, restorers: specs, cuts: 1000, workDir: dir)
        sweep.puts = 200
        sweep.seed = 7
        let r = try sweep.run()
        let mine = r.failures.filter { $0.writer == lang || $0.restorer == lang }
        guard let f = mine.first else { return nil }
        return "powercut: \(mine.count) failure(s), first \(f.writer) → \(f.restorer): \(f.cut): \(f.problem)"
    }
}
