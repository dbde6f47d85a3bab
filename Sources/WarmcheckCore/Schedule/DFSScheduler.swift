/// Exhaustive depth-first exploration of the choice tree, bounded by the number of
/// preemptions (switching away from a task that could go on). Loom's experience: two or three
/// preemptions find most bugs, and the bound keeps the tree small.
public struct DFSScheduler: Scheduler {
    struct Choice {
        var options: [Int]
        var index: Int
        var current: Int?
    }

    let maxPreemptions: Int
    var remaining: Int
    /// The path of the previous execution; replayed up to the point to branch at.
    var stack: [Choice] = []
    var depth = 0
    var preemptions = 0
    var started = false
    /// True once every schedule within the preemption bound has been run.
    public private(set) var exhausted = false

    public init(maxPreemptions: Int, budget: Int) {
        self.maxPreemptions = maxPreemptions
        remaining = budget
    }

    public mutating func newExecution() -> Bool {
        guard remaining > 0, !exhausted else { return false }
        if started {
            // Backtrack: the deepest choice with an untried option moves to it; deeper ones go.
            while let last = stack.last, last.index + 1 >= last.options.count { stack.removeLast() }
            guard !stack.isEmpty else { exhausted = true; return false }
            stack[stack.count - 1].index += 1
        }
        started = true
        remaining -= 1
        depth = 0
        preemptions = 0
        return true
    }

    public mutating func nextTask(runnable: [Int], current: Int?) -> Int {
        defer { depth += 1 }
        if depth < stack.count {
            let c = stack[depth]
            let pick = c.options[min(c.index, c.options.count - 1)]
            if let cur = c.current, pick != cur, runnable.contains(cur) { preemptions += 1 }
            return runnable.contains(pick) ? pick : runnable[0]
        }
        // New territory: the options allowed by the preemption bound, staying put first.
        var options = runnable
        if let cur = current, runnable.contains(cur) {
            options = preemptions >= maxPreemptions ? [cur] : [cur] + runnable.filter { $0 != cur }
        }
        stack.append(Choice(options: options, index: 0, current: current))
        return options[0]
    }
}
