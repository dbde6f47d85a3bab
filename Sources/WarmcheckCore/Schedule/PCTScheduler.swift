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
            priorities[t] = depth + rng.below(1_000_000)
        }
        if changePoints.first == step, let c = current {
            changePoints.removeFirst()
            priorities[c] = nextLow
            nextLow += 1
        }
        return runnable.max { priorities[$0]! < priorities[$1]! }!
    }

    public mutating func nextRandom() -> UInt64 { rng.next() }
}
