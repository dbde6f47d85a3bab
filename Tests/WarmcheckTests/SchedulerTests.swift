import XCTest

@testable import WarmcheckCore
import WarmcheckScenario

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

    /// The paper draws d − 1 *distinct* change points: two on one step would waste one, making
    /// a depth-d bug as hard to find as a depth-(d−1) one.
    func testPCTChangePointsAreDistinctAndWithinTheBound() {
        for seed in 0..<300 {
            var s = PCTScheduler(seed: UInt64(seed), depth: 3, maxSteps: 3, budget: 1)
            XCTAssertTrue(s.newExecution())
            XCTAssertEqual(s.changePoints.count, 2)
            XCTAssertEqual(Set(s.changePoints).count, 2, "seed \(seed): \(s.changePoints)")
            XCTAssertTrue(s.changePoints.allSatisfy { (1...3).contains($0) }, "\(s.changePoints)")
            XCTAssertEqual(s.changePoints, s.changePoints.sorted())
        }
        // Fewer steps than change points: every step is one, once.
        var small = PCTScheduler(seed: 1, depth: 5, maxSteps: 2, budget: 1)
        _ = small.newExecution()
        XCTAssertEqual(small.changePoints, [1, 2])
    }

    /// Steps where only one task can run are no choice and do not count towards the change
    /// points; the step bound k is what executions measured, not a guess.
    func testPCTCountsOnlyStepsWithAChoiceAndMeasuresItsStepBound() {
        let steps = [1, 6]
        var s = PCTScheduler(seed: 7, depth: 2, budget: 3)
        XCTAssertTrue(s.newExecution())
        XCTAssertNil(s.stepBound, "nothing measured yet")
        XCTAssertEqual(s.changePoints, [], "no change points before k is known")
        let run = execute(&s, steps: steps)
        // A step is a choice while both tasks still have steps left.
        var left = steps, choices = 0
        for t in run {
            if left.allSatisfy({ $0 > 0 }) { choices += 1 }
            left[t] -= 1
        }
        XCTAssertLessThan(choices, run.count, "the run must have steps without a choice: \(run)")
        XCTAssertEqual(s.choiceSteps, choices, "\(run)")
        XCTAssertTrue(s.newExecution())
        XCTAssertEqual(s.stepBound, choices, "k is the measured number of steps with a choice")
        XCTAssertTrue(s.changePoints.allSatisfy { (1...choices).contains($0) }, "\(s.changePoints)")
    }

    /// With two tasks of k steps and depth 2, the bug "task 1 runs between task 0's first and
    /// last step" needs one change point at the right moment: the paper's bound 1/(n·k) per
    /// execution, here 1/12, must hold (measured over many executions).
    func testPCTFindsADepthTwoOrderingAtTheRateThePaperPromises() {
        let steps = [6, 6]
        var s = PCTScheduler(seed: 11, depth: 2, maxSteps: 12, budget: 2000)
        var hits = 0, n = 0
        while s.newExecution() {
            let run = execute(&s, steps: steps)
            n += 1
            let first0 = run.firstIndex(of: 0)!, last0 = run.lastIndex(of: 0)!
            if run[first0...last0].contains(1) { hits += 1 }
        }
        XCTAssertGreaterThanOrEqual(Double(hits) / Double(n), 1.0 / 12.0, "\(hits)/\(n)")
    }

    /// The strategy is an enumeration: a name the parser does not know is an error at its
    /// position, never a silent fallback to random.
    func testUnknownStrategyIsRefused() {
        let yaml = "processes:\n  a: any\n  b: any\nrace:\n  strategy: pcct\n  ops:\n    a: [get k1]\n    b: [get k1]\n"
        let r = ScenarioParser.parseCollectingErrors(yaml: yaml, file: "x.yaml")
        XCTAssertNil(r.scenario)
        XCTAssertTrue(r.errors.contains { $0.description.contains("x.yaml:5") && $0.message.contains("random, pct, dfs") && $0.message.contains("pcct") },
                      "\(r.errors)")
        XCTAssertEqual(RaceStrategy(rawValue: "pct"), .pct)
        XCTAssertEqual(Replay.strategies, ["random", "pct", "dfs", "script"])
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
