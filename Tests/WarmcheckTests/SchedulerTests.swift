import XCTest

@testable import WarmcheckCore

/// The schedulers against a simulated race: task i takes `steps[i]` steps, a task is runnable
/// while it has steps left, and the runner passes the last task as `current` while it can still
/// run (as CaseRunner+Race does).
final class SchedulerTests: XCTestCase {
    /// One execution; the choices made, in order.
    func execute(_ s: inout some Scheduler, steps: [Int]) -> [Int] {
        var left = steps
        var current: Int?
        var out: [Int] = []
        while true {
            let runnable = left.indices.filter { left[$0] > 0 }
            if runnable.isEmpty { return out }
            let pick = s.nextTask(runnable: runnable, current: current.flatMap { runnable.contains($0) ? $0 : nil })
            XCTAssertTrue(runnable.contains(pick), "picked \(pick) from \(runnable)")
            out.append(pick)
            left[pick] -= 1
            current = pick
        }
    }

    /// Switches away from a task that still had steps to take.
    func preemptions(_ choices: [Int], steps: [Int]) -> Int {
        var left = steps
        var n = 0
        for (i, c) in choices.enumerated() {
            if i > 0, c != choices[i - 1], left[choices[i - 1]] > 0 { n += 1 }
            left[c] -= 1
        }
        return n
    }

    func executions(_ s: some Scheduler, steps: [Int]) -> [[Int]] {
        var s = s
        var all: [[Int]] = []
        while s.newExecution() { all.append(execute(&s, steps: steps)) }
        return all
    }

    /// Every interleaving of the tasks' steps, by brute force.
    func interleavings(_ steps: [Int]) -> Set<[Int]> {
        if steps.allSatisfy({ $0 == 0 }) { return [[]] }
        var out = Set<[Int]>()
        for t in steps.indices where steps[t] > 0 {
            var rest = steps
            rest[t] -= 1
            for tail in interleavings(rest) { out.insert([t] + tail) }
        }
        return out
    }

    func testDFSRunsExactlyTheSchedulesWithinItsPreemptionBound() {
        let steps = [3, 3, 2]
        for bound in 0...2 {
            let runs = executions(DFSScheduler(maxPreemptions: bound, budget: 10_000), steps: steps)
            let want = interleavings(steps).filter { preemptions($0, steps: steps) <= bound }
            XCTAssertEqual(runs.count, Set(runs).count, "bound \(bound): a schedule ran twice")
            XCTAssertEqual(Set(runs), want, "bound \(bound)")
        }
    }

    func testDFSStopsAtItsBudgetAndSaysWhenItIsExhaustive() {
        var d = DFSScheduler(maxPreemptions: 1, budget: 3)
        XCTAssertEqual(executions(d, steps: [3, 3]).count, 3)
        d = DFSScheduler(maxPreemptions: 0, budget: 100)
        while d.newExecution() { _ = execute(&d, steps: [2, 2]) }
        XCTAssertTrue(d.exhausted)
    }

    func testPCTWithDepthOneNeverPreempts() {
        let steps = [4, 4, 4]
        for run in executions(PCTScheduler(seed: 9, depth: 1, maxSteps: 12, budget: 50), steps: steps) {
            XCTAssertEqual(preemptions(run, steps: steps), 0, "\(run)")
        }
    }

    func testPCTChangePointsFireAtMostDepthMinusOneTimes() {
        // Three tasks: a second change point can only preempt when a third task outranks the
        // one lowered first (later change points hand out higher low priorities).
        let steps = [4, 4, 4]
        let runs = executions(PCTScheduler(seed: 3, depth: 3, maxSteps: 12, budget: 200), steps: steps)
        let counts = runs.map { preemptions($0, steps: steps) }
        XCTAssertTrue(counts.allSatisfy { $0 <= 2 }, "\(counts)")
        XCTAssertTrue(counts.contains(2), "no execution used both change points")
    }

    /// A change point at a step with no current task (the first step, or right after a task
    /// finished) must be used up there, or every later change point is lost with it.
    func testPCTChangePointWithoutACurrentTaskDoesNotBlockTheNext() {
        let steps = [4, 4, 4]
        var s = PCTScheduler(seed: 5, depth: 3, maxSteps: 12, budget: 1)
        XCTAssertTrue(s.newExecution())
        s.changePoints = [1, 3]
        let run = execute(&s, steps: steps)
        // Step 1 lowers the first choice, so another task starts; step 3 lowers that one too,
        // in the middle of its work: one preemption.
        XCTAssertEqual(preemptions(run, steps: steps), 1, "\(run)")
        XCTAssertEqual(run[0], run[1], "\(run)")
        XCTAssertNotEqual(run[1], run[2], "the change point at step 3 did not fire: \(run)")
    }

    func testStrategiesAreDeterminedByTheirSeed() {
        let steps = [3, 2, 4]
        XCTAssertEqual(executions(RandomScheduler(seed: 42, budget: 20), steps: steps),
                       executions(RandomScheduler(seed: 42, budget: 20), steps: steps))
        XCTAssertEqual(executions(PCTScheduler(seed: 42, depth: 3, maxSteps: 9, budget: 20), steps: steps),
                       executions(PCTScheduler(seed: 42, depth: 3, maxSteps: 9, budget: 20), steps: steps))
        XCTAssertNotEqual(executions(RandomScheduler(seed: 42, budget: 20), steps: steps),
                          executions(RandomScheduler(seed: 43, budget: 20), steps: steps))
    }

    func testReplayRepeatsTheChoicesAndSaysWhenItCannot() {
        let steps = [2, 2]
        var r = ReplayScheduler(choices: [1, 0, 0, 1])
        XCTAssertTrue(r.newExecution())
        XCTAssertEqual(execute(&r, steps: steps), [1, 0, 0, 1])
        XCTAssertFalse(r.diverged)
        XCTAssertFalse(r.newExecution(), "a replay is one execution")
        var bad = ReplayScheduler(choices: [0, 0, 0, 1])
        _ = bad.newExecution()
        XCTAssertEqual(execute(&bad, steps: steps), [0, 0, 1, 1])
        XCTAssertTrue(bad.diverged)
    }
}
