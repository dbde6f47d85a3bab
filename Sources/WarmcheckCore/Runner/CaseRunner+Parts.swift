#if canImport(Glibc)
import Glibc
#endif
import Foundation
import WarmcheckScenario

/// The scenario's sequential parts (`init`, `final`) and its parallel part, one thread per role.
extension CaseRunner {
    func runSequential(_ steps: [Step], part: String) throws {
        for step in steps {
            switch step {
            case .operation(let o):
                let outcome = try perform(o, inParallel: false)
                evaluate(o, outcome)
                try checkNowAfterOpen(o, outcome)
            case .control(let c):
                try control(c)
                timeline.append(.init(lane: "orchestrator", kind: .note, label: log.lines.last.map { String($0.drop { $0 != " " }.dropFirst()) } ?? "", t: MonotonicClock.now()))
            }
            try checkInvariants(after: step)
            if findings.contains(where: { $0.kind == .conformance }) { throw Abort() }
        }
    }

    func runParallel() throws {
        let lists = scenario.parallel.filter { !$0.steps.isEmpty }
        log.add("parallel part begins: " + lists.map { "\($0.role) × \($0.steps.count)" }.joined(separator: ", "))
        let group = DispatchGroup()
        let errors = ErrorBox()
        for list in lists {
            group.enter()
            let t = Thread { [unowned self] in
                defer { group.leave() }
                do {
                    for step in list.steps {
                        switch step {
                        case .operation(let o):
                            let outcome = try perform(o, inParallel: true)
                            lock.lock()
                            parallelResults.append((o.op, outcome.response))
                            evaluate(o, outcome)
                            lock.unlock()
                        case .control(let c):
                            if let line = try parallelControl(c) {
                                lock.lock()
                                log.add(line)
                                lock.unlock()
                            }
                        }
                    }
                } catch {
                    errors.add(error)
                }
            }
            t.start()
        }
        group.wait()
        log.add("parallel part ends")
        if let e = errors.first { throw e }
        try checkInvariants(after: nil)
        if findings.contains(where: { $0.kind == .conformance }) { throw Abort() }
    }
}

extension CaseRunner {
    /// A control step of a role's own parallel list, run on that role's thread while the other
    /// lists go on: a sleep, or the role's process replaced (restart, upgrade) or killed and
    /// started again (crash, start). The parser refuses every other control step there
    /// (ScenarioParser+Steps), so none is ever skipped in silence. Returns the log line.
    func parallelControl(_ c: ControlStep) throws -> String? {
        switch c.kind {
        case .sleep(let ns):
            usleep(useconds_t(min(ns / 1000, 60_000_000)))
            return nil
        case .restart(let role): return try restart(role)
        case .upgrade(let role, let to): return try upgrade(role, to: to, at: c.location)
        case .crash(let role): return crash(role)
        case .start(let role): return try startAgain(role)
        default:
            try harness("`\(c.kind)` at \(c.location) cannot run in a parallel list", "the parser lets only sleep, restart, upgrade, crash and start into a parallel list")
        }
    }
}

/// The first error of any parallel role; the lists run on their own threads.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func add(_ e: Error) { lock.lock(); errors.append(e); lock.unlock() }
    var first: Error? { lock.lock(); defer { lock.unlock() }; return errors.first }
}
