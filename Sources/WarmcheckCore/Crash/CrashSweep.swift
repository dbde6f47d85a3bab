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
    public var log: (String) -> Void = { _ in }
    /// Processes started ahead, one per implementation, said hello to: a victim's start (exec,
    /// runtime start-up, hello) overlaps the previous crash point instead of adding to it.
    let spares = SparePool()

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
        var out: [CrashPoint] = []
        for v in fixtures {
            let others = fixtures.filter { $0.name != v.name }
            let recoverers = others.isEmpty ? [v] : others
            for role in roles {
                let reached = try discover(victim: v, keeper: recoverers[0], role: role)
                for (i, p) in reached.enumerated() {
                    for (j, r) in recoverers.enumerated() {
                        out.append(CrashPoint(victim: v.name, role: role, point: p, recoverer: r.name, sweepFirst: (i + j) % 2 == 1))
                    }
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
        let v = try prepare(role, keeper: k, victimSpec: victim, path: path, history: &h)
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
    func killPredecessor(_ role: CrashRole, victimSpec: FixtureSpec, path: String, history h: inout History) throws {
        guard let p = role.predecessor else { return }
        let dead = try spares.take(victimSpec, timeout: timeout)
        defer { dead.stop() }
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
                 history h: inout History) throws -> FixtureProcess {
        if role == .creator {  // nothing exists yet: the victim's operation makes the segment
            let v = try spares.take(victimSpec, timeout: timeout)
            v.settleStderrOnExit = false
            return v
        }
        try setUp(role, keeper: k, path: path, history: &h)
        if role == .registrant { try killPredecessor(role, victimSpec: victimSpec, path: path, history: &h) }
        let v = try spares.take(victimSpec, timeout: timeout)
        v.settleStderrOnExit = false
        if role != .registrant {
            let r = try v.call("open", ["path": .string(path)])
            guard r.isOK else { throw UsageError("\(victimSpec.name) could not open the sweep's segment: \(r.summary)") }
            try killPredecessor(role, victimSpec: victimSpec, path: path, history: &h)
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
    /// and it is gone once the creator linked it (§4.1 step 6). False when a starter failed, so
    /// that there are no handles to check through.
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
        defer { SegmentSurgery.removeSegment(path) }
        var h = History()
        // The victim dies at the point.
        let v = try prepare(p.role, keeper: k, victimSpec: victimSpec, path: path, history: &h)
        defer { v.stop() }
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
        h.add(Self.victimClient, op, p.role.key, value, call: call, nil)
        if p.role == .creator {
            guard try recoverCreator(p, path: path, keeper: k, opener: o, death: death, history: &h, outcome: &out) else { return out }
        } else {
            try recoverClaims(p, path: path, keeper: k, opener: o, death: death, history: &h, outcome: &out)
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
        // Every key read through both recoverer processes: the history decides what they may see.
        for key in ["a", "b", "c", "d", "n"] {
            for (client, fx) in [(Self.keeperClient, k), (Self.openerClient, o)] {
                let t = MonotonicClock.now()
                let r = try fx.call("get", ["key_hex": .string(Hex.encode(Array(key.utf8)))])
                if let kind = r.errorKind { throw UsageError("\(fx.spec.name) answered get with error(\(kind)): \(r.message ?? "")") }
                h.add(client, "get", key, nil, call: t, r)
            }
        }

        // Every process is idle now: nothing may be claimed, by the dead or anyone.
        switch SegmentSnapshot.read(path: path) {
        case .failure(let refusal): out.problems.append("inspect refuses the segment after recovery: \(refusal)")
        case .success(let snap): out.problems += snap.problems.map { "inspect: \($0)" }
        }
        out.problems += Self.idleClaims(path: path)
        let lin = checkLinearizability(h.ops, model: CacheModel(allowSilentRemoval: p.role.evicts,
                                                                 silentRemovalReason: p.role.evicts ? "a CLOCK eviction (§9.6)" : "",
                                                                 automaticVersionsAcrossKeys: true))
        if !lin.verdict.isOk { out.problems.append("history with the dead's outcome unknown: \(lin.verdict)") }
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

    /// Runs `points`, reusing one keeper and one opener per recoverer implementation (a fresh
    /// pair after a point that failed, so that no state carries over from a failure).
    public func run(_ points: [CrashPoint]) throws -> [CrashOutcome] {
        var pairs: [String: (FixtureProcess, FixtureProcess)] = [:]
        defer {
            for (k, o) in pairs.values { k.stop(); o.stop() }
            spares.drain()
        }
        var out: [CrashOutcome] = []
        for (i, p) in points.enumerated() {
            if pairs[p.recoverer] == nil {
                guard let spec = fixtures.first(where: { $0.name == p.recoverer }) else { throw UsageError("no fixture \(p.recoverer)") }
                let k = try FixtureProcess(spec: spec, timeout: timeout), o = try FixtureProcess(spec: spec, timeout: timeout)
                _ = try k.sayHello()
                _ = try o.sayHello()
                pairs[p.recoverer] = (k, o)
            }
            let (k, o) = pairs[p.recoverer]!
            let r = try run(p, keeper: k, opener: o)
            if !r.recovered {
                k.stop()
                o.stop()
                pairs[p.recoverer] = nil
            }
            log("[\(i + 1)/\(points.count)] \(p.name)")
            out.append(r)
        }
        return out
    }
}

/// One process per implementation started ahead on its own thread (`take` returns it and
/// starts the next). A spare that failed to start is reported by the `take` that wanted it.
final class SparePool: @unchecked Sendable {
    private let lock = NSLock()
    private var ready: [String: DispatchSemaphore] = [:]
    private var made: [String: Result<FixtureProcess, Error>] = [:]

    private func startAhead(_ spec: FixtureSpec, timeout: Double) {
        let done = DispatchSemaphore(value: 0)
        lock.lock()
        ready[spec.name] = done
        lock.unlock()
        let t = Thread { [self] in
            let r = Result { () throws -> FixtureProcess in
                let fx = try FixtureProcess(spec: spec, timeout: timeout)
                _ = try fx.sayHello()
                return fx
            }
            lock.lock()
            made[spec.name] = r
            lock.unlock()
            done.signal()
        }
        t.start()
    }

    func take(_ spec: FixtureSpec, timeout: Double) throws -> FixtureProcess {
        lock.lock()
        let pending = ready[spec.name]
        lock.unlock()
        if pending == nil { startAhead(spec, timeout: timeout) }
        lock.lock()
        let sem = ready[spec.name]!
        lock.unlock()
        sem.wait()
        lock.lock()
        let r = made.removeValue(forKey: spec.name)!
        ready[spec.name] = nil
        lock.unlock()
        startAhead(spec, timeout: timeout)
        return try r.get()
    }

    /// Stops every spare (waiting for those still starting).
    func drain() {
        lock.lock()
        let pending = Array(ready.values)
        lock.unlock()
        for s in pending { s.wait(); s.signal() }
        lock.lock()
        for r in made.values { if case .success(let fx) = r { fx.stop() } }
        made = [:]
        ready = [:]
        lock.unlock()
    }
}
