import Foundation
import WarmcheckModel
import WarmcheckScenario

extension CaseRunner {
    /// Compares one response with the step's `expect:` tokens (caller holds `lock` in parallel parts).
    func evaluate(_ o: OperationStep, _ outcome: StepOutcome) {
        var problems: [String] = []
        let wantsPause = o.expect.contains(.paused)
        if case .paused = outcome {
            return  // only `paused` applies to a step that stopped at its pause point
        }
        if wantsPause {
            problems.append("the operation finished without stopping at \(o.pauseAt ?? "its pause point") (\(outcome.response?.summary ?? "process died"))")
        }
        let r = outcome.response
        let res = r?.result ?? .null
        let explicitOutcome = o.expect.contains { if case .fail = $0 { return true }; if case .unknown = $0 { return true }; return $0 == .ok }
        if !explicitOutcome && !o.expect.isEmpty, let r, r.outcome != .ok {
            problems.append("outcome \(r.summary), expected ok")
        }
        for e in o.expect {
            switch e {
            case .ok:
                if r?.outcome != .ok { problems.append("outcome \(r?.summary ?? "unknown (process died)"), expected ok") }
            case .fail(let reason):
                if r?.outcome != .fail || (reason != nil && r?.reason != reason) {
                    problems.append("outcome \(r?.summary ?? "unknown (process died)"), expected \(e.token)")
                }
            case .unknown:
                if r != nil && r?.outcome != .unknown { problems.append("outcome \(r!.summary), expected unknown (the process should have died at \(o.crashAt ?? "?"))") }
            case .hit, .stale, .fresh, .miss:
                let hit = res["hit"]?.bool
                let stale = res["stale"]?.bool ?? false
                let got = hit == true ? (stale ? "a stale hit" : "a fresh hit") : (hit == false ? "a miss" : "no hit field")
                let ok: Bool
                switch e {
                case .hit: ok = hit == true
                case .stale: ok = hit == true && stale
                case .fresh: ok = hit == true && !stale
                default: ok = hit == false
                }
                if !ok { problems.append("got \(got), expected \(e.token)") }
            case .created(let b): check(res["created"]?.bool, b, e, &problems)
            case .removed(let b): check(res["removed"]?.bool, b, e, &problems)
            case .durable(let b): check(res["durable"]?.bool, b, e, &problems)
            case .refreshRequested(let b): check(res["refresh_requested"]?.bool, b, e, &problems)
            case .timedOut(let b):
                check(res["timed_out"]?.bool, b, e, &problems)
                // `woken` means woken by the publish: a waiter that slept its whole timeout and
                // only then noticed the change (a lost wakeup) was not woken, whatever it says.
                let timeout = o.timeoutNs ?? 5_000_000_000
                let took = roles[o.role]!.lastDurationNs
                if !b && res["timed_out"]?.bool == false && took >= timeout {
                    problems.append("the wait returned after \(took / 1_000_000) ms, not before its \(timeout / 1_000_000) ms timeout: "
                        + "the publish did not wake it (PROTOCOL.md §11)")
                }
            case .value(let v):
                let got = Hex.decode(res["value_hex"]?.string ?? "")
                if got != v { problems.append("value \(got.map(ScenarioValue.render) ?? "absent"), expected \(ScenarioValue.render(v))") }
            case .version(let n):
                if res["version"]?.uint != n { problems.append("version \(res["version"]?.serialized ?? "absent"), expected \(n)") }
            case .versionGreaterThan(let n):
                if (res["version"]?.uint ?? 0) <= n { problems.append("version \(res["version"]?.serialized ?? "absent"), expected > \(n)") }
            case .origin(let n):
                if res["origin_tag"]?.uint != n { problems.append("origin \(res["origin_tag"]?.serialized ?? "absent"), expected \(n)") }
            case .writer(let role):
                let want = roles[role]!
                let w = res["writer"]
                let pid = w?["pid"]?.int ?? -1
                let participant = Int(w?["participant"]?.int ?? -1)
                let lang = w?["language"]?.serialized ?? "no language"
                // The record keeps the participant id's low 8 bits (PROTOCOL.md §7.2); the language
                // is the code the writer's hello declared (§7.3), so a new implementation passes too.
                // After an `upgrade:`, a record of an earlier incarnation names its implementation.
                let language = ([want.hello] + want.pastHellos).contains { $0.writes(language: w?["language"]) }
                if !want.participants.contains(where: { $0 & 0xFF == participant }) || !language {
                    problems.append("written by participant \(participant), pid \(pid) (language \(lang)); expected \(role): participant "
                        + "\(want.participants.map(String.init).joined(separator: " or ")) (\(want.hello.language), language "
                        + "\(want.hello.languageCode.map(String.init) ?? "undeclared"), pid \(want.pids.map(String.init).joined(separator: " or ")))")
                }
            case .paused:
                break  // judged above
            case .rule(let n):
                // With fail(bad_geometry), judged above: the rule named, and nothing created.
                let named = RefusalGate.ruleNumber(in: r?.message ?? "")
                if r?.outcome == .fail && named != n {
                    problems.append("the refusal names \(named.map { "rule \($0)" } ?? "no rule") (message: \(r?.message ?? "")), expected rule \(n)")
                }
                if r?.outcome == .fail && FileManager.default.fileExists(atPath: segmentPath) {
                    problems.append("the refused \(o.op.rawValue) left a file at the segment path (PROTOCOL.md §3: it creates nothing)")
                }
            case .counter(let c, let n):
                let got = res["totals"]?[c.rawValue]?.uint
                if got != n { problems.append("\(c.rawValue) = \(got.map(String.init) ?? "absent"), expected \(n)") }
            case .nsVersion(let n):
                // Each operation names its namespace version in its own field (DRIVER.md).
                let field = [.nsGet, .nsPut].contains(o.op) ? "ns_version" : o.op == .nsState ? "current" : "version"
                if res[field]?.uint != n { problems.append("\(field) \(res[field]?.serialized ?? "absent"), expected \(n)") }
            case .pinned(let b): check(res["pinned"]?.bool, b, e, &problems)
            case .reclaimed(let n) where o.op == .repair:
                let got = res["reclaimed"]?.array?.count
                if got != Int(n) { problems.append("reclaimed \(res["reclaimed"]?.serialized ?? "absent"), expected \(n) action(s)") }
            case .reclaimed(let n):
                if res["removed"]?.uint != n { problems.append("removed \(res["removed"]?.serialized ?? "absent"), expected \(n)") }
            case .repairActions(let list, let n):
                // quarantined_total is header word 768; the others are lists of actions.
                let got = list == "quarantined_total" ? res[list]?.uint : res[list]?.array.map { UInt64($0.count) }
                if got != n { problems.append("\(list) \(res[list]?.serialized ?? "absent"), expected \(n)\(list == "quarantined_total" ? "" : " action(s)")") }
            case .kept(let l):
                let got = res["kept"]?.array?.compactMap(\.uint)
                if got != l { problems.append("kept \(res["kept"]?.serialized ?? "absent"), expected [\(l.map(String.init).joined(separator: ","))]") }
            case .found(let n):
                let got = res["results"]?.array?.filter { $0["hit"]?.bool == true }.count
                if got != Int(n) { problems.append("\(got.map(String.init) ?? "no results") of the keys hit, expected \(n)") }
            case .previous(let n):
                if res["previous"]?.uint != n { problems.append("previous \(res["previous"]?.serialized ?? "absent"), expected \(n)") }
            }
        }
        guard !problems.isEmpty else { return }
        let rp = roles[o.role]!
        conformance(
            "\(o.role) (\(rp.impl)) `\(o.text)`: \(problems[0])",
            "At \(o.location), step `\(o.role): \(o.text)` expects `\(o.expect.map(\.token).joined(separator: " "))`.\n"
                + problems.map { "  observed: \($0)" }.joined(separator: "\n"))
    }

    private func check(_ got: Bool?, _ want: Bool, _ e: Expectation, _ problems: inout [String]) {
        if got != want { problems.append("\(got.map { "\($0)" } ?? "absent") where `\(e.token)` was expected") }
    }
}
