import Foundation

/// The repository's `releases` file: which commit released which version (docs/UPGRADING.md).
///
/// A release's name is its version, `MAJOR.MINOR[.PATCH]`; `MAJOR.MINOR` is the protocol version
/// its fixtures speak, which the compat gate checks against their `hello`.
public struct Releases: Sendable {
    public struct Release: Sendable, Equatable {
        public var version: String
        public var commit: String
        public var protocolMajor: Int
        public var protocolMinor: Int
        /// Where it is recorded, for messages (`releases:8`).
        public var location: String
    }

    public var entries: [Release]
    public var path: String

    public static func path(root: URL) -> String { root.appendingPathComponent("releases").path }

    public static func load(root: URL) throws -> Releases {
        let p = path(root: root)
        guard let data = FileManager.default.contents(atPath: p) else {
            throw UsageError("\(p): cannot read the releases file")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: p)
    }

    public static func parse(_ text: String, path: String) throws -> Releases {
        var out: [Release] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if words.isEmpty { continue }
            let at = "\(path):\(n + 1)"
            guard words.count == 2 || words.count == 3 else {
                throw UsageError("\(at): expected `VERSION COMMIT [DATE]`, got \(words.count) words")
            }
            guard let (major, minor) = protocolVersion(words[0]) else {
                throw UsageError("\(at): version \"\(words[0])\" is not MAJOR.MINOR[.PATCH]")
            }
            let commit = words[1].lowercased()
            guard commit.count == 40, commit.allSatisfy(\.isHexDigit) else {
                throw UsageError("\(at): commit \"\(words[1])\" is not a full 40-hex commit (take it from `git rev-parse`)")
            }
            if let dup = out.first(where: { $0.version == words[0] }) {
                throw UsageError("\(at): version \(words[0]) is already recorded at \(dup.location)")
            }
            out.append(Release(version: words[0], commit: commit, protocolMajor: major, protocolMinor: minor, location: at))
        }
        return Releases(entries: out, path: path)
    }

    /// `1.0` → (1, 0); `1.0.3` → (1, 0); anything else nil.
    public static func protocolVersion(_ s: String) -> (Int, Int)? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
              let major = Int(parts[0]), let minor = Int(parts[1]), parts.count == 2 || Int(parts[2]) != nil
        else { return nil }
        return (major, minor)
    }

    public func release(named name: String) -> Release? { entries.first { $0.version == name } }

    /// The newest release (the last line): the default baseline.
    public var latest: Release? { entries.last }
}

/// A revision the gate builds old fixtures from: a release, or any git revision of the checkout.
public struct BaselineRevision: Sendable, Equatable {
    /// What the user named (`1.0`, `main~3`, a hash).
    public var name: String
    public var commit: String
    /// The release it is, when it is one: its fixtures must then speak that protocol version.
    public var release: Releases.Release?

    /// Resolves `rev`: a release name first, else `git rev-parse --verify REV^{commit}`.
    public static func resolve(_ rev: String, releases: Releases, root: URL) throws -> BaselineRevision {
        if let r = releases.release(named: rev) {
            // The recorded commit must exist in this clone (a shallow clone may lack it).
            guard let c = try? Git.revParse(r.commit, root: root), c == r.commit else {
                throw UsageError("baseline \(rev): release commit \(r.commit) (\(r.location)) is not in this clone's history (a shallow clone? fetch it)")
            }
            return BaselineRevision(name: rev, commit: r.commit, release: r)
        }
        guard !rev.isEmpty, !rev.hasPrefix("-"), let c = try? Git.revParse(rev, root: root) else {
            throw UsageError("baseline \(rev): neither a release in \(releases.path) (\(releases.entries.map(\.version).joined(separator: ", "))) nor a git revision of \(root.path)")
        }
        return BaselineRevision(name: rev, commit: c, release: releases.entries.first { $0.commit == c })
    }
}

/// The few git commands the gate needs, run in the checkout.
enum Git {
    static func revParse(_ rev: String, root: URL) throws -> String {
        let out = try run(["rev-parse", "--verify", "--quiet", rev + "^{commit}"], root: root)
        let hash = out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard hash.count == 40 else { throw UsageError("git rev-parse \(rev): no such commit") }
        return hash
    }

    /// Runs git with `args` in `root`; stdout on success, a UsageError with stderr otherwise.
    @discardableResult
    static func run(_ args: [String], root: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", root.path] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try Shutdown.withStopSignalsUnblocked { try p.run() }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw UsageError("git \(args.joined(separator: " ")): \(String(decoding: e, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
