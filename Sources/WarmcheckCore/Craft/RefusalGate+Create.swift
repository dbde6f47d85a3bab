#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The create cases (CreateCases): `create` instead of `open`, and after every answer the
/// directory the segment was to be made in must hold no `*.init.*` file (§4.1 step 6: either
/// way, remove TMP), which a refused or failed create easily forgets.
extension RefusalGate {
    func runCreate(_ c: RefusalCase, _ setting: CreateSetting, base: String, dir: String,
                   procs: inout [String: FixtureProcess]) throws -> [RefusalResult] {
        var results: [RefusalResult] = []
        for spec in fixtures {
            let (path, cleanup) = try prepareCreate(setting, base: base, dir: dir)
            defer { cleanup() }
            var answer: Answer
            do {
                let fx = try procs[spec.name] ?? start(spec)
                procs[spec.name] = fx
                answer = try askCreate(fx, c, path: path)
            } catch let f as FixtureFailure {
                procs.removeValue(forKey: spec.name)?.stop(grace: 0.2)
                answer = Answer(text: "no answer", detail: "\(f)")
            }
            let parent = (path as NSString).deletingLastPathComponent
            if let left = ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []).first(where: { $0.contains(".init.") }) {
                answer = Answer(text: "\(answer.text), and left \(left) behind", detail: "§4.1 step 6: a create removes its TMP file whatever happens")
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
        case .nameBytes(let n):
            let path = (dir as NSString).appendingPathComponent(String(repeating: "n", count: n))
            return (path, { unlink(path) })
        }
    }

    func askCreate(_ fx: FixtureProcess, _ c: RefusalCase, path: String) throws -> Answer {
        let r = try fx.call("create", ["path": .string(path), "geometry": DriverArguments.geometry(RefusalCase.baseGeometry)])
        if let k = r.errorKind { return Answer(text: "error(\(k))", detail: r.message ?? "") }
        switch r.outcome {
        case .ok:
            let closed = try fx.call("close")
            guard closed.isOK else { return Answer(text: "created, then close \(closed.summary)", detail: closed.message ?? "") }
            return Answer(text: "accept", accepted: true)
        case .fail:
            return Answer(text: r.reason ?? "?", detail: r.message ?? "", code: r.reason ?? "?")
        default:
            return Answer(text: r.summary, detail: r.message ?? "")
        }
    }
}
