#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
@_spi(Harness) import Warmcache
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
    /// Deaths by `--kill-inside` (fixtures that SIGKILLed themselves at a pause point; counted
    /// in `kills` too) and what recovering from each took.
    public var insideKills: [InsideKill] = []
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
        if o.killInsidePPM > 0 {
            do { try shared.startProbers() } catch {
                run.harnessError = "\(error)"
                workers.forEach { $0.fx = nil }
                return run
            }
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
        for p in shared.probers { p.fx = nil }

        run.inspection = SegmentInspector.inspect(path: path)
        run.decoded = SegmentSnapshot.read(path: path)
        run.finalStateWords = SegmentSurgery.stateWords(path: path)
        run.harnessError = shared.error
        run.kills = shared.kills
        run.killsAfterResponse = shared.killsAfterResponse
        run.diedParticipants = shared.died
        run.processes = shared.processes
        run.untraced = shared.untraced
        run.insideKills = shared.insideKills
        for w in workers + shared.probers {
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
        /// Serialises the worker threads that share a prober (a prober is one client).
        let busy = NSLock()

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
        /// One process per implementation that writes a dead process's key right after the
        /// death (`--kill-inside`): recovery by another implementation, timed.
        var probers: [Worker] = []
        var insideKills: [InsideKill] = []

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
            fx.settleStderrOnExit = o.killInsidePPM == 0
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
                if o.killInsidePPM > 0 {
                    args["crash_chance_ppm"] = .int(Int64(o.killInsidePPM))
                    args["crash_seed"] = .int(Int64(w.rng.next() >> 1))
                }
                var diedAt: String?
                var response: DriverResponse?
                var killer: Killer?
                if kill { killer = Killer(pid: fx.pid, delayNs: 1_000 + w.rng.next() % 20_000) }
                let call = MonotonicClock.now()
                do {
                    killer?.fire()
                    response = try fx.call(op.rawValue, .object(args))
                } catch let f as FixtureFailure {
                    if !kill, o.killInsidePPM > 0, fx.diedOfSIGKILL {
                        diedAt = "?"  // the point is read from stderr once it has settled
                    } else if !kill {
                        harness("\(w.spec.name) (pid \(fx.pid)) failed during \(op.rawValue) \(Hex.encode(key)): \(f)")
                        return
                    }
                } catch {
                    harness("\(w.spec.name) (pid \(fx.pid)): \(error)")
                    return
                }
                let ret = MonotonicClock.now()
                killer?.join()
                guard record(w, op: op, key: key, value: value, call: call, ret: ret, response: response,
                             killed: kill || diedAt != nil) else { return }
                if diedAt != nil {
                    guard recoverFromInsideKill(w, fx, op: op, key: key) else { return }
                    continue
                }
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

        /// Records one answered (or unanswered: `response` nil) operation of `w`; false after a
        /// harness error (an `error` answer, or one the driver contract refuses).
        func record(_ w: Worker, op: StressOp, key: [UInt8], value: [UInt8]?, call: UInt64, ret: UInt64,
                    response: DriverResponse?, killed: Bool) -> Bool {
            if let r = response, let kind = r.errorKind {
                harness("\(w.spec.name) (pid \(w.fx?.pid ?? 0)) answered \(op.rawValue) with error(\(kind)): \(r.message ?? "")")
                return false
            }
            if let r = response {
                do { _ = try DriverAnswer.decode(r, op: op.rawValue, fixture: w.spec.name) } catch { harness("\(error)"); return false }
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
                                      output: output, outcome: StressRunner.describe(response, output), killed: killed,
                                      created: response?.result["created"]?.bool,
                                      refreshRequested: response?.result["refresh_requested"]?.bool,
                                      writer: response.flatMap { HistoryFile.Writer(driverJSON: $0.result["writer"]) }))
            return true
        }

        /// The point a fixture that died by `crash_chance` named on stderr (DRIVER.md "Crashing
        /// by chance"), nil if it died any other way (then the death is a harness error).
        static func chancePoint(_ fx: FixtureProcess) -> String? {
            guard fx.diedOfSIGKILL else { return nil }
            let marker = "crash_chance: SIGKILL at "
            guard let line = fx.settledStderrTail(within: 0.5).split(separator: "\n").last(where: { $0.hasPrefix(marker) }) else { return nil }
            return String(line.dropFirst(marker.count))
        }

        /// The probers: one process per implementation, opened after the workers, that never die.
        func startProbers() throws {
            var seen: Set<String> = []
            for spec in o.fixtures where seen.insert(spec.name).inserted {
                let p = Worker(index: o.processes + probers.count, spec: spec, seed: o.seed)
                try startIncarnation(p, create: false)
                probers.append(p)
            }
        }

        /// After `w`'s process died by `crash_chance` at `point` inside `op` of `key`: read what
        /// it held, have another implementation write the key (timed from the death), start the
        /// replacement and time until every claim the dead held is taken back.
        func recoverFromInsideKill(_ w: Worker, _ fx: FixtureProcess, op: StressOp, key: [UInt8]) -> Bool {
            let death = fx.eofAt ?? MonotonicClock.now()
            let claims = w.participant.map { DeadClaims.of(owner: $0, path: path) } ?? []
            lock.lock()
            kills += 1
            processes[w.incarnation].killed = true
            if let p = w.participant { died.append(p) }
            lock.unlock()
            var k = InsideKill(implementation: w.spec.name, point: "?", op: op, key: key, claims: claims)
            // Another implementation when there is one: recovery across languages is the point.
            let names = probers.map(\.spec.name)
            let start = names.firstIndex(of: w.spec.name).map { ($0 + 1) % names.count } ?? 0
            if let prober = probers.isEmpty ? nil : probers[start] {
                k.prober = prober.spec.name
                guard let t = probe(prober, key: key, death: death) else { return false }
                k.writableNs = t
            }
            // Only now (the timed part is over) wait for the dead's stderr to name its point.
            guard let point = Self.chancePoint(fx) else {
                harness("\(w.spec.name) (pid \(fx.pid)) died of SIGKILL during \(op.rawValue) without naming a crash_chance point:\n\(fx.stderrTail())")
                return false
            }
            k.point = point
            fx.crash()
            w.fx = nil
            do {
                try startIncarnation(w, create: false)
            } catch {
                harness("replacement for \(w.spec.name) in slot \(w.index) could not start: \(error)")
                return false
            }
            // The replacement's registration sweep takes back what its index's predecessor held;
            // another index's claims wait for whoever meets them (PROTOCOL.md §5, §9.8).
            let until = MonotonicClock.now() + 1_000_000_000
            var left = DeadClaims.outstanding(claims, path: path)
            while !left.isEmpty && MonotonicClock.now() < until {
                usleep(200)
                left = DeadClaims.outstanding(left, path: path)
            }
            if left.isEmpty { k.reclaimedNs = MonotonicClock.now() - death } else { k.leaked = left }
            lock.lock()
            insideKills.append(k)
            lock.unlock()
            return true
        }

        /// Puts `key` through `prober` until a put answers ok (busy answers retry, for at most
        /// 2 s): the time from `death` to that answer, or nil after a harness error. A key still
        /// refused after 2 s is reported as never writable (UInt64.max).
        func probe(_ prober: Worker, key: [UInt8], death: UInt64) -> UInt64? {
            prober.busy.lock()
            defer { prober.busy.unlock() }
            guard let fx = prober.fx else { return nil }
            let until = MonotonicClock.now() + 2_000_000_000
            while true {
                let value = makeValue(prober)
                let call = MonotonicClock.now()
                let r: DriverResponse
                do {
                    r = try fx.call("put", .object(["key_hex": .string(Hex.encode(key)), "value_hex": .string(Hex.encode(value))]))
                } catch {
                    harness("prober \(prober.spec.name) (pid \(fx.pid)): \(error)")
                    return nil
                }
                let ret = MonotonicClock.now()
                guard record(prober, op: .put, key: key, value: value, call: call, ret: ret, response: r, killed: false) else { return nil }
                if r.isOK { return ret - death }
                if ret >= until { return UInt64.max }
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
