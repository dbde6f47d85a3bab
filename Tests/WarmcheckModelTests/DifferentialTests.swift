import Foundation
import XCTest
@testable import WarmcheckModel

// Differential test of the checker: on small random histories a brute-force checker, written
// here from the spec's words and sharing no code with WarmcheckModel's search or compiled
// model, tries every order of the operations; both must give the same verdict.
//
// WARMCHECK_DIFF_HISTORIES sets how many histories one run checks (default 100 000).

/// The brute force: every total order of the operations that respects real time, every subset
/// of the unknown-outcome ones taking effect, every version an unknown automatic write could
/// have taken, and (when allowed) a silent removal before any operation.
struct BruteForceChecker {
    struct Entry: Hashable {
        var value: [UInt8]
        var version: UInt64
        var canBeStale: Bool
    }
    struct KeyState: Hashable {
        var entry: Entry?
        var clockAtLeast: UInt64 = 0
    }

    let ops: [CacheOperation]
    let silent: Bool
    let acrossKeys: Bool
    /// The versions the history names, asked for or answered (an unknown automatic write may
    /// have taken any of them).
    let namedVersions: [UInt64]

    init(_ ops: [CacheOperation], silent: Bool, acrossKeys: Bool) {
        self.ops = ops
        self.silent = silent
        self.acrossKeys = acrossKeys
        var vs = Set<UInt64>()
        for o in ops {
            if let e = o.input.explicitVersion { vs.insert(e) }
            switch o.output {
            case .ok(let v), .hit(_, let v, _): vs.insert(v)
            default: break
            }
        }
        namedVersions = vs.sorted()
    }

    func linearizable() -> Bool {
        if acrossKeys && !clockOrderHolds() { return false }
        return search(placed: Array(repeating: false, count: ops.count), states: [:])
    }

    /// Automatic versions that answered ok: pairwise distinct, and smaller for a write that
    /// returned before another was called.
    func clockOrderHolds() -> Bool {
        let autos = ops.filter { $0.input.isWrite && $0.input.explicitVersion == nil && $0.return != UInt64.max }
            .compactMap { o -> (UInt64, UInt64, UInt64)? in
                if case .ok(let v) = o.output { return (v, o.call, o.return) }
                return nil
            }
        for i in autos.indices {
            for j in autos.indices where i != j {
                if autos[i].0 == autos[j].0 { return false }
                if autos[i].2 < autos[j].1 && autos[i].0 > autos[j].0 { return false }
            }
        }
        return true
    }

    func search(placed: [Bool], states: [[UInt8]: KeyState]) -> Bool {
        var allKnownPlaced = true
        for i in ops.indices where !placed[i] && ops[i].return != UInt64.max { allKnownPlaced = false }
        if allKnownPlaced { return true }
        for i in ops.indices where !placed[i] {
            // May op i come next? Not if an unplaced operation returned before i was called.
            let blocked = ops.indices.contains { j in !placed[j] && ops[j].return < ops[i].call }
            if blocked { continue }
            let key = ops[i].input.key
            var befores = [states[key] ?? KeyState()]
            if silent, let s = befores.first, s.entry != nil { befores.append(KeyState(entry: nil, clockAtLeast: s.clockAtLeast)) }
            for before in befores {
                for after in apply(ops[i], before) {
                    var p = placed
                    p[i] = true
                    var st = states
                    st[key] = after
                    if search(placed: p, states: st) { return true }
                }
            }
        }
        return false
    }

    /// Every state the operation may leave, given its answer (none: the answer is impossible).
    func apply(_ o: CacheOperation, _ s: KeyState) -> [KeyState] {
        let absent = KeyState(entry: nil, clockAtLeast: s.clockAtLeast)
        switch (o.input, o.output) {
        case (.get, .miss): return s.entry == nil ? [s] : []
        case (.get, .hit(let v, let ver, let stale)):
            guard let e = s.entry, e.value == v, e.version == ver, !stale || e.canBeStale else { return [] }
            return [s]
        case (.get, .unknown): return [s]
        case (.get, _): return []
        case (.put(_, let v, let explicit, let ttl), let out), (.refresh(_, let v, let explicit, let ttl), let out):
            let isRefresh: Bool
            if case .refresh = o.input { isRefresh = true } else { isRefresh = false }
            let staleOK = ttl.map { $0 > 0 } ?? true
            func written(_ ver: UInt64) -> KeyState? {
                if isRefresh && s.entry == nil { return nil }
                if ver == 0 { return nil }
                if let x = explicit {
                    if ver != x { return nil }
                    if let e = s.entry, ver <= e.version { return nil }
                    return KeyState(entry: Entry(value: v, version: ver, canBeStale: staleOK), clockAtLeast: s.clockAtLeast)
                }
                // §9.4: ver = max(c + 1, current + 1) for some clock value c ≥ clockAtLeast;
                // keep the smallest such c (a larger clock only forbids more later).
                let current = s.entry?.version ?? 0
                let clockAfter: UInt64
                if ver > current + 1 {
                    guard ver - 1 >= s.clockAtLeast else { return nil }   // c = ver − 1
                    clockAfter = ver
                } else if ver == current + 1 {
                    guard current >= s.clockAtLeast else { return nil }   // some c in clockAtLeast…current
                    clockAfter = s.clockAtLeast + 1
                } else {
                    return nil
                }
                return KeyState(entry: Entry(value: v, version: ver, canBeStale: staleOK), clockAtLeast: clockAfter)
            }
            switch out {
            case .ok(let ver): return written(ver).map { [$0] } ?? []
            case .unknown:
                // Every version up to just past any the history names or the state holds: a
                // larger one only forbids more later.
                let top = max(namedVersions.last ?? 0, s.clockAtLeast, s.entry?.version ?? 0) + 2
                let tries = explicit.map { [$0] } ?? Array(1...top)
                return tries.compactMap(written)
            case .fail(.busy), .fail(.tooLarge): return [s]
            case .fail(.full): return !isRefresh && s.entry == nil ? [s] : []
            case .fail(.notFound): return isRefresh && s.entry == nil ? [s] : []
            case .fail(.versionNotNewer):
                guard let x = explicit, let e = s.entry, e.version >= x else { return [] }
                return [s]
            default: return []
            }
        case (.invalidate, let out), (.evict, let out):
            switch out {
            case .removed(true): return s.entry != nil ? [absent] : []
            case .removed(false): return s.entry == nil ? [s] : []
            case .unknown: return [absent]
            case .fail(.busy): return [s]
            default: return []
            }
        }
    }
}

/// Small random histories: a real execution of the cache (several clients, overlapping
/// intervals, unknown outcomes, silent removals when allowed), then, for half of them, one
/// answer changed at random.
struct SmallHistoryGenerator {
    var rng: SplitMix
    let silent: Bool
    let acrossKeys: Bool

    mutating func below(_ n: Int) -> Int { rng.below(n) }

    mutating func history() -> (ops: [CacheOperation], perturbed: Bool) {
        let n = 3 + below(6)          // 3…8 operations
        let clients = 2 + below(3)    // 2…4 clients
        let keys = [Array("a".utf8), Array("b".utf8)]
        let values = (0..<3).map { [UInt8(0x61 + $0)] }
        var clientFree = Array(repeating: UInt64(0), count: clients)
        // Intervals first: each client's operations one after another, overlapping the others'.
        var plan: [(client: Int, call: UInt64, at: UInt64, ret: UInt64)] = []
        for _ in 0..<n {
            let c = below(clients)
            let call = clientFree[c] + UInt64(below(4))
            let at = call + UInt64(below(6))
            let ret = at + UInt64(below(6))
            clientFree[c] = ret + 1
            plan.append((c, call, at, ret))
        }
        // Then the real execution in the order of the points `at`.
        let order = plan.indices.sorted { plan[$0].at != plan[$1].at ? plan[$0].at < plan[$1].at : $0 < $1 }
        var store: [[UInt8]: (value: [UInt8], version: UInt64, ttl: Bool)] = [:]
        var clock: UInt64 = 0
        var ops = [CacheOperation?](repeating: nil, count: n)
        for i in order {
            if silent && below(5) == 0 && !store.isEmpty {
                let present = keys.filter { store[$0] != nil }
                store[present[below(present.count)]] = nil
            }
            let key = keys[below(keys.count)]
            let cur = store[key]
            let input: CacheInput
            var output: CacheOutput
            let unknown = below(8) == 0
            let takesEffect = !unknown || below(2) == 0
            switch below(10) {
            case 0..<4:
                input = .get(key: key)
                output = cur.map { .hit(value: $0.value, version: $0.version, stale: $0.ttl && below(2) == 0) } ?? .miss
            case 4..<7, 7:
                let v = values[below(values.count)]
                let explicit: UInt64? = !acrossKeys && below(4) == 0 ? UInt64(1 + below(8)) : nil
                let ttl: UInt64 = below(3) == 0 ? 100 : 0
                let isRefresh = below(4) == 0
                input = isRefresh ? .refresh(key: key, value: v, version: explicit, ttl: ttl)
                                  : .put(key: key, value: v, version: explicit, ttl: ttl)
                if isRefresh && cur == nil {
                    output = .fail(.notFound)
                } else if let e = explicit, let c = cur, e <= c.version {
                    output = .fail(.versionNotNewer)
                } else if below(10) == 0 {
                    output = .fail(.busy)
                } else {
                    let ver: UInt64
                    if let e = explicit { ver = e } else {
                        clock += 1
                        ver = max(clock, (cur?.version ?? 0) + 1)
                    }
                    if takesEffect { store[key] = (v, ver, ttl > 0) }
                    output = .ok(version: ver)
                }
            default:
                input = below(2) == 0 ? .invalidate(key: key) : .evict(key: key)
                if below(10) == 0 { output = .fail(.busy) } else {
                    output = .removed(cur != nil)
                    if takesEffect { store[key] = nil }
                }
            }
            let p = plan[i]
            if unknown { output = .unknown }
            ops[i] = CacheOperation(clientId: p.client, input: input, call: p.call, output: output,
                                    returnAt: unknown ? nil : p.ret)
        }
        var out = ops.map { $0! }
        let perturbed = below(2) == 0
        if perturbed { perturb(&out) }
        return (out, perturbed)
    }

    mutating func perturb(_ ops: inout [CacheOperation]) {
        let i = below(ops.count)
        let o = ops[i]
        switch o.output {
        case .hit(let v, let ver, let stale):
            switch below(4) {
            case 0: ops[i].output = .hit(value: v, version: ver + 1, stale: stale)
            case 1: ops[i].output = .hit(value: v, version: ver, stale: !stale)
            case 2: ops[i].output = .miss
            default: ops[i].output = .hit(value: [0x7A], version: ver, stale: stale)
            }
        case .miss: ops[i].output = .hit(value: [0x61], version: UInt64(1 + below(4)), stale: false)
        case .ok(let ver):
            switch below(3) {
            case 0: ops[i].output = .ok(version: ver > 1 ? ver - 1 : ver + 2)
            case 1: ops[i].output = .fail([.full, .versionNotNewer, .notFound, .busy][below(4)])
            default: ops[i].output = .ok(version: ver + UInt64(1 + below(3)))
            }
        case .removed(let r): ops[i].output = below(3) == 0 ? .fail(.notFound) : .removed(!r)
        case .fail(let r): ops[i].output = r == .busy ? .fail(.full) : .fail(.busy)
        case .unknown:
            ops[i].output = o.input.isWrite ? .ok(version: UInt64(1 + below(5))) : .miss
            ops[i].return = o.call + UInt64(below(8))
        }
    }
}

final class DifferentialTests: XCTestCase {
    func testFastCheckerAgreesWithBruteForce() {
        let env = ProcessInfo.processInfo.environment
        let total = env["WARMCHECK_DIFF_HISTORIES"].flatMap(Int.init) ?? 100_000
        // WARMCHECK_DIFF_FIRST=N starts at history N (to look at one reported disagreement).
        let first = env["WARMCHECK_DIFF_FIRST"].flatMap(Int.init) ?? 0
        let started = Date()
        var agree = 0, linearizable = 0, violations = 0, perturbedOk = 0, unknownOutcomes = 0
        var disagreements: [String] = []
        let configs: [(silent: Bool, acrossKeys: Bool)] = [(false, false), (true, false), (false, true), (true, true)]
        for n in first..<(first + total) {
            let cfg = configs[n % configs.count]
            var gen = SmallHistoryGenerator(rng: SplitMix(s: 0xD1FF ^ UInt64(n) &* 0x9E37_79B9), silent: cfg.silent,
                                            acrossKeys: cfg.acrossKeys)
            let (ops, perturbed) = gen.history()
            if ops.contains(where: { $0.output == .unknown }) { unknownOutcomes += 1 }
            let model = CacheModel(allowSilentRemoval: cfg.silent, automaticVersionsAcrossKeys: cfg.acrossKeys)
            let fast = checkLinearizability(ops, model: model).verdict
            let slow = BruteForceChecker(ops, silent: cfg.silent, acrossKeys: cfg.acrossKeys).linearizable()
            if !perturbed && !slow {
                disagreements.append("history \(n) comes from a real execution but the brute force rejects it:\n"
                                     + ops.map { "  \($0)" }.joined(separator: "\n"))
            }
            if fast.isUnknown { disagreements.append("history \(n): fast checker undecided") }
            if fast.isOk == slow {
                agree += 1
            } else if disagreements.count < 5 {
                disagreements.append("history \(n) (silent \(cfg.silent), across keys \(cfg.acrossKeys)): fast says \(fast), "
                                     + "brute force says \(slow ? "linearizable" : "not"):\n"
                                     + ops.map { "  \($0)" }.joined(separator: "\n"))
            }
            if slow { linearizable += 1 } else { violations += 1 }
            if slow && perturbed { perturbedOk += 1 }
        }
        let secs = Date().timeIntervalSince(started)
        print("differential: \(agree)/\(total) histories agree (\(linearizable) linearizable, \(violations) not, "
              + "\(perturbedOk) perturbed but still linearizable, \(unknownOutcomes) with unknown outcomes) in "
              + String(format: "%.1f s", secs))
        XCTAssertEqual(agree, total, disagreements.prefix(5).joined(separator: "\n\n"))
        XCTAssertTrue(disagreements.isEmpty, disagreements.prefix(5).joined(separator: "\n\n"))
        // Both verdicts must be exercised in earnest.
        XCTAssertGreaterThan(linearizable, total / 4)
        XCTAssertGreaterThan(violations, total / 5)
    }
}
