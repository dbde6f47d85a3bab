import Foundation
import Warmcache
import WarmcheckScenario
import WarmcheckSegment

/// What one answered operation left to check in the next snapshot of the segment.
struct PendingAudit {
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
        var item = PendingAudit(actor: actor(rp), transitions: transitions)
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
    func actor(_ rp: RoleProcess) -> Actor {
        let h = rp.hello
        let code = h.languageCode.map { UInt8(truncatingIfNeeded: $0) } ?? (try? Vocabulary.standard.get())?.languageCode(h.language)
        return Actor(participant: rp.participant ?? 0, pid: Int(h.pid ?? rp.pids.last ?? 0), language: code,
                     protocolMajor: UInt8(truncatingIfNeeded: h.protocolMajor ?? 1),
                     protocolMinor: UInt8(truncatingIfNeeded: h.protocolMinor ?? 0))
    }

    /// Every field each answered operation constrains (PROTOCOL.md §5, §7, §8.2, §9), judged on
    /// the snapshot taken right after it. `referenced` is only judged when a single operation ran.
    func audit(_ q: AuditQueue, in snap: SegmentSnapshot, where_: String) {
        let quiet = q.items.count == 1
        for item in q.items {
            var found: [FieldProblem] = []
            for t in item.transitions {
                let rt = ReportedTransition(event: t.event, at: SlotAt(shard: t.shard, slot: t.slot), to: SpecState(name: t.to),
                                            seq: UInt32(truncatingIfNeeded: t.seq))
                guard rt.at.shard < snap.geometry.shardCount, rt.at.slot < snap.geometry.slotsPerShard else { continue }
                let before = lastSnapshot.map { $0.slot(rt.at.shard, rt.at.slot) }
                found += snap.audit(rt, by: item.actor, intent: item.intent, before: before, quiet: quiet)
            }
            if let id = item.registered { found += snap.auditRegistration(participant: id, by: item.actor) }
            if item.created { found += snap.auditCreator(by: item.actor) }
            for p in found {
                conformance("segment field wrong \(where_): \(p)",
                            "After the operation of participant \(item.actor.participant) (pid \(item.actor.pid)), warmcheck's own "
                                + "decoder read the segment \(where_) and found a word the spec constrains with the wrong value "
                                + "(PROTOCOL.md §5, §7.1, §7.2, §8.2, §9.4, §12):\n  \(p)")
            }
        }
    }

    /// Asks one idle fixture (in turn) for its own `dump` and compares it with the decoder's view:
    /// a disagreement means one of the two readers of the same bytes is wrong, and both are named.
    func crossCheckDump(_ snap: SegmentSnapshot, problems: [SegmentProblem], where_: String) {
        let idle = roles.values.filter { $0.fixture != nil && $0.pending == nil && $0.participant != nil && $0.operations.contains("dump") }
            .sorted { $0.role < $1.role }
        guard !idle.isEmpty else { return }
        let rp = idle[dumpTurn % idle.count]
        dumpTurn += 1
        guard let r = try? rp.fixture!.call("dump", timeout: options.timeout), r.isOK else { return }
        let entries: [DumpEntryAnswer], theirProblems: [String]
        do {
            guard case .dump(let e, let p) = try DriverAnswer.decode(r, op: "dump", fixture: rp.impl) else { return }
            (entries, theirProblems) = (e, p)
        } catch {
            addFinding(Finding(kind: .harness, summary: "\(error)", details: "\(error)"))
            return
        }
        let bad = Set(problems.compactMap(\.slot))
        var disagreements: [String] = []
        var listed: Set<SlotAt> = []
        for e in entries {
            let at = SlotAt(shard: e.hit.shard, slot: e.hit.slot)
            listed.insert(at)
            guard !bad.contains(at) else { continue }
            guard at.shard < snap.geometry.shardCount, at.slot < snap.geometry.slotsPerShard else {
                disagreements.append("\(rp.impl) lists \(at), which is outside the geometry")
                continue
            }
            let v = snap.slot(at.shard, at.slot)
            guard let st = v.word.state, st.isReadable else {
                disagreements.append("\(rp.impl) lists \(at) as \(e.state); the decoder reads its state word as \(v.word)")
                continue
            }
            disagreements += differences(e, v, fixture: rp.impl)
        }
        for s in 0..<snap.geometry.shardCount {
            for j in 0..<snap.geometry.slotsPerShard {
                let at = SlotAt(shard: s, slot: j)
                if !bad.contains(at) && !listed.contains(at), snap.stateWord(s, j).state?.isReadable == true {
                    disagreements.append("the decoder reads \(at) as \(snap.stateWord(s, j)) with a valid record; \(rp.impl)'s dump does not list it")
                }
            }
        }
        if problems.isEmpty && !theirProblems.isEmpty {
            disagreements.append("\(rp.impl)'s dump reports problems the decoder does not see: " + theirProblems.prefix(3).joined(separator: "; "))
        }
        guard let first = disagreements.first else { return }
        conformance("\(rp.impl)'s dump disagrees with warmcheck's decoder \(where_): \(first)",
                    "The same bytes read two ways (docs/DRIVER.md `dump` by \(rp.role) (\(rp.impl)), and warmcheck's decoder written "
                        + "from PROTOCOL.md) must give the same entries; one of the two readers is wrong:\n"
                        + disagreements.prefix(8).map { "  \($0)" }.joined(separator: "\n"))
    }

    func differences(_ e: DumpEntryAnswer, _ v: SlotView, fixture: String) -> [String] {
        let r = v.activeRecord, at = SlotAt(shard: v.shard, slot: v.slot)
        var out: [String] = []
        func cmp(_ name: String, _ theirs: UInt64, _ mine: UInt64) {
            if theirs != mine { out.append("\(at): \(fixture) says \(name) \(theirs), the decoder reads \(mine)") }
        }
        if e.state != v.word.state?.name { out.append("\(at): \(fixture) says state \(e.state), the decoder reads \(v.word)") }
        cmp("seq", e.seq, UInt64(v.word.seq))
        if e.key != v.key { out.append("\(at): \(fixture) and the decoder read different keys") }
        if e.hit.value != r.value { out.append("\(at): \(fixture) and the decoder read different values") }
        cmp("version", e.hit.version, r.version)
        cmp("origin_tag", e.hit.originTag, UInt64(r.originTag))
        cmp("expires_at_ns", e.hit.expiresAtNs, r.expiresAtNs)
        cmp("stale_until_ns", e.hit.staleUntilNs, r.staleUntilNs)
        cmp("written_at_ns", e.hit.writtenAtNs, r.writtenAtNs)
        cmp("writer.pid", e.hit.writer.pid, UInt64(r.writer.pid))
        cmp("writer.language", e.hit.writer.language, UInt64(r.writer.language))
        cmp("writer.protocol_major", e.hit.writer.protocolMajor, UInt64(r.writer.protocolMajor))
        cmp("writer.protocol_minor", e.hit.writer.protocolMinor, UInt64(r.writer.protocolMinor))
        cmp("writer.participant", e.hit.writer.participant & 0xFF, UInt64(r.writer.participantLow8))
        cmp("writer.start_time", e.hit.writer.startTime, r.writer.startTime)
        return out
    }
}

extension Counters {
    /// The decoder's counters in the accounting's terms.
    init(_ c: ShardCounters) {
        self.init()
        hits = c.hits; misses = c.misses; staleHits = c.staleHits; inserts = c.inserts; refreshes = c.refreshes
        evictions = c.evictions; invalidations = c.invalidations; expirations = c.expirations; reclaims = c.reclaims
    }
}
