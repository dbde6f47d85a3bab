// Time-window partitioning of one key's history (issue 9 §5): the search is exponential in how
// many operations are open at once, not in the history's length, so a long history of a
// contended key is cut where nothing of it is in flight and checked window by window.
//
//   ops of key k   |--a--|  |--b--|          |-c-|  |--d--|
//                     |--e--|      |--x (unknown outcome, never returns) ...
//   cuts                        ^ T1          ^ T2
//   windows        [ a e b    ] [ x c   ]   [ d  (x carried) ]
//
// A cut T is a quiescent instant of the key: every operation of known outcome returned before
// T or is called after it. Every linearization then places all of the earlier window's known
// operations before all of the later's (each takes effect inside its interval), so the check
// is exact if each window starts from EVERY state some linearization of the windows before it
// can end in, not from one guessed state: the history is linearizable iff some chain of
// window ends reaches the end of the last window.
//
// An operation of unknown outcome (a killed caller) is called but never returns: it may take
// effect at any instant after its call, or never. It does not block cuts; it is carried. A
// carried configuration is (model state, the unknown operations not yet linearized), and a
// window checks its own operations plus the carried ones, called at the window's start.

/// What splitting one key's history into time windows did.
public struct WindowReport: Sendable, Hashable {
    /// Windows the key's history was cut into (1: it has no quiescent instant).
    public var windows: Int
    /// Configurations (state, unknown operations still open) carried across each cut.
    public var carried: [Int]
    /// States explored over all windows. The budget (SearchBudget.maxExploredStates) bounds
    /// each window's memo, as it bounds the unsplit search's: it is the memory the search may
    /// hold at once, and a window's memo is dropped when the next begins.
    public var exploredStates: Int
    public var verdict: LinearizabilityVerdict
    /// The unsplit search's verdict, when it ran first and was inconclusive.
    public var unsplitVerdict: LinearizabilityVerdict?

    public var text: String {
        let budget = verdict.isUnknown ? "the budget still ran out" : "decided"
        return "\(windows) windows, carried \(carried.max() ?? 0) configurations at most across a cut "
            + "(\(carried.reduce(0, +)) over \(carried.count) cuts), \(exploredStates) states explored, \(budget)"
    }
}

/// When `checkLinearizability` cuts a key's history into time windows.
public enum TimeWindowPolicy: Sendable, Hashable {
    /// Never: one search per key (the default).
    case never
    /// Only keys the unsplit search left undecided (the unsplit verdict is kept in the report).
    case whenUndecided
    /// Every key, instead of the unsplit search.
    case always
}

/// The quiescent cuts of a search's operations (in its local call order): the local indices
/// that begin a window after the first. Operations of unknown outcome are ignored (carried).
func quiescentCuts(_ s: PartitionSearch) -> [Int] {
    var cuts: [Int] = []
    var lastReturn: UInt64 = 0
    var seenKnown = false
    for i in 0..<s.n {
        if seenKnown && lastReturn < s.calls[i] { cuts.append(i) }
        if !s.unknownOutcome[i] {
            lastReturn = max(lastReturn, s.rets[i])
            seenKnown = true
        }
    }
    return cuts
}

/// One key's history checked window by window, carrying every configuration a window can end in.
func checkByWindows(operations: [CacheOperation], compiled: [CompiledOp], table: ValueTable, indices: [Int],
                    model: CacheModel, maxStates: Int, deadline: ContinuousClock.Instant?,
                    clock: ContinuousClock) -> WindowReport {
    let whole = PartitionSearch(operations: operations, compiled: compiled, table: table, indices: indices, model: model)
    let cuts = quiescentCuts(whole)
    let bounds = [0] + cuts + [whole.n]

    struct Config: Hashable {
        var state: CompiledState
        /// Global indices of unknown-outcome operations not linearized yet, ascending.
        var open: [Int]
    }
    var configs: Set<Config> = [Config(state: .absent, open: [])]
    var carried: [Int] = []
    var explored = 0
    for w in 0..<(bounds.count - 1) {
        let mine = Array(whole.global[bounds[w]..<bounds[w + 1]])
        let openAll = Set(configs.flatMap(\.open)).sorted()
        let start = whole.calls[bounds[w]]
        var search = PartitionSearch(operations: operations, compiled: compiled, table: table, indices: mine + openAll,
                                     model: model, callAt: Dictionary(uniqueKeysWithValues: openAll.map { ($0, start) }))
        let global = search.global
        let local = Dictionary(uniqueKeysWithValues: global.enumerated().map { ($0.element, $0.offset) })
        let last = w == bounds.count - 2
        var memo = Memo()
        var next: Set<Config> = []
        var failure: LinearizabilityVerdict?
        for c in configs.sorted(by: { $0.open.lexicographicallyPrecedes($1.open) || ($0.open == $1.open && $0.state.hash64 < $1.state.hash64) }) {
            // The carried operations this configuration already linearized are done here.
            let open = Set(c.open)
            let done = openAll.filter { !open.contains($0) }.map { local[$0]! }
            let v = search.run(maxStates: maxStates, deadline: deadline, clock: clock,
                               start: c.state, done: done, memo: &memo,
                               ends: last ? nil : { state, left in next.insert(Config(state: state, open: left.map { global[$0] }.sorted())) })
            switch v {
            case .ok where last:
                return WindowReport(windows: bounds.count - 1, carried: carried, exploredStates: explored + search.explored,
                                    verdict: .ok)
            case .unknown(let why):
                return WindowReport(windows: bounds.count - 1, carried: carried, exploredStates: explored + search.explored,
                                    verdict: .unknown(reason: "window \(w + 1) of \(bounds.count - 1): \(why)"))
            case .illegal:
                if failure == nil { failure = v }
            case .ok:
                break
            }
        }
        explored += search.explored
        if last || next.isEmpty {
            // No configuration reaches the end of this window: no linearization exists.
            return WindowReport(windows: bounds.count - 1, carried: carried, exploredStates: explored,
                                verdict: failure ?? .illegal(LinearizabilityFailure(key: model.partition(operations[mine[0]].input),
                                                                                      prefix: [], unplaced: mine[0],
                                                                                      explanation: "no configuration reaches window \(w + 1)")))
        }
        configs = next
        carried.append(next.count)
    }
    return WindowReport(windows: bounds.count - 1, carried: carried, exploredStates: explored, verdict: .ok)
}
