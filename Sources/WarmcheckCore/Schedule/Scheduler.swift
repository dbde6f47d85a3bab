import WarmcheckScenario

/// Decides, at each moment of a race where several processes stand at pause points, which one
/// moves next (shuttle's shape, less the random numbers nothing here asks for: two methods; one file
/// per strategy).
///
/// Every strategy is determined by its seed and its configuration, so a schedule can be
/// replayed from the list of choices it made (`ReplayScheduler`).
public protocol Scheduler {
    /// Starts a new execution; false when the strategy has nothing left to explore (DFS) or its
    /// budget is spent.
    mutating func newExecution() -> Bool
    /// Picks one of `runnable` (role indices, ascending, never empty); `current` is the role
    /// that moved last, if it is still runnable (switching away from it is a preemption).
    mutating func nextTask(runnable: [Int], current: Int?) -> Int
}

extension SplitMix64 {
    /// A number in 0..<n (modulo bias is irrelevant for scheduling choices).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// Records the choices of any scheduler, so that a failing schedule can be saved and replayed.
public struct RecordingScheduler: Scheduler {
    public var inner: any Scheduler
    public private(set) var choices: [Int] = []

    public init(_ inner: any Scheduler) { self.inner = inner }

    public mutating func newExecution() -> Bool {
        choices = []
        return inner.newExecution()
    }
    public mutating func nextTask(runnable: [Int], current: Int?) -> Int {
        let c = inner.nextTask(runnable: runnable, current: current)
        choices.append(c)
        return c
    }
}

/// Builds the strategy a race block names (an enumeration: nothing falls back to random).
/// PCT measures its step bound itself (PCTScheduler).
public func makeScheduler(strategy: RaceStrategy, seed: UInt64, schedules: Int, depth: Int, preemptions: Int) -> any Scheduler {
    switch strategy {
    case .pct: return PCTScheduler(seed: seed, depth: depth, budget: schedules)
    case .dfs: return DFSScheduler(maxPreemptions: preemptions, budget: schedules)
    case .random: return RandomScheduler(seed: seed, budget: schedules)
    }
}
