// Linearizability checking: Wing & Gong's search with Lowe's memoization, as porcupine does.
//
// The history is split per key (P-compositionality) and each partition is searched alone.
// The search walks a doubly linked list of call/return entries ordered by time; it tries to
// linearize a pending call (model step succeeds and (linearized set, state) is new), removes
// ("lifts") it from the list and starts again from the head; meeting a return entry means the
// operation it closes cannot be linearized yet, so it backtracks. Memoizing (set, state) pairs
// makes a dead end visited once.
//
// Speed choices (histories of 10^4..10^6 operations):
//  * values are interned once for the whole history, before any search (their bytes are
//    hashed once per occurrence, word at a time): a state is a few words, stepping never
//    allocates;
//  * the linearized set is hashed incrementally (Zobrist: XOR of a random word per operation);
//  * the memo stores each set canonically and compactly: the index of the first word that is
//    not all-ones, then only the words up to the last non-zero one. Operations are numbered in
//    call order, so a set is "everything before a frontier plus a few concurrent ones" and is
//    stored in a word or two instead of n/64 — exact comparison, no clone per step;
//  * operations whose output has no effect in any state (fail busy/too_large, unknown gets)
//    are dropped before the search: they linearize anywhere in their interval.
//
// A budget (explored states per partition, time for the whole check) bounds the search; when
// it runs out the verdict is `.unknown`, never `.ok`.

/// Limits of the search.
public struct SearchBudget: Sendable {
    /// Distinct (linearized set, state) pairs one partition may memoize.
    public var maxExploredStates: Int
    /// Wall time for the whole check (all partitions), measured on ContinuousClock.
    public var timeLimit: Duration?

    public init(maxExploredStates: Int = 5_000_000, timeLimit: Duration? = nil) {
        self.maxExploredStates = maxExploredStates
        self.timeLimit = timeLimit
    }
}

/// Why a history is not linearizable.
public struct LinearizabilityFailure: Sendable, Hashable {
    /// The key whose partition failed.
    public var key: [UInt8]
    /// Indices (into the checked operations array) of the longest linearizable prefix found,
    /// in linearization order.
    public var prefix: [Int]
    /// Index of the operation that could not be placed after that prefix.
    public var unplaced: Int
    /// Prose for the developer.
    public var explanation: String
}

public enum LinearizabilityVerdict: Sendable, Hashable {
    case ok
    case illegal(LinearizabilityFailure)
    case unknown(reason: String)

    public var isOk: Bool { if case .ok = self { return true } else { return false } }
    public var isIllegal: Bool { if case .illegal = self { return true } else { return false } }
    public var isUnknown: Bool { if case .unknown = self { return true } else { return false } }
}

public struct PartitionReport: Sendable {
    public var key: [UInt8]
    /// Operations searched (after dropping those with no possible effect).
    public var operationCount: Int
    public var verdict: LinearizabilityVerdict
    public var exploredStates: Int
    /// The time-window check of this key, when it ran (TimeWindowPolicy).
    public var windows: WindowReport? = nil
}

public struct LinearizabilityReport: Sendable {
    /// Illegal if any partition is illegal (a proof stands regardless of the others); else
    /// unknown if any ran out of budget; else ok.
    public var verdict: LinearizabilityVerdict
    public var partitions: [PartitionReport]
    public var exploredStates: Int
    /// The whole check, interning included.
    public var elapsed: Duration
    /// Of `elapsed`, the time spent interning values and keys (once, before any search).
    public var prepareElapsed: Duration = .zero
}

/// Checks `operations` against `model`. Operation indices in the result refer to `operations`.
public func checkLinearizability(_ operations: [CacheOperation], model: CacheModel = CacheModel(),
                                 budget: SearchBudget = SearchBudget(), windows: TimeWindowPolicy = .never) -> LinearizabilityReport {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = budget.timeLimit.map { start.advanced(by: $0) }

    let problems = History(operations).problems()
    if !problems.isEmpty {
        let v = LinearizabilityVerdict.unknown(reason: "malformed history: " + problems.prefix(5).joined(separator: "; "))
        return LinearizabilityReport(verdict: v, partitions: [], exploredStates: 0, elapsed: clock.now - start)
    }

    // Intern every value and key once, before any search: the partitions then step on integers.
    var table = ValueTable()
    var keyIndex: [ValueTable.Bytes: Int] = [:]
    var groups: [[Int]] = []
    var compiled: [CompiledOp] = []
    compiled.reserveCapacity(operations.count)
    for (i, op) in operations.enumerated() {
        compiled.append(table.compile(op.input, op.output))
        let k = ValueTable.Bytes(model.partition(op.input))
        if let g = keyIndex[k] { groups[g].append(i) } else {
            keyIndex[k] = groups.count
            groups.append([i])
        }
    }
    let prepared = clock.now - start

    var reports: [PartitionReport] = []
    var total = 0
    for g in groups {
        func byWindows() -> WindowReport {
            checkByWindows(operations: operations, compiled: compiled, table: table, indices: g, model: model,
                           maxStates: budget.maxExploredStates, deadline: deadline, clock: clock)
        }
        var search = PartitionSearch(operations: operations, compiled: compiled, table: table, indices: g, model: model)
        var r = PartitionReport(key: model.partition(operations[g[0]].input), operationCount: search.n, verdict: .ok, exploredStates: 0)
        if windows == .always {
            let w = byWindows()
            r.verdict = w.verdict
            r.exploredStates = w.exploredStates
            r.windows = w
        } else {
            r.verdict = search.run(maxStates: budget.maxExploredStates, deadline: deadline, clock: clock)
            r.exploredStates = search.explored
            if r.verdict.isUnknown && windows == .whenUndecided {
                var w = byWindows()
                w.unsplitVerdict = r.verdict
                r.verdict = w.verdict
                r.exploredStates += w.exploredStates
                r.windows = w
            }
        }
        total += r.exploredStates
        reports.append(r)
    }

    var verdict = LinearizabilityVerdict.ok
    if let bad = reports.first(where: { $0.verdict.isIllegal }) {
        verdict = bad.verdict
    } else if model.automaticVersionsAcrossKeys, let f = AutomaticVersionOrder.violation(operations) {
        // Per key everything fits; across keys the one version clock does not.
        verdict = .illegal(f)
    } else {
        let unknown = reports.filter { $0.verdict.isUnknown }
        if !unknown.isEmpty {
            let reasons = unknown.prefix(3).map { r -> String in
                if case .unknown(let why) = r.verdict { return "key \(describeBytes(r.key)): \(why)" }
                return ""
            }
            verdict = .unknown(reason: "\(unknown.count) of \(reports.count) keys undecided — " + reasons.joined(separator: "; "))
        }
    }
    return LinearizabilityReport(verdict: verdict, partitions: reports, exploredStates: total,
                                 elapsed: clock.now - start, prepareElapsed: prepared)
}

// MARK: - The search over one partition

struct PartitionSearch {
    let operations: [CacheOperation]
    let model: CacheModel
    /// Partition-local op i is operations[global[i]]; numbered in call order.
    var global: [Int] = []
    var ops: [CompiledOp] = []
    var unknownOutcome: [Bool] = []
    /// Call and return times, in local order (a time window may move a carried call earlier).
    var calls: [UInt64] = []
    var rets: [UInt64] = []
    let table: ValueTable
    var n: Int { global.count }
    var explored = 0

    // Failure diagnostics.
    var bestDepth = -1
    var bestPrefix: [Int32] = []
    var bestBlocked: Int32 = -1
    var bestState = CompiledState.absent

    /// `callAt` moves calls earlier: a time window's carried operations of unknown outcome are
    /// called at the window's start (they may take effect anywhere in it).
    init(operations: [CacheOperation], compiled: [CompiledOp], table: ValueTable, indices: [Int], model: CacheModel,
         callAt: [Int: UInt64] = [:]) {
        self.operations = operations
        self.model = model
        self.table = table
        var kept: [(Int, CompiledOp)] = []
        for i in indices {
            let c = compiled[i]
            if c.kind == .noEffect { continue }
            kept.append((i, c))
        }
        func call(_ g: Int) -> UInt64 { callAt[g] ?? operations[g].call }
        kept.sort { (a, b) in
            let ca = call(a.0), cb = call(b.0)
            return ca != cb ? ca < cb : a.0 < b.0
        }
        global = kept.map(\.0)
        ops = kept.map(\.1)
        unknownOutcome = global.map { operations[$0].return == UInt64.max }
        calls = global.map(call)
        rets = global.map { operations[$0].return }
    }

    /// Searches from `start` with the local operations `done` already linearized (lifted from the
    /// list before the walk). With `ends` it does not stop at the first linearization: it walks
    /// every one and hands each end (the state, and the operations of unknown outcome left
    /// unlinearized, which may still take effect later) to `ends`, then returns `.ok` if there
    /// was one. A shared `memo` is sound across starts: what follows a (set, state) pair does
    /// not depend on how it was reached, and its ends were handed over when it was first met.
    mutating func run(maxStates: Int, deadline: ContinuousClock.Instant?, clock: ContinuousClock) -> LinearizabilityVerdict {
        var memo = Memo()
        return run(maxStates: maxStates, deadline: deadline, clock: clock, start: .absent, done: [], memo: &memo, ends: nil)
    }

    mutating func run(maxStates: Int, deadline: ContinuousClock.Instant?, clock: ContinuousClock,
                      start: CompiledState, done: [Int], memo: inout Memo,
                      ends: ((CompiledState, [Int]) -> Void)?) -> LinearizabilityVerdict {
        let n = self.n
        if n == 0 { ends?(start, []); return .ok }
        let silent = model.allowSilentRemoval
        let calls = self.calls, rets = self.rets

        // Entries: node 0 is the head sentinel; node 1+2i is op i's call, 2+2i its return.
        // Sort: by time; at equal time calls first (closed intervals overlap).
        var order: [Int32] = []
        order.reserveCapacity(2 * n)
        for i in 0..<n { order.append(Int32(1 + 2 * i)); order.append(Int32(2 + 2 * i)) }
        order.sort { a, b in
            let ia = Int(a - 1) >> 1, ib = Int(b - 1) >> 1
            let aCall = (a & 1) == 1, bCall = (b & 1) == 1
            let ta = aCall ? calls[ia] : rets[ia], tb = bCall ? calls[ib] : rets[ib]
            if ta != tb { return ta < tb }
            if aCall != bCall { return aCall }
            return a < b
        }
        let nodes = 2 * n + 1
        var next = [Int32](repeating: -1, count: nodes)
        var prev = [Int32](repeating: -1, count: nodes)
        var last: Int32 = 0
        for e in order {
            next[Int(last)] = e
            prev[Int(e)] = last
            last = e
        }

        // Linearized set, with Zobrist hash and canonical bounds.
        let nw = (n + 63) >> 6
        let lastMask: UInt64 = (n & 63) == 0 ? ~0 : (UInt64(1) << UInt64(n & 63)) &- 1
        var bits = [UInt64](repeating: 0, count: nw)
        var low = 0          // first word not full
        var high = -1        // last non-zero word
        var zkeys = [UInt64](repeating: 0, count: n)
        var sm: UInt64 = 0x1234_5678_9ABC_DEF1
        for i in 0..<n {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            zkeys[i] = z ^ (z >> 31)
        }
        var zob: UInt64 = 0
        @inline(__always) func full(_ w: Int) -> UInt64 { w == nw - 1 ? lastMask : ~0 }
        for i in done {
            bits[i >> 6] |= UInt64(1) << UInt64(i & 63)
            zob ^= zkeys[i]
            lift(1 + 2 * i, &next, &prev)
        }
        while low < nw && bits[low] == full(low) { low += 1 }
        high = nw - 1
        while high >= 0 && bits[high] == 0 { high -= 1 }

        var stack: [(node: Int32, state: CompiledState)] = []
        stack.reserveCapacity(n)
        var state = start
        var entry = next[0]
        var iterations = 0
        var agree = 0   // leading stack entries equal to bestPrefix
        var found = false
        let unknownOps = (0..<n).filter { unknownOutcome[$0] }

        while true {
            let empty = next[0] == -1
            if !empty {
                iterations &+= 1
                if iterations & 4095 == 0, let d = deadline, clock.now >= d {
                    return .unknown(reason: "time limit reached after \(explored) explored states (\(n) operations)")
                }
                let e = Int(entry)
                if e & 1 == 1 {
                    // A call: try to linearize op i now.
                    let i = (e - 1) >> 1
                    if let ns = CompiledModel.step(state, ops[i], silent: silent) {
                        let w = i >> 6, b = UInt64(1) << UInt64(i & 63)
                        bits[w] |= b
                        zob ^= zkeys[i]
                        var nlow = low
                        while nlow < nw && bits[nlow] == full(nlow) { nlow += 1 }
                        let nhigh = max(high, w)
                        if memo.insert(hash: zob ^ ns.hash64, state: ns, bits: bits, low: nlow, high: nhigh) {
                            explored += 1
                            if explored > maxStates {
                                return .unknown(reason: "explored-state budget of \(maxStates) exhausted (\(n) operations)")
                            }
                            stack.append((entry, state))
                            state = ns
                            low = nlow
                            high = nhigh
                            lift(e, &next, &prev)
                            entry = next[0]
                        } else {
                            bits[w] &= ~b
                            zob ^= zkeys[i]
                            entry = next[e]
                        }
                    } else {
                        entry = next[e]
                    }
                    continue
                }
            }
            // Nothing left (every operation linearized, those of unknown outcome too), or a
            // return: the op it closes cannot be linearized from here. Either way, backtrack.
            if empty {
                guard let ends else { return .ok }
                ends(state, [])
                found = true
            } else {
                let i = (Int(entry) - 2) >> 1
                if unknownOutcome[i] {
                    // Only +infinity returns remain: every known operation is linearized and
                    // the unknown ones left never took effect (or, in a window, may later).
                    guard let ends else { return .ok }
                    ends(state, unknownOps.filter { bits[$0 >> 6] & (UInt64(1) << UInt64($0 & 63)) == 0 })
                    found = true
                } else if stack.count > bestDepth {
                    // Copy only the part of the stack that changed since the last record, so
                    // diagnostics stay linear in the work done.
                    bestDepth = stack.count
                    bestPrefix.removeLast(bestPrefix.count - agree)
                    for k in agree..<stack.count { bestPrefix.append(Int32((stack[k].node - 1) >> 1)) }
                    agree = stack.count
                    bestBlocked = Int32(i)
                    bestState = state
                }
            }
            guard let top = stack.popLast() else {
                return found ? .ok : .illegal(failure())
            }
            if stack.count < agree { agree = stack.count }
            let c = Int(top.node)
            let j = (c - 1) >> 1
            state = top.state
            let w = j >> 6
            bits[w] &= ~(UInt64(1) << UInt64(j & 63))
            zob ^= zkeys[j]
            if w < low { low = w }
            if w == high { while high >= 0 && bits[high] == 0 { high -= 1 } }
            unlift(c, &next, &prev)
            entry = next[c]
        }
    }

    @inline(__always) private func lift(_ c: Int, _ next: inout [Int32], _ prev: inout [Int32]) {
        let r = c + 1
        next[Int(prev[c])] = next[c]
        if next[c] != -1 { prev[Int(next[c])] = prev[c] }
        next[Int(prev[r])] = next[r]
        if next[r] != -1 { prev[Int(next[r])] = prev[r] }
    }

    @inline(__always) private func unlift(_ c: Int, _ next: inout [Int32], _ prev: inout [Int32]) {
        let r = c + 1
        next[Int(prev[r])] = Int32(r)
        if next[r] != -1 { prev[Int(next[r])] = Int32(r) }
        next[Int(prev[c])] = Int32(c)
        if next[c] != -1 { prev[Int(next[c])] = Int32(c) }
    }

    // MARK: Explaining a failure

    private func failure() -> LinearizabilityFailure {
        let key = model.partition(operations[global[0]].input)
        let prefixGlobal = bestPrefix.map { global[Int($0)] }
        let blocked = global[Int(bestBlocked)]
        func line(_ g: Int) -> String {
            let op = operations[g]
            let ret = op.return == UInt64.max ? "∞" : String(op.return)
            return "#\(g) [client \(op.clientId), \(op.call)…\(ret)] \(describe(input: op.input, output: op.output))"
        }
        var text = "Key \(describeBytes(key)) is not linearizable (\(n) operations on it were checked). "
        text += "The longest linearizable prefix found places \(prefixGlobal.count) operation\(prefixGlobal.count == 1 ? "" : "s")"
        if prefixGlobal.isEmpty {
            text += " (none)."
        } else {
            text += ":\n"
            let shown = 12
            if prefixGlobal.count > shown { text += "  … \(prefixGlobal.count - shown) earlier operations …\n" }
            for g in prefixGlobal.suffix(shown) { text += "  \(line(g))\n" }
        }
        let st = table.decompile(bestState)
        text += "\nAfter it the key is \(model.describeState(st)). "
        let b = operations[blocked]
        text += "Operation \(line(blocked)) could not be placed: "
        if CompiledModel.step(bestState, ops[Int(bestBlocked)], silent: model.allowSilentRemoval) == nil {
            text += model.whyIllegal(st, b.input, b.output) + ". "
        } else {
            text += "it is legal in that state, but every way of going on from it fails later. "
        }
        text += "It returned at \(b.return), so it must take effect before then, and no order of the operations still pending at that point makes it legal."
        // The other candidates at that point: unlinearized ops called before `blocked` returned.
        let placed = Set(bestPrefix.map(Int.init))
        var others: [String] = []
        for i in 0..<n where !placed.contains(i) && global[i] != blocked
            && operations[global[i]].call <= b.return && others.count < 8 {
            let op = operations[global[i]]
            let why: String
            if CompiledModel.step(bestState, ops[i], silent: model.allowSilentRemoval) == nil {
                why = "not legal here: " + model.whyIllegal(st, op.input, op.output)
            } else {
                why = "legal here, but leads only to dead ends"
            }
            others.append("  \(line(global[i])) — \(why)")
        }
        if !others.isEmpty {
            text += "\nOther operations that could have come next:\n" + others.joined(separator: "\n")
        }
        return LinearizabilityFailure(key: key, prefix: prefixGlobal, unplaced: blocked, explanation: text)
    }
}

// MARK: - Memo of (linearized set, state)

/// Open-addressing set of (canonical bitset, state). A bitset is stored as `low` (all words
/// below are all-ones) and the words low...high (all words above are zero).
struct Memo {
    private var slots: [Int32]
    private var mask: Int
    private var count = 0
    private var hashes: [UInt64] = []
    private var states: [CompiledState] = []
    private var lows: [Int32] = []
    private var offsets: [Int32] = []   // into arena; length = counts
    private var counts: [Int32] = []
    private var arena: [UInt64] = []

    init() {
        slots = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    /// Inserts; false if already present.
    @inline(__always)
    mutating func insert(hash: UInt64, state: CompiledState, bits: [UInt64], low: Int, high: Int) -> Bool {
        let h = hash ^ (hash >> 29)
        let len = high >= low ? high - low + 1 : 0
        var p = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[p]
            if s < 0 { break }
            let k = Int(s)
            if hashes[k] == h && states[k] == state && Int(lows[k]) == low && Int(counts[k]) == len {
                let off = Int(offsets[k])
                var same = true
                var j = 0
                while j < len {
                    if arena[off + j] != bits[low + j] { same = false; break }
                    j += 1
                }
                if same { return false }
            }
            p = (p + 1) & mask
        }
        let k = Int32(count)
        slots[p] = k
        hashes.append(h)
        states.append(state)
        lows.append(Int32(low))
        offsets.append(Int32(arena.count))
        counts.append(Int32(len))
        var j = 0
        while j < len { arena.append(bits[low + j]); j += 1 }
        count += 1
        if count * 2 > mask { grow() }
        return true
    }

    private mutating func grow() {
        let cap = (mask + 1) * 2
        slots = [Int32](repeating: -1, count: cap)
        mask = cap - 1
        for k in 0..<count {
            var p = Int(truncatingIfNeeded: hashes[k]) & mask
            while slots[p] >= 0 { p = (p + 1) & mask }
            slots[p] = Int32(k)
        }
    }
}
