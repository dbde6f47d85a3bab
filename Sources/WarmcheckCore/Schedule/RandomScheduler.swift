/// Uniformly random choice at every step: cheap, finds shallow races quickly.
public struct RandomScheduler: Scheduler {
    var rng: SplitMix64
    var remaining: Int

    public init(seed: UInt64, budget: Int) {
        rng = SplitMix64(seed: seed)
        remaining = budget
    }

    public mutating func newExecution() -> Bool {
        guard remaining > 0 else { return false }
        remaining -= 1
        return true
    }

    public mutating func nextTask(runnable: [Int], current: Int?) -> Int { runnable[rng.below(runnable.count)] }
}
