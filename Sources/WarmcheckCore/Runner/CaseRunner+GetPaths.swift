import Foundation
import WarmcheckModel
import WarmcheckScenario
import WarmcheckSegment

/// Every public get path of a library is judged, not only the one its fixture happens to call
/// (docs/DRIVER.md `get`, `get_many`, `now`): the path a `get` takes (`via`), the batched get's
/// answers, each judged as the get of its key, and the library's clock read.
extension CaseRunner {
    /// The case's offset in the rotation: WCH64 of its name, so that the expansions of one
    /// scenario start the rotation at different paths, and every run of the case (a replay, a
    /// minimizer's rerun, another machine) sends each get by the same path.
    static func viaSalt(of name: String) -> UInt64 { SpecHash.wch64(Array(name.utf8), seed: SpecHash.keySeed) }

    /// The `via` of a get step sent to `rp`: nil (the argument left out) for a fixture whose
    /// hello names no path but `single`, as the contract before `via` had it.
    func getVia(_ o: OperationStep, _ rp: RoleProcess) -> String? {
        let paths = rp.hello.getVia
        guard paths.count > 1 else { return nil }
        let ordinal = UInt64(getOrdinals[o.location] ?? 0)
        let via = paths[Int((ordinal &+ getViaSalt) % UInt64(paths.count))]
        lock.lock()
        getViaCounts[via, default: 0] += 1
        lock.unlock()
        return via
    }

    /// A `get_many` answer as the gets of its keys, one at a time, each through `noteHistory`
    /// exactly as a `get` step's answer goes (history, counters, audits): the library promises
    /// the semantics of that many single gets in key order (PROTOCOL.md §6, §9.2). They share
    /// the batch's interval: which instant inside it each key was read at is not told. The
    /// batch's transitions go with its last key, once. Caller holds `lock`.
    func noteGetMany(_ o: OperationStep, _ r: DriverResponse?, rp: RoleProcess, call: UInt64, ret: UInt64) {
        let keys = o.keys ?? []
        let results = r?.result["results"]?.array
        if let r, r.isOK, results?.count != keys.count {
            addFinding(Finding(kind: .harness, summary: "\(o.role) (\(rp.impl)) `\(o.text)` answered \(results?.count ?? 0) results for \(keys.count) keys",
                               details: "At \(o.location): DRIVER.md `get_many` answers `results`, one get answer per key, in order."))
            return
        }
        for (i, key) in keys.enumerated() {
            let each = OperationStep(role: o.role, op: .get, key: key, location: o.location, text: "get \(ScenarioValue.render(key)) [key \(i) of get_many]")
            guard let r, r.isOK, let one = results?[i] else {
                noteHistory(each, r, rp: rp, call: call, ret: ret)
                continue
            }
            var answer: [String: JSON] = ["id": r.raw["id"] ?? .null,
                                          "transitions": .array(i == keys.count - 1 ? r.transitions : [])]
            if let reason = one["fail"]?.string {
                answer["outcome"] = "fail"
                answer["reason"] = .string(reason)
                answer["message"] = one["message"] ?? .string("")
            } else {
                answer["outcome"] = "ok"
                answer["result"] = one
            }
            noteHistory(each, try? DriverResponse(.object(answer)), rp: rp, call: call, ret: ret)
        }
    }

    /// After a sequential step: a handle that opened on the case's segment reads its clock.
    func checkNowAfterOpen(_ o: OperationStep, _ outcome: StepOutcome) throws {
        guard [.create, .open, .openOrCreate, .restore].contains(o.op), o.segment == nil, let r = outcome.response, r.isOK,
              let rp = roles[o.role] else { return }
        if case .simulated(let start) = scenario.clock, o.op == .create || r.result["created"]?.bool == true {
            lastSimClock = start  // the create stored the scenario's start (DRIVER.md `sim_clock_ns`)
        }
        try checkNow(rp, after: "`\(o.text)`")
    }

    /// After a handle opened and after every `set_clock`: the library's clock read (`now`) must
    /// be the segment's clock, exactly the last `sim_clock_ns` written on a SIM_CLOCK segment,
    /// else a CLOCK_REALTIME reading between the harness's own before and after the request
    /// (PROTOCOL.md §12). A fixture that does not list `now` is not asked.
    func checkNow(_ rp: RoleProcess, after what: String) throws {
        if case .simulated = scenario.clock, rp.hello.features.contains("SIM_CLOCK") == false { return }
        guard let fx = rp.fixture, rp.operations.contains("now"), rp.side == nil, !headerPatched, futureRefusal == nil else { return }
        let before = RealtimeWindow.now()
        let r: DriverResponse
        do { r = try fx.call("now", [:]) } catch let f as FixtureFailure {
            try harness("fixture \(rp.impl) playing \(rp.role) failed during `now` after \(what)", f.description)
        }
        let after = RealtimeWindow.now()
        guard r.isOK, let got = r.result["now_ns"]?.uint else {
            conformance("\(rp.role) (\(rp.impl)) `now` after \(what) answered \(r.summary) \(r.result["now_ns"]?.serialized ?? "without now_ns")",
                        "DRIVER.md `now`: ok with `now_ns`, the library's clock read, on an open handle.")
            return
        }
        lock.lock()
        defer { lock.unlock() }
        if case .simulated(let start) = scenario.clock {
            let want = lastSimClock ?? start
            log.add("\(rp.role) (\(rp.impl)) now → \(got) (sim_clock_ns \(want))")
            if got != want {
                conformance("\(rp.role) (\(rp.impl)) `now` after \(what) read \(got), not the segment's sim_clock_ns \(want)",
                            "PROTOCOL.md §12: on a SIM_CLOCK segment now is sim_clock_ns, the value the last set_clock (or the create) stored.")
            }
        } else {
            log.add("\(rp.role) (\(rp.impl)) now → \(got) (CLOCK_REALTIME \(before)…\(after))")
            if got < before || got > after {
                conformance("\(rp.role) (\(rp.impl)) `now` after \(what) read \(got), outside CLOCK_REALTIME \(before)…\(after) around the request",
                            "PROTOCOL.md §12: without SIM_CLOCK now is CLOCK_REALTIME in nanoseconds.")
            }
        }
    }
}
