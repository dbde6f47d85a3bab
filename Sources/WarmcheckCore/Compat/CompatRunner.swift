#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The compatibility gate: every writer of the manifest produces a segment (the interop matrix's
/// documented sequence, docs/MATRIX.md, or a committed golden image), every reader opens a private
/// copy of each, and each cell's outcome is compared with the one the manifest names. Then the
/// crafted refusal files (RefusalCatalog, the same catalog `warmcheck refusals` runs) go to every
/// reader. Versions and features are never assumed: a reader's comes from its `hello`, a
/// writer's from the header it wrote.
public struct CompatRunner {
    public var manifest: CompatManifest
    /// The fixture of every build the manifest names (head, baseline and release builds resolved
    /// by the caller), keyed by the build.
    public var fixtures: [CompatManifest.Build: FixtureSpec]
    /// The protocol version a build must declare, when it is a release (`releases`).
    public var claims: [CompatManifest.Build: (version: String, major: Int, minor: Int)] = [:]
    public var root: URL
    public var workDir: String
    public var timeout: Double = 15
    /// Crafted cases for the refusal part; empty skips it.
    public var refusalCases: [RefusalCase] = RefusalCatalog.compatCases
    public var log: (String) -> Void = { _ in }

    public init(manifest: CompatManifest, fixtures: [CompatManifest.Build: FixtureSpec], root: URL, workDir: String) {
        self.manifest = manifest
        self.fixtures = fixtures
        self.root = root
        self.workDir = workDir
    }

    /// A written segment and what it claims.
    struct Segment {
        var path: String
        var expected: ExpectedView
        var description: String
    }

    public func run() throws -> CompatReport {
        let dir = (workDir as NSString).appendingPathComponent("warmcheck-compat-\(getpid())")
        // A stop signal removes the whole directory (Shutdown.isScratch: `warmcheck-GATE-PID`).
        Shutdown.watch(workDir: workDir)
        try? FileManager.default.removeItem(atPath: dir)
        guard mkdir(dir, 0o700) == 0 else { throw UsageError("cannot create \(dir): \(String(cString: strerror(errno)))") }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var matrix = MatrixRunner(fixtures: [], workDir: dir)
        matrix.timeout = timeout

        // Readers first: a reader that claims a version it does not speak is an input error,
        // found before any segment is written.
        var readers: [(reader: CompatManifest.Reader, spec: FixtureSpec, description: String)] = []
        for r in manifest.readers {
            let spec = try spec(for: r.build, name: r.name)
            log("hello from \(r.name)")
            let fx = try FixtureProcess(spec: spec, timeout: timeout, scratchDir: dir)
            defer { fx.stop() }
            let hello = Hello(try fx.sayHello(), fallbackName: r.build.implementation)
            let v = try declared(hello, by: r.name, at: r.location)
            try checkClaim(r.build, major: v.major, minor: v.minor, who: "reader \(r.name) (\(r.location))")
            readers.append((r, spec, "\(r.build.implementation)@\(v.major).\(v.minor)"))
        }

        var segments: [String: Result<Segment, MatrixError>] = [:]
        for w in manifest.writers {
            log("writing with \(w.name)")
            // Input errors (UsageError) stop the gate; a writer that fails the sequence fails its cells.
            do { segments[w.name] = .success(try write(w, matrix: matrix, dir: dir)) } catch let u as UsageError { throw u } catch {
                segments[w.name] = .failure(MatrixError.from(error))
            }
        }

        // Every cell needs an expectation before any is judged: a gap is a manifest error.
        var plan: [(CompatManifest.Writer, Segment?, String, (CompatManifest.Reader, FixtureSpec, String), CompatManifest.Expectation)] = []
        for w in manifest.writers {
            let seg = try? segments[w.name]!.get()
            let wdesc = seg?.description ?? w.name
            for r in readers {
                guard let e = manifest.expectation(writer: [w.name, wdesc], reader: [r.reader.name, r.description]) else {
                    throw UsageError("\(manifest.path): no `expect` line covers writer \(w.name) (\(wdesc)) × reader \(r.reader.name) (\(r.description))")
                }
                plan.append((w, seg, wdesc, r, e))
            }
        }

        var cells: [CompatReport.Cell] = []
        var procs: [String: FixtureProcess] = [:]
        defer { for p in procs.values { p.stop() } }
        for (n, (w, seg, wdesc, r, e)) in plan.enumerated() {
            log("\(n + 1)/\(plan.count) \(w.name) → \(r.0.name)")
            let start = Date()
            var cell = CompatReport.Cell(kind: .matrix, writer: w.name, writerDescription: wdesc, reader: r.0.name,
                                         readerDescription: r.2, expected: e.outcome.description, expectedAt: e.location,
                                         got: "", problems: [], seconds: 0)
            if let seg {
                do {
                    let fx = try procs[r.0.name] ?? startReader(r.1, dir: dir)
                    procs[r.0.name] = fx
                    (cell.got, cell.problems) = try read(seg, with: fx, expect: e.outcome, dir: dir, tag: "\(n)")
                } catch {
                    procs.removeValue(forKey: r.0.name)?.stop(grace: 0.2)
                    cell.got = "no answer"
                    cell.problems = [MatrixError.from(error).description]
                }
            } else if case .failure(let err)? = segments[w.name] {
                cell.got = "no segment"
                cell.problems = ["writer \(w.name) failed: \(err.description)"]
            }
            cell.seconds = Date().timeIntervalSince(start)
            cells.append(cell)
        }
        for p in procs.values { p.stop() }
        procs = [:]
        for case .success(let s)? in manifest.writers.map({ segments[$0.name] }) where s.path.hasPrefix(dir) { unlink(s.path) }

        if !refusalCases.isEmpty { cells += try refusals(readers: readers.map { ($0.reader.name, $0.spec, $0.description) }, dir: dir) }
        return CompatReport(writers: manifest.writers.map(\.name), readers: readers.map(\.reader.name), cells: cells)
    }

    func spec(for b: CompatManifest.Build, name: String) throws -> FixtureSpec {
        guard let s = fixtures[b] else { throw UsageError("no fixture for \(b) (was its build skipped?)") }
        return FixtureSpec(name: name, argv: s.argv)
    }

    func startReader(_ spec: FixtureSpec, dir: String) throws -> FixtureProcess {
        let fx = try FixtureProcess(spec: spec, timeout: timeout, scratchDir: dir)
        do { _ = try fx.sayHello() } catch { fx.stop(grace: 0.2); throw error }
        return fx
    }

    /// The version a hello declares; declaring none is an input error (the gate keys on it).
    func declared(_ h: Hello, by who: String, at: String) throws -> (major: Int, minor: Int) {
        guard let major = h.protocolMajor, let minor = h.protocolMinor else {
            throw UsageError("\(who) (\(at)): its hello declares no protocol {major, minor} (docs/DRIVER.md \"hello\")")
        }
        return (major, minor)
    }

    func checkClaim(_ b: CompatManifest.Build, major: Int, minor: Int, who: String) throws {
        guard let c = claims[b], c.major != major || c.minor != minor else { return }
        throw UsageError("\(who): built from release \(c.version), which speaks protocol \(c.major).\(c.minor), but its hello says \(major).\(minor)")
    }

    func write(_ w: CompatManifest.Writer, matrix: MatrixRunner, dir: String) throws -> Segment {
        switch w.source {
        case .image(let rel):
            let image = try GoldenImage.load(dir: root.appendingPathComponent(rel), at: w.location)
            return Segment(path: image.segment, expected: image.expected, description: "image@" + describe(try HeaderPatch.read(image.segment)))
        case .fixture(let b, let args, let create, let patches):
            let base = try spec(for: b, name: w.name)
            let written = try matrix.write(with: FixtureSpec(name: w.name, argv: base.argv + args), create: create)
            // The writer must speak what it declares: its header is the evidence.
            let h = try HeaderPatch.read(written.path)
            guard let v = written.protocolVersion else {
                unlink(written.path)
                throw UsageError("writer \(w.name) (\(w.location)): its hello declares no protocol {major, minor}")
            }
            guard h.major == UInt64(v.major), h.minor == UInt64(v.minor) else {
                unlink(written.path)
                throw UsageError("writer \(w.name) (\(w.location)): its hello claims protocol \(v.major).\(v.minor), but the segment it wrote says \(h.major).\(h.minor)")
            }
            try checkClaim(b, major: v.major, minor: v.minor, who: "writer \(w.name) (\(w.location))")
            if !patches.isEmpty { try HeaderPatch.apply(patches, to: written.path) }
            return Segment(path: written.path, expected: written.expected,
                           description: "\(b.implementation)@" + describe(try HeaderPatch.read(written.path)))
        }
    }

    /// `1.0+sim_clock`: the version and every feature bit the header has set.
    func describe(_ h: HeaderPatch.Header) -> String {
        var names: [String] = []
        for bit in 0..<64 where h.incompat >> UInt64(bit) & 1 == 1 { names.append(manifest.featureName(incompat: true, bit: bit)) }
        for bit in 0..<64 where h.compat >> UInt64(bit) & 1 == 1 { names.append(manifest.featureName(incompat: false, bit: bit)) }
        return "\(h.major).\(h.minor)" + names.map { "+" + $0 }.joined()
    }

    /// Opens a private copy (reading changes a segment: a stale read marks the slot STALE).
    func read(_ seg: Segment, with fx: FixtureProcess, expect: CompatManifest.Outcome, dir: String, tag: String) throws -> (String, [String]) {
        let copy = (dir as NSString).appendingPathComponent("cell-\(tag).seg")
        unlink(copy)
        defer { unlink(copy) }
        try MatrixRunner(fixtures: [], workDir: dir).copyFile(seg.path, to: copy)
        let opened = try fx.call("open", ["path": .string(copy)])
        if let k = opened.errorKind { return ("error(\(k))", ["open answered a driver error: \(opened.message ?? "")"]) }
        if opened.outcome == .fail {
            let code = opened.reason ?? "?"
            switch expect {
            case .read: return ("refuse \(code)", ["refused with \(code) where it should read: \(opened.message ?? "")"])
            case .refuse(let want) where want != code:
                return ("refuse \(code)", ["refused with \(code), but the manifest names \(want): \(opened.message ?? "")"])
            case .refuse: return ("refuse \(code)", [])
            }
        }
        guard opened.isOK else { return (opened.summary, ["open: \(opened.summary) \(opened.message ?? "")"]) }
        let problems = try MatrixRunner.checkView(seg.expected, with: fx)
        if case .refuse(let want) = expect {
            return ("read", ["read where it should refuse with \(want)"] + problems.prefix(3).map { "(and: \($0))" })
        }
        return (problems.isEmpty ? "read" : "read, wrong view", problems)
    }

    /// The crafted files of §4.2, through the refusal gate itself, with every reader of the matrix.
    func refusals(readers: [(name: String, spec: FixtureSpec, description: String)], dir: String) throws -> [CompatReport.Cell] {
        var gate = RefusalGate(fixtures: readers.map(\.spec), cases: refusalCases, workDir: dir)
        gate.timeout = timeout
        gate.log = { self.log("crafted: \($0)") }
        let report = try gate.run()
        let desc = Dictionary(readers.map { ($0.name, $0.description) }, uniquingKeysWith: { a, _ in a })
        return report.results.compactMap { r in
            // warmcheck's own inspector is the refusal gate's business, not a reader under test.
            guard r.implementation != RefusalGate.inspectColumn, r.verdict != .skipped else { return nil }
            var problems: [String] = []
            if r.verdict == .fail { problems = ["answered \(r.answer)" + (r.detail.isEmpty ? "" : ": \(r.detail)")] }
            return CompatReport.Cell(kind: .crafted, writer: "crafted/" + r.caseName, writerDescription: r.caseName,
                                     reader: r.implementation, readerDescription: desc[r.implementation] ?? r.implementation,
                                     expected: r.expected.description, expectedAt: "RefusalCatalog",
                                     got: r.verdict == .knownFailure ? "known failure: \(r.answer)" : r.answer,
                                     problems: problems, seconds: 0)
        }
    }
}
