#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Warmcache
import WarmcheckModel
import WarmcheckScenario
import WarmcheckSegment

/// Runs one expanded scenario case against real fixture processes and judges it: expectations,
/// the transition checker, invariants after every step, counters, coverage, linearizability.
public final class CaseRunner: @unchecked Sendable {
    let testCase: ScenarioCase
    let options: RunOptions
    let segmentPath: String
    var roles: [String: RoleProcess] = [:]
    var log = StepLog()
    let checker = TransitionChecker(initial: .freshSegment)
    var history: [CacheOperation] = []
    var accounting = Accounting()
    /// Set for race cases: decides who moves next at each pause (see Schedule/).
    public var scheduler: RecordingScheduler?
    /// Indices of the race block's `sometimes` goals this execution reached.
    public internal(set) var goalsReached: Set<Int> = []
    /// Calls, pauses, transitions and answers per process, for the HTML failure report.
    public internal(set) var timeline: [Timeline.Event] = []
    var reportedViolations = 0
    /// Slots the scenario damaged on purpose (`corrupt:`): their bad checksum is expected.
    var corrupted: Set<String> = []
    var findings: [Finding] = []
    var simNow: UInt64 = 0
    var silentRemovalPossible = false
    /// What answered operations oblige the next segment snapshot to show (CaseRunner+Observer).
    var auditQueue = AuditQueue()
    var lastSnapshot: SegmentSnapshot?
    /// Whose `dump` the decoder is compared with next.
    var dumpTurn = 0
    var parallelResults: [(op: WarmcheckScenario.Operation, response: DriverResponse?)] = []
    let lock = NSLock()
    let findingsLock = NSLock()

    /// A reason the case fails, with the prose that explains it.
    struct Finding {
        var kind: Kind
        var summary: String
        var details: String
        enum Kind { case conformance, harness, skip, inconclusive }
        /// When it was found, on the timeline's clock: the report highlights the last event
        /// before it, unless `event` names the offending event's time exactly.
        var at: UInt64 = MonotonicClock.now()
        var event: UInt64?
    }

    /// The timeline with the event that shows the first conformance violation marked, for the
    /// HTML report. Done once at the end: the parallel roles append to the timeline under
    /// `lock`, which a finding's reporter may not hold.
    var markedTimeline: [Timeline.Event] {
        var events = timeline
        guard let f = findings.first(where: { $0.kind == .conformance }) else { return events }
        let i = f.event.flatMap { t in events.lastIndex { $0.t == t && [.returned, .died, .call].contains($0.kind) } }
            ?? events.lastIndex { $0.t <= f.at }
        if let i { events[i].violating = true }
        return events
    }

    struct Abort: Error {}

    /// Processes to play the roles instead of starting new ones (set before `run`; a race
    /// passes one schedule's processes to the next), and, after `run` with
    /// `handOverProcesses`, the ones this execution left open for the next.
    var reuse: [String: RoleProcess] = [:]
    var handOverProcesses = false

    public init(_ c: ScenarioCase, options: RunOptions) {
        testCase = c
        self.options = options
        let safe = String(c.scenario.name.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
        segmentPath = (options.workDir as NSString).appendingPathComponent(
            "wc-\(safe)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).seg")
        if case .simulated(let start) = c.scenario.clock { simNow = start }
    }

    var scenario: Scenario { testCase.scenario }

    public func run() -> CaseResult {
        let started = Date()
        defer { cleanup() }
        do {
            try prepare()
            try runSequential(scenario.initSteps, part: "init")
            if scenario.hasParallelPart { try runParallel() }
            if let race = scenario.race { try runRace(race) }
            try runSequential(scenario.finalSteps, part: "final")
            checkCoverage()
            checkTransitions()
            checkLinearizability()
        } catch is Abort {
            // A finding already says why.
        } catch {
            findings.append(Finding(kind: .harness, summary: "\(error)", details: "\(error)"))
        }
        var r = result(seconds: Date().timeIntervalSince(started))
        if !untraced.isEmpty && r.verdict != .skip {
            r.notes.append("transitions not reported by \(untraced.joined(separator: ", ")) (hello.trace is not true): "
                + "the state machine, the segment snapshots and `covers` were not checked")
        }
        return r
    }

    /// Implementations in this case whose hello did not promise transitions. With one of them
    /// in a case, the segment changes under the checker without reports that explain them, so
    /// the transition checks are left out and the result says so, instead of calling every
    /// unexplained change an illegal transition.
    var untraced: [String] {
        var out: [String] = []
        for a in testCase.assignments {
            if let rp = roles[a.role], !rp.pids.isEmpty, !rp.hello.reportsTransitions, !out.contains(a.implementation) {
                out.append(a.implementation)
            }
        }
        return out
    }

    // MARK: - setup and teardown

    func prepare() throws {
        for a in testCase.assignments {
            guard var spec = options.fixtures[a.implementation] else {
                throw UsageError("no fixture named \(a.implementation)")
            }
            spec.argv += options.extraFixtureArgs[a.implementation] ?? []
            if let old = reuse[a.role], old.spec.argv == spec.argv, old.fixture != nil {
                roles[a.role] = RoleProcess(reusing: old)
            } else {
                roles[a.role] = RoleProcess(role: a.role, impl: a.implementation, spec: spec)
            }
        }
        reuse = [:]
        // Start every process up front: a fixture that lacks an operation the scenario needs
        // makes the case a skip, decided before anything runs.
        for a in testCase.assignments {
            let rp = roles[a.role]!
            if rp.fixture == nil { try startProcess(rp) }
            let needed = Set(scenario.allOperations.filter { $0.role == a.role && $0.op.isListedInHello }.map(\.op.rawValue))
            var missing = needed.subtracting(rp.operations).sorted()
            missing += scenario.pausePointsUsed(role: a.role).subtracting(rp.pausePoints).sorted().map { "pause point \($0)" }
            if !missing.isEmpty {
                addFinding(Finding(kind: .skip, summary: "\(rp.impl) lacks \(missing.joined(separator: ", "))",
                                        details: "fixture \(rp.impl) does not list \(missing) in hello.operations"))
                throw Abort()
            }
        }
    }

    func startProcess(_ rp: RoleProcess) throws {
        do {
            try rp.start(timeout: options.timeout, scratchDir: options.workDir)
        } catch let f as FixtureFailure {
            try harness("\(rp.role) (\(rp.impl)) could not start", f.description)
        }
    }

    func cleanup() {
        if handOverProcesses && findings.isEmpty {
            // Only a clean execution hands its processes on: after a failure or a crash their
            // state is part of the evidence, and a process that cannot close is not trusted.
            for (role, rp) in roles where !rp.crashed && rp.pending == nil && rp.fixture.map({ !$0.hasExited }) == true {
                if let r = try? rp.fixture!.call("close", timeout: options.timeout), r.errorKind == nil { reuse[role] = rp }
            }
        }
        RoleProcess.stopAll(roles.filter { reuse[$0.key] !== $0.value }.values)
        // Leftover PATH.init.* files need a creator that died or a case that failed; listing
        // /dev/shm for them would cost every clean race schedule a directory scan.
        SegmentSurgery.removeSegment(
            segmentPath, leftovers: !findings.isEmpty || roles.values.contains(where: { $0.crashed || $0.pids.count > 1 }))
    }

    /// Records a harness finding (a fixture that crashed, hung or answered garbage) and unwinds
    /// the case: nothing after it would be meaningful.
    func harness(_ summary: String, _ details: String) throws -> Never {
        addFinding(Finding(kind: .harness, summary: summary, details: details))
        throw Abort()
    }

    func conformance(_ summary: String, _ details: String, event: UInt64? = nil) {
        addFinding(Finding(kind: .conformance, summary: summary, details: details, event: event))
    }

    /// Findings come from the parallel roles' threads too, hence their own lock (`lock` may
    /// already be held by the caller).
    func addFinding(_ f: Finding) {
        findingsLock.lock()
        findings.append(f)
        findingsLock.unlock()
    }

    // MARK: - sequential parts

    func runSequential(_ steps: [Step], part: String) throws {
        for step in steps {
            switch step {
            case .operation(let o):
                let outcome = try perform(o, inParallel: false)
                evaluate(o, outcome)
            case .control(let c):
                try control(c)
                timeline.append(.init(lane: "orchestrator", kind: .note, label: log.lines.last.map { String($0.drop { $0 != " " }.dropFirst()) } ?? "", t: MonotonicClock.now()))
            }
            try checkInvariants(after: step)
            if findings.contains(where: { $0.kind == .conformance }) { throw Abort() }
        }
    }

    func control(_ c: ControlStep) throws {
        switch c.kind {
        case .advance(let ns):
            simNow += ns
            silentRemovalPossible = true
            guard let rp = roles.values.sorted(by: { $0.role < $1.role }).first(where: { $0.fixture != nil }),
                  let fx = rp.fixture
            else { try harness("no live process to move the clock", "advance at \(c.location) needs a live fixture") }
            let r = try call(fx, rp, "set_clock", ["now_ns": .int(Int64(bitPattern: simNow))], text: "set_clock")
            log.add("advance the simulated clock by \(Duration.nanoseconds(Int64(ns))) (via \(rp.role)) → \(r.summary)")
        case .sleep(let ns):
            usleep(useconds_t(min(ns / 1000, 60_000_000)))
            log.add("sleep \(Duration.nanoseconds(Int64(ns)))")
        case .restart(let role):
            let rp = roles[role]!
            rp.stop()
            try startProcess(rp)
            let r = try call(rp.fixture!, rp, "open", ["path": .string(segmentPath)], text: "open")
            rp.participant = r.result["participant"]?.int.map(Int.init)
            if let p = rp.participant { rp.participants.append(p) }
            log.add("restart \(role) (\(rp.impl)): new pid \(rp.pids.last!), open → \(r.summary)")
            if !r.isOK { conformance("\(role) could not reopen the segment", "open after restart: \(r.summary) \(r.message ?? "")") }
        case .crash(let role):
            let rp = roles[role]!
            rp.fixture?.crash()
            rp.fixture = nil
            rp.crashed = true
            if let p = rp.pending {
                // Killed inside a paused operation: its outcome is unknown, and the transitions
                // it made before the pause were never reported.
                noteHistory(p.step, nil, rp: rp, call: p.callAt, ret: MonotonicClock.now())
                rp.pending = nil
                if let id = rp.participant { checker.participantDied(id) }
            }
            log.add("crash \(role) (\(rp.impl)) with SIGKILL")
        case .start(let role):
            let rp = roles[role]!
            try startProcess(rp)
            let r = try call(rp.fixture!, rp, "open", ["path": .string(segmentPath)], text: "open")
            rp.participant = r.result["participant"]?.int.map(Int.init)
            if let p = rp.participant { rp.participants.append(p) }
            log.add("start \(role) (\(rp.impl)) again: pid \(rp.pids.last!), open → \(r.summary)")
        case .corrupt(let key):
            switch SegmentSurgery.corruptValue(path: segmentPath, key: key) {
            case .success(let whereDamaged):
                corrupted.insert(whereDamaged.components(separatedBy: " record").first ?? whereDamaged)
                // To the sequential model, damaging the value is removing the entry: from now on
                // a correct reader must miss it.
                let t = MonotonicClock.now()
                history.append(CacheOperation(clientId: scenario.roles.count, input: .invalidate(key: key), call: t,
                                              output: .removed(true), returnAt: t + 1))
                log.add("corrupt the value of \(ScenarioValue.render(key)) (\(whereDamaged))")
            case .failure(let e):
                try harness("cannot corrupt \(ScenarioValue.render(key)) at \(c.location)", e.description)
            }
        case .check(let check):
            switch check {
            case .createdOnce(let op):
                let created = parallelResults.filter { $0.op == op && $0.response?.result["created"]?.bool == true }.count
                log.add("check: exactly one \(op.rawValue) created the segment → \(created) did")
                if created != 1 {
                    conformance("\(created) processes created the segment, expected exactly 1",
                                "PROTOCOL.md §4.1: two processes racing to create one segment end with exactly one "
                                + "valid segment and both use it; here \(created) of the parallel \(op.rawValue) calls answered created=true.")
                }
            }
        }
    }

    // MARK: - the parallel part

    func runParallel() throws {
        let lists = scenario.parallel.filter { !$0.steps.isEmpty }
        log.add("parallel part begins: " + lists.map { "\($0.role) × \($0.steps.count)" }.joined(separator: ", "))
        let group = DispatchGroup()
        let errors = ErrorBox()
        for list in lists {
            group.enter()
            let t = Thread { [unowned self] in
                defer { group.leave() }
                do {
                    for step in list.steps {
                        switch step {
                        case .operation(let o):
                            let outcome = try perform(o, inParallel: true)
                            lock.lock()
                            parallelResults.append((o.op, outcome.response))
                            evaluate(o, outcome)
                            lock.unlock()
                        case .control(let c):
                            if case .sleep(let ns) = c.kind { usleep(useconds_t(min(ns / 1000, 60_000_000))) }
                        }
                    }
                } catch {
                    errors.add(error)
                }
            }
            t.start()
        }
        group.wait()
        log.add("parallel part ends")
        if let e = errors.first { throw e }
        try checkInvariants(after: nil)
        if findings.contains(where: { $0.kind == .conformance }) { throw Abort() }
    }

    // MARK: - operations

    func call(_ fx: FixtureProcess, _ rp: RoleProcess, _ op: String, _ args: JSON, text: String) throws -> DriverResponse {
        do {
            let r = try fx.call(op, args)
            if let kind = r.errorKind {
                if kind == "unsupported" {
                    addFinding(Finding(kind: .skip, summary: "\(rp.impl) does not support \(text)", details: r.message ?? ""))
                    throw Abort()
                }
                try harness("\(rp.role) (\(rp.impl)) answered \(text) with error(\(kind))", r.message ?? "")
            }
            record(r.transitions, reporter: rp.participant)
            queueAudit(op: op, step: nil, r, rp: rp)
            return r
        } catch let f as FixtureFailure {
            try harness("fixture \(rp.impl) playing \(rp.role) failed during \(text)", f.description)
        }
    }

    var laneNames: [String] { scenario.roles.map(lane) }

    func lane(_ role: String) -> String { "\(role) (\(roles[role]?.impl ?? "?"))" }

    func record(_ transitions: [JSON], reporter: Int?, lane: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        let now = MonotonicClock.now()
        for t in transitions {
            if let lane {
                let label = "\(t["event"]?.string ?? "?") \(t["from"]?.string ?? "?")→\(t["to"]?.string ?? "?") shard \(t["shard"]?.int ?? 0) slot \(t["slot"]?.int ?? 0) seq \(t["seq"]?.int ?? 0)"
                timeline.append(.init(lane: lane, kind: .transition, label: label, t: now))
            }
            checker.observe(ObservedTransition(driverJSON: t), reporter: reporter)
        }
    }

    func arguments(_ o: OperationStep) -> JSON {
        var a: [String: JSON] = [:]
        let g = o.geometry(over: scenario.geometry)
        switch o.op {
        case .create, .openOrCreate, .open:
            a["path"] = .string(segmentPath)
            if o.op != .open {
                a["geometry"] = DriverArguments.geometry(g)
                if case .simulated(let start) = scenario.clock { a["sim_clock_ns"] = .int(Int64(bitPattern: start)) }
                if o.group { a["group"] = true }
            }
        case .get, .invalidate, .evict:
            a["key_hex"] = .string(Hex.encode(o.key ?? []))
        case .put, .refresh:
            a["key_hex"] = .string(Hex.encode(o.key ?? []))
            a["value_hex"] = .string(Hex.encode(o.value ?? []))
            if let t = o.ttlNs { a["ttl_ns"] = .int(Int64(bitPattern: t)) }
            if let t = o.graceNs { a["grace_ns"] = .int(Int64(bitPattern: t)) }
            if let t = o.origin { a["origin_tag"] = .int(Int64(bitPattern: t)) }
            if let t = o.version { a["version"] = .int(Int64(bitPattern: t)) }
        case .wait:
            let rp = roles[o.role]!
            let seen = o.seen ?? rp.rememberedGeneration ?? 0
            a["seen"] = .int(Int64(bitPattern: seen))
            a["timeout_ms"] = .int(Int64((o.timeoutNs ?? 5_000_000_000) / 1_000_000))
        case .close, .stats, .generation, .resume:
            break
        }
        if let c = o.crashAt { a["crash_at"] = .string(c) }
        if let p = o.pauseAt { a["pause_at"] = .string(p) }
        return .object(a)
    }

    /// What became of one operation step.
    enum StepOutcome {
        case answered(DriverResponse)
        /// The fixture died at the step's `crash_at` point, as asked: the outcome is unknown.
        case died
        /// The operation stopped at its `pause_at` point; a later `resume` step finishes it.
        case paused(String)

        var response: DriverResponse? { if case .answered(let r) = self { return r }; return nil }
    }

    /// Sends one operation step (or resumes a paused one) and records what it did.
    func perform(_ o: OperationStep, inParallel: Bool) throws -> StepOutcome {
        let rp = roles[o.role]!
        guard let fx = rp.fixture else {
            try harness("\(o.role) has no running process at \(o.location)", "the scenario uses \(o.role) after it crashed; add `start: \(o.role)`")
        }
        // A resume finishes the operation that paused earlier: the history keeps that
        // operation's call time, so its interval spans everything that happened meanwhile.
        let step = o.op == .resume ? rp.pending?.step : o
        guard let step else { try harness("\(o.role) has nothing to resume at \(o.location)", "no paused operation") }
        let callAt = o.op == .resume ? rp.pending!.callAt : MonotonicClock.now()
        lock.lock()
        timeline.append(.init(lane: lane(o.role), kind: o.op == .resume ? .resume : .call, label: o.text, t: MonotonicClock.now()))
        lock.unlock()
        if o.op == .resume, let early = rp.pending?.finishedEarly {
            // The operation finished without reaching its pause point; its answer was kept for
            // this step, which then sends nothing (docs/SCENARIOS.md, controlled interleavings).
            rp.pending = nil
            lock.lock()
            defer { lock.unlock() }
            log.add("\(o.role) (\(rp.impl)) resume → \(describe(step, early)) (it had finished without pausing)")
            return .answered(early)
        }
        let text = "\(o.role) (\(rp.impl)) \(o.text)"
        var outcome: StepOutcome
        do {
            // A `wait` may legitimately take its whole timeout before answering.
            let extra = step.op == .wait ? Double(step.timeoutNs ?? 5_000_000_000) / 1e9 : 0
            let result: FixtureProcess.CallResult
            if o.op == .resume {
                result = try fx.resume(rp.pending!.id, timeout: options.timeout + extra)
                rp.pending = nil
            } else {
                result = try fx.start(o.op.rawValue, arguments(o), timeout: options.timeout + extra)
            }
            switch result {
            case .paused(let point, let id):
                guard o.op != .resume else { try harness("\(text) paused a second time at \(point)", "each request pauses at most once (docs/DRIVER.md)") }
                guard o.pauseAt != nil else {
                    try harness("\(text) answered paused at \(point) although the request named no pause point",
                                "a contract violation by the fixture (docs/DRIVER.md: only a request with pause_at pauses), not a verdict")
                }
                rp.pending = RoleProcess.Pending(step: o, id: id, callAt: callAt, finishedEarly: nil)
                outcome = .paused(point)
            case .response(let r):
                if let kind = r.errorKind {
                    if kind == "unsupported" {
                        addFinding(Finding(kind: .skip, summary: "\(rp.impl) does not support \(o.text)", details: r.message ?? ""))
                        throw Abort()
                    }
                    try harness("\(text) answered error(\(kind)) at \(o.location)", r.message ?? "")
                }
                record(r.transitions, reporter: rp.participant, lane: lane(o.role))
                outcome = .answered(r)
                if o.pauseAt != nil && !o.expect.contains(.paused) {
                    rp.pending = RoleProcess.Pending(step: o, id: id(of: r), callAt: callAt, finishedEarly: r)
                }
            }
        } catch let f as FixtureFailure {
            guard step.crashAt != nil, case .exited = f else {
                try harness("fixture \(rp.impl) playing \(o.role) failed during `\(o.text)` (\(o.location))", f.description)
            }
            // The fixture killed itself at the pause point, as asked: the outcome is unknown, and
            // the transitions it made before dying were never reported.
            rp.fixture = nil
            rp.crashed = true
            rp.pending = nil
            if let p = rp.participant { lock.lock(); checker.participantDied(p); lock.unlock() }
            outcome = .died
        }
        let returnAt = MonotonicClock.now()
        rp.lastDurationNs = returnAt - callAt
        lock.lock()
        defer { lock.unlock() }
        if case .paused(let point) = outcome {
            log.add("\(text) → paused at \(point)")
            timeline.append(.init(lane: lane(o.role), kind: .pause, label: point, t: returnAt))
            return outcome
        }
        if case .died = outcome { timeline.append(.init(lane: lane(o.role), kind: .died, label: "killed at \(step.crashAt ?? "?")", t: returnAt)) }
        if let r = outcome.response { timeline.append(.init(lane: lane(o.role), kind: .returned, label: describe(step, r), t: returnAt)) }
        let r = outcome.response
        if let r, step.op == .create || step.op == .open || step.op == .openOrCreate {
            rp.participant = r.result["participant"]?.int.map(Int.init)
            if let p = rp.participant { rp.participants.append(p) }
        }
        if let r, step.op == .generation { rp.rememberedGeneration = r.result["generation"]?.uint }
        log.add("\(text)\(inParallel ? " [parallel]" : "") → \(describe(step, r))")
        noteHistory(step, r, rp: rp, call: callAt, ret: returnAt)
        return outcome
    }

    func id(of r: DriverResponse) -> Int64 { r.raw["id"]?.int ?? 0 }

    func describe(_ o: OperationStep, _ r: DriverResponse?) -> String {
        guard let r else { return "process died at \(o.crashAt ?? "?") (outcome unknown)" }
        var s = r.summary
        let res = r.result
        switch o.op {
        case .get:
            if res["hit"]?.bool == true {
                s += " hit\(res["stale"]?.bool == true ? " (stale)" : "") value=\(ScenarioValue.render(Hex.decode(res["value_hex"]?.string ?? "") ?? [])) version=\(res["version"]?.int ?? 0)"
                if res["refresh_requested"]?.bool == true { s += " refresh_requested" }
            } else if r.isOK { s += " miss" }
        case .put, .refresh:
            if r.isOK { s += " version=\(res["version"]?.int ?? 0)\(res["created"]?.bool == true ? " created" : "")" }
        case .invalidate, .evict:
            if r.isOK { s += res["removed"]?.bool == true ? " removed" : " nothing removed" }
        case .wait:
            if r.isOK { s += res["timed_out"]?.bool == true ? " timed out" : " woken (generation \(res["generation"]?.int ?? 0))" }
        case .openOrCreate:
            if r.isOK { s += res["created"]?.bool == true ? " created" : " opened" }
        default: break
        }
        return s
    }
}

/// The first error of any parallel role; the lists run on their own threads.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func add(_ e: Error) { lock.lock(); errors.append(e); lock.unlock() }
    var first: Error? { lock.lock(); defer { lock.unlock() }; return errors.first }
}
