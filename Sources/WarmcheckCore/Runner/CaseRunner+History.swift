import Foundation
import WarmcheckModel
import WarmcheckScenario

/// The case's history of cache operations (for the linearizability check) and the accounting
/// of what the counters must show.
extension CaseRunner {
    /// Adds the operation to the history and to the accounting (caller holds `lock`).
    func noteHistory(_ o: OperationStep, _ r: DriverResponse?, rp: RoleProcess, call: UInt64, ret: UInt64) {
        queueAudit(op: o.op.rawValue, step: o, r, rp: rp)
        noteDisturbances(op: o.op.rawValue, r, at: ret)
        if [.create, .open, .openOrCreate, .restore].contains(o.op) { noteHandleReplaced(rp, at: call) }
        if o.op.isNamespaceOperation {
            accounting.noteNamespace(op: o.op.rawValue, r)
            noteNamespace(o, r, rp: rp, call: call, ret: ret)
            return
        }
        guard let input = DriverArguments.cacheInput(op: o.op.rawValue, key: o.key ?? [], value: o.value, version: o.version,
                                                     ttl: o.ttlNs ?? 0)
        else { return }
        let output = DriverResponse.cacheOutput(r, op: o.op.rawValue)
        accounting.note(op: o.op.rawValue, r, output: output)
        history.append(CacheOperation(clientId: rolesIndex(o.role), input: input, call: call, output: output,
                                       returnAt: r == nil ? nil : ret))
    }

    func rolesIndex(_ role: String) -> Int { scenario.roles.firstIndex(of: role) ?? 0 }
}
