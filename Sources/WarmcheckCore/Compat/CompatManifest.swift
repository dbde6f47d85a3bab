#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The compat gate's manifest (compat/manifest.txt, documented in docs/UPGRADING.md "The
/// manifest"): which segments are written, who reads them, and what each reader must do, as data.
///
/// One declaration per line; `#` starts a comment:
///
/// ```
/// feature NAME incompat|compat BIT      names a header feature bit for cell descriptions
/// writer NAME IMPL@BUILD [args="…"] [create='{json}'] [patch=FIELD:VALUE,…]
/// writer NAME image:DIR                 a committed golden image (DIR/segment.seg, expected.json)
/// reader IMPL@BUILD
/// expect WRITER READER read | refuse CODE   first matching line wins
/// ```
///
/// IMPL is go, rust, swift or a `--fixture NAME=COMMAND` name. BUILD is `head` (this checkout's
/// fixtures), `baseline` (the `--baseline REV` builds) or a version in `releases`. WRITER and
/// READER are globs matched against a side's name (`go-head`, `rust@baseline`) or its
/// description, which comes from what the fixture and the segment say: `go@1.0+sim_clock` for a
/// writer (protocol and feature bits read from the header it wrote), `rust@1.0` for a reader
/// (protocol from its hello). A cell that no `expect` line covers is a manifest error: no
/// outcome is ever implicit.
public struct CompatManifest: Sendable {
    public struct Build: Sendable, Hashable, CustomStringConvertible {
        public var implementation: String
        /// `head`, `baseline` or a release version.
        public var build: String
        public var description: String { "\(implementation)@\(build)" }
        public init(implementation: String, build: String) {
            self.implementation = implementation
            self.build = build
        }
    }

    public struct Patch: Sendable, Equatable {
        public enum Field: String, Sendable, CaseIterable { case major, minor, incompat_bits, compat_bits }
        public var field: Field
        public var value: UInt64
    }

    public struct Writer: Sendable {
        public enum Source: Sendable {
            case fixture(Build, args: [String], create: [String: JSON], patches: [Patch])
            case image(dir: String)
        }
        public var name: String
        public var source: Source
        public var location: String
        public init(name: String, source: Source, location: String) {
            self.name = name
            self.source = source
            self.location = location
        }
    }

    public struct Reader: Sendable {
        public var build: Build
        public var location: String
        public var name: String { build.description }
        public init(build: Build, location: String) {
            self.build = build
            self.location = location
        }
    }

    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        case read
        case refuse(String)
        public var description: String {
            switch self {
            case .read: return "read"
            case .refuse(let c): return "refuse \(c)"
            }
        }
    }

    public struct Expectation: Sendable {
        public var writer: String
        public var reader: String
        public var outcome: Outcome
        public var location: String
    }

    public var path: String
    public var features: [(name: String, incompat: Bool, bit: Int)]
    public var writers: [Writer]
    public var readers: [Reader]
    public var expectations: [Expectation]

    /// Every build named, in the order first named.
    public var builds: [Build] {
        var seen = Set<Build>(), out: [Build] = []
        for w in writers { if case .fixture(let b, _, _, _) = w.source, seen.insert(b).inserted { out.append(b) } }
        for r in readers where seen.insert(r.build).inserted { out.append(r.build) }
        return out
    }

    /// The first expectation covering a cell, matched on names or descriptions.
    public func expectation(writer: [String], reader: [String]) -> Expectation? {
        expectations.first { e in
            writer.contains { Self.glob(e.writer, $0) } && reader.contains { Self.glob(e.reader, $0) }
        }
    }

    static func glob(_ pattern: String, _ s: String) -> Bool { fnmatch(pattern, s, 0) == 0 }

    /// The name of a header bit: the manifest's, else `incompat_bitN` / `compat_bitN`.
    public func featureName(incompat: Bool, bit: Int) -> String {
        features.first { $0.incompat == incompat && $0.bit == bit }?.name ?? "\(incompat ? "incompat" : "compat")_bit\(bit)"
    }

    public static let tokenError = "expected `feature`, `writer`, `reader` or `expect`"

    /// Parses the manifest. `implementations`: the names IMPL may take (reference and
    /// `--fixture` ones); `releases`: the versions BUILD may name besides head and baseline;
    /// `openCodes`: spec/vocabulary.json's `open_errors` (PROTOCOL.md §15).
    public static func parse(_ text: String, path: String, implementations: Set<String>, releases: Releases,
                             openCodes: [String]) throws -> CompatManifest {
        var m = CompatManifest(path: path, features: [], writers: [], readers: [], expectations: [])
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let at = "\(path):\(n + 1)"
            let words = try tokenize(String(raw), at: at)
            guard let head = words.first else { continue }
            func build(_ w: String) throws -> Build {
                let parts = w.split(separator: "@", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw UsageError("\(at): \"\(w)\" is not IMPL@BUILD (e.g. go@head, rust@baseline, swift@1.0)")
                }
                guard implementations.contains(parts[0]) else {
                    throw UsageError("\(at): unknown implementation \"\(parts[0])\" (known: \(implementations.sorted().joined(separator: ", ")); add others with --fixture NAME=COMMAND)")
                }
                guard ["head", "baseline"].contains(parts[1]) || releases.release(named: parts[1]) != nil else {
                    throw UsageError("\(at): unknown version \"\(parts[1])\": not head, baseline, nor a release in \(releases.path) (\(releases.entries.map(\.version).joined(separator: ", ")))")
                }
                return Build(implementation: parts[0], build: parts[1])
            }
            switch head {
            case "feature":
                guard words.count == 4, ["incompat", "compat"].contains(words[2]), let bit = Int(words[3]), (0..<64).contains(bit) else {
                    throw UsageError("\(at): expected `feature NAME incompat|compat BIT` with BIT in 0..63")
                }
                m.features.append((words[1], words[2] == "incompat", bit))
            case "writer":
                guard words.count >= 3 else { throw UsageError("\(at): expected `writer NAME IMPL@BUILD [options]` or `writer NAME image:DIR`") }
                let name = words[1]
                if let dup = m.writers.first(where: { $0.name == name }) {
                    throw UsageError("\(at): writer \(name) is already declared at \(dup.location)")
                }
                if words[2].hasPrefix("image:") {
                    guard words.count == 3 else { throw UsageError("\(at): an image writer takes no options") }
                    m.writers.append(Writer(name: name, source: .image(dir: String(words[2].dropFirst(6))), location: at))
                    continue
                }
                let b = try build(words[2])
                var args: [String] = [], create: [String: JSON] = [:], patches: [Patch] = []
                for opt in words.dropFirst(3) {
                    if opt.hasPrefix("args=") {
                        args = Repo.shellSplit(String(opt.dropFirst(5)))
                    } else if opt.hasPrefix("create=") {
                        guard let j = try? JSON.parse(Data(opt.dropFirst(7).utf8)), case .object(let o) = j else {
                            throw UsageError("\(at): create= must be a JSON object (merged into the writer's create arguments)")
                        }
                        create = o
                    } else if opt.hasPrefix("patch=") {
                        patches = try parsePatches(String(opt.dropFirst(6)), at: at)
                    } else {
                        throw UsageError("\(at): unknown writer option \"\(opt)\" (args=, create=, patch=)")
                    }
                }
                m.writers.append(Writer(name: name, source: .fixture(b, args: args, create: create, patches: patches), location: at))
            case "reader":
                guard words.count == 2 else { throw UsageError("\(at): expected `reader IMPL@BUILD`") }
                let b = try build(words[1])
                if let dup = m.readers.first(where: { $0.build == b }) {
                    throw UsageError("\(at): reader \(b) is already declared at \(dup.location)")
                }
                m.readers.append(Reader(build: b, location: at))
            case "expect":
                let outcome: Outcome
                if words.count == 4, words[3] == "read" {
                    outcome = .read
                } else if words.count == 5, words[3] == "refuse" {
                    guard openCodes.contains(words[4]) else {
                        throw UsageError("\(at): \"\(words[4])\" is not an opening error code of PROTOCOL.md §15 (\(openCodes.joined(separator: ", ")))")
                    }
                    outcome = .refuse(words[4])
                } else {
                    throw UsageError("\(at): expected `expect WRITER READER read` or `expect WRITER READER refuse CODE`")
                }
                m.expectations.append(Expectation(writer: words[1], reader: words[2], outcome: outcome, location: at))
            default:
                throw UsageError("\(at): \"\(head)\": \(tokenError)")
            }
        }
        if m.writers.isEmpty || m.readers.isEmpty { throw UsageError("\(path): the manifest declares no writer or no reader") }
        return m
    }

    /// `major:2,compat_bits:0x8000`: fields are set (major, minor) or OR-ed in (the bit words).
    static func parsePatches(_ s: String, at: String) throws -> [Patch] {
        try s.split(separator: ",").map { item in
            let kv = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard kv.count == 2, let f = Patch.Field(rawValue: kv[0]) else {
                throw UsageError("\(at): patch \"\(item)\": expected FIELD:VALUE with FIELD one of \(Patch.Field.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let v = kv[1].hasPrefix("0x") ? UInt64(kv[1].dropFirst(2), radix: 16) : UInt64(kv[1])
            guard let v else { throw UsageError("\(at): patch \(kv[0]): \"\(kv[1])\" is not a number") }
            if (f == .major || f == .minor) && v > 0xFFFF { throw UsageError("\(at): patch \(kv[0]): \(v) does not fit 16 bits") }
            return Patch(field: f, value: v)
        }
    }

    /// Words separated by blanks; double quotes group (and are dropped); `#` outside quotes ends the line.
    /// Words split at blanks; `"…"` and `'…'` quote (the quote characters dropped), so that
    /// `create='{"fast_checksum":true}'` keeps the JSON's own double quotes.
    static func tokenize(_ line: String, at: String) throws -> [String] {
        var out: [String] = [], cur = "", quote: Character? = nil, inWord = false
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c; inWord = true
            } else if c == "#" {
                break
            } else if c == " " || c == "\t" {
                if inWord { out.append(cur); cur = ""; inWord = false }
            } else {
                cur.append(c); inWord = true
            }
        }
        if quote != nil { throw UsageError("\(at): unterminated quote") }
        if inWord { out.append(cur) }
        return out
    }
}

