/// Replays recorded choices exactly; a choice that is not runnable any more (the replayed
/// program changed) falls back to the lowest runnable task, and `diverged` says so.
public struct ReplayScheduler: Scheduler {
    let choices: [Int]
    var position = 0
    var ran = false
    public private(set) var diverged = false

    public init(choices: [Int]) { self.choices = choices }

    public mutating func newExecution() -> Bool {
        guard !ran else { return false }
        ran = true
        position = 0
        return true
    }

    public mutating func nextTask(runnable: [Int], current: Int?) -> Int {
        defer { position += 1 }
        if position < choices.count, runnable.contains(choices[position]) { return choices[position] }
        diverged = true
        return runnable[0]
    }
}
