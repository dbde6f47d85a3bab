#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Harness) import Warmcache
import WarmcheckModel
import WarmcheckSegment

/// One crash point of the sweep: implementation `victim` playing `role` dies at `point`, and
/// `recoverer` (another implementation) recovers.
public struct CrashPoint: Sendable, Hashable {
    public var victim: String
    public var role: CrashRole
    public var point: String
    public var recoverer: String
    /// Sweep first: the recoverer's fresh registrant opens (its registration sweeps the dead's
    /// index, PROTOCOL.md §5) before the keeper writes the key. Otherwise the keeper meets the
    /// dead's claim first and reclaims it on its own (§9.3, §9.8).
    public var sweepFirst: Bool

    public var name: String { "\(victim) \(role.rawValue) \(point) → \(recoverer)\(sweepFirst ? " (sweep first)" : "")" }
}

/// What became of one crash point.
public struct CrashOutcome: Sendable {
    public var point: CrashPoint
    /// The victim answered instead of dying: its path did not pass the point this time.
    public var notReached = false
    /// Empty when recovered.
    public var problems: [String] = []
    /// Death (the victim's stdout at end of file) to the keeper's first `ok` write of the key.
    public var writableNs: UInt64?
    /// Where this point's wall time went.
    public var profile = CrashSweepProfile()
    public var recovered: Bool { !notReached && problems.isEmpty }
}

/// `warmcheck crashsweep`: for every role × pause point its path reaches × implementation, kill
/// the victim there and recover through every other implementation, then check what a crash must
/// never do (docs/CRASHSWEEP.md).
public final class CrashSweep: @unchecked Sendable {
    public var fixtures: [FixtureSpec]
    public var workDir: String
    public var timeout: Double = 15
    public var roles: [CrashRole] = CrashRole.allCases
    public var log: @Sendable (String) -> Void = { _ in }
    /// Crash points (and discoveries) run at once, each worker with its own keeper, opener and
    /// spares on its own segments: the points share nothing but the machine. A point is mostly
    /// waiting for pipe round trips and process starts, so two workers on two cores overlap one's
    /// waits with the other's work. 1 runs them one after another.
    public var jobs = 1
    /// Processes started ahead, one per implementation, said hello to: a victim's start (exec,
    /// runtime start-up, hello) overlaps the previous crash point instead of adding to it.
    let spares = SparePool()
    /// The last point's teardown (victim stop, segment removal), measured after its outcome.
    var lastTeardownNs: UInt64 = 0

    /// One shard of four slots, window four: every path of every role is forced (CrashRole).
    static let geometry = DriverArguments.geometry(shards: 1, slots: 4, keyCapacity: 8, valueCapacity: 32, window: 4, participants: 8)

    public init(fixtures: [FixtureSpec], workDir: String) {
        self.fixtures = fixtures
        self.workDir = workDir
    }

    // MARK: - the points

    /// Every crash point: the victim's path is walked once per (implementation, role) in step
    /// mode (`pause_at: "*"`) and each point it reaches, in order, is one crash point per
    /// recoverer. Recovery alternates between meeting the claim first and sweeping first.
    public func points() throws -> [CrashPoint] {
        var walks: [(victim: FixtureSpec, recoverers: [FixtureSpec], role: CrashRole)] = []
        for v in fixtures {
            let others = fixtures.filter { $0.name != v.name }
            for role in roles { walks.append((v, others.isEmpty ? [v] : others, role)) }
        }
        let reached = try inWorkers(walks) { w, walk in try w.discover(victim: walk.victim, keeper: walk.recoverers[0], role: walk.role) }
        var out: [CrashPoint] = []
        for (walk, points) in zip(walks, reached) {
            for (i, p) in points.enumerated() {
                for (j, r) in walk.recoverers.enumerated() {
                    out.append(CrashPoint(victim: walk.victim.name, role: walk.role, point: p, recoverer: r.name, sweepFirst: (i + j) % 2 == 1))
                }
            }
        }
        return out
    }

    func discover(victim: FixtureSpec, keeper: FixtureSpec, role: CrashRole) throws -> [String] {
        let k = try FixtureProcess(spec: keeper, timeout: timeout)
        defer { k.stop() }
        _ = try k.sayHello()
        let path = segmentPath()
        defer { SegmentSurgery.removeSegment(path) }
        var h = History()
        var unused = CrashSweepProfile()
        let v = try prepare(role, keeper: k, victimSpec: victim, path: path, history: &h, profile: &unused)
        defer { v.stop() }
        var args = victimArgs(role, path: path, keeper: k)
        args["pause_at"] = "*"
        var points: [String] = []
        var step = try v.start(role.request.op, .object(args))
        while case .paused(let point, let id) = step {
            if !points.contains(point) { points.append(point) }
            step = try v.resume(id)
        }
        if case .response(let r) = step, let kind = r.errorKind {
            throw UsageError("\(victim.name) answered \(role.request.op) for \(role.rawValue) with error(\(kind)): \(r.message ?? "")")
        }
        return points
    }

    // MARK: - one point

    struct History {
        var ops: [CacheOperation] = []
        mutating func add(_ client: Int, _ op: String, _ key: String, _ value: String?, call: UInt64, _ r: DriverResponse?) {
            guard let input = DriverArguments.cacheInput(op: op, key: Array(key.utf8), value: value.map { Array($0.utf8) },
                                                         version: nil, ttl: 0) else { return }
            ops.append(CacheOperation(clientId: client, input: input, call: call, output: DriverResponse.cacheOutput(r, op: op),
                                      returnAt: r == nil ? nil : MonotonicClock.now()))
        }
    }

    static let keeperClient = 0, victimClient = 1, openerClient = 2, predecessorClient = 3

    func segmentPath() -> String {
        (workDir as NSString).appendingPathComponent("warmcheck-crashsweep-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).seg")
    }

    /// The keeper creates the segment and writes `a`, `b`, `c` (and `d` for an evicting insert);
    /// a role that meets a dead claim gets its predecessor killed where the role says.
    func setUp(_ role: CrashRole, keeper k: FixtureProcess, path: String, history h: inout History) throws {
        let c = try k.call("create", ["path": .string(path), "geometry": Self.geometry, "sim_clock_ns": .int(1_000_000_000_000)])
        guard c.isOK else { throw UsageError("\(k.spec.name) could not create \(path): \(c.summary) \(c.message ?? "")") }
        for key in ["a", "b", "c"] + (role.evicts ? ["d"] : []) {
            let t = MonotonicClock.now()
            let r = try k.call("put", ["key_hex": .string(Hex.encode(Array(key.utf8))), "value_hex": .string(Hex.encode(Array("\(key)0".utf8)))])
            guard r.isOK else { throw UsageError("\(k.spec.name) could not write \(key): \(r.summary)") }
            h.add(Self.keeperClient, "put", key, "\(key)0", call: t, r)
        }
    }

    /// The predecessor of a role that meets a dead claim: a process of the victim's
    /// implementation opens and dies where the role says, leaving that claim.
    func killPredecessor(_ role: CrashRole, victimSpec: FixtureSpec, path: String, history h: inout History,
                         profile: inout CrashSweepProfile) throws {
        guard let p = role.predecessor else { return }
        var t0 = MonotonicClock.now()
        let dead = try spares.take(victimSpec, timeout: timeout)
        t0 = profile.add(.spare, since: t0)
        // Its death is expected: waiting for its stderr to settle (0.3 s when it wrote none)
        // was four fifths of the whole sweep's time.
        dead.settleStderrOnExit = false
        defer { dead.stop(); profile.add(.predecessor, since: t0) }
        guard try dead.call("open", ["path": .string(path)]).isOK else { throw UsageError("the predecessor could not open") }
        let t = MonotonicClock.now()
        let value = "\(p.key)-dead"
        do {
            let r = try dead.call(p.op, ["key_hex": .string(Hex.encode(Array(p.key.utf8))), "value_hex": .string(Hex.encode(Array(value.utf8))),
                                         "crash_at": .string(p.point)])
            throw UsageError("\(victimSpec.name)'s predecessor answered instead of dying at \(p.point): \(r.summary)")
        } catch is FixtureFailure {
            h.add(Self.predecessorClient, p.op, p.key, value, call: t, nil)
        }
    }

    /// Everything up to the victim's operation: the keeper's segment, the victim's process (open
    /// unless its operation is the open), and the dead predecessor. A predecessor whose claim
    /// the victim must meet registers after the victim, at another index: at the same index
    /// the victim's own registration sweep would take the claim back first (§5).
    func prepare(_ role: CrashRole, keeper k: FixtureProcess, victimSpec: FixtureSpec, path: String,
                 history h: inout History, profile: inout CrashSweepProfile) throws -> FixtureProcess {
        var t0 = MonotonicClock.now()
        if role == .creator {  // nothing exists yet: the victim's operation makes the segment
            let v = try spares.take(victimSpec, timeout: timeout)
            profile.add(.spare, since: t0)
            v.settleStderrOnExit = false
            return v
        }
        try setUp(role, keeper: k, path: path, history: &h)
        profile.add(.setUp, since: t0)
        if role == .registrant { try killPredecessor(role, victimSpec: victimSpec, path: path, history: &h, profile: &profile) }
        t0 = MonotonicClock.now()
        let v = try spares.take(victimSpec, timeout: timeout)
        t0 = profile.add(.spare, since: t0)
        v.settleStderrOnExit = false
        if role != .registrant {
            let r = try v.call("open", ["path": .string(path)])
            guard r.isOK else { throw UsageError("\(victimSpec.name) could not open the sweep's segment: \(r.summary)") }
            profile.add(.setUp, since: t0)
            try killPredecessor(role, victimSpec: victimSpec, path: path, history: &h, profile: &profile)
        }
        return v
    }

    func victimArgs(_ role: CrashRole, path: String, keeper k: FixtureProcess) -> [String: JSON] {
        switch role {
        case .registrant: return ["path": .string(path)]
        case .creator: return Self.createArgs(path)
        case .waiter:
            let g = (try? k.call("generation").result["generation"]?.int) ?? nil
            return ["seen": .int(g ?? 0), "timeout_ms": 20]
        default:
            var a: [String: JSON] = ["key_hex": .string(Hex.encode(Array(role.key.utf8)))]
            if let v = role.request.value { a["value_hex"] = .string(Hex.encode(Array(v.utf8))) }
            return a
        }
    }

    /// What the keeper's `create` and every start of the creator role send.
    static func createArgs(_ path: String) -> [String: JSON] {
        ["path": .string(path), "geometry": geometry, "sim_clock_ns": .int(1_000_000_000_000)]
    }

    /// Recovery from a creator that died at a step of §4.1: both recoverer processes start as a
    /// fleet does (`open_or_create`). Before `create.after_link` the path must not exist and the
    /// first starter creates a fresh segment; at it the dead one's segment is linked and is
    /// opened. The dead's private file never becomes the segment (its inode is not the path's),
    /// and it is gone once the creator linked it (§4.1 step 6) or the next creator swept it
    /// (step 2). False when a starter failed, so that there are no handles to check through.
    func recoverCreator(_ p: CrashPoint, path: String, keeper k: FixtureProcess, opener o: FixtureProcess,
                        death: UInt64, history h: inout History, outcome out: inout CrashOutcome) throws -> Bool {
        let linked = p.point == "create.after_link"
        var st = stat()
        let exists = lstat(path, &st) == 0
        if exists != linked {
            out.problems.append("after a death at \(p.point) the path \(exists ? "exists" : "does not exist") (§4.1: it is linked at step 6 only)")
        }
        let dir = (path as NSString).deletingLastPathComponent, base = (path as NSString).lastPathComponent
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(base + ".init.") }
        if linked && !leftovers.isEmpty { out.problems.append("the creator linked the path but left its private file \(leftovers)") }
        for (i, fx) in [k, o].enumerated() {
            let r = try fx.call("open_or_create", .object(Self.createArgs(path)))
            guard r.isOK else {
                out.problems.append("\(p.recoverer)'s open_or_create after the death: \(r.summary) \(r.message ?? "")")
                return false
            }
            let created = r.result["created"]?.bool
            let want = i == 0 && !linked
            if created != want {
                out.problems.append("\(p.recoverer)'s starter \(i + 1) answered created: \(created.map(String.init) ?? "?"), expected \(want) after a death at \(p.point)")
            }
        }
        // §4.1 step 2: the first starter's create swept the dead creator's file, whose flock
        // died with it (a MAY until stop 11, a MUST now).
        if !linked {
            for f in leftovers where lstat((dir as NSString).appendingPathComponent(f), &st) == 0 {
                out.problems.append("the dead creator's private file \(f) is still there after a create (§4.1 step 2: the creator removes it)")
            }
        }
        var now = stat()
        for f in leftovers {
            var lst = stat()
            let lp = (dir as NSString).appendingPathComponent(f)
            if lstat(lp, &lst) == 0, lstat(path, &now) == 0, lst.st_ino == now.st_ino {
                out.problems.append("the dead creator's private file \(f) became the segment")
            }
        }
        let t = MonotonicClock.now()
        let r = try k.call("put", ["key_hex": .string(Hex.encode(Array("a".utf8))), "value_hex": .string(Hex.encode(Array("a-redo1".utf8)))])
        h.add(Self.keeperClient, "put", "a", "a-redo1", call: t, r)
        if r.isOK { out.writableNs = MonotonicClock.now() - death } else { out.problems.append("\(p.recoverer) could not write a: \(r.summary)") }
        return true
    }

    /// Runs one crash point with the keeper `k` and the opener `o` (both of the recoverer's
    /// implementation, reused from point to point).
    public func run(_ p: CrashPoint, keeper k: FixtureProcess, opener o: FixtureProcess) throws -> CrashOutcome {
        guard let victimSpec = fixtures.first(where: { $0.name == p.victim }) else { throw UsageError("no fixture \(p.victim)") }
        var out = CrashOutcome(point: p)
        let path = segmentPath()
        var h = History()
        // The victim dies at the point.
        let v = try prepare(p.role, keeper: k, victimSpec: victimSpec, path: path, history: &h, profile: &out.profile)
        // Runs after the return value is built, so the teardown's time is kept aside and added
        // by `run(_ points:)` (a defer cannot change what was returned).
        defer {
            let t = MonotonicClock.now()
            v.stop()
            SegmentSurgery.removeSegment(path)
            lastTeardownNs = MonotonicClock.now() - t
        }
        var args = victimArgs(p.role, path: path, keeper: k)
        args["crash_at"] = .string(p.point)
        let (op, value) = p.role.request
        let call = MonotonicClock.now()
        do {
            _ = try v.call(op, .object(args))
            out.notReached = true
            return out
        } catch let f as FixtureFailure {
            guard v.diedOfSIGKILL else { throw UsageError("\(p.victim) failed in \(p.name) without dying at its point: \(f)") }
        }
        let death = v.eofAt ?? MonotonicClock.now()
        var t0 = out.profile.add(.death, since: call)
        h.add(Self.victimClient, op, p.role.key, value, call: call, nil)
        if p.role == .creator {
            let ok = try recoverCreator(p, path: path, keeper: k, opener: o, death: death, history: &h, outcome: &out)
            t0 = out.profile.add(.recovery, since: t0)
            guard ok else { return out }
        } else {
            try recoverClaims(p, path: path, keeper: k, opener: o, death: death, history: &h, outcome: &out)
            t0 = out.profile.add(.recovery, since: t0)
        }
        try checkRecovered(p, path: path, keeper: k, opener: o, history: &h, outcome: &out)
        return out
    }

    /// Recovery from a victim that died inside an operation on a live segment.
    func recoverClaims(_ p: CrashPoint, path: String, keeper k: FixtureProcess, opener o: FixtureProcess,
                       death: UInt64, history h: inout History, outcome out: inout CrashOutcome) throws {

        // Recovery: the keeper writes the key until it may (busy retries, 2 s); the opener's
        // registration sweeps the dead's index, before or after.
        func register() throws {
            let r = try o.call("open", ["path": .string(path)])
            if !r.isOK { out.problems.append("\(p.recoverer)'s open after the death: \(r.summary) \(r.message ?? "")") }
        }
        if p.sweepFirst { try register() }
        let until = MonotonicClock.now() + 2_000_000_000
        var attempt = 0
        while true {
            attempt += 1
            let redo = "\(p.role.key)-redo\(attempt)"
            let t = MonotonicClock.now()
            let r = try k.call("put", ["key_hex": .string(Hex.encode(Array(p.role.key.utf8))), "value_hex": .string(Hex.encode(Array(redo.utf8)))])
            if let kind = r.errorKind { throw UsageError("\(p.recoverer) answered put with error(\(kind)): \(r.message ?? "")") }
            h.add(Self.keeperClient, "put", p.role.key, redo, call: t, r)
            if r.isOK { out.writableNs = MonotonicClock.now() - death; break }
            if MonotonicClock.now() >= until {
                out.problems.append("\(p.recoverer) could not write \(p.role.key) for 2 s after the death (last answer \(r.summary)): a claim of the dead is never reclaimed")
                break
            }
        }
        if !p.sweepFirst { try register() }
    }

    /// What every crash point must leave: each key readable as the history allows through both
    /// recoverer processes, a healthy segment, and no claim held with every process idle.
    func checkRecovered(_ p: CrashPoint, path: String, keeper k: FixtureProcess, opener o: FixtureProcess,
                        history h: inout History, outcome out: inout CrashOutcome) throws {
        let readsStart = MonotonicClock.now()
        // Every key read through both recoverer processes: the history decides what they may see.
        for key in ["a", "b", "c", "d", "n"] {
            for (client, fx) in [(Self.keeperClient, k), (Self.openerClient, o)] {
                let t = MonotonicClock.now()
                let r = try fx.call("get", ["key_hex": .string(Hex.encode(Array(key.utf8)))])
                if let kind = r.errorKind { throw UsageError("\(fx.spec.name) answered get with error(\(kind)): \(r.message ?? "")") }
                h.add(client, "get", key, nil, call: t, r)
            }
        }
        var t0 = out.profile.add(.reads, since: readsStart)

        // Every process is idle now: nothing may be claimed, by the dead or anyone.
        switch SegmentSnapshot.read(path: path) {
        case .failure(let refusal): out.problems.append("inspect refuses the segment after recovery: \(refusal)")
        case .success(let snap): out.problems += snap.problems.map { "inspect: \($0)" }
        }
        out.problems += Self.idleClaims(path: path)
        t0 = out.profile.add(.inspect, since: t0)
        let lin = checkLinearizability(h.ops, model: CacheModel(allowSilentRemoval: p.role.evicts,
                                                                 silentRemovalReason: p.role.evicts ? "a CLOCK eviction (§9.6)" : "",
                                                                 automaticVersionsAcrossKeys: true))
        if !lin.verdict.isOk { out.problems.append("history with the dead's outcome unknown: \(lin.verdict)") }
        out.profile.add(.linearizability, since: t0)
    }

    /// Claims in a segment whose processes are all idle: every one is a leak.
    static func idleClaims(path: String) -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return ["cannot read \(path)"] }
        defer { close(fd) }
        guard let g = SegmentSurgery.geometry(fd) else { return ["cannot read the geometry of \(path)"] }
        var out: [String] = []
        for s in 0..<g.shardCount {
            if let w = SegmentSurgery.word(fd, g.shardsOffset + s * g.shardSize + Layout.SH_INSERT_LOCK), w != 0 {
                out.append("shard \(s)'s insert lock is held by participant \(w) with every process idle")
            }
            for j in 0..<g.slotsPerShard {
                guard let raw = SegmentSurgery.word(fd, g.slotOffset(s, j) + Layout.SLOT_STATE) else { continue }
                let w = StateWord(raw: raw)
                if let k = w.kind, k.isOwned { out.append("shard \(s) slot \(j) is \(k.name) (owner \(w.owner)) with every process idle") }
            }
        }
        return out
    }

    // MARK: - the whole sweep

    /// Runs `points`, reusing one keeper and one opener per recoverer implementation and worker
    /// (a fresh pair after a point that failed, so that no state carries over from a failure).
    /// The outcomes are in the order of `points` whatever the workers' order.
    public func run(_ points: [CrashPoint]) throws -> [CrashOutcome] {
        let done = Counter()
        return try inWorkers(points) { [log] w, p in
            let r = try w.runReusingPair(p)
            log("[\(done.increment())/\(points.count)] \(p.name)")
            return r
        }
    }

    /// This worker's keeper and opener per recoverer implementation.
    private var pairs: [String: (FixtureProcess, FixtureProcess)] = [:]

    func runReusingPair(_ p: CrashPoint) throws -> CrashOutcome {
        if pairs[p.recoverer] == nil {
            guard let spec = fixtures.first(where: { $0.name == p.recoverer }) else { throw UsageError("no fixture \(p.recoverer)") }
            let k = try FixtureProcess(spec: spec, timeout: timeout), o = try FixtureProcess(spec: spec, timeout: timeout)
            pairs[p.recoverer] = (k, o)
            _ = try k.sayHello()
            _ = try o.sayHello()
        }
        let (k, o) = pairs[p.recoverer]!
        var r = try run(p, keeper: k, opener: o)
        r.profile.ns[.teardown, default: 0] += lastTeardownNs
        if !r.recovered {
            k.stop()
            o.stop()
            pairs[p.recoverer] = nil
        }
        return r
    }

    /// Stops this worker's processes: its pairs and its spares.
    func finish() {
        for (k, o) in pairs.values { k.stop(); o.stop() }
        pairs = [:]
        spares.drain()
    }

    /// A worker with this sweep's settings and its own processes.
    func worker() -> CrashSweep {
        let w = CrashSweep(fixtures: fixtures, workDir: workDir)
        w.timeout = timeout
        w.roles = roles
        return w
    }

    /// `body` over `items` on `jobs` workers (threads, each with its own CrashSweep, so its
    /// processes), results in the order of `items`. The first error stops the others from
    /// taking new items and is thrown once every worker has stopped and cleaned up.
    func inWorkers<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (CrashSweep, T) throws -> R) throws -> [R] {
        let n = max(1, min(jobs, items.count))
        let workers = n == 1 ? [self] : (0..<n).map { _ in worker() }
        let state = WorkQueue<R>(count: items.count)
        let group = DispatchGroup()
        for w in workers {
            group.enter()
            let t = Thread {
                defer { if w !== self { w.finish() }; group.leave() }
                while let i = state.next() {
                    do { state.put(i, try body(w, items[i])) } catch { state.fail(error) }
                }
            }
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        if n == 1 { finish() }
        return try state.results()
    }
}

/// The shared side of `inWorkers`: the next item to take, the results, the first error.
private final class WorkQueue<R>: @unchecked Sendable {
    private let lock = NSLock()
    private var cursor = 0
    private let count: Int
    private var out: [R?]
    private var error: Error?

    init(count: Int) {
        self.count = count
        out = Array(repeating: nil, count: count)
    }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, cursor < count else { return nil }
        cursor += 1
        return cursor - 1
    }

    func put(_ i: Int, _ r: R) { lock.lock(); out[i] = r; lock.unlock() }

    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }

    func results() throws -> [R] {
        lock.lock(); defer { lock.unlock() }
        if let e = error { throw e }
        return out.map { $0! }
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}

/// Processes started ahead on their own threads, `ahead` per implementation: a point of a role
/// with a predecessor takes two of the same implementation (predecessor and victim), and with
/// one ahead the second take waited for a whole start. A spare that failed to start is
/// reported by the `take` that wanted it.
final class SparePool: @unchecked Sendable {
    private final class Pending: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var result: Result<FixtureProcess, Error>?
    }

    private let lock = NSLock()
    private let ahead: Int
    // `lock` guards `queues`; a Pending's `result` is written once, before its `done` signal.
    private var queues: [String: [Pending]] = [:]

    init(ahead: Int = 2) { self.ahead = ahead }

    private func startAheadLocked(_ spec: FixtureSpec, timeout: Double) {
        let p = Pending()
        queues[spec.name, default: []].append(p)
        Thread {
            p.result = Result { () throws -> FixtureProcess in
                let fx = try FixtureProcess(spec: spec, timeout: timeout)
                _ = try fx.sayHello()
                return fx
            }
            p.done.signal()
        }.start()
    }

    func take(_ spec: FixtureSpec, timeout: Double) throws -> FixtureProcess {
        lock.lock()
        while queues[spec.name, default: []].count < ahead { startAheadLocked(spec, timeout: timeout) }
        let p = queues[spec.name]!.removeFirst()
        startAheadLocked(spec, timeout: timeout)
        lock.unlock()
        p.done.wait()
        return try p.result!.get()
    }

    /// Stops every spare (waiting for those still starting).
    func drain() {
        lock.lock()
        let pending = queues.values.flatMap { $0 }
        queues = [:]
        lock.unlock()
        for p in pending {
            p.done.wait()
            if case .success(let fx) = p.result { fx.stop() }
        }
    }
}
