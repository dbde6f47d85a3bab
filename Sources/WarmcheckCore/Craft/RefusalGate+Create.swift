#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The create cases (CreateCases): `create` instead of `open`, and after every answer the
/// directory the segment was to be made in must hold no `*.init.*` file but those the case
/// planted and must be left (§4.1 step 6: either way, remove TMP), which a refused or failed
/// create easily forgets. An accepted create is paused at `create.after_open_temp` and its
/// private file checked there (RefusalGate+CreatePause), and the segment it made must open in
/// every other implementation.
extension RefusalGate {
    func runCreate(_ c: RefusalCase, _ setting: CreateSetting, base: String, dir: String,
                   procs: inout [String: FixtureProcess]) throws -> [RefusalResult] {
        var results: [RefusalResult] = []
        for spec in fixtures {
            let path: String, cleanup: () -> Void
            do { (path, cleanup) = try prepareCreate(setting, base: base, dir: dir) } catch let e as UsageError where setting.isOnOwnDisk {
                results.append(RefusalResult(caseName: c.name, implementation: spec.name, expected: c.expect, answer: "skipped",
                                             verdict: .skipped, detail: "no file system of its own for the case: \(e)"))
                continue
            }
            defer { cleanup() }
            let planted = try plant(setting, path: path)
            defer { planted.remove() }
            var answer: Answer
            // A creator under a disk fault is a process of its own, stopped with the case.
            var own: FixtureProcess? = nil
            defer { own?.stop(grace: 0.2) }
            do {
                let fx: FixtureProcess
                if let fault = setting.creatorDisk {
                    fx = try start(FixtureSpec(name: spec.name, argv: DiskFaultLauncher.wrap(spec.argv, fault)))
                    own = fx
                } else {
                    fx = try procs[spec.name] ?? start(spec)
                    procs[spec.name] = fx
                }
                let cut = path.utf8.contains(0) ? String(decoding: path.utf8.prefix { $0 != 0 }, as: UTF8.self) : nil
                if cut != nil && !Hello(fx.hello).operations.contains("nul_path") {
                    results.append(RefusalResult(caseName: c.name, implementation: spec.name, expected: c.expect, answer: "skipped",
                                                 verdict: .skipped, detail: "hello does not list nul_path (DRIVER.md 'Odd input')"))
                    continue
                }
                answer = try askCreate(fx, c, setting, path: path, planted: planted)
                if let cut, access(cut, F_OK) == 0 {
                    unlink(cut)
                    answer = Answer(text: "\(answer.text), and created \(Self.show(Array((cut as NSString).lastPathComponent.utf8)))", detail: "DRIVER.md 'Odd input': a NUL path names no file; C cut it short")
                }
                if case .cycles(_, let times) = setting, answer.accepted {
                    answer = try askAgain(fx, c, setting, path: path, times: times) ?? answer
                }
                if answer.accepted { answer = try openElsewhere(path, creator: spec.name, procs: &procs) ?? answer }
                answer = withoutLeakedDescriptors(answer, fx, dir: dir)
            } catch let f as FixtureFailure {
                if own == nil { procs.removeValue(forKey: spec.name)?.stop(grace: 0.2) }
                answer = Answer(text: "no answer", detail: "\(f)")
            }
            let parent = (path as NSString).deletingLastPathComponent
            if let wrong = planted.wrong(in: parent), !answer.text.contains(wrong) {
                answer = Answer(text: "\(answer.text), and \(wrong)", detail: "§4.1 step 2: the sweep removes a dead creator's file, never a live one's or another prefix's")
            } else if planted.wrong(in: parent) == nil, let left = Self.entries(parent).first(where: { Self.isPrivate($0) && !planted.survivors.contains($0) }) {
                answer = Answer(text: "\(answer.text), and left \(Self.show(left)) behind", detail: "§4.1 step 6: a create removes its TMP file whatever happens")
            }
            results.append(judge(c, implementation: spec.name, expected: c.expect, answer))
        }
        return results
    }

    /// The path to create at, and what removes what the case (and an accepted create) made.
    func prepareCreate(_ setting: CreateSetting, base: String, dir: String) throws -> (String, () -> Void) {
        switch setting {
        case .missingDirectory:
            return (base + "-absent/seg", {})
        case .underAFile:
            try CraftedSegment(geometry: RefusalCase.baseGeometry).write(to: base)
            return (base + "/seg", { unlink(base) })
        case .overASegment:
            try CraftedSegment(geometry: RefusalCase.baseGeometry).write(to: base)
            return (base, { unlink(base) })
        case .named(let name), .sweep(let name), .sweptBeforeFlock(let name), .cycles(let name, _), .withoutFallocate(let name):
            let path = (dir as NSString).appendingPathComponent(name)
            return (path, { unlink(path) })
        case .noSpace(let name, _):
            // Its own tmpfs, full: the create's reservation (or its fallback's first page) is
            // the write that finds no room.
            let disk = base + "-disk"
            try TinyStoreDisk.mount(at: disk)
            do { _ = try TinyStoreDisk.fill(disk) } catch { TinyStoreDisk.unmount(disk); rmdir(disk); throw error }
            let path = (disk as NSString).appendingPathComponent(name)
            return (path, { unlink(path); TinyStoreDisk.drain(disk); TinyStoreDisk.unmount(disk); rmdir(disk) })
        }
    }

    func askCreate(_ fx: FixtureProcess, _ c: RefusalCase, _ setting: CreateSetting, path: String, planted: PlantedInit) throws -> Answer {
        var args: [String: JSON] = ["path": .string(path), "geometry": DriverArguments.geometry(RefusalCase.baseGeometry)]
        let hello = Hello(fx.hello)
        let pid = hello.pid ?? Int64(fx.pid)
        var point = Self.createPause
        if case .sweptBeforeFlock = setting {
            point = Self.beforeFlock
            guard hello.pausePoints.contains(point) else {
                return Answer(text: "hello does not list \(point)", detail: "PROTOCOL.md §17: the point a harness needs to sweep between a creator's open and its lock")
            }
        }
        // Only where the create must succeed: a refused create may stop before the point.
        let pause = c.expect == .accept && hello.pausePoints.contains(point)
        if pause { args["pause_at"] = .string(point) }
        var r: DriverResponse
        var atPause: String? = nil
        switch try fx.start("create", .object(args)) {
        case .response(let resp):
            r = resp
            if pause { atPause = "never paused at \(point)" }
        case .paused(_, let id):
            atPause = point == Self.beforeFlock ? sweepAsAnotherCreator(path: path, pid: pid)
                                                : checkPrivateFile(path: path, pid: pid, planted: planted)
            guard case .response(let resp) = try fx.resume(id) else {
                return Answer(text: "paused again after \(point)", detail: "only one pause_at point was named")
            }
            r = resp
        }
        if let k = r.errorKind { return Answer(text: "error(\(k))", detail: r.message ?? "") }
        switch r.outcome {
        case .ok:
            let closed = try fx.call("close")
            guard closed.isOK else { return Answer(text: "created, then close \(closed.summary)", detail: closed.message ?? "") }
            if let problem = atPause {
                return Answer(text: "created, but at \(point): \(problem)", detail: "§4.1 step 1 (the private name, pid, mode) and step 2 (the sweep)")
            }
            return Answer(text: "accept", accepted: true)
        case .fail:
            return Answer(text: r.reason ?? "?", detail: r.message ?? "", code: r.reason ?? "?")
        default:
            return Answer(text: r.summary, detail: r.message ?? "")
        }
    }

    /// The rest of a `.cycles` case: after the first create (already asked), `times - 1` more,
    /// each after removing the segment, and the fixture's descriptor count compared. Nil when
    /// every create was accepted and the count held; else the failure.
    func askAgain(_ fx: FixtureProcess, _ c: RefusalCase, _ setting: CreateSetting, path: String, times: Int) throws -> Answer? {
        let pid = Hello(fx.hello).pid ?? Int64(fx.pid)
        let fdDir = "/proc/\(pid)/fd"
        guard let first = try? FileManager.default.contentsOfDirectory(atPath: fdDir).count else { return nil }  // no /proc: nothing to count
        for i in 2...max(2, times) {
            unlink(path)
            let a = try askCreate(fx, c, setting, path: path, planted: PlantedInit())
            guard a.accepted else { return Answer(text: "create \(i): \(a.text)", detail: a.detail) }
        }
        let last = (try? FileManager.default.contentsOfDirectory(atPath: fdDir).count) ?? first
        guard last <= first else {
            return Answer(text: "created, but \(last - first) more open descriptors after \(times - 1) more creates and closes (\(first) → \(last))",
                          detail: "§4.1: a create closes what it opened (TMP after a failure, the directory and files the sweep opened)")
        }
        return nil
    }

    /// Every other implementation opens (and closes) the segment `creator` made: a segment under
    /// a name near the bounds is an ordinary segment. Nil when all did; else the failure.
    func openElsewhere(_ path: String, creator: String, procs: inout [String: FixtureProcess]) throws -> Answer? {
        for spec in fixtures where spec.name != creator {
            let fx = try procs[spec.name] ?? start(spec)
            procs[spec.name] = fx
            let a = try ask(fx, path: path)
            if !a.accepted { return Answer(text: "created, but \(spec.name)'s open answered \(a.text)", detail: a.detail) }
        }
        return nil
    }
}
