/// Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010):
/// every task gets a random distinct high priority (≥ d), the highest-priority runnable task
/// runs, and at d − 1 distinct change points k₁ < … < k_{d−1}, drawn uniformly from 1…k, the
/// task about to run drops to priority i (the i-th change point; all below every initial
/// priority). A bug of depth d is found with probability ≥ 1/(n·k^(d−1)) per execution.
///
/// Two readings of the paper that matter here: steps are counted only where there was a choice
/// (more than one runnable task) — a step with one runnable task cannot be reordered, and
/// counting it would spend change points where they change nothing; and k, the step bound, is
/// measured: the largest number of such steps an execution of this race has taken so far
/// (the first execution, before anything is measured, runs on priorities alone unless an
/// estimate is given).
public struct PCTScheduler: Scheduler {
    var rng: SplitMix64
    let depth: Int
    var remaining: Int
    /// k: the step bound the next execution's change points are drawn from.
    public private(set) var stepBound: Int?
    /// Steps with a choice in the execution under way (after it: in the last one).
    public private(set) var choiceSteps = 0
    var priorities: [Int: Int] = [:]
    /// This execution's change points, ascending and distinct.
    public internal(set) var changePoints: [Int] = []
    var nextChange = 0

    /// `maxSteps`: an estimate of k for the first execution (nil: measure it first).
    public init(seed: UInt64, depth: Int, maxSteps: Int? = nil, budget: Int) {
        rng = SplitMix64(seed: seed)
        self.depth = max(1, depth)
        stepBound = maxSteps.map { max(1, $0) }
        remaining = budget
    }

    public mutating func newExecution() -> Bool {
        guard remaining > 0 else { return false }
        remaining -= 1
        if choiceSteps > 0 { stepBound = max(stepBound ?? 0, choiceSteps) }
        priorities = [:]
        choiceSteps = 0
        nextChange = 0
        changePoints = stepBound.map { Self.distinct(depth - 1, from: $0, rng: &rng) } ?? []
        return true
    }

    /// `count` distinct numbers from 1…k, ascending (all of 1…k when k ≤ count): a partial
    /// Fisher–Yates shuffle, so no value can be drawn twice.
    static func distinct(_ count: Int, from k: Int, rng: inout SplitMix64) -> [Int] {
        guard count > 0 else { return [] }
        if k <= count { return Array(1...max(1, k)) }
        var pool = Array(1...k)
        for i in 0..<count { pool.swapAt(i, i + rng.below(k - i)) }
        return pool[0..<count].sorted()
    }

    public mutating func nextTask(runnable: [Int], current: Int?) -> Int {
        for t in runnable where priorities[t] == nil {
            // Initial priorities are high (≥ depth) and distinct: a random order of the tasks.
            var p = depth + rng.below(1_000_000)
            while priorities.values.contains(p) { p = depth + rng.below(1_000_000) }
            priorities[t] = p
        }
        func highest() -> Int { runnable.max { priorities[$0]! < priorities[$1]! }! }
        guard runnable.count > 1 else { return runnable[0] }
        choiceSteps += 1
        var pick = highest()
        // At change point i the task about to run drops to priority i, below every initial
        // one (a later drop stays above an earlier one, as in the paper).
        if nextChange < changePoints.count, changePoints[nextChange] == choiceSteps {
            nextChange += 1
            priorities[pick] = nextChange
            pick = highest()
        }
        return pick
    }
}
