#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The interop matrix: every implementation writes the documented sequence, every implementation
/// reads every segment back (Arrow's producer × consumer matrix, applied to shared memory).
public struct MatrixRunner {
    public struct Cell: Sendable {
        public var writer: String
        public var reader: String
        public var problems: [String]
        public var seconds: Double
        public var pass: Bool { problems.isEmpty }
    }

    public struct Report: Sendable {
        public var fixtures: [String]
        public var cells: [Cell]
        /// Readers of the committed golden images (version, reader, problems), when checked.
        public var golden: [(image: String, reader: String, problems: [String])]
        public var passCount: Int { cells.filter(\.pass).count }
        public var allPass: Bool { passCount == cells.count && golden.allSatisfy { $0.problems.isEmpty } }
    }

    public var fixtures: [FixtureSpec]
    public var workDir: String
    public var timeout: Double = 20
    /// The committed images (testdata/golden/<version>/) every reader reads; empty skips them.
    public var golden: [GoldenImage.Image] = []
    /// Only the cells in which this implementation writes or reads, and only it reads the golden
    /// image (`warmcheck conform`); nil: every cell.
    public var focus: String?
    public var log: (String) -> Void = { _ in }

    public init(fixtures: [FixtureSpec], workDir: String) {
        self.fixtures = fixtures
        self.workDir = workDir
    }

    struct Written {
        var path: String
        var expected: ExpectedView
        /// The protocol version the writer's hello declared (nil: it declared none).
        var protocolVersion: (major: Int, minor: Int)?
    }

    public func run() -> Report {
        var written: [String: Result<Written, MatrixError>] = [:]
        func wanted(_ w: String, _ r: String) -> Bool { focus == nil || focus == w || focus == r }
        for w in fixtures where fixtures.contains(where: { wanted(w.name, $0.name) }) {
            log("writing with \(w.name)")
            written[w.name] = Result { try write(with: w) }.mapError { MatrixError.from($0) }
        }
        var cells: [Cell] = []
        for w in fixtures {
            for r in fixtures where wanted(w.name, r.name) {
                let start = Date()
                var problems: [String]
                switch written[w.name]! {
                case .failure(let e):
                    problems = ["writer \(w.name) failed: \(e.description)"]
                case .success(let seg):
                    log("reading \(w.name)'s segment with \(r.name)")
                    problems = read(seg.path, expected: seg.expected, with: r, copyTag: "\(w.name)-by-\(r.name)")
                }
                cells.append(Cell(writer: w.name, reader: r.name, problems: problems,
                                  seconds: Date().timeIntervalSince(start)))
            }
        }
        var goldenResults: [(String, String, [String])] = []
        for g in golden {
            for r in fixtures where focus == nil || focus == r.name {
                log("reading the golden \(g.version) image with \(r.name)")
                goldenResults.append((g.version, r.name, read(g.segment, expected: g.expected, with: r, copyTag: "golden-\(g.version)-by-\(r.name)")))
            }
        }
        for case .success(let seg) in written.values { unlink(seg.path) }
        return Report(fixtures: fixtures.map(\.name), cells: cells, golden: goldenResults)
    }

    /// Runs the documented sequence on a new segment; returns where it is and what readers must see.
    /// `create` is merged into the `create` arguments (a feature a writer is asked to turn on).
    func write(with spec: FixtureSpec, create extra: [String: JSON] = [:]) throws -> Written {
        let path = (workDir as NSString).appendingPathComponent("matrix-\(spec.name)-\(getpid()).seg")
        unlink(path)
        let fx = try FixtureProcess(spec: spec, timeout: timeout, scratchDir: workDir)
        defer { fx.stop() }
        let hello = Hello(try fx.sayHello(), fallbackName: spec.name)
        guard let lang = hello.languageCode else {
            throw MatrixError.step("hello declares no language_code, and \"\(hello.language)\" is not a registered language (PROTOCOL.md §7.3)")
        }
        var createArgs: [String: JSON] = ["path": .string(path), "geometry": MatrixSequence.geometry, "sim_clock_ns": .int(MatrixSequence.t0)]
        createArgs.merge(extra) { _, new in new }
        let created = try fx.call("create", .object(createArgs))
        guard created.isOK else { throw MatrixError.step("create: \(created.summary) \(created.message ?? "")") }
        let version = hello.protocolMajor.flatMap { major in hello.protocolMinor.map { (major, $0) } }
        for (n, step) in MatrixSequence.steps(namespaces: ExpectedView.speaksNamespaces(version ?? (1, 0))).enumerated() {
            let r = try fx.call(step.op, step.args)
            let got = r.outcome == .fail ? "fail:\(r.reason ?? "?")" : (r.outcome?.rawValue ?? r.summary)
            let key = step.args["key_hex"]?.string.flatMap(Hex.decode).map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard got == step.expect else {
                throw MatrixError.step("step \(n + 1) \(step.op) \(key): expected \(step.expect), got \(r.summary) \(r.message ?? "")")
            }
            if let want = step.removed, r.result["removed"]?.bool != want {
                throw MatrixError.step("step \(n + 1) \(step.op) \(key): expected removed=\(want), got \(r.result["removed"]?.serialized ?? "nothing")")
            }
            for (f, want) in (step.result ?? [:]).sorted(by: { $0.key < $1.key }) where r.result[f] != want {
                throw MatrixError.step("step \(n + 1) \(step.op) ns \(step.args["ns"]?.serialized ?? "?") \(key): expected \(f)=\(want.serialized), got \(r.result[f]?.serialized ?? "nothing")")
            }
        }
        try fx.call("close")
        // Records carry their writer's protocol version (§14): what the hello declared.
        return Written(path: path, expected: .make(writerLanguage: lang, writerPID: hello.pid ?? Int64(fx.pid),
                                                   protocolVersion: version ?? (1, 0)),
                       protocolVersion: version)
    }

    /// Reads a private copy of `segment` (readers change it: a stale read marks the slot STALE).
    func read(_ segment: String, expected: ExpectedView, with spec: FixtureSpec, copyTag: String) -> [String] {
        let copy = (workDir as NSString).appendingPathComponent("matrix-\(copyTag)-\(getpid()).seg")
        unlink(copy)
        defer { unlink(copy) }
        do {
            try copyFile(segment, to: copy)
            let fx = try FixtureProcess(spec: spec, timeout: timeout, scratchDir: workDir)
            defer { fx.stop() }
            _ = try fx.sayHello()
            let opened = try fx.call("open", ["path": .string(copy)])
            guard opened.isOK else { return ["open: \(opened.summary) \(opened.message ?? "")"] }
            return try Self.checkView(expected, with: fx)
        } catch {
            return [MatrixError.from(error).description]
        }
    }

    /// Every `get` of the expectation and a `dump`, compared with it, on the segment `fx` has
    /// open; closes it. The differences, in words (empty: the reader sees the right view).
    static func checkView(_ expected: ExpectedView, with fx: FixtureProcess) throws -> [String] {
        var problems: [String] = []
        for want in expected.json["reads"]?.array ?? [] {
            let r = try fx.call("get", ["key_hex": want["key_hex"] ?? .null])
            guard r.isOK else { problems.append("get: \(r.summary)"); continue }
            problems += expected.checkRead(want, actual: r.result)
        }
        // The namespace view, of a 1.1 image, from a reader that speaks 1.1 (a 1.0 reader has no
        // namespace operations; its dump below must still list the namespace entries).
        let h = Hello(fx.hello, fallbackName: "")
        let readerVersion = h.protocolMajor.flatMap { major in h.protocolMinor.map { (major, $0) } } ?? (1, 0)
        if ExpectedView.speaksNamespaces(readerVersion) {
            for want in expected.json["namespaces"]?.array ?? [] {
                let ns = want["ns"] ?? .null
                let state = try fx.call("ns_state", ["ns": ns])
                if state.isOK { problems += expected.checkNamespaceState(want, actual: state.result) } else {
                    problems.append("ns_state \(ns.serialized): \(state.summary) \(state.message ?? "")")
                }
                for read in want["reads"]?.array ?? [] {
                    let r = try fx.call("ns_get", ["ns": ns, "key_hex": read["key_hex"] ?? .null])
                    if r.isOK { problems += expected.checkNamespaceRead(read, ns: ns.int ?? -1, actual: r.result) } else {
                        problems.append("ns_get \(ns.serialized): \(r.summary) \(r.message ?? "")")
                    }
                }
            }
        }
        let dump = try fx.call("dump")
        if dump.isOK { problems += expected.checkDump(dump.result) } else { problems.append("dump: \(dump.summary)") }
        try fx.call("close")
        return problems
    }

    /// A byte copy that keeps owner-only permissions (the copy must pass the owner check).
    func copyFile(_ from: String, to: String) throws {
        guard let data = FileManager.default.contents(atPath: from) else {
            throw MatrixError.step("cannot read \(from)")
        }
        let fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw MatrixError.step("cannot create \(to): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) == $0.count }
        guard ok else { throw MatrixError.step("short write to \(to)") }
    }
}

public enum MatrixError: Error, CustomStringConvertible {
    case step(String)
    case fixture(FixtureFailure)
    case other(String)

    static func from(_ e: Error) -> MatrixError {
        if let m = e as? MatrixError { return m }
        if let f = e as? FixtureFailure { return .fixture(f) }
        return .other("\(e)")
    }

    public var description: String {
        switch self {
        case .step(let s): return s
        case .fixture(let f): return f.description
        case .other(let s): return s
        }
    }
}

extension MatrixRunner.Report {
    /// The 3×3 (N×N) table, writers down the side and readers across.
    public func table() -> String {
        let w = max(16, (fixtures.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String) -> String { s + String(repeating: " ", count: max(1, w - s.count)) }
        var out = pad("writer \\ reader") + fixtures.map(pad).joined() + "\n"
        for wr in fixtures {
            out += pad(wr)
            for rd in fixtures {
                // A focused run (conform) leaves out the cells that do not concern its implementation.
                let c = cells.first { $0.writer == wr && $0.reader == rd }
                out += pad(c.map { $0.pass ? "pass" : "FAIL" } ?? "-")
            }
            out += "\n"
        }
        return out
    }

    public func json() -> JSON {
        .object([
            "fixtures": .array(fixtures.map { .string($0) }),
            "cells": .array(cells.map { c in
                .object([
                    "writer": .string(c.writer), "reader": .string(c.reader), "pass": .bool(c.pass),
                    "seconds": .double(c.seconds), "problems": .array(c.problems.map { .string($0) }),
                ])
            }),
            "golden": .array(golden.map { g in
                .object(["image": .string(g.image), "reader": .string(g.reader), "pass": .bool(g.problems.isEmpty),
                         "problems": .array(g.problems.map { .string($0) })])
            }),
            "pass_count": .int(Int64(passCount)), "cell_count": .int(Int64(cells.count)),
        ])
    }
}
