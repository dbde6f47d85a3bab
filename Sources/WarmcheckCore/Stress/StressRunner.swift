#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Warmcache
import WarmcheckSegment
import WarmcheckModel

/// One operation as it was issued, for the step log and the replay scenario.
public struct StressStep: Sendable {
    /// The process incarnation (= the history's clientId = role `p<process>` of the replay).
    public var process: Int
    /// The worker thread (process slot) that drove it; replacements keep their slot.
    public var worker: Int
    public var implementation: String
    public var op: StressOp
    public var key: [UInt8]
    public var value: [UInt8]?
    public var call: UInt64
    /// nil when the outcome is unknown.
    public var ret: UInt64?
    public var output: CacheOutput
    /// The response as the driver summarises it: `ok`, `fail(busy)`, `unknown (killed)`.
    public var outcome: String
    /// This operation was the one in flight when its process was killed.
    public var killed: Bool
    /// What else the answer said (DRIVER.md): a write's `created`, a hit's `refresh_requested`
    /// and who wrote the record it read.
    public var created: Bool? = nil
    public var refreshRequested: Bool? = nil
    public var writer: HistoryFile.Writer? = nil
}

/// One fixture process of the run (a replacement is a new one).
public struct StressProcessInfo: Sendable {
    public var index: Int
    public var worker: Int
    public var implementation: String
    public var pid: Int32
    public var participant: Int?
    public var killed: Bool
}

/// Everything a stress run recorded; judged afterwards by `StressCheck.evaluate`.
public struct StressRun: Sendable {
    public var options: StressOptions
    public var history: [CacheOperation] = []
    public var steps: [StressStep] = []
    public var processes: [StressProcessInfo] = []
    public var transitions: [(transition: ObservedTransition, reporter: Int?)] = []
    /// Participant ids of processes killed in the middle of an operation.
    public var diedParticipants: [Int] = []
    /// Every slot's state word, read after the last process stopped.
    public var finalStateWords: [(shard: Int, slot: Int, word: UInt64)] = []
    /// Implementations whose hello did not promise transitions: the transition check is left
    /// out (and says so) rather than blaming them for changes nobody reported.
    public var untraced: Set<String> = []
    public var inspection: InspectionReport?
    /// The final segment as warmcheck's own decoder reads it: what the invariants are judged on.
    public var decoded: Result<SegmentSnapshot, OpenRefusal>?
    public var geometry: Geometry
    public var simClockNs: UInt64
    /// Seconds spent issuing operations (first call to last return).
    public var elapsed: Double = 0
    public var kills = 0
    /// Kills whose operation had already answered (the process died idle, right after).
    public var killsAfterResponse = 0
    /// Set when the harness could not do its job (a fixture that crashed on its own, hung,
    /// answered `error`): no verdict is then given.
    public var harnessError: String?

    public var segmentPath = ""
    /// The counters the answers imply (unknown outcomes widen the range).
    var accounting = Accounting()
}

/// Drives fixture processes with random operations over one segment (`warmcheck stress`).
public enum StressRunner {
    public static let simClockStart: UInt64 = 1_000 * 1_000_000_000

    /// A geometry with room for every key (a window never fills, so nothing is evicted), values
    /// up to the largest size asked for, and participants for every process plus replacements.
    public static func geometry(for o: StressOptions) -> Geometry {
        let shards: UInt32 = 4
        var slots: UInt32 = 64
        while Int(slots) * Int(shards) < o.keys * 8 && slots < 65536 { slots *= 2 }
        let keyCap = UInt32(max(32, (keyBytes(o.keys - 1).count + 7) / 8 * 8))
        let valueCap = UInt32(max(8, (o.valueSize.upperBound + 7) / 8 * 8))
        return Geometry(shardCount: shards, slotsPerShard: slots, keyCapacity: keyCap, valueCapacity: valueCap,
                        probeWindow: min(16, slots), participantCapacity: UInt32(min(4096, o.processes * 2 + 16)))
    }

    /// Key `i` of the run: `k0`, `k1`, …
    public static func keyBytes(_ i: Int) -> [UInt8] { Array("k\(i)".utf8) }

    public static func run(_ o: StressOptions, progress: @escaping @Sendable (String) -> Void = { _ in }) -> StressRun {
        // A killed fixture's stdin is a broken pipe: the write must fail, not kill warmcheck.
        signal(SIGPIPE, SIG_IGN)
        let geometry = geometry(for: o)
        let path = (o.workDir as NSString).appendingPathComponent(
            "warmcheck-stress-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).seg")
        let shared = Shared(options: o, geometry: geometry, path: path)
        var run = StressRun(options: o, geometry: geometry, simClockNs: simClockStart)
        run.segmentPath = path
        defer { SegmentSurgery.removeSegment(path) }

        // Start every process; the first creates the segment, the others open it.
        var workers: [Worker] = []
        do {
            for w in 0..<o.processes {
                let worker = Worker(index: w, spec: o.fixtures[w % o.fixtures.count], seed: o.seed)
                workers.append(worker)
                try shared.startIncarnation(worker, create: w == 0)
            }
        } catch {
            run.harnessError = "\(error)"
            workers.forEach { $0.fx = nil }
            return run
        }
        progress("segment \(path): \(geometry.shardCount) shards × \(geometry.slotsPerShard) slots, window \(geometry.probeWindow), "
                 + "value_capacity \(geometry.valueCapacity); \(o.processes) processes: "
                 + workers.map { "\($0.spec.name) pid \($0.fx?.pid ?? 0)" }.joined(separator: ", "))

        let started = MonotonicClock.now()
        shared.deadline = o.operations == nil ? started + UInt64(o.duration * 1e9) : UInt64.max
        let group = DispatchGroup()
        for worker in workers {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                shared.drive(worker)
            }
            t.stackSize = 1 << 20
            t.start()
        }
        group.wait()
        run.elapsed = Double(MonotonicClock.now() - started) / 1e9

        // Polite stop: every process closes its handle (nothing is left claimed by a live owner).
        for w in workers { w.fx = nil }

        run.inspection = SegmentInspector.inspect(path: path)
        run.decoded = SegmentSnapshot.read(path: path)
        run.finalStateWords = SegmentSurgery.stateWords(path: path)
        run.harnessError = shared.error
        run.kills = shared.kills
        run.killsAfterResponse = shared.killsAfterResponse
        run.diedParticipants = shared.died
        run.processes = shared.processes
        run.untraced = shared.untraced
        for w in workers {
            run.history += w.history
            run.steps += w.steps
            run.transitions += w.transitions
            run.accounting = run.accounting + w.accounting
        }
        let order = run.steps.indices.sorted { run.steps[$0].call < run.steps[$1].call }
        run.steps = order.map { run.steps[$0] }
        run.history = order.map { run.history[$0] }
        return run
    }

    static func output(_ op: StressOp, _ r: DriverResponse?) -> CacheOutput {
        DriverResponse.cacheOutput(r, op: op.rawValue)
    }

    /// `ok hit v3`, `ok miss`, `ok v7`, `ok removed`, `fail(busy)`, `unknown (killed)`.
    static func describe(_ r: DriverResponse?, _ output: CacheOutput) -> String {
        guard let r else { return "unknown (killed)" }
        switch output {
        case .hit(_, let v, let stale): return "ok hit\(stale ? " stale" : "") v\(v)"
        case .miss: return "ok miss"
        case .ok(let v): return "ok v\(v)"
        case .removed(let b): return b ? "ok removed" : "ok not removed"
        default: return r.summary
        }
    }

    // MARK: - the moving parts

    /// One process slot: its thread, its generator and its current process.
    final class Worker: @unchecked Sendable {
        let index: Int
        let spec: FixtureSpec
        var rng: SplitMix64
        var fx: FixtureProcess?
        var incarnation = 0
        var participant: Int?
        var writes = 0
        var history: [CacheOperation] = []
        var steps: [StressStep] = []
        var transitions: [(transition: ObservedTransition, reporter: Int?)] = []
        var accounting = Accounting()

        init(index: Int, spec: FixtureSpec, seed: UInt64) {
            self.index = index
            self.spec = spec
            rng = SplitMix64.forProcess(seed: seed, index: index)
        }
    }

    final class Shared: @unchecked Sendable {
        let o: StressOptions
        let geometry: Geometry
        let path: String
        let lock = NSLock()
        var issued = 0
        var deadline = UInt64.max
        var stopped = false
        var error: String?
        var kills = 0
        var killsAfterResponse = 0
        var died: [Int] = []
        var processes: [StressProcessInfo] = []
        var untraced: Set<String> = []

        init(options: StressOptions, geometry: Geometry, path: String) {
            o = options
            self.geometry = geometry
            self.path = path
        }

        /// The number of the next operation overall, or nil when the run is over.
        func ticket() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            if stopped { return nil }
            if let n = o.operations, issued >= n { return nil }
            if MonotonicClock.now() >= deadline { return nil }
            issued += 1
            return issued
        }

        func harness(_ message: String) {
            lock.lock()
            if error == nil { error = message }
            stopped = true
            lock.unlock()
        }

        /// Starts a new process in `w`'s slot and opens (or creates) the segment.
        func startIncarnation(_ w: Worker, create: Bool) throws {
            let fx = try FixtureProcess(spec: w.spec, timeout: o.timeout, scratchDir: o.workDir)
            lock.lock()
            let index = processes.count
            processes.append(StressProcessInfo(index: index, worker: w.index, implementation: w.spec.name,
                                               pid: fx.pid, participant: nil, killed: false))
            lock.unlock()
            w.fx = fx
            w.incarnation = index
            if !Hello(try fx.sayHello()).reportsTransitions {
                lock.lock()
                untraced.insert(w.spec.name)
                lock.unlock()
            }
            var args: [String: JSON] = ["path": .string(path)]
            if create {
                args["geometry"] = DriverArguments.geometry(geometry)
                args["sim_clock_ns"] = .int(Int64(StressRunner.simClockStart))
            }
            let r = try fx.call(create ? "create" : "open", .object(args))
            guard r.isOK, let p = r.result["participant"]?.int else {
                throw UsageError("\(w.spec.name) (pid \(fx.pid)) could not \(create ? "create" : "open") the segment: \(r.summary) \(r.message ?? "")")
            }
            w.participant = Int(p)
            for t in r.transitions { w.transitions.append((StressRunner.transition(t), w.participant)) }
            lock.lock()
            processes[index].participant = Int(p)
            lock.unlock()
        }

        /// The worker thread: random operations until the run is over.
        func drive(_ w: Worker) {
            while let n = ticket() {
                guard let fx = w.fx else { return }
                let op = o.mix.pick(w.rng.next())
                let r1 = w.rng.next()
                let key = StressRunner.keyBytes(o.hotKeys > 0 ? o.pickKey(r1, w.rng.next()) : o.pickKey(r1, 0))
                var value: [UInt8]? = nil
                var args: [String: JSON] = ["key_hex": .string(Hex.encode(key))]
                if op == .put || op == .refresh {
                    let v = makeValue(w)
                    value = v
                    args["value_hex"] = .string(Hex.encode(v))
                }
                let kill = o.killEvery > 0 && n % o.killEvery == 0
                var response: DriverResponse?
                var killer: Killer?
                if kill { killer = Killer(pid: fx.pid, delayNs: 1_000 + w.rng.next() % 20_000) }
                let call = MonotonicClock.now()
                do {
                    killer?.fire()
                    response = try fx.call(op.rawValue, .object(args))
                } catch let f as FixtureFailure {
                    if !kill {
                        harness("\(w.spec.name) (pid \(fx.pid)) failed during \(op.rawValue) \(Hex.encode(key)): \(f)")
                        return
                    }
                } catch {
                    harness("\(w.spec.name) (pid \(fx.pid)): \(error)")
                    return
                }
                let ret = MonotonicClock.now()
                if let r = response, let kind = r.errorKind {
                    harness("\(w.spec.name) (pid \(fx.pid)) answered \(op.rawValue) with error(\(kind)): \(r.message ?? "")")
                    return
                }
                killer?.join()
                if let r = response {
                    do { _ = try DriverAnswer.decode(r, op: op.rawValue, fixture: w.spec.name) } catch { harness("\(error)"); return }
                }
                let output = StressRunner.output(op, response)
                w.accounting.note(op: op.rawValue, response, output: output)
                if let r = response {
                    for t in r.transitions { w.transitions.append((StressRunner.transition(t), w.participant)) }
                }
                // Every StressOp is one of the five cache operations, so there is always an input.
                // Stress writes never ask for a TTL: a stale hit is then a violation (§12).
                let input = DriverArguments.cacheInput(op: op.rawValue, key: key, value: value, version: nil, ttl: 0)!
                w.history.append(CacheOperation(clientId: w.incarnation, input: input,
                                                call: call, output: output, returnAt: output == .unknown ? nil : ret))
                w.steps.append(StressStep(process: w.incarnation, worker: w.index, implementation: w.spec.name, op: op,
                                          key: key, value: value, call: call, ret: output == .unknown ? nil : ret,
                                          output: output, outcome: StressRunner.describe(response, output), killed: kill,
                                          created: response?.result["created"]?.bool,
                                          refreshRequested: response?.result["refresh_requested"]?.bool,
                                          writer: response.flatMap { HistoryFile.Writer(driverJSON: $0.result["writer"]) }))
                guard kill else { continue }
                // The process is dead (or dying): reap it and start a replacement in this slot.
                fx.crash()
                w.fx = nil
                lock.lock()
                kills += 1
                if response != nil { killsAfterResponse += 1 }
                processes[w.incarnation].killed = true
                if response == nil, let p = w.participant { died.append(p) }
                lock.unlock()
                do {
                    try startIncarnation(w, create: false)
                } catch {
                    harness("replacement for \(w.spec.name) in slot \(w.index) could not start: \(error)")
                    return
                }
            }
        }

        /// A value of a random size in `--value-size` that starts with a tag unique to this
        /// write (slot and count), so that a read names the write it saw.
        func makeValue(_ w: Worker) -> [UInt8] {
            let span = UInt64(o.valueSize.upperBound - o.valueSize.lowerBound + 1)
            let size = o.valueSize.lowerBound + Int(w.rng.next() % span)
            w.writes += 1
            var v = Array("w\(w.index).\(w.writes).".utf8)
            while v.count < size {
                var r = w.rng.next()
                for _ in 0..<8 where v.count < size {
                    v.append(UInt8(truncatingIfNeeded: r))
                    r >>= 8
                }
            }
            return Array(v.prefix(size))
        }
    }

    static func transition(_ t: JSON) -> ObservedTransition { ObservedTransition(driverJSON: t) }

    /// SIGKILLs a process a few microseconds after `fire()`: its own thread spins (a sleep
    /// would oversleep by tens of microseconds, past the whole round trip).
    final class Killer: @unchecked Sendable {
        private let lock = NSLock()
        private var fired = false
        private let ready = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)

        init(pid: pid_t, delayNs: UInt64) {
            let t = Thread { [self] in
                ready.signal()
                while true {
                    lock.lock()
                    let f = fired
                    lock.unlock()
                    if f { break }
                }
                let until = MonotonicClock.now() + delayNs
                while MonotonicClock.now() < until {}
                kill(-pid, SIGKILL)
                done.signal()
            }
            t.start()
            ready.wait()
        }

        func fire() {
            lock.lock()
            fired = true
            lock.unlock()
        }

        func join() { done.wait() }
    }
}
