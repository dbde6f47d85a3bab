import Foundation
import WarmcheckModel
import WarmcheckScenario
import WarmcheckSegment

/// The namespace operations of PROTOCOL.md §18: their answers go to the namespace model
/// (WarmcheckModel/NamespaceModel.swift), which judges them once the steps are done.
extension CaseRunner {
    /// Records one `ns_*` step with its answer (caller holds `lock`). An answer that breaks the
    /// contract was already queued as a violation by `queueAudit`: it is left out here.
    func noteNamespace(_ o: OperationStep, _ r: DriverResponse?, rp: RoleProcess, call: UInt64, ret: UInt64) {
        guard let kind = NamespaceOperation.Kind(rawValue: o.op.rawValue) else { return }
        var op = NamespaceOperation(kind: kind, client: rolesIndex(o.role), ns: o.namespace, key: o.key ?? [], value: o.value ?? [],
                                    call: call, returnAt: r == nil ? nil : ret, outcome: r == nil ? .unknown : r!.isOK ? .ok : .fail)
        if r?.outcome == .unknown { op.outcome = .unknown; op.returnAt = nil }
        guard let r, r.isOK else { namespaceHistory.append(op); return }
        guard case .namespace(let a)? = try? DriverAnswer.decode(r, op: o.op.rawValue, fixture: rp.impl) else { return }
        op.version = a.version
        op.replaced = a.replaced
        op.pinned = a.pinned
        if let h = a.hit { op.hit = true; op.readValue = h.value }
        if let p = a.put { op.slots = [SlotRef(shard: p.shard, slot: p.slot)] }
        if kind == .reclaim {
            op.kept = a.kept
            op.slots = r.transitions.filter { $0["event"]?.string == "clear" }
                .map { SlotRef(shard: $0["shard"]?.int.map(Int.init) ?? -1, slot: $0["slot"]?.int.map(Int.init) ?? -1) }
        }
        notePlainEffect(op, dataVersion: a.put?.version, clientId: rolesIndex(o.role))
        namespaceHistory.append(op)
    }

    /// A namespace entry is a plain entry under its namespace key (§18.1), which a 1.0 reader may
    /// read as any key: the per-key history gets the put of that key, and the reclaim's removals
    /// as invalidations of the keys the removed slots held (by the puts that answered them).
    func notePlainEffect(_ op: NamespaceOperation, dataVersion: UInt64?, clientId: Int) {
        guard op.ns < UInt64(SpecNamespace.count) else { return }
        switch op.kind {
        case .put:
            guard let v = dataVersion else { return }
            history.append(CacheOperation(clientId: clientId,
                                           input: .put(key: SpecNamespace.key(ns: Int(op.ns), version: op.version, user: op.key),
                                                       value: op.value, version: nil, ttl: 0),
                                           call: op.call, output: .ok(version: v), returnAt: op.returnAt))
        case .reclaim:
            for s in op.slots {
                guard let put = namespaceHistory.last(where: { $0.kind == .put && $0.isOKAnswer && $0.slots.first == s }) else { continue }
                history.append(CacheOperation(clientId: clientId,
                                               input: .invalidate(key: SpecNamespace.key(ns: Int(put.ns), version: put.version, user: put.key)),
                                               call: op.call, output: .removed(true), returnAt: op.returnAt))
            }
        default:
            break
        }
    }

    /// The role's handle was replaced: its pin went with the old one (caller holds `lock`).
    func noteHandleReplaced(_ rp: RoleProcess, at t: UInt64) {
        namespaceHistory.append(NamespaceOperation(kind: .reset, client: rolesIndex(rp.role), ns: 0, call: t, returnAt: t, outcome: .ok))
    }

    /// Removals by plain operations, after which a namespace entry may legitimately be gone
    /// (§18.6: CLOCK eviction and expiry reuse, explicit invalidate/evict). `ns_reclaim`'s own
    /// removals are not among them: the model judges those.
    func noteDisturbances(op: String, _ r: DriverResponse?, at t: UInt64) {
        guard let r, op != "ns_reclaim" else { return }
        for tr in r.transitions where ["evict", "expire", "invalidate_claim"].contains(tr["event"]?.string ?? "") {
            slotDisturbances.append(SlotDisturbance(slot: SlotRef(shard: tr["shard"]?.int.map(Int.init) ?? -1,
                                                                  slot: tr["slot"]?.int.map(Int.init) ?? -1), at: t))
        }
    }

    /// The namespace model's verdict on the whole case.
    func checkNamespaces() {
        let ops = namespaceHistory.filter { $0.kind != .reset }
        guard !ops.isEmpty else { return }
        let found = WarmcheckModel.checkNamespaces(namespaceHistory, disturbed: slotDisturbances)
        if found.isEmpty {
            log.add("namespaces: ok (\(ops.count) operations)")
        }
        for v in found { conformance(v.summary, v.explanation) }
    }
}
