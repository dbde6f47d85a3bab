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
    public var ordering: CaseOrdering
    public var progress: (String) -> Void = { _ in }
    public private(set) var workspaces: [MutationLanguage: MutationWorkspace] = [:]

    public init(root: URL, options: RunOptions, cases: [ScenarioCase], languages: Set<MutationLanguage>, workRoot: URL? = nil) {
        self.root = root
        self.options = options
        self.cases = cases
        let work = workRoot ?? root.appendingPathComponent(".build/mutate")
        try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
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
    /// each case's duration for the ordering. Returns the dropped results.
    public mutating func baseline() -> [CaseResult] {
        let langs = Set(workspaces.keys.map(\.rawValue))
        var kept: [ScenarioCase] = []
        var dropped: [CaseResult] = []
        for c in cases where !langs.isDisjoint(with: c.implementations) {
            progress("baseline: \(c.name)")
            let r = Suite.runCase(c, options: options)
            ordering.durations[c.name] = r.seconds
            if r.verdict == .pass { kept.append(c) } else { dropped.append(r) }
        }
        cases = kept
        return dropped
    }

    /// The file being mutated and its original text, so a signal can put it back.
    nonisolated(unsafe) static var pending: (path: String, text: String)?

    /// Restores a mutated copy file on SIGINT/SIGTERM/SIGHUP, then stops the fixtures.
    public static func installRestoreOnSignals() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { s in
                if let p = MutationRunner.pending { try? p.text.write(toFile: p.path, atomically: false, encoding: .utf8) }
                FixtureRegistry.shared.killAll()
                signal(s, SIG_DFL)
                raise(s)
            }
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
        let mine = ordering.order(cases.filter { $0.implementations.contains(m.language.rawValue) }, for: m)
        var n = 0
        for c in mine {
            n += 1
            progress("\(m.id): [\(n)/\(mine.count)] \(c.name)")
            var r = Suite.runCase(c, options: opts)
            // A harness error (a slow fixture on a loaded machine, say) is run once more: only
            // an error that repeats counts as a kill. A conformance failure counts at once.
            if r.verdict == .error {
                progress("\(m.id): confirming \(c.name)")
                r = Suite.runCase(c, options: opts)
            }
            if r.verdict == .fail || r.verdict == .error {
                let hung = r.reason.contains("did not answer") && r.reason.contains("within")
                ordering.recordKill(m, by: c.name)
                return MutationOutcome(mutant: m, verdict: hung ? .timedOut : .killed, killer: c.name, reason: r.reason,
                                       buildSeconds: buildSeconds, seconds: Date().timeIntervalSince(start), casesRun: n)
            }
        }
        return MutationOutcome(mutant: m, verdict: .survived, killer: nil, reason: "survived \(n) cases", buildSeconds: buildSeconds,
                               seconds: Date().timeIntervalSince(start), casesRun: n)
    }
}
