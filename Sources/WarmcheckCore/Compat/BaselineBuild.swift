#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The reference fixtures of an old revision, built from the repository's own history.
///
/// Layout, one directory per commit (the cache key is the commit, never the name a user gave):
///
/// ```
/// .build/compat/
///   lock                      flock(LOCK_EX) held while anything below is built or checked
///   <commit>/bin/go           the built fixtures: present = complete (moved in by rename)
///   <commit>/bin/rust
///   <commit>/bin/swift
///   logs/<commit>-<impl>.log  the last build's output (kept after a failure, which is then
///                             the only trace the revision leaves)
///   <commit>.tmp-<pid>/       the private tree while building: `git archive` of the commit,
///                             removed when the build ends, whether it succeeded or not
/// ```
///
/// Only the implementations asked for are built (the manifest's needs), and a binary in `bin/` is
/// never rebuilt: a second run costs a stat. The tree is an export, not a `git worktree`, so the
/// shared repository's metadata is never touched and nothing needs pruning after a kill.
public struct BaselineBuild {
    public static let implementations = ["go", "rust", "swift"]

    public var revision: BaselineRevision
    let root: URL
    let cacheRoot: URL
    public var log: (String) -> Void = { _ in }

    public init(revision: BaselineRevision, root: URL, cacheRoot: URL? = nil) {
        self.revision = revision
        self.root = root
        self.cacheRoot = cacheRoot ?? root.appendingPathComponent(".build/compat")
    }

    public var dir: URL { cacheRoot.appendingPathComponent(revision.commit) }
    public func binary(_ impl: String) -> String { dir.appendingPathComponent("bin/\(impl)").path }
    public func isBuilt(_ impl: String) -> Bool { FileManager.default.isExecutableFile(atPath: binary(impl)) }

    /// The fixture of `impl` at this revision, named `NAME` in reports.
    public func fixture(_ impl: String, name: String) -> FixtureSpec { FixtureSpec(name: name, argv: [binary(impl), "serve"]) }

    /// Builds the implementations of `impls` that are not built yet. Returns how many seconds the
    /// building took (0 when everything was cached). A failure removes the private tree and
    /// names the revision, the implementation and the tail of its build log.
    @discardableResult
    public func ensure(_ impls: [String]) throws -> Double {
        for i in impls where !Self.implementations.contains(i) {
            throw UsageError("baseline builds know go, rust and swift, not \(i)")
        }
        let missing = impls.filter { !isBuilt($0) }
        if missing.isEmpty { return 0 }
        try FileManager.default.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        let lock = try Self.takeLock(cacheRoot.appendingPathComponent("lock").path, log: log)
        defer { close(lock) }
        // Another run may have built them while this one waited for the lock.
        let todo = impls.filter { !isBuilt($0) }
        if todo.isEmpty { return 0 }
        let start = Date()
        let tree = cacheRoot.appendingPathComponent("\(revision.commit).tmp-\(getpid())")
        try? FileManager.default.removeItem(at: tree)
        defer { try? FileManager.default.removeItem(at: tree) }
        removeStaleTrees()
        log("exporting \(revision.name) (\(revision.commit.prefix(12))) from git")
        try export(to: tree)
        for impl in todo {
            log("building the \(impl) fixture of \(revision.name)")
            let built = try build(impl, in: tree)
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
            // A rename, so that `bin/<impl>` exists only once complete.
            let tmp = binary(impl) + ".tmp-\(getpid())"
            unlink(tmp)
            try FileManager.default.copyItem(atPath: built, toPath: tmp)
            guard rename(tmp, binary(impl)) == 0 else {
                unlink(tmp)
                throw UsageError("baseline \(revision.name): cannot install \(binary(impl)): \(String(cString: strerror(errno)))")
            }
        }
        return Date().timeIntervalSince(start)
    }

    /// Waits for the cache lock (builds take minutes; a concurrent run waits rather than fails).
    static func takeLock(_ path: String, log: (String) -> Void) throws -> Int32 {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UsageError("cannot open \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            log("waiting for another warmcheck building in \((path as NSString).deletingLastPathComponent)")
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR { close(fd); throw UsageError("flock \(path): \(String(cString: strerror(errno)))") }
            }
        }
        return fd
    }

    /// Trees of runs that were killed mid-build (their pid is gone); we hold the lock, so no live
    /// run is using one.
    func removeStaleTrees() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: cacheRoot.path)) ?? [] where name.contains(".tmp-") {
            try? FileManager.default.removeItem(at: cacheRoot.appendingPathComponent(name))
        }
    }

    /// The parts of the commit the fixtures are built from (not the whole history of docs).
    static let exported = ["go-fixture", "rust-fixture", "scripts/cargo-offline.sh", "Sources/Warmcache",
                           "Sources/CWarmcacheShim", "Sources/warmcache-swift-fixture"]

    func export(to tree: URL) throws {
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        let tar = tree.appendingPathComponent(".export.tar").path
        do {
            try Git.run(["archive", "--format=tar", "-o", tar, revision.commit, "--"] + Self.exported, root: root)
        } catch let e as UsageError {
            throw UsageError("baseline \(revision.name) (\(revision.commit)): cannot export its fixtures: \(e.description)")
        }
        try run("/usr/bin/env", ["tar", "-xf", tar, "-C", tree.path], in: tree, log: logFile("export"),
                what: "unpacking \(revision.commit)")
        unlink(tar)
    }

    func logFile(_ what: String) -> URL { cacheRoot.appendingPathComponent("logs/\(revision.commit)-\(what).log") }

    /// Builds one fixture in the exported tree; returns the binary's path there.
    func build(_ impl: String, in tree: URL) throws -> String {
        var env = ProcessInfo.processInfo.environment
        let logFile = logFile(impl)
        let what = "baseline \(revision.name) (\(revision.commit)): building the \(impl) fixture failed"
        switch impl {
        case "go":
            if env["HOME"] == nil {
                env["GOCACHE"] = root.appendingPathComponent(".build/go-cache").path
                env["GOPATH"] = root.appendingPathComponent(".build/gopath").path
            }
            let out = tree.appendingPathComponent("bin/go").path
            try run("/usr/bin/env", ["go", "build", "-o", out, "./cmd/warmcache-fixture"], in: tree.appendingPathComponent("go-fixture"),
                    env: env, log: logFile, what: what)
            return out
        case "rust":
            // The same optimisation level as a release build, without whole-program LTO: the
            // gate checks behaviour, not speed, and LTO doubles a build from scratch.
            env["CARGO_PROFILE_RELEASE_LTO"] = "false"
            env["CARGO_PROFILE_RELEASE_CODEGEN_UNITS"] = "16"
            env["CARGO_TARGET_DIR"] = tree.appendingPathComponent("rust-target").path
            // Since the harness hooks left the default API, the fixture needs the library's
            // `harness` feature; revisions from before (release 1.0) have no such feature.
            let manifest = (try? String(contentsOf: tree.appendingPathComponent("rust-fixture/Cargo.toml"), encoding: .utf8)) ?? ""
            let features = manifest.contains("\nharness = [") ? ["--features", "harness"] : []
            try run("/bin/bash", [tree.appendingPathComponent("scripts/cargo-offline.sh").path, "build", "--release", "--quiet"]
                                  + features + ["--bin", "warmcache-fixture"],
                    in: tree.appendingPathComponent("rust-fixture"), env: env, log: logFile, what: what)
            return tree.appendingPathComponent("rust-target/release/warmcache-fixture").path
        default:
            try writeSwiftManifest(in: tree)
            try run("/usr/bin/env", ["swift", "build", "--package-path", tree.path, "--scratch-path",
                                     tree.appendingPathComponent("scratch").path, "--product", "warmcache-swift-fixture"],
                    in: tree, env: env, log: logFile, what: what)
            return tree.appendingPathComponent("scratch/debug/warmcache-swift-fixture").path
        }
    }

    /// A package of the Swift fixture alone, with this checkout's resolved swift-atomics by path:
    /// the old revision's whole package would resolve and build the harness's dependencies too.
    func writeSwiftManifest(in tree: URL) throws {
        let manifest: String
        do {
            manifest = try MutationWorkspace.swiftFixturePackage(name: "warmcache-baseline", note: "`warmcheck compat`: the Swift fixture of \(revision.commit) alone", root: root)
        } catch let e as UsageError {
            throw UsageError("baseline \(revision.name): \(e.description)")
        }
        try manifest.write(to: tree.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
    }

    private func run(_ exe: String, _ args: [String], in cwd: URL, env: [String: String]? = nil, log logFile: URL, what: String) throws {
        try FileManager.default.createDirectory(at: logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let h = try FileHandle(forWritingTo: logFile)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = cwd
        if let env { p.environment = env }
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        do { try Shutdown.withStopSignalsUnblocked { try p.run() } } catch {
            try? h.close()
            throw UsageError("\(what): cannot start \(exe): \(error.localizedDescription)")
        }
        p.waitUntilExit()
        try? h.close()
        guard p.terminationStatus == 0 else {
            let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            throw UsageError("\(what) (exit \(p.terminationStatus); log \(logFile.path)):\n" + text.suffix(2000))
        }
    }
}
