import Foundation

/// A private, persistent copy of one implementation under `.build/mutate/<lang>/`, where mutants
/// are applied and built. The checkout's own sources are never written. The copy is kept between
/// mutants and runs so builds stay incremental (Go's shared build cache, Cargo's target directory
/// of the copy, SwiftPM's scratch path of the copy); `sync` brings it back to the checkout's
/// sources at the start of every run, which also repairs a copy left mutated by a killed run.
public final class MutationWorkspace {
    public let language: MutationLanguage
    let root: URL
    public let dir: URL
    /// Where the mirrored sources live inside the copy.
    let src: URL

    /// `workRoot` holds one directory per language (default `.build/mutate` of the checkout).
    public init(language: MutationLanguage, root: URL, workRoot: URL? = nil) {
        self.language = language
        self.root = root
        dir = (workRoot ?? root.appendingPathComponent(".build/mutate")).appendingPathComponent(language.rawValue)
        src = dir.appendingPathComponent(language == .swift ? "pkg" : "src")
    }

    /// Checkout directories copied into the copy (relative to the root → relative to `src`).
    var mirrored: [(from: String, to: String)] {
        switch language {
        case .go: return [("go-fixture/go.mod", "go.mod"), ("go-fixture/warmcache", "warmcache"), ("go-fixture/cmd", "cmd"),
                         ("go-fixture/internal", "internal")]
        case .rust: return [("rust-fixture/Cargo.toml", "Cargo.toml"), ("rust-fixture/Cargo.lock", "Cargo.lock"), ("rust-fixture/src", "src")]
        case .swift: return [("Sources/Warmcache", "Sources/Warmcache"), ("Sources/CWarmcacheShim", "Sources/CWarmcacheShim"),
                             ("Sources/warmcache-swift-fixture", "Sources/warmcache-swift-fixture")]
        }
    }

    /// The copy of a checkout-relative file.
    public func copyPath(of file: String) -> URL? {
        for (from, to) in mirrored where file == from || file.hasPrefix(from + "/") {
            return src.appendingPathComponent(to + file.dropFirst(from.count))
        }
        return nil
    }

    /// The fixture binary the copy builds.
    public var binary: String {
        switch language {
        case .go: return dir.appendingPathComponent("bin/warmcache-go-fixture").path
        case .rust: return dir.appendingPathComponent("target/release/warmcache-fixture").path
        case .swift: return dir.appendingPathComponent("scratch/debug/warmcache-swift-fixture").path
        }
    }

    /// The mutated build, for the mutant's own language.
    public var fixture: FixtureSpec { FixtureSpec(name: language.rawValue, argv: [binary, "serve", "--trace"]) }

    /// The unmutated build of the copy, kept aside by `keepPristine`: what plays this language
    /// while another language's mutant runs (the copy's binary holds the last mutant built).
    public var pristine: FixtureSpec {
        FixtureSpec(name: language.rawValue, argv: [dir.appendingPathComponent("pristine/" + (binary as NSString).lastPathComponent).path, "serve", "--trace"])
    }

    public func keepPristine() throws {
        let fm = FileManager.default
        let to = pristine.argv[0]
        try fm.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? fm.removeItem(atPath: to)
        try fm.copyItem(atPath: binary, toPath: to)
    }

    private var lockFD: Int32 = -1

    /// Takes the copy for this process (an exclusive flock held until exit): two runs sharing a
    /// copy would build each other's mutants into the binary the other one is testing.
    public func lock() throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("lock").path
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UsageError("cannot open \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw UsageError("another `warmcheck mutate` is using \(dir.path); wait for it or give this run another --work-dir")
        }
        lockFD = fd
    }

    deinit { if lockFD >= 0 { close(lockFD) } }

    /// Makes the copy equal to the checkout: writes only files whose bytes differ (so the build
    /// tools see unchanged files as unchanged) and removes files the checkout no longer has.
    public func sync() throws {
        let fm = FileManager.default
        for (from, to) in mirrored {
            let s = root.appendingPathComponent(from)
            let d = src.appendingPathComponent(to)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: s.path, isDirectory: &isDir) else { throw UsageError("\(s.path) is missing") }
            if !isDir.boolValue { try copyIfDifferent(s, d); continue }
            var wanted = Set<String>()
            for rel in fm.enumerator(atPath: s.path)?.allObjects as? [String] ?? [] {
                var sub: ObjCBool = false
                let sp = s.appendingPathComponent(rel)
                guard fm.fileExists(atPath: sp.path, isDirectory: &sub), !sub.boolValue else { continue }
                wanted.insert(rel)
                try copyIfDifferent(sp, d.appendingPathComponent(rel))
            }
            for rel in fm.enumerator(atPath: d.path)?.allObjects as? [String] ?? [] {
                var sub: ObjCBool = false
                let dp = d.appendingPathComponent(rel)
                if fm.fileExists(atPath: dp.path, isDirectory: &sub), !sub.boolValue, !wanted.contains(rel) { try? fm.removeItem(at: dp) }
            }
        }
        if language == .swift { try writeManifest() }
    }

    private func copyIfDifferent(_ s: URL, _ d: URL) throws {
        let data = try Data(contentsOf: s)
        if let old = try? Data(contentsOf: d), old == data { return }
        try FileManager.default.createDirectory(at: d.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: d)
    }

    /// A Package.swift of the Swift fixture's three targets alone, using the checkout's resolved
    /// swift-atomics by path (no network, no second resolution). Also used by the compat gate's
    /// baseline builds.
    static func swiftFixturePackage(name: String, note: String, root: URL) throws -> String {
        let atomics = root.appendingPathComponent(".build/checkouts/swift-atomics")
        guard FileManager.default.fileExists(atPath: atomics.path) else {
            throw UsageError("\(atomics.path) is missing: run `swift build` in the checkout first")
        }
        return """
            // swift-tools-version:6.0
            // Written by \(note).
            import PackageDescription
            let package = Package(
                name: "\(name)",
                dependencies: [.package(path: "\(atomics.path)")],
                targets: [
                    .target(name: "CWarmcacheShim"),
                    .target(name: "Warmcache", dependencies: ["CWarmcacheShim", .product(name: "Atomics", package: "swift-atomics")]),
                    .executableTarget(name: "warmcache-swift-fixture", dependencies: ["Warmcache"]),
                ]
            )

            """
    }

    private func writeManifest() throws {
        let manifest = try Self.swiftFixturePackage(name: "warmcache-mutant", note: "`warmcheck mutate`: the Swift fixture alone, for building mutants", root: root)
        let p = src.appendingPathComponent("Package.swift")
        if (try? String(contentsOf: p, encoding: .utf8)) != manifest {
            try manifest.write(to: p, atomically: true, encoding: .utf8)
        }
    }

    /// Builds the copy's fixture. Returns nil on success, else the tail of the build output.
    public func build() -> String? {
        let p = Process()
        var env = ProcessInfo.processInfo.environment
        switch language {
        case .go:
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["go", "build", "-o", binary, "./cmd/warmcache-fixture"]
            if env["HOME"] == nil {
                env["GOCACHE"] = root.appendingPathComponent(".build/go-cache").path
                env["GOPATH"] = root.appendingPathComponent(".build/gopath").path
            }
        case .rust:
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            // The fixture exists only with the library's `harness` feature (its hooks).
            p.arguments = [root.appendingPathComponent("scripts/cargo-offline.sh").path, "build", "--release", "--quiet",
                           "--features", "harness", "--bin", "warmcache-fixture"]
            env["CARGO_TARGET_DIR"] = dir.appendingPathComponent("target").path
            // Same optimisation level as the reference build, without whole-program LTO, so a
            // mutant rebuilds in seconds rather than relinking everything.
            env["CARGO_PROFILE_RELEASE_LTO"] = "false"
            env["CARGO_PROFILE_RELEASE_CODEGEN_UNITS"] = "16"
            env["CARGO_PROFILE_RELEASE_INCREMENTAL"] = "true"
        case .swift:
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["swift", "build", "--package-path", src.path, "--scratch-path", dir.appendingPathComponent("scratch").path,
                           "--product", "warmcache-swift-fixture"]
        }
        p.currentDirectoryURL = src
        let log = dir.appendingPathComponent("build.log")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        guard let h = try? FileHandle(forWritingTo: log) else { return "cannot write \(log.path)" }
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        // The toolchain's leftovers go to a TMPDIR of the build's own (PrivateTemporaryDirectory).
        let started: String? = PrivateTemporaryDirectory.with(environment: env, in: dir) { env in
            p.environment = env
            do { try p.run() } catch { return "cannot start the build: \(error)" }
            p.waitUntilExit()
            return nil
        }
        try? h.close()
        if let started { return started }
        if p.terminationStatus == 0 { return nil }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return String(text.suffix(2000))
    }
}
