import Foundation
import WarmcheckScenario

/// What happened to one mutant.
public struct MutationOutcome: Sendable {
    public enum Verdict: String, Sendable {
        case killed
        case survived
        case didNotBuild = "did-not-build"
        /// A fixture stopped answering (past the response timeout): detected, counted as killed.
        case timedOut = "timed-out"
    }
    public var mutant: Mutant
    public var verdict: Verdict
    /// The case that failed first (killed or timed out).
    public var killer: String?
    public var reason: String
    public var buildSeconds: Double
    public var seconds: Double
    public var casesRun: Int
    /// Survivor listed in the equivalence list.
    public var equivalent: Bool = false
}

/// Runs mutants: apply one to its implementation's private copy, build that fixture, run the
/// suite with the mutated fixture in place of the reference one, stop at the first failing case,
/// restore the file. One mutant at a time (cases never overlap: see Suite).
public struct MutationRunner {
    public var root: URL
    /// The reference fixtures; the mutated language's entry is replaced by its copy.
    public var options: RunOptions
    public var cases: [ScenarioCase]
    /// The other gates (MutationGate), tried in the same order as the cases; those that fail
    /// in the baseline are dropped.
    public var gates: [MutationGate]
    public var ordering: CaseOrdering
    /// Do not run the whole suite unmutated first: a case (or gate) that fails with a mutant is
    /// run once unmutated right then, and counts as the killer only if that passes (as the
    /// self-test does). Costs one extra case per kill instead of a full pass per run, so a small
    /// sample (CI's) spends its time on mutants; what it loses is the durations that order the
    /// fastest cases first.
    public var lazyBaseline = false
    /// Try the gates only after every scenario case: then a gate's kill is a mutant the cases
    /// alone let through, so one run measures the score with and without the gates.
    public var gatesLast = false
    /// Lazy baseline: cases and gates known to pass, or to fail, unmutated.
    var passesUnmutated: Set<String> = []
    var failsUnmutated: Set<String> = []
    public var progress: (String) -> Void = { _ in }
    public private(set) var workspaces: [MutationLanguage: MutationWorkspace] = [:]

    public init(root: URL, options: RunOptions, cases: [ScenarioCase], gates: [MutationGate] = MutationGate.all,
                languages: Set<MutationLanguage>, workRoot: URL? = nil) {
        self.root = root
        self.options = options
        self.cases = cases
        self.gates = gates
        let work = workRoot ?? root.appendingPathComponent(".build/mutate")
        try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        // A fresh work directory (CI's clean clone) starts from the committed history and
        // durations (mutation/), so that likely killers still run first.
        for f in ["kill-history.json", "case-durations.json"] {
            let mine = work.appendingPathComponent(f), seed = root.appendingPathComponent("mutation/" + f)
            if !FileManager.default.fileExists(atPath: mine.path) { try? FileManager.default.copyItem(at: seed, to: mine) }
        }
        ordering = CaseOrdering(historyPath: work.appendingPathComponent("kill-history.json").path)
        for l in languages { workspaces[l] = MutationWorkspace(language: l, root: root, workRoot: work) }
    }

    /// Brings every copy back to the checkout's sources and builds it unmutated; a copy that does
    /// not build is a harness error (nothing could be concluded from its mutants).
    public mutating func prepare() throws {
        for (l, ws) in workspaces.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            progress("preparing the \(l.rawValue) copy in \(ws.dir.path)")
            try ws.lock()
            try ws.sync()
            if let log = ws.build() { throw UsageError("the unmutated \(l.rawValue) copy does not build:\n\(log)") }
            try ws.keepPristine()
            options.fixtures[l.rawValue] = ws.pristine
        }
    }

    /// Runs the cases that involve a mutated language with every copy in place and keeps those
    /// that pass: a case that fails unmutated proves nothing when it fails again. Also learns
    /// each case's duration for the ordering. Gates are kept per language: one that fails for a
    /// language unmutated is not tried on that language's mutants. Returns what was dropped.
    public mutating func baseline() -> [(name: String, reason: String)] {
        let langs = Set(workspaces.keys.map(\.rawValue))
        var kept: [ScenarioCase] = []
        var dropped: [(name: String, reason: String)] = []
        if lazyBaseline {
            cases = cases.filter { !langs.isDisjoint(with: $0.implementations) }
            return []
        }
        for c in cases where !langs.isDisjoint(with: c.implementations) {
            progress("baseline: \(c.name)")
            let r = Suite.runCase(c, options: options)
            ordering.durations[c.name] = r.seconds
            if r.verdict == .pass { kept.append(c) } else { dropped.append((r.name, r.reason)) }
        }
        cases = kept
        defer { ordering.saveDurations() }
        for g in gates {
            for l in langs.intersection(g.languages).sorted() {
                progress("baseline: \(g.name) (\(l))")
                let t0 = Date()
                let failure = runGate(g, language: l, fixtures: options.fixtures)
                ordering.durations[g.name] = max(ordering.durations[g.name] ?? 0, Date().timeIntervalSince(t0))
                if let failure { gateDropped.insert(g.name + " " + l); dropped.append(("\(g.name) (\(l))", failure)) }
            }
        }
        return dropped
    }

    /// `gate language` pairs that failed in the baseline.
    var gateDropped: Set<String> = []

    func runGate(_ g: MutationGate, language: String, fixtures: [String: FixtureSpec]) -> String? {
        do { return try g.run(language, fixtures, options.workDir) } catch { return "harness error: \(error)" }
    }

    /// Lazy baseline: runs `p` with every copy unmutated (once per case and language).
    mutating func unmutatedPasses(_ p: Probe, language: String) -> Bool {
        let id = p.name + " " + language
        if passesUnmutated.contains(id) { return true }
        if failsUnmutated.contains(id) { return false }
        progress("baseline: \(p.name)")
        let ok: Bool
        switch p {
        case .scenario(let c): ok = Suite.runCase(c, options: options).verdict == .pass
        case .gate(let g): ok = runGate(g, language: language, fixtures: options.fixtures) == nil
        }
        if ok { passesUnmutated.insert(id) } else { failsUnmutated.insert(id) }
        return ok
    }

    enum Probe {
        case scenario(ScenarioCase)
        case gate(MutationGate)
        var name: String {
            switch self { case .scenario(let c): return c.name; case .gate(let g): return g.name }
        }
        var themes: Set<String> {
            switch self { case .scenario(let c): return CaseOrdering.themes(of: c); case .gate(let g): return g.themes }
        }
    }

    /// The file being mutated and its original text, so a signal can put it back.
    nonisolated(unsafe) static var pending: (path: String, text: String)?

    /// Restores a mutated copy file on SIGINT/SIGTERM/SIGHUP, before `Shutdown` stops the
    /// fixtures. (A handler installed with `signal()` never ran: `Shutdown` blocks the stop
    /// signals in every thread and takes them with `sigwait`. `sync` at the next run's start
    /// repairs a copy regardless, for a SIGKILL.)
    public static func installRestoreOnSignals() {
        Shutdown.onStop {
            if let p = MutationRunner.pending { try? p.text.write(toFile: p.path, atomically: false, encoding: .utf8) }
        }
    }

    public mutating func run(_ m: Mutant) throws -> MutationOutcome {
        guard let ws = workspaces[m.language], let copy = ws.copyPath(of: m.file) else {
            throw UsageError("\(m.file): no copy of the \(m.language.rawValue) implementation is prepared")
        }
        let original = try String(contentsOf: copy, encoding: .utf8)
        let start = Date()
        MutationRunner.pending = (copy.path, original)
        defer {
            try? original.write(to: copy, atomically: true, encoding: .utf8)
            MutationRunner.pending = nil
        }
        try m.apply(to: original).write(to: copy, atomically: true, encoding: .utf8)
        progress("\(m.id): building")
        let buildLog = ws.build()
        try original.write(to: copy, atomically: true, encoding: .utf8)
        let buildSeconds = Date().timeIntervalSince(start)
        if let log = buildLog {
            let first = log.split(separator: "\n").first { $0.contains("error") }.map(String.init) ?? ""
            return MutationOutcome(mutant: m, verdict: .didNotBuild, killer: nil, reason: first, buildSeconds: buildSeconds,
                                   seconds: buildSeconds, casesRun: 0)
        }
        var opts = options
        opts.artifactsDir = nil
        // Only the mutant's language runs the mutated build; the others their pristine ones.
        opts.fixtures[m.language.rawValue] = ws.fixture
        let lang = m.language.rawValue
        let probes = cases.filter { $0.implementations.contains(lang) }.map(Probe.scenario)
            + gates.filter { $0.languages.contains(lang) && !gateDropped.contains($0.name + " " + lang) }.map(Probe.gate)
        var mine = ordering.order(probes, name: \.name, themes: \.themes, for: m)
        if gatesLast {
            mine = mine.filter { if case .scenario = $0 { return true } else { return false } }
                + mine.filter { if case .gate = $0 { return true } else { return false } }
        }
        var n = 0
        for p in mine {
            n += 1
            progress("\(m.id): [\(n)/\(mine.count)] \(p.name)")
            let killedBy: String?
            switch p {
            case .scenario(let c):
                var r = Suite.runCase(c, options: opts)
                if r.verdict == .pass { ordering.durations[c.name] = r.seconds }
                // A harness error (a slow fixture on a loaded machine, say) is run once more: only
                // an error that repeats counts as a kill. A conformance failure counts at once.
                if r.verdict == .error {
                    progress("\(m.id): confirming \(c.name)")
                    r = Suite.runCase(c, options: opts)
                }
                killedBy = r.verdict == .fail || r.verdict == .error ? r.reason : nil
            case .gate(let g):
                // The same rule for a gate's harness errors: they must repeat.
                var f = runGate(g, language: lang, fixtures: opts.fixtures)
                if let e = f, e.hasPrefix("harness error") {
                    progress("\(m.id): confirming \(g.name)")
                    f = runGate(g, language: lang, fixtures: opts.fixtures)
                }
                killedBy = f
            }
            if n % 25 == 0 { ordering.saveDurations() }
            if killedBy != nil && lazyBaseline && !unmutatedPasses(p, language: lang) { continue }
            if let reason = killedBy {
                let hung = reason.contains("did not answer") && reason.contains("within")
                ordering.recordKill(m, by: p.name)
                ordering.saveDurations()
                return MutationOutcome(mutant: m, verdict: hung ? .timedOut : .killed, killer: p.name, reason: reason,
                                       buildSeconds: buildSeconds, seconds: Date().timeIntervalSince(start), casesRun: n)
            }
        }
        ordering.saveDurations()
        return MutationOutcome(mutant: m, verdict: .survived, killer: nil, reason: "survived \(n) cases", buildSeconds: buildSeconds,
                               seconds: Date().timeIntervalSince(start), casesRun: n)
    }
}
