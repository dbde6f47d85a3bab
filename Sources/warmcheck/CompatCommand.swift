import ArgumentParser
import Foundation
import WarmcheckCore
import WarmcheckSegment

struct CompatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compat",
        abstract: "The compatibility gate: old and new builds write and read each other's segments as the manifest says.",
        discussion: """
            Builds the Go, Rust and Swift fixtures of --baseline REV (a release in `releases` or any git revision) \
            from the repository's history under .build/compat/<commit>/ (cached), then every writer of \
            compat/manifest.txt writes the matrix sequence, every reader opens every segment, and each cell must \
            read the right view or refuse with exactly the code the manifest names. The crafted refusal files of \
            `warmcheck refusals` go to every reader too. docs/UPGRADING.md explains the manifest. Exit 0 only if \
            every cell passes; 2 for bad input (manifest, revision, a fixture claiming a version it does not speak).
            """)

    @Option(help: "The old build: a release name from `releases` or a git revision (default: the newest release).")
    var baseline: String?

    @Option(help: "The manifest (default: compat/manifest.txt of the checkout).")
    var manifest: String?

    @Option(name: .customLong("fixture"), help: "A third-party implementation, NAME=COMMAND or NAME@VERSION=COMMAND: joins as writer and reader (repeatable).")
    var fixtures: [String] = []

    @Flag(help: "Skip the crafted refusal files.")
    var noRefusals = false

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    @Option(help: "Write the result as JUnit XML to this file.")
    var junit: String?

    @Option(help: "Directory for segment files (default: /dev/shm when present).")
    var workDir: String?

    // --no-build skips this checkout's fixtures only: the baseline builds are made when missing.
    @OptionGroup var build: BuildOptions

    @Option(help: "Seconds to wait for any one fixture response.")
    var timeout: Double = 15

    func validate() throws { try checkTimeout(timeout) }

    func run() throws {
        installFixtureCleanupOnSignals()
        do {
            guard let root = Repo.root() else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
            let releases = try Releases.load(root: root)
            // Third parties: NAME (plays NAME@head) or NAME@VERSION.
            var third: [CompatManifest.Build: FixtureSpec] = [:]
            for f in fixtures {
                let spec = try Repo.parseFixture(f)
                guard f.contains("=") else { throw UsageError("--fixture \(f): expected NAME=COMMAND (the reference builds come from the manifest)") }
                let parts = spec.name.split(separator: "@", maxSplits: 1).map(String.init)
                let b = CompatManifest.Build(implementation: parts[0], build: parts.count == 2 ? parts[1] : "head")
                guard !Repo.referenceNames.contains(b.implementation) else {
                    throw UsageError("--fixture \(f): \(b.implementation) is a reference implementation; name a third party")
                }
                guard third[b] == nil else { throw UsageError("--fixture \(b) is given twice") }
                third[b] = spec
            }
            let manifestPath = manifest ?? root.appendingPathComponent("compat/manifest.txt").path
            guard let text = FileManager.default.contents(atPath: manifestPath) else { throw UsageError("\(manifestPath): cannot read the manifest") }
            var m = try CompatManifest.parse(String(decoding: text, as: UTF8.self), path: manifestPath,
                                             implementations: Set(Repo.referenceNames + third.keys.map(\.implementation)),
                                             releases: releases, openCodes: try Vocabulary.standard.get().openErrors)
            // A third party joins as a writer and a reader, judged by the manifest's rules on
            // what it declares (its version in hello, the header it writes).
            for b in third.keys.sorted(by: { $0.description < $1.description }) {
                if !m.writers.contains(where: { if case .fixture(let wb, _, _, _) = $0.source { return wb == b }; return false }) {
                    m.writers.append(.init(name: "\(b.implementation)-\(b.build)", source: .fixture(b, args: [], create: [:], patches: []), location: "--fixture \(b)"))
                }
                if !m.readers.contains(where: { $0.build == b }) { m.readers.append(.init(build: b, location: "--fixture \(b)")) }
            }

            let rev = try BaselineRevision.resolve(baseline ?? releases.latest?.version ?? "",
                                                   releases: releases, root: root)
            let isTTY = isatty(2) != 0
            let log: (String) -> Void = { msg in if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K… \(msg)".utf8)) } }
            var specs = third
            var claims: [CompatManifest.Build: (version: String, major: Int, minor: Int)] = [:]
            let buildStart = Date()
            var headSpecs: [FixtureSpec] = []
            // Old builds: only the implementations the manifest names, one build per commit.
            var byCommit: [String: (BaselineRevision, [String])] = [:]
            for b in m.builds where Repo.referenceNames.contains(b.implementation) {
                switch b.build {
                case "head":
                    let s = Repo.referenceFixture(b.implementation)!
                    headSpecs.append(s)
                    specs[b] = s
                    continue
                case "baseline":
                    byCommit[rev.commit, default: (rev, [])].1.append(b.implementation)
                    if let r = rev.release { claims[b] = (r.version, r.protocolMajor, r.protocolMinor) }
                    specs[b] = BaselineBuild(revision: rev, root: root).fixture(b.implementation, name: b.description)
                default:
                    let r = releases.release(named: b.build)!
                    let rv = try BaselineRevision.resolve(r.version, releases: releases, root: root)
                    byCommit[rv.commit, default: (rv, [])].1.append(b.implementation)
                    claims[b] = (r.version, r.protocolMajor, r.protocolMinor)
                    specs[b] = BaselineBuild(revision: rv, root: root).fixture(b.implementation, name: b.description)
                }
            }
            for b in m.builds where specs[b] == nil {
                throw UsageError("\(m.path): \(b) is named but no --fixture \(b)=COMMAND (or \(b.implementation)=COMMAND for head) is given")
            }
            if !build.noBuild { try Repo.buildFixtures(for: headSpecs) }
            var buildSeconds: [String] = []
            for (commit, (rv, impls)) in byCommit.sorted(by: { $0.key < $1.key }) {
                var bb = BaselineBuild(revision: rv, root: root)
                bb.log = log
                let s = try bb.ensure(impls)
                buildSeconds.append("\(rv.name) (\(commit.prefix(12))) \(impls.sorted().joined(separator: ",")): " + (s == 0 ? "cached" : String(format: "built in %.0f s", s)))
            }
            let builtIn = Date().timeIntervalSince(buildStart)

            let dir = workDir ?? Repo.defaultWorkDir
            Shutdown.watch(workDir: dir)
            var runner = CompatRunner(manifest: m, fixtures: specs, root: root, workDir: dir)
            runner.claims = claims
            runner.timeout = timeout
            runner.log = log
            if noRefusals { runner.refusalCases = [] }
            let gateStart = Date()
            let report = try runner.run()
            let gateSeconds = Date().timeIntervalSince(gateStart)
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print("baseline \(rev.name) = \(rev.commit)" + (rev.release.map { " (release \($0.version), \($0.location))" } ?? ""))
            for b in buildSeconds { print("  build \(b)") }
            print(report.table(), terminator: "")
            if let json { try writeOutput(report.json().pretty + "\n", to: json) }
            if let junit { try writeOutput(report.junit(), to: junit) }
            print(String(format: "compat: builds %.1f s, gate %.1f s", builtIn, gateSeconds))
            print("compat: \(report.passCount)/\(report.cells.count) cells pass")
            if !report.allPass { throw ExitCode(Status.failed) }
        } catch let e as UsageError {
            throw fail(e.description)
        } catch let e as FixtureFailure {
            throw fail(e.description)
        }
    }
}
