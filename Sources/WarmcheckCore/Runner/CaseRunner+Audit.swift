import Foundation
@_spi(Harness) import Warmcache
import WarmcheckScenario
import WarmcheckSegment

/// What one answered operation left to check in the next snapshot of the segment.
struct PendingAudit {
    /// The request's `op` (CaseRunner+Collisions tells a repair's quarantine from a removal).
    var op: String
    var actor: Actor
    var transitions: [TransitionAnswer]
    /// For a put or refresh that answered ok: what it was asked to write.
    var intent: WriteIntent?
    /// The participant id an open or create answered, and whether it created the segment.
    var registered: Int?
    var created = false
}

/// The audits collected between two snapshots, and the first driver-contract violation of the
/// case: an answer that cannot be decoded cannot be judged, so it makes the case an ERROR even
/// when the expectations then misread it as a conformance failure.
struct AuditQueue {
    var items: [PendingAudit] = []
    var violation: DriverContractViolation?
}

extension CaseRunner {
    /// Decodes one answer (docs/DRIVER.md) and queues what it obliges the segment to show.
    /// Called for every answered operation; in the parallel part with `lock` held.
    func queueAudit(op: String, step: OperationStep?, _ r: DriverResponse?, rp: RoleProcess) {
        guard let r else { return }
        let answer: DriverAnswer, transitions: [TransitionAnswer]
        do {
            answer = try DriverAnswer.decode(r, op: op, fixture: rp.impl)
            transitions = try DriverAnswer.transitions(r, op: op, fixture: rp.impl)
        } catch let v as DriverContractViolation {
            if auditQueue.violation == nil { auditQueue.violation = v }
            return
        } catch {
            return
        }
        var item = PendingAudit(op: op, actor: actor(rp), transitions: transitions)
        switch answer {
        case .opened(let id, let created):
            item.actor.participant = id
            item.registered = id
            item.created = op == "create" || created == true
        case .put(let version, _, _, _):
            if let step, let key = step.key {
                item.intent = WriteIntent(key: key, value: step.value ?? [], ttlNs: step.ttlNs ?? 0, graceNs: step.graceNs ?? 0,
                                          originTag: UInt32(truncatingIfNeeded: step.origin ?? 0), answeredVersion: version)
            }
        default:
            break
        }
        auditQueue.items.append(item)
    }

    /// The audits queued since the last snapshot. The violation stays: it decides the verdict.
    func takeAudits() -> AuditQueue {
        lock.lock()
        defer { lock.unlock() }
        let q = auditQueue
        auditQueue.items = []
        return q
    }

    /// The process as the harness knows it: the pid it started (or the writer pid its hello
    /// names behind a wrapper), the §7.3 code its hello declares or its language's registered one.
    func stillRegistered(_ participant: Int, pid: Int) -> Bool {
        roles.values.contains { $0.fixture != nil && $0.participant == participant && Int($0.hello.pid ?? $0.pids.last ?? 0) == pid }
    }

    func actor(_ rp: RoleProcess) -> Actor {
        let h = rp.hello
        let code = h.languageCode.map { UInt8(truncatingIfNeeded: $0) } ?? (try? Vocabulary.standard.get())?.languageCode(h.language)
        return Actor(participant: rp.participant ?? 0, pid: Int(h.pid ?? rp.pids.last ?? 0), language: code,
                     protocolMajor: UInt8(truncatingIfNeeded: h.protocolMajor ?? 1),
                     protocolMinor: UInt8(truncatingIfNeeded: rp.speaksMinor ?? h.protocolMinor ?? 0))
    }

    /// Every field each answered operation constrains (PROTOCOL.md §5, §7, §8.2, §9), judged on
    /// the snapshot taken right after it. `referenced` is only judged when a single operation ran.
    func audit(_ q: AuditQueue, in snap: SegmentSnapshot, where_: String) {
        let quiet = q.items.count == 1
        // Every answer judged here was given after the case began and before this snapshot.
        let window = RealtimeWindow(lo: startedRealtimeNs, hi: RealtimeWindow.now())
        for item in q.items {
            var found: [FieldProblem] = []
            for t in item.transitions {
                let rt = ReportedTransition(event: t.event, at: SlotAt(shard: t.shard, slot: t.slot), to: SpecState(name: t.to),
                                            seq: UInt32(truncatingIfNeeded: t.seq))
                guard rt.at.shard < snap.geometry.shardCount, rt.at.slot < snap.geometry.slotsPerShard else { continue }
                let before = lastSnapshot.map { $0.slot(rt.at.shard, rt.at.slot) }
                found += snap.audit(rt, by: item.actor, intent: item.intent, before: before, quiet: quiet, window: window)
            }
            // A registration is judged only while its process still plays a role: a process an
            // `upgrade:` in a parallel list replaced has released its entry, which the next
            // registrant may hold by the time the parallel part's snapshot is read.
            if let id = item.registered, stillRegistered(id, pid: item.actor.pid) {
                found += snap.auditRegistration(participant: id, by: item.actor)
                found += snap.auditRegisteredAt(participant: id, within: window)
            }
            if item.created { found += snap.auditCreator(by: item.actor) + snap.auditCreatedAt(within: window) }
            for p in found {
                conformance("segment field wrong \(where_): \(p)",
                            "After the operation of participant \(item.actor.participant) (pid \(item.actor.pid)), warmcheck's own "
                                + "decoder read the segment \(where_) and found a word the spec constrains with the wrong value "
                                + "(PROTOCOL.md §5, §7.1, §7.2, §8.2, §9.4, §12):\n  \(p)")
            }
        }
    }
}
