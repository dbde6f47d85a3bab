import Foundation

/// Where the project lives and where its fixture binaries are, so that `warmcheck` works from any
/// working directory inside the checkout.
public enum Repo {
    /// Where segments go unless told otherwise: /dev/shm (memory, as in production) when the
    /// machine has it, else the temporary directory.
    public static var defaultWorkDir: String {
        FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    }

    /// The checkout root: `$WARMCACHE_ROOT`, else the first parent of the working directory or of
    /// this executable that holds both Package.swift and docs/PROTOCOL.md.
    public static func root() -> URL? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["WARMCACHE_ROOT"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for start in [URL(fileURLWithPath: fm.currentDirectoryPath), exe.deletingLastPathComponent()] {
            var dir = start.standardizedFileURL
            while dir.path != "/" {
                if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
                    fm.fileExists(atPath: dir.appendingPathComponent("docs/PROTOCOL.md").path)
                {
                    return dir
                }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// The reference fixtures by name. Go and Rust binaries are built by scripts/build-fixtures.sh;
    /// the Swift fixture sits beside the running warmcheck (same SwiftPM build). No `--trace`:
    /// transitions are asked for in hello, as for any implementation (docs/DRIVER.md).
    public static func referenceFixture(_ name: String) -> FixtureSpec? {
        guard let root = root() else { return nil }
        let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        switch name {
        case "go":
            return FixtureSpec(name: "go", argv: [root.appendingPathComponent(".build/fixtures/warmcache-go-fixture").path, "serve"])
        case "rust":
            return FixtureSpec(name: "rust", argv: [root.appendingPathComponent("rust-fixture/target/release/warmcache-fixture").path, "serve"])
        case "swift":
            var path = exeDir.appendingPathComponent("warmcache-swift-fixture").path
            if !FileManager.default.isExecutableFile(atPath: path) {
                path = root.appendingPathComponent(".build/debug/warmcache-swift-fixture").path
            }
            return FixtureSpec(name: "swift", argv: [path, "serve"])
        default:
            return nil
        }
    }

    public static let referenceNames = ["go", "rust", "swift"]

    /// The fixtures of a run: `--fixture` values (default: the reference fixtures). With `meeting`
    /// names (`--only`, `conform`), the reference fixtures join a list that names none of them,
    /// since what concerns one implementation is mostly how it meets the others.
    public static func fixtureSpecs(_ values: [String], meeting: [String] = []) throws -> [FixtureSpec] {
        var specs = try (values.isEmpty ? referenceNames : values).map(parseFixture)
        if !meeting.isEmpty && !specs.contains(where: { referenceNames.contains($0.name) }) {
            specs = try referenceNames.map(parseFixture) + specs
        }
        var seen = Set<String>()
        for s in specs where !seen.insert(s.name).inserted {
            throw UsageError("--fixture \(s.name) is given twice")
        }
        return specs
    }

    /// Parses `--fixture` values: `go`, `rust`, `swift`, or `NAME=COMMAND ARGS…` (split on spaces,
    /// with single or double quotes grouping).
    public static func parseFixture(_ text: String) throws -> FixtureSpec {
        if let eq = text.firstIndex(of: "=") {
            let name = String(text[..<eq])
            let argv = shellSplit(String(text[text.index(after: eq)...]))
            guard !name.isEmpty, !argv.isEmpty else {
                throw UsageError("--fixture \(text): expected NAME=COMMAND")
            }
            return FixtureSpec(name: name, argv: argv)
        }
        guard let spec = referenceFixture(text) else {
            throw UsageError("--fixture \(text): not a reference fixture (go, rust, swift); use NAME=COMMAND")
        }
        return spec
    }

    /// The scenario files and directories of a command: those given, else the checkout's scenarios/.
    public static func scenarioPaths(_ given: [String]) throws -> [String] {
        if !given.isEmpty { return given }
        guard let root = root() else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
        return [root.appendingPathComponent("scenarios").path]
    }

    static func shellSplit(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quote: Character? = nil
        var inWord = false
        for c in s {
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" {
                if inWord { out.append(cur); cur = ""; inWord = false }
            } else {
                cur.append(c)
                inWord = true
            }
        }
        if inWord { out.append(cur) }
        return out
    }

    /// Builds the reference fixtures among `specs` that are missing or stale: Go and Rust with
    /// scripts/build-fixtures.sh (incremental), Swift with `swift build` of the same
    /// configuration as this warmcheck. Fixtures given as NAME=COMMAND are the user's to build.
    public static func buildFixtures(for specs: [FixtureSpec], quiet: Bool = true) throws {
        let reference = specs.filter { referenceNames.contains($0.name) && referenceFixture($0.name) == $0 }
        if reference.contains(where: { $0.name == "go" || $0.name == "rust" }) { try buildFixtures(quiet: quiet) }
        if let swift = reference.first(where: { $0.name == "swift" }) { try buildSwiftFixture(swift.argv[0]) }
    }

    /// Builds the Go and Rust fixtures if they are stale (the script is incremental).
    public static func buildFixtures(quiet: Bool = true) throws {
        guard let root = root() else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
        try runLogged("/bin/bash", [root.appendingPathComponent("scripts/build-fixtures.sh").path], root: root,
                      log: "fixtures-build.log", quiet: quiet, what: "building the fixtures failed (scripts/build-fixtures.sh)")
    }

    /// Sources the Swift fixture is built from: newer than the binary means stale.
    static let swiftFixtureSources = ["Package.swift", "Sources/Warmcache", "Sources/CWarmcacheShim", "Sources/warmcache-swift-fixture"]

    /// Whether the Swift fixture at `binary` is missing or older than one of its sources.
    static func swiftFixtureIsStale(_ binary: String, root: URL) -> Bool {
        let fm = FileManager.default
        guard let built = (try? fm.attributesOfItem(atPath: binary))?[.modificationDate] as? Date else { return true }
        for rel in swiftFixtureSources {
            let top = root.appendingPathComponent(rel).path
            var paths = [top]
            if let e = fm.enumerator(atPath: top) { paths += e.compactMap { $0 as? String }.map { top + "/" + $0 } }
            for p in paths {
                if let m = (try? fm.attributesOfItem(atPath: p))?[.modificationDate] as? Date, m > built { return true }
            }
        }
        return false
    }

    /// Builds the Swift fixture when missing or stale, or says exactly what to run.
    static func buildSwiftFixture(_ binary: String) throws {
        guard let root = root() else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
        guard swiftFixtureIsStale(binary, root: root) else { return }
        let release = binary.contains("/release/")
        let command = "swift build --product warmcache-swift-fixture" + (release ? " -c release" : "")
        let args = ["swift", "build", "--package-path", root.path, "--product", "warmcache-swift-fixture"] + (release ? ["-c", "release"] : [])
        do {
            try runLogged("/usr/bin/env", args, root: root, log: "swift-fixture-build.log", quiet: true,
                          what: "building the Swift fixture failed (\(command))")
        } catch let e as UsageError {
            throw UsageError(e.description + "\nbuild it yourself with `\(command)` in \(root.path), or pass --no-build")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw UsageError("`\(command)` did not produce \(binary); build the Swift fixture and pass --no-build")
        }
    }

    private static func runLogged(_ exe: String, _ args: [String], root: URL, log name: String, quiet: Bool, what: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = root
        let log = root.appendingPathComponent(".build/\(name)")
        try? FileManager.default.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let h = try FileHandle(forWritingTo: log)
        if quiet {
            p.standardOutput = h
            p.standardError = h
        }
        // The toolchain's leftovers go to a TMPDIR of the build's own (PrivateTemporaryDirectory).
        try PrivateTemporaryDirectory.with(environment: ProcessInfo.processInfo.environment,
                                           in: root.appendingPathComponent(".build")) { env in
            p.environment = env
            do { try Shutdown.withStopSignalsUnblocked { try p.run() } } catch { throw UsageError("\(what): cannot start \(exe): \(error.localizedDescription)") }
            p.waitUntilExit()
        }
        try? h.close()
        if p.terminationStatus != 0 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw UsageError("\(what):\n" + text.suffix(3000))
        }
    }
}

/// A problem with how warmcheck was called or with its inputs (exit status 2).
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
