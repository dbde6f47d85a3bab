import Foundation
import WarmcheckScenario

/// The fixtures `upgrade: ROLE to=TARGET` steps need (docs/SCENARIOS.md "Control steps"): a
/// fixture of the run (`rust`, a --fixture name), `IMPL@head` (this checkout's), or `IMPL@VERSION`
/// with VERSION in `releases`, built from history by BaselineBuild (cached in .build/compat/).
public enum UpgradeTargets {
    public static func resolve(_ targets: Set<String>, known: [String: FixtureSpec], root: URL?,
                               log: @escaping (String) -> Void = { _ in }) throws -> [String: FixtureSpec] {
        var out: [String: FixtureSpec] = [:]
        for t in targets.sorted() where known[t] == nil {
            let parts = t.split(separator: "@", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw UsageError("upgrade target \(t) is not a fixture of this run (\(known.keys.sorted().joined(separator: ", "))); name it with --fixture or as IMPL@VERSION")
            }
            guard BaselineBuild.implementations.contains(parts[0]) else {
                throw UsageError("upgrade target \(t): only the reference implementations (go, rust, swift) are built from history; give others with --fixture \(t)=COMMAND")
            }
            if parts[1] == "head" {
                out[t] = Repo.referenceFixture(parts[0]).map { FixtureSpec(name: t, argv: $0.argv) }
                continue
            }
            guard let root else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
            let releases = try Releases.load(root: root)
            guard releases.release(named: parts[1]) != nil else {
                throw UsageError("upgrade target \(t): \(parts[1]) is not a release in \(releases.path) (\(releases.entries.map(\.version).joined(separator: ", ")))")
            }
            var build = BaselineBuild(revision: try BaselineRevision.resolve(parts[1], releases: releases, root: root), root: root)
            build.log = log
            try build.ensure([parts[0]])
            out[t] = build.fixture(parts[0], name: t)
        }
        return out
    }
}

extension RunOptions {
    /// Adds the fixtures the `upgrade:` steps of `scenarios` name (every command that runs
    /// scenarios calls this, so an upgrade scenario runs the same under run, selftest, mutate
    /// and conform).
    public mutating func provideUpgradeTargets<S: Sequence>(_ scenarios: S) throws where S.Element == Scenario {
        let targets = scenarios.reduce(into: Set<String>()) { $0.formUnion($1.upgradeTargets) }
        if targets.isEmpty { return }
        fixtures.merge(try UpgradeTargets.resolve(targets, known: fixtures, root: Repo.root())) { a, _ in a }
    }
}
