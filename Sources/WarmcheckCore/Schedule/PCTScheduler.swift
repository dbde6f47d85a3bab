/// Probabilistic Concurrency Testing (Burckhardt et al.): random distinct priorities per task,
/// and `depth − 1` change points at random steps where the running task drops to the lowest
/// priority. A bug of depth d is found with probability ≥ 1/(n·k^(d−1)) per execution
/// (n tasks, k steps), far better than uniform random for ordering bugs.
public struct PCTScheduler: Scheduler {
    var rng: SplitMix64
    let depth: Int
    let maxSteps: Int
    var remaining: Int
    var priorities: [Int: Int] = [:]
    var changePoints: [Int] = []
    var step = 0
    var nextLow = 0

    public init(seed: UInt64, depth: Int, maxSteps: Int, budget: Int) {
        rng = SplitMix64(seed: seed)
        self.depth = max(1, depth)
        self.maxSteps = max(1, maxSteps)
        remaining = budget
    }

    public mutating func newExecution() -> Bool {
        guard remaining > 0 else { return false }
        remaining -= 1
        priorities = [:]
        step = 0
        nextLow = 0
        changePoints = (0..<(depth - 1)).map { _ in 1 + rng.below(maxSteps) }.sorted()
        return true
    }

    public mutating func nextTask(runnable: [Int], current: Int?) -> Int {
        step += 1
        for t in runnable where priorities[t] == nil {
            // Initial priorities are high (≥ depth) and distinct; change points hand out 0, 1, …
            var p = depth + rng.below(1_000_000)
            while priorities.values.contains(p) { p = depth + rng.below(1_000_000) }
            priorities[t] = p
        }
        var pick = runnable.max { priorities[$0]! < priorities[$1]! }!
        // At a change point the task that would take this step drops below every other, and
        // the highest of the rest takes it. Every change point passed is used up here, also
        // at the first step or right after a task finished (the current task is then nil: a
        // test on it left the change point at the head of the list for ever, and with it
        // every later one).
        while let cp = changePoints.first, cp <= step {
            changePoints.removeFirst()
            priorities[pick] = nextLow
            nextLow += 1
            pick = runnable.max { priorities[$0]! < priorities[$1]! }!
        }
        return pick
    }
}
