import Foundation
@_spi(Harness) import Warmcache
import WarmcheckScenario
import WarmcheckSegment

extension CaseRunner {
    /// Asks one idle fixture (in turn) for its own `dump` and compares it with the decoder's view:
    /// a disagreement means one of the two readers of the same bytes is wrong, and both are named.
    func crossCheckDump(_ snap: SegmentSnapshot, problems: [SegmentProblem], where_: String) {
        // Only a handle open on the case's segment: a closed one answers `closed` (DRIVER.md), and
        // one on a side segment dumps another file.
        let idle = roles.values.filter {
            $0.fixture != nil && $0.pending == nil && $0.participant != nil && $0.side == nil && !handleIsClosed($0) && $0.operations.contains("dump")
        }
            .sorted { $0.role < $1.role }
        guard !idle.isEmpty else { return }
        let rp = idle[dumpTurn % idle.count]
        dumpTurn += 1
        // The decoder read the segment, and the role's handle is open and idle: a dump that does
        // not answer `ok` (a recovered panic answers an error) hides everything it would list.
        let r: DriverResponse
        do { r = try rp.fixture!.call("dump", timeout: options.timeout) } catch {
            conformance("\(rp.impl)'s dump did not answer \(where_): \(error)",
                        "`dump` (DRIVER.md) by \(rp.role) (\(rp.impl)) on a segment warmcheck's decoder reads: \(error)")
            return
        }
        guard r.isOK else {
            let why = [r.errorKind, r.reason, r.message].compactMap { $0 }.joined(separator: ": ")
            conformance("\(rp.impl)'s dump failed \(where_): \(why)",
                        "`dump` (DRIVER.md) by \(rp.role) (\(rp.impl)), an idle role with an open handle, answered an error on a "
                            + "segment warmcheck's decoder reads (PROTOCOL.md §13.1: dump lists what a reader can get and reports the rest): \(why)")
            return
        }
        let entries: [DumpEntryAnswer], theirProblems: [String]
        do {
            guard case .dump(let e, let p) = try DriverAnswer.decode(r, op: "dump", fixture: rp.impl) else { return }
            (entries, theirProblems) = (e, p)
        } catch {
            addFinding(Finding(kind: .harness, summary: "\(error)", details: "\(error)"))
            return
        }
        let bad = Set(problems.compactMap(\.slot))
        // Slots §13.1 says a dump leaves out (a failed record check, a later copy of a key).
        let leftOut = Set(problems.filter(\.dumpMustReport).compactMap(\.slot))
        var disagreements: [String] = []
        var listed: Set<SlotAt> = []
        var keysListed: [[UInt8]: SlotAt] = [:]
        for e in entries {
            let at = SlotAt(shard: e.hit.shard, slot: e.hit.slot)
            // One entry per slot, and one per key (§13.1: the copy a get finds, no other).
            guard listed.insert(at).inserted else {
                disagreements.append("\(rp.impl) lists \(at) more than once")
                continue
            }
            if let first = keysListed.updateValue(at, forKey: e.key) {
                disagreements.append("\(rp.impl) lists the key of \(at) at \(first) too")
            }
            if leftOut.contains(at) {
                disagreements.append("\(rp.impl) lists \(at), which a dump leaves out: " + problems.filter { $0.slot == at }.map(\.description).joined(separator: "; "))
                continue
            }
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
            disagreements += differences(e, v, fixture: rp.impl, simNow: snap.header.simClock ? snap.header.simClockNs : nil)
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
        // The other way round only for what §13.1 obliges a dump to report, and only as "at
        // least one": DRIVER.md leaves the wording and the grouping of problems to the fixture.
        if theirProblems.isEmpty, let p = problems.first(where: \.dumpMustReport) {
            disagreements.append("the decoder finds \(p); \(rp.impl)'s dump leaves the slot out but reports no problem (PROTOCOL.md §13.1)")
        }
        guard let first = disagreements.first else { return }
        conformance("\(rp.impl)'s dump disagrees with warmcheck's decoder \(where_): \(first)",
                    "The same bytes read two ways (docs/DRIVER.md `dump` by \(rp.role) (\(rp.impl)), and warmcheck's decoder written "
                        + "from PROTOCOL.md) must give the same entries; one of the two readers is wrong:\n"
                        + disagreements.prefix(8).map { "  \($0)" }.joined(separator: "\n"))
    }

    /// `simNow`: the segment's `now()` when it runs on the simulated clock, which only the
    /// scenario moves, so that `stale` can be judged exactly; on the real clock only where no
    /// instant can make a difference (no expiry at all).
    func differences(_ e: DumpEntryAnswer, _ v: SlotView, fixture: String, simNow: UInt64?) -> [String] {
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
        // DRIVER.md `dump`: `stale` is the record being past its freshness, decided by time alone
        // (PROTOCOL.md §13.1, also in a STALE slot), never by the state.
        if r.expiresAtNs == 0 || simNow != nil {
            let want = r.expiresAtNs != 0 && simNow.map { $0 >= r.expiresAtNs } == true
            if e.hit.stale != want {
                out.append("\(at): \(fixture) says stale \(e.hit.stale), but expires_at_ns is \(r.expiresAtNs)"
                           + (simNow.map { " and the simulated now() \($0)" } ?? " (no expiry)"))
            }
        }
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
