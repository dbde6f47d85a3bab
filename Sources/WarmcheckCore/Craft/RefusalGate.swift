#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Harness) import Warmcache

/// The refusal gate: hands every crafted file to every implementation's `open` (docs/DRIVER.md)
/// and to warmcheck's own `inspect`, and requires exactly the answer the case names.
public struct RefusalGate {
    public var fixtures: [FixtureSpec]
    public var cases: [RefusalCase]
    public var workDir: String
    /// Seconds to wait for one fixture response.
    public var timeout: Double = 20
    /// Passed to every fixture as `--timeout-ms`: how long `open` polls a `ready` word that is
    /// not READY (§4.2 step 6). Short, so that the not_ready cases do not cost 2 s each.
    public var openTimeoutMs = 100
    public var log: (String) -> Void = { _ in }

    public init(fixtures: [FixtureSpec], cases: [RefusalCase] = RefusalCatalog.cases, workDir: String) {
        self.fixtures = fixtures
        self.cases = cases
        self.workDir = workDir
    }

    /// The column of warmcheck's own inspector in the results.
    public static let inspectColumn = "inspect"

    public func run() throws -> RefusalReport {
        let dir = (workDir as NSString).appendingPathComponent("warmcheck-refusals-\(getpid())")
        // A stop signal removes the whole directory (Shutdown.isScratch: `warmcheck-GATE-PID`).
        Shutdown.watch(workDir: workDir)
        try? FileManager.default.removeItem(atPath: dir)
        guard mkdir(dir, 0o700) == 0 else {
            throw UsageError("cannot create \(dir): \(String(cString: strerror(errno)))")
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var procs: [String: FixtureProcess] = [:]
        defer { for p in procs.values { p.stop() } }
        var results: [RefusalResult] = []
        for (n, c) in cases.enumerated() {
            log("\(n + 1)/\(cases.count) \(c.name)")
            let path = (dir as NSString).appendingPathComponent(c.name.replacingOccurrences(of: "/", with: "_"))
            if case .create(let setting) = c.kind {
                results += try runCreate(c, setting, base: path, dir: dir, procs: &procs)
                continue
            }
            if let skip = try prepare(c, at: path) {
                results.append(RefusalResult(caseName: c.name, implementation: "*", expected: c.expect, answer: "skipped",
                                             verdict: .skipped, detail: skip))
                continue
            }
            defer { try? FileManager.default.removeItem(atPath: path); unlink(path + ".target") }
            for spec in fixtures {
                var answer: Answer
                do {
                    let fx = try procs[spec.name] ?? start(spec)
                    procs[spec.name] = fx
                    if case .cutAfterOpen(let length) = c.kind {
                        try? FileManager.default.removeItem(atPath: path)
                        try c.image.write(to: path)  // afresh: the previous opener saw it cut
                        answer = try askAcrossCut(fx, path: path, length: length)
                    } else {
                        answer = try ask(fx, path: path, maxTotalLen: c.maxTotalLen)
                    }
                    answer = withoutLeakedDescriptors(answer, fx, dir: dir)
                } catch let f as FixtureFailure {
                    procs.removeValue(forKey: spec.name)?.stop(grace: 0.2)
                    answer = Answer(text: "no answer", detail: "\(f)")
                }
                results.append(judge(c, implementation: spec.name, expected: c.expect, answer))
            }
            if case .cutAfterOpen(let length) = c.kind { truncate(path, off_t(length)) }
            results.append(judge(c, implementation: Self.inspectColumn, expected: RefusalCatalog.inspectExpectation(c),
                                 inspect(path, maxTotalLen: c.maxTotalLen ?? 0)))
        }
        return RefusalReport(cases: cases, implementations: fixtures.map(\.name) + [Self.inspectColumn], results: results)
    }

    // MARK: files

    /// Puts the case at `path`; returns why it is skipped, if it is.
    func prepare(_ c: RefusalCase, at path: String) throws -> String? {
        switch c.kind {
        case .file, .cutAfterOpen:
            try c.image.write(to: path)
        case .missing, .create:
            break
        case .symlink:
            try c.image.write(to: path + ".target")
            guard symlink(path + ".target", path) == 0 else { throw UsageError("symlink \(path): \(String(cString: strerror(errno)))") }
        case .fifo:
            guard mkfifo(path, 0o600) == 0 else { throw UsageError("mkfifo \(path): \(String(cString: strerror(errno)))") }
        case .directory:
            guard mkdir(path, 0o700) == 0 else { throw UsageError("mkdir \(path): \(String(cString: strerror(errno)))") }
        case .foreignOwner(let uid):
            guard geteuid() == 0 else { return "needs root to give the file to uid \(uid)" }
            try c.image.write(to: path)
            guard chown(path, uid, gid_t(uid)) == 0 else { throw UsageError("chown \(path): \(String(cString: strerror(errno)))") }
        }
        return nil
    }

    // MARK: asking

    /// What an opener answered: `accept`, a code (with the rule a bad_geometry message names),
    /// or something that is no protocol answer at all.
    struct Answer {
        var text: String
        var detail: String = ""
        var code: String? = nil
        var rule: Int? = nil
        var accepted = false
        var survived = false
    }

    func start(_ spec: FixtureSpec) throws -> FixtureProcess {
        let withTimeout = FixtureSpec(name: spec.name, argv: spec.argv + ["--timeout-ms", String(openTimeoutMs)])
        let fx = try FixtureProcess(spec: withTimeout, timeout: timeout, scratchDir: workDir)
        do { _ = try fx.sayHello() } catch { fx.stop(grace: 0.2); throw error }
        return fx
    }

    func ask(_ fx: FixtureProcess, path: String, maxTotalLen: UInt64? = nil) throws -> Answer {
        var args: [String: JSON] = ["path": .string(path)]
        if let m = maxTotalLen { args["max_total_len"] = JSON(unsigned: m) }
        let r = try fx.call("open", .object(args))
        if let k = r.errorKind { return Answer(text: "error(\(k))", detail: r.message ?? "") }
        switch r.outcome {
        case .ok:
            // An accepted file must also be usable: a get runs (a miss) and the handle closes.
            let g = try fx.call("get", ["key_hex": "6b"])
            let closed = try fx.call("close")
            guard g.isOK, closed.isOK else {
                return Answer(text: "opened, then get \(g.summary), close \(closed.summary)", detail: (g.message ?? "") + (closed.message ?? ""))
            }
            return Answer(text: "accept", accepted: true)
        case .fail:
            let code = r.reason ?? "?"
            let rule = code == "bad_geometry" ? Self.ruleNumber(in: r.message ?? "") : nil
            return Answer(text: Self.render(code, rule), detail: r.message ?? "", code: code, rule: rule)
        default:
            return Answer(text: r.summary, detail: r.message ?? "")
        }
    }

    /// Opens, cuts the file to `length` under the open handle, and asks for a key: a fixture
    /// killed by the fault is a FixtureFailure (the caller records it), any answer survives.
    func askAcrossCut(_ fx: FixtureProcess, path: String, length: UInt64) throws -> Answer {
        let r = try fx.call("open", ["path": .string(path)])
        guard r.isOK else { return Answer(text: "open \(r.summary)", detail: r.message ?? "") }
        guard truncate(path, off_t(length)) == 0 else {
            throw UsageError("cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
        let g = try fx.call("get", ["key_hex": "6b"])
        _ = try fx.call("close")
        return Answer(text: "survived (get \(g.summary))", survived: true)
    }

    func inspect(_ path: String, maxTotalLen: UInt64 = 0) -> Answer {
        let rep = SegmentInspector.inspect(path: path, maxTotalLen: maxTotalLen)
        guard let e = rep.error else { return Answer(text: "accept", accepted: true) }
        let rule = e.code == "bad_geometry" ? Self.ruleNumber(in: e.message) : nil
        return Answer(text: Self.render(e.code, rule), detail: e.message, code: e.code, rule: rule)
    }

    static func render(_ code: String, _ rule: Int?) -> String {
        code == "bad_geometry" ? "bad_geometry rule \(rule.map(String.init) ?? "?")" : code
    }

    /// The N of the first `rule N` in a message (DRIVER.md: a bad_geometry message names its rule).
    static func ruleNumber(in message: String) -> Int? {
        let words = message.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        for (i, w) in words.enumerated() where w.lowercased() == "rule" && i + 1 < words.count {
            if let n = Int(words[i + 1]) { return n }
        }
        return nil
    }

    // MARK: judging

    func judge(_ c: RefusalCase, implementation: String, expected: RefusalExpectation, _ a: Answer) -> RefusalResult {
        let ok: Bool
        switch expected {
        case .accept: ok = a.accepted
        case .survive: ok = a.survived
        case .refuse(let code, let rule): ok = a.code == code && (rule == nil || a.rule == rule)
        }
        var r = RefusalResult(caseName: c.name, implementation: implementation, expected: expected, answer: a.text,
                              verdict: ok ? .pass : .fail, detail: ok ? "" : a.detail)
        // A column may be a build of the implementation (`go@baseline`, from `warmcheck compat`).
        let parts = implementation.split(separator: "@", maxSplits: 1).map(String.init)
        let impl = parts.first ?? implementation
        let fromHistory = parts.count == 2 && parts[1] != "head"
        if let k = RefusalCatalog.knownFailures.first(where: {
            $0.caseName == c.name && $0.implementation == impl && (!$0.releasedBuildsOnly || fromHistory)
        }) {
            if ok {
                r.verdict = .fail
                r.detail = "listed as a known failure (\(k.why)) but passed: remove the entry"
            } else if k.contains.isEmpty || (a.text + " " + a.detail).contains(k.contains) {
                r.verdict = .knownFailure
                r.detail = k.why
            }
        }
        return r
    }
}
