#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Harness) import Warmcache
import WarmcheckSegment
import WarmcheckScenario

/// What a controlled race costs (issue: races on demand): one scheduler step against a bare pipe
/// ping-pong, schedules explored per second on a real scenario, and where a schedule's time goes.
public enum RaceBench {
    public struct Stat: Sendable {
        public var p50: Double, p99: Double, mean: Double
        init(_ xs: [Double]) {
            let p = DriverBench.percentiles(xs)
            (p50, p99, mean) = (p.p50, p.p99, p.mean)
        }
    }

    // MARK: - one controlled step

    public struct StepFigures: Sendable {
        /// µs of one `resume` round trip (to the next pause notification or to the response).
        public var step: Stat
        /// The same, split: resumes answered by the next pause / by the operation's response
        /// (which carries the result and the traced transitions).
        public var toPause: Stat, toResponse: Stat
        /// µs of a bare `fixture echo` round trip of a pause-notification-sized line.
        public var echo: Stat
        /// Steps (start + resumes) one `refresh` / one `get` takes in step mode.
        public var refreshSteps: Int, getSteps: Int
        /// µs the orchestrator itself spends on the JSON of one step (serialize the resume,
        /// parse the answer): for a pause line and for a traced `refresh` response.
        public var jsonPause: Double, jsonResponse: Double
        public var ratio: Double { step.mean / echo.mean }
    }

    /// Times `n` resumes of `refresh` and `get` run in step mode (`pause_at: "*"`) against `n`
    /// echo round trips, interleaved in blocks of 100 so both see the same machine conditions.
    /// Both kinds run with the orchestrator and the fixtures on one CPU, as a race does
    /// (CPUPin): the step is measured as the runner takes it.
    public static func measureStep(_ spec: FixtureSpec, echo: [String], n: Int, workDir: String) throws -> StepFigures {
        try CPUPin.onOneCPU { try measurePinnedStep(spec, echo: echo, n: n, workDir: workDir) }
    }

    static func measurePinnedStep(_ spec: FixtureSpec, echo: [String], n: Int, workDir: String) throws -> StepFigures {
        let rig = try BenchRig(spec, echo: echo, workDir: workDir)
        let fx = rig.fx, ex = rig.echo, key = rig.key, value = rig.value
        let sample = #"{"id":12345,"paused":"refresh.after_payload"}"#

        var steps: [Double] = [], toPause: [Double] = [], toResponse: [Double] = [], echoes: [Double] = []
        var refreshSteps = 0, getSteps = 0
        var useRefresh = true
        var lastRefreshResponse = ""
        for _ in 0..<max(1, n / 100) {
            // Whole operations until this block has its 100 resumes; `start` steps are not
            // timed (they carry the request's arguments, a resume carries nothing).
            var block = 0
            while block < 100 {
                let op = useRefresh ? "refresh" : "get"
                var args: [String: JSON] = ["key_hex": key, "pause_at": "*"]
                if useRefresh { args["value_hex"] = value }
                var count = 1
                var r = try fx.start(op, .object(args))
                while case .paused(_, let id) = r {
                    let t0 = MonotonicClock.now()
                    r = try fx.resume(id)
                    let us = Double(MonotonicClock.now() - t0) / 1000
                    steps.append(us)
                    if case .paused = r { toPause.append(us) } else { toResponse.append(us) }
                    block += 1
                    count += 1
                }
                if case .response(let resp) = r, !resp.isOK {
                    throw FixtureFailure.garbage(fixture: spec.name, line: resp.raw.serialized,
                                                 reason: "\(op) in step mode did not succeed", stderrTail: fx.stderrTail())
                }
                if useRefresh { refreshSteps = count } else { getSteps = count }
                if useRefresh, case .response(let resp) = r { lastRefreshResponse = resp.raw.serialized }
                useRefresh.toggle()
            }
            for _ in 0..<100 {
                let t0 = MonotonicClock.now()
                _ = try ex.rawRoundTrip(sample)
                echoes.append(Double(MonotonicClock.now() - t0) / 1000)
            }
        }
        return StepFigures(step: Stat(steps), toPause: Stat(toPause), toResponse: Stat(toResponse), echo: Stat(echoes),
                           refreshSteps: refreshSteps, getSteps: getSteps,
                           jsonPause: try jsonCost(answer: sample), jsonResponse: try jsonCost(answer: lastRefreshResponse))
    }

    /// The orchestrator's share of a step without any pipe: what `FixtureProcess.resume` does
    /// around its write and read (build and serialize the request, parse the answer).
    static func jsonCost(answer: String, reps: Int = 2000) throws -> Double {
        let t0 = MonotonicClock.now()
        for i in 0..<reps {
            let line = FixtureProcess.resumeLine(id: Int64(i))
            let j = try JSON.parse(answer)
            if j["paused"] == nil { _ = try DriverResponse(j) }
            precondition(!line.isEmpty)  // uses the line, so the optimizer keeps the work
        }
        return Double(MonotonicClock.now() - t0) / 1000 / Double(reps)
    }

    // MARK: - schedules per second

    /// The scenario's case with every role played by `impl`, its race budget set to `schedules`.
    public static func raceCase(scenarioFile: String, impl: String, schedules: Int) throws -> ScenarioCase {
        let loaded = Suite.load(paths: [scenarioFile])
        guard loaded.errors.isEmpty, var s = loaded.scenarios.first, s.race != nil else {
            throw UsageError("\(scenarioFile): not a race scenario (\(loaded.errors.map { "\($0)" }.joined(separator: "; ")))")
        }
        s.race!.schedules = schedules
        guard let c = expand(s, implementations: [impl]).first else { throw UsageError("\(scenarioFile): no case for \(impl)") }
        return c
    }

    public struct ScheduleFigures: Sendable {
        public var caseName: String
        public var verdict: String, reason: String
        public var schedules: Int
        public var seconds: Double
        public var perSecond: Double { Double(schedules) / seconds }
        public var msPerSchedule: Double { seconds * 1000 / Double(schedules) }
    }

    /// Runs the case exactly as `warmcheck run` does (`RaceCase.run()`), timed from outside.
    public static func measureSchedules(_ c: ScenarioCase, options: RunOptions) -> ScheduleFigures {
        let t0 = MonotonicClock.now()
        let r = RaceCase(c, options: options).run()
        let s = Double(MonotonicClock.now() - t0) / 1e9
        return ScheduleFigures(caseName: c.name, verdict: r.verdict.rawValue, reason: r.reason,
                               schedules: r.stats["schedules"] ?? 0, seconds: s)
    }

    // MARK: - where a schedule's time goes

    public struct Breakdown: Sendable {
        public var executions = 0
        /// Race steps (scheduler choices) per execution.
        public var steps = 0
        /// Mean ms per execution of each CaseRunner phase, in the order `run()` calls them.
        public var phases: [(name: String, ms: Double)] = []
        /// Mean µs of the primitives those phases are made of, timed on their own.
        public var primitives: [(name: String, us: Double)] = []
    }

    /// Calls CaseRunner's phases one by one, as `CaseRunner.run()` does (prepare, init, race,
    /// final, checks, cleanup) and with processes reused between executions as `RaceCase` does,
    /// timing each: this keeps CaseRunner untouched at the price of
    /// mirroring its order here. If `run()` gains a phase, this breakdown must follow.
    public static func breakdown(_ c: ScenarioCase, options: RunOptions, executions: Int) throws -> Breakdown {
        try CPUPin.onOneCPU { try pinnedBreakdown(c, options: options, executions: executions) }
    }

    static func pinnedBreakdown(_ c: ScenarioCase, options: RunOptions, executions: Int) throws -> Breakdown {
        let scenario = c.scenario, race = scenario.race!
        var sched = RecordingScheduler(makeScheduler(strategy: race.strategy, seed: options.seed, schedules: executions,
                                                     depth: race.depth, preemptions: race.preemptions))
        let names = ["processes (prepare: reused, or spawn + hello)", "init steps + invariant checks", "race steps + invariant check",
                     "final steps + invariant check", "coverage/transitions/linearizability", "close segments + unlink (cleanup)"]
        var sums = [Double](repeating: 0, count: names.count)
        var out = Breakdown()
        // Processes pass from one execution to the next, as in RaceCase.
        var processes: [String: RoleProcess] = [:]
        defer { RoleProcess.stopAll(processes.values) }
        while out.executions < executions && sched.newExecution() {
            let runner = CaseRunner(c, options: options)
            runner.scheduler = sched
            runner.reuse = processes
            runner.handOverProcesses = true
            var t = MonotonicClock.now()
            func lap(_ i: Int) {
                let now = MonotonicClock.now()
                sums[i] += Double(now - t) / 1e6
                t = now
            }
            do {
                try runner.prepare(); lap(0)
                try runner.runSequential(scenario.initSteps, part: "init"); lap(1)
                if scenario.hasParallelPart { try runner.runParallel() }
                try runner.runRace(race); lap(2)
                try runner.runSequential(scenario.finalSteps, part: "final"); lap(3)
                runner.checkCoverage()
                runner.checkTransitions()
                runner.checkLinearizability(); lap(4)
            } catch {
                runner.cleanup()
                throw UsageError("breakdown execution \(out.executions + 1) of \(c.name) stopped: "
                                 + (runner.findings.first?.summary ?? "\(error)"))
            }
            runner.cleanup(); lap(5)
            processes = runner.reuse
            sched = runner.scheduler!
            out.steps = sched.choices.count
            out.executions += 1
        }
        out.phases = zip(names, sums).map { ($0, $1 / Double(max(out.executions, 1))) }
        out.primitives = try primitives(c, options: options, reps: executions)
        return out
    }

    /// The building blocks, each timed alone on the case's first implementation: starting a
    /// fixture and saying hello, `create`, `open` by a second process, warmcheck's own invariant
    /// read of the segment, and stopping both fixtures (close stdin, wait for the exit).
    static func primitives(_ c: ScenarioCase, options: RunOptions, reps: Int) throws -> [(name: String, us: Double)] {
        guard let spec = options.fixtures[c.assignments[0].implementation] else { throw UsageError("no fixture for \(c.name)") }
        let geometry = DriverArguments.geometry(c.scenario.geometry)
        let path = (options.workDir as NSString).appendingPathComponent("wc-racebench-prim-\(getpid()).seg")
        var sums = [Double](repeating: 0, count: 5)
        func timed<T>(_ i: Int, _ f: () throws -> T) rethrows -> T {
            let t0 = MonotonicClock.now()
            defer { sums[i] += Double(MonotonicClock.now() - t0) / 1000 }
            return try f()
        }
        for _ in 0..<reps {
            unlink(path)
            defer { unlink(path) }
            let w = try timed(0) { () throws -> FixtureProcess in
                let f = try FixtureProcess(spec: spec, timeout: options.timeout, scratchDir: options.workDir)
                _ = try f.sayHello()
                return f
            }
            let r = try FixtureProcess(spec: spec, timeout: options.timeout, scratchDir: options.workDir)
            _ = try r.sayHello()
            try timed(1) { _ = try w.call("create", ["path": .string(path), "geometry": geometry]) }
            try timed(2) { _ = try r.call("open", ["path": .string(path)]) }
            timed(3) {
                // What CaseRunner.checkInvariants reads: the decoder's snapshot, its problems.
                if case .success(let snap) = SegmentSnapshot.read(path: path) { _ = snap.problems }
            }
            // Both, one after the other, as CaseRunner.cleanup() does.
            timed(4) {
                w.stop()
                r.stop()
            }
        }
        let names = ["spawn + hello, one process", "create", "open (second process)",
                     "invariant read of the segment (inspect + state words)", "stop two processes"]
        return zip(names, sums).map { ($0, $1 / Double(max(reps, 1))) }
    }
}
