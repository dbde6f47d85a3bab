import Foundation
import WarmcheckModel
import WarmcheckScenario

extension CaseRunner {
    /// One execution of a `race:` block: every role's operations run in step mode (paused at
    /// every pause point) and the scheduler picks, at each moment, which paused role moves on.
    func runRace(_ race: RaceBlock) throws {
        guard scheduler != nil else { try harness("race without a scheduler", "internal: CaseRunner.scheduler is nil") }
        let order = scenario.roles.filter { r in race.ops.contains { $0.role == r && !$0.steps.isEmpty } }
        var queues: [String: [OperationStep]] = [:]
        for list in race.ops { queues[list.role] = list.steps.compactMap(\.operation) }
        struct Paused { var id: Int64; var point: String; var step: OperationStep; var callAt: UInt64 }
        var paused: [String: Paused] = [:]
        log.add("race begins (\(race.strategy)): " + order.map { "\($0) × \(queues[$0]!.count)" }.joined(separator: ", "))

        /// Takes what a step-mode request produced: a pause, or the operation's end.
        func settle(_ role: String, _ step: OperationStep, _ callAt: UInt64, _ result: Result<FixtureProcess.CallResult, Error>) throws {
            let rp = roles[role]!
            switch result {
            case .success(.paused(let point, let id)):
                paused[role] = Paused(id: id, point: point, step: step, callAt: callAt)
                timeline.append(.init(lane: lane(role), kind: .pause, label: point, t: MonotonicClock.now()))
            case .success(.response(let r)):
                paused[role] = nil
                if let kind = r.errorKind {
                    try harness("\(role) (\(rp.impl)) answered error(\(kind)) in the race", r.message ?? "")
                }
                record(r.transitions, reporter: rp.participant, lane: lane(role))
                let ret = MonotonicClock.now()
                log.add("\(role) (\(rp.impl)) \(step.text) [race] → \(describe(step, r))")
                timeline.append(.init(lane: lane(role), kind: .returned, label: describe(step, r), t: ret))
                noteHistory(step, r, rp: rp, call: callAt, ret: ret)
                evaluate(step, .answered(r))
            case .failure(let e):
                try harness("fixture \(rp.impl) playing \(role) failed in the race during `\(step.text)`", "\(e)")
            }
        }

        func start(_ role: String) throws {
            guard var q = queues[role], !q.isEmpty else { return }
            let step = q.removeFirst()
            queues[role] = q
            let rp = roles[role]!
            var args = arguments(step)
            if case .object(var o) = args { o["pause_at"] = "*"; args = .object(o) }
            let callAt = MonotonicClock.now()
            timeline.append(.init(lane: lane(role), kind: .call, label: step.text, t: callAt))
            try settle(role, step, callAt, Result { try rp.fixture!.start(step.op.rawValue, args, timeout: options.timeout) })
        }

        /// A kill chosen by the scheduler: SIGKILL the role where it stands. Its operation's
        /// outcome is unknown (the checker lets it take effect at any moment after its call, or
        /// never), the transitions it made are unreported, and its remaining race operations
        /// never run; it is started again after the race, so that `final` finds every role.
        var killed: [String] = []
        func kill(_ role: String) {
            let rp = roles[role]!, p = paused[role]!
            rp.fixture?.crash()
            rp.fixture = nil
            rp.crashed = true
            paused[role] = nil
            let ret = MonotonicClock.now()
            noteHistory(p.step, nil, rp: rp, call: p.callAt, ret: ret)
            noteHandleReplaced(rp, at: ret)  // its pin died with it (§18.3)
            if let id = rp.participant { checker.participantDied(id) }
            let dropped = queues[role]?.count ?? 0
            queues[role] = []
            killed.append(role)
            killsAt.append("\(role)@\(p.point)")
            log.add("\(role) (\(rp.impl)) killed at \(p.point) in `\(p.step.text)` [race choice] → outcome unknown"
                    + (dropped > 0 ? "; its \(dropped) later race operation\(dropped == 1 ? "" : "s") never run" : ""))
            timeline.append(.init(lane: lane(role), kind: .returned, label: "SIGKILL at \(p.point)", t: ret))
        }

        // A role can move when its operation stands at a pause point, or when it has an operation
        // still to start (starting runs it to its first pause point): so who starts first is a
        // scheduling choice too. With `kills: N`, choice `order.count + i` kills role i where it
        // is paused (while fewer than N kills were made in this schedule).
        var current: Int? = nil
        while true {
            let here = Set(paused.map { RacePosition(role: $0.key, point: $0.value.point) })
            for (i, goal) in race.sometimes.enumerated() where goal.allSatisfy(here.contains) { goalsReached.insert(i) }
            var runnable = order.indices.filter { paused[order[$0]] != nil || !(queues[order[$0]] ?? []).isEmpty }
            if runnable.isEmpty { break }
            if killed.count < race.kills {
                runnable += order.indices.filter { paused[order[$0]] != nil }.map { order.count + $0 }
            }
            let pick = scheduler!.nextTask(runnable: runnable, current: current.flatMap { runnable.contains($0) ? $0 : nil })
            if pick >= order.count {
                kill(order[pick - order.count])
                continue
            }
            current = pick
            let role = order[pick]
            if let p = paused[role] {
                timeline.append(.init(lane: lane(role), kind: .resume, label: "resume at \(p.point)", t: MonotonicClock.now()))
                try settle(role, p.step, p.callAt, Result { try roles[role]!.fixture!.resume(p.id, timeout: options.timeout) })
            } else {
                try start(role)
            }
        }
        log.add("race ends" + (killed.isEmpty ? "" : " (killed: \(killsAt.suffix(killed.count).joined(separator: ", ")))"))
        for role in killed {
            log.add(try startAgain(role))
            if roles[role]!.participant == nil { conformance("\(role) could not reopen the segment after its kill", "see the open above") }
        }
        try checkInvariants(after: nil)
        if findings.contains(where: { $0.kind == .conformance }) { throw Abort() }
    }
}
