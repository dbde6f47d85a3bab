import Foundation
import WarmcheckModel
import WarmcheckScenario

/// The case's history of cache operations (for the linearizability check) and the accounting
/// of what the counters must show.
extension CaseRunner {
    /// Adds the operation to the history and to the accounting (caller holds `lock`).
    func noteHistory(_ o: OperationStep, _ r: DriverResponse?, rp: RoleProcess, call: UInt64, ret: UInt64) {
        if o.op == .getMany { return noteGetMany(o, r, rp: rp, call: call, ret: ret) }
        queueAudit(op: o.op.rawValue, step: o, r, rp: rp)
        noteDisturbances(op: o.op.rawValue, r, at: ret)
        if [.create, .open, .openOrCreate, .restore].contains(o.op) { noteHandleReplaced(rp, at: call) }
        if o.op.isNamespaceOperation {
            accounting.noteNamespace(op: o.op.rawValue, r)
            noteNamespace(o, r, rp: rp, call: call, ret: ret)
            return
        }
        if o.op == .repair {
            noteRepair(o, r, rp: rp)
            return
        }
        guard let input = DriverArguments.cacheInput(op: o.op.rawValue, key: o.key ?? [], value: o.value, version: o.version,
                                                     ttl: o.ttlNs ?? 0)
        else { return }
        let output = DriverResponse.cacheOutput(r, op: o.op.rawValue)
        accounting.note(op: o.op.rawValue, r, output: output)
        if !historyContinues(o, r) { return }
        history.append(CacheOperation(clientId: rolesIndex(o.role), input: input, call: call, output: output,
                                       returnAt: r == nil ? nil : ret))
    }

    /// A repair's quarantines count in `invalidations` (PROTOCOL.md §9.9), and each must be a
    /// slot the scenario damaged (`corrupt:`, or a `collide:` slot, whose `key_hash` is not its
    /// bytes' hash: CaseRunner+Collisions): a repair that quarantines a healthy record throws
    /// away a good entry. The key of a damaged slot is already removed from the model (the
    /// `corrupt:` step did that), so the repair itself is no operation of the history. A repair
    /// that died has unknown effects: any number of removals may have happened.
    func noteRepair(_ o: OperationStep, _ r: DriverResponse?, rp: RoleProcess) {
        guard let r, r.isOK else {
            if r == nil { accounting.unknownRemovals += 1_000_000 }
            return
        }
        let quarantined = r.result["quarantined"]?.array ?? []
        accounting.invalidations += quarantined.count
        for a in quarantined {
            let at = "shard \(a["shard"]?.int ?? -1) slot \(a["slot"]?.int ?? -1)"
            guard corrupted.remove(at) == nil, !isCollision(at) else { continue }
            conformance("\(o.role) (\(rp.impl)) `\(o.text)` quarantined \(at), which the scenario did not damage",
                        "At \(o.location), the repair quarantined \(at) (\(a["detail"]?.string ?? "")), but no `corrupt:` step damaged "
                            + "that slot (damaged and not yet quarantined: \(corrupted.sorted().joined(separator: ", ")))."
                            + " PROTOCOL.md §9.9 step 3 quarantines only records that fail the checks of §13, judged on a "
                            + "consistent snapshot under the state word its T8 CAS starts from.")
        }
    }

    func rolesIndex(_ role: String) -> Int { scenario.roles.firstIndex(of: role) ?? 0 }
}
