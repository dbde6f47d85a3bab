import Foundation
import WarmcheckModel

/// What a stress run writes for people and other tools: the step log (JSON lines), the replay
/// scenario (docs/SCENARIOS.md) and the summary JSON.
public enum StressExport {
    /// One JSON object per operation, in call order.
    public static func stepLog(_ run: StressRun) -> String {
        var out = ""
        out.reserveCapacity(run.steps.count * 160)
        for s in run.steps {
            var args: [(String, JSON)] = [("key_hex", .string(Hex.encode(s.key)))]
            if let v = s.value { args.append(("value_hex", .string(Hex.encode(v)))) }
            let obj: [(String, JSON)] = [
                ("process", .int(Int64(s.process))), ("role", .string("p\(s.process)")), ("worker", .int(Int64(s.worker))),
                ("implementation", .string(s.implementation)), ("op", .string(s.op.rawValue)), ("args", .ordered(args)),
                ("call_ns", JSON(unsigned: s.call)), ("return_ns", s.ret.map { JSON(unsigned: $0) } ?? .null),
                ("outcome", .string(s.outcome)), ("output", HistoryExport.json(s.output)), ("killed", .bool(s.killed)),
            ]
            JSON.ordered(obj).serialize(into: &out)
            out += "\n"
        }
        return out
    }

    /// The run as a scenario: one role per process (replacements are roles of their own), all
    /// opened in `init`, each role's operations in its order. `controlled: false` gives a
    /// `parallel:` part (the machine interleaves them again); `controlled: true` a `race:` block,
    /// so warmcheck's scheduler explores their interleavings at every pause point, and a failure
    /// becomes a replay file that reproduces every time and a minimized one without the
    /// operations it does not need (docs/STRESS.md, "Narrowing a failure").
    public static func scenario(_ run: StressRun, name: String, command: String, controlled: Bool = false) -> String {
        let g = run.geometry
        let roles = run.processes
        let participants = min(4096, max(Int(g.participantCapacity), roles.count + 8))
        var y = """
            # Replay of a warmcheck stress run: the operations every process issued, in its order.
            #   \(command)
            # Each process (a replacement after a kill too) is a role p<N> of the implementation it
            # ran; all of them open the segment in `init`. Operations that were in flight when their
            # process was killed are marked; here they run to completion. Custom fixtures need the
            # same --fixture NAME=COMMAND as the stress run. Narrow a failure by deleting lines.
            name: \(name)
            description: "Replay of warmcheck stress (seed \(run.options.seed), \(run.history.count) operations, \(roles.count) processes)."
            geometry: {shards: \(g.shardCount), slots: \(g.slotsPerShard), key_capacity: \(g.keyCapacity), value_capacity: \(g.valueCapacity), window: \(g.probeWindow), participants: \(participants)}
            clock: \(StressRunner.simClockStart / 1_000_000_000)s
            processes:

            """
        for p in roles { y += "  p\(p.index): \(p.implementation)\n" }
        y += "init:\n"
        for p in roles { y += "  - p\(p.index): \(p.index == 0 ? "create" : "open")\n" }
        var perRole: [Int: [StressStep]] = [:]
        for s in run.steps { perRole[s.process, default: []].append(s) }
        guard !perRole.isEmpty else { return y }
        if controlled {
            // PCT with depth 3 finds any bug that needs at most two ordering constraints with
            // probability ≥ 1/(n·k²) per schedule (Burckhardt et al.); raise `schedules` for more.
            y += "race:\n  strategy: pct\n  depth: 3\n  schedules: 100\n  ops:\n"
        } else {
            y += "parallel:\n"
        }
        let indent = controlled ? "    " : "  "
        for p in roles {
            guard let steps = perRole[p.index], !steps.isEmpty else { continue }
            y += "\(indent)p\(p.index):\n"
            for s in steps {
                y += "\(indent)  - \(s.op.rawValue) \(hex(s.key))"
                if let v = s.value { y += " \(hex(v))" }
                y += "   # \(s.outcome)\(s.killed ? ", killed mid-call" : "")\n"
            }
        }
        return y
    }

    static func hex(_ b: [UInt8]) -> String { "hex:" + Hex.encode(b) }

    /// The run as a history file (docs/HISTORY.md) that `warmcheck check` judges alone, with the
    /// model the verdict of `rep` used.
    public static func historyFile(_ run: StressRun, _ rep: StressReport, command: String) -> HistoryFile {
        let o = run.options
        let g = run.geometry
        let provenance: JSON = .object([
            "tool": "warmcheck stress", "command": .string(command), "seed": .string(String(o.seed)),
            "segment": .string(run.segmentPath), "processes": .int(Int64(o.processes)),
            "geometry": DriverArguments.geometry(g),
            "fixtures": .array(o.fixtures.map { .string($0.name + "=" + $0.argv.joined(separator: " ")) }),
            "ttl_ns": .int(0), "grace_ns": .int(0),
            "counters": run.inspection?.totals.map { t in
                .object(["evictions": .int(Int64(t.evictions)), "expirations": .int(Int64(t.expirations)),
                         "reclaims": .int(Int64(t.reclaims)), "inserts": .int(Int64(t.inserts)),
                         "refreshes": .int(Int64(t.refreshes)), "invalidations": .int(Int64(t.invalidations))])
            } ?? .null,
        ])
        let clients = run.processes.map {
            HistoryFile.Client(id: $0.index, implementation: $0.implementation, pid: Int64($0.pid),
                               participant: $0.participant, killed: $0.killed)
        }
        let extras = run.steps.map { HistoryFile.Extra(created: $0.created, refreshRequested: $0.refreshRequested, writer: $0.writer) }
        return HistoryFile(model: StressCheck.model(allowSilentRemoval: rep.allowSilentRemoval, reason: rep.silentRemovalReason),
                           simClockNs: run.simClockNs, clockAdvanced: false, provenance: provenance, clients: clients,
                           operations: run.history, extras: extras)
    }

    /// The summary as JSON (`--json FILE`).
    public static func summary(_ run: StressRun, _ rep: StressReport) -> JSON {
        let o = run.options
        var lin: JSON = .null
        if let l = rep.linearizability {
            var obj: [String: JSON] = ["explored_states": .int(Int64(l.exploredStates)), "keys": .int(Int64(l.partitions.count))]
            switch l.verdict {
            case .ok: obj["verdict"] = "ok"
            case .illegal(let f):
                obj["verdict"] = "illegal"
                obj["key_hex"] = .string(Hex.encode(f.key))
                obj["explanation"] = .string(f.explanation)
            case .unknown(let why):
                obj["verdict"] = "unknown"
                obj["explanation"] = .string(why)
            }
            lin = .object(obj)
        }
        return .object([
            "verdict": .string(rep.verdict.rawValue),
            "operations": .int(Int64(run.history.count)),
            "processes": .int(Int64(o.processes)),
            "process_starts": .int(Int64(run.processes.count)),
            "fixtures": .array(o.fixtures.map { .string($0.name) }),
            "seconds": .double(run.elapsed),
            "ops_per_second": .double(run.elapsed > 0 ? Double(run.history.count) / run.elapsed : 0),
            "seed": JSON(unsigned: o.seed),
            "keys": .int(Int64(o.keys)),
            "mix": .string(o.mix.description),
            "kills": .int(Int64(run.kills)),
            "kill_inside": rep.insideKills?.json ?? .null,
            "hot_keys": .int(Int64(o.hotKeys)), "hot_fraction": .double(o.hotFraction),
            "contention": rep.contention.map { c in
                .object(["mutations": .int(Int64(c.mutations)), "overlapping": .int(Int64(c.overlapping)),
                         "busy": .object(c.busy.mapValues { .int(Int64($0)) })])
            } ?? .null,
            "counts": .object(Dictionary(StressCheck.counts(run).map { ($0.0, JSON.int(Int64($0.1))) }, uniquingKeysWith: { a, _ in a })),
            "linearizability": lin,
            "silent_removal": .bool(rep.allowSilentRemoval), "silent_removal_reason": .string(rep.silentRemovalReason),
            "transitions_checked": .int(Int64(rep.transitionsChecked)),
            "transition_violations": .array(rep.transitionViolations.map { .string("shard \($0.shard) slot \($0.slot) seq \($0.seq): \($0.explanation)") }),
            "invariant_problems": .array(rep.invariantProblems.map { .string($0) }),
            "counter_problems": .array(rep.counterProblems.map { .string($0) }),
            "harness_error": rep.harnessError.map { .string($0) } ?? .null,
            "checks": .array(rep.lines.map { .string($0) }),
        ])
    }
}
