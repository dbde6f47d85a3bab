import Foundation
@_spi(Harness) import Warmcache
import WarmcheckModel
import WarmcheckScenario
import WarmcheckSegment

extension CaseRunner {
    /// Reads the segment with warmcheck's own decoder (WarmcheckSegment, written from the spec and
    /// sharing no code with any implementation) after a step, and checks the invariants of
    /// PROTOCOL.md §8.3 / §13, the words each reported transition constrains, provenance, the
    /// counters, and the fixtures' own `dump` against what the decoder sees.
    func checkInvariants(after step: Step?) throws {
        // Taken whatever happens below: an answer is judged against the snapshot of its own step only.
        let statsAnswer = statsToCheck
        statsToCheck = nil
        let participantsAnswer = participantsToCheck
        participantsToCheck = nil
        let audits = takeAudits()
        if let v = audits.violation {
            try harness(v.description, v.description + "\n(an answer that cannot be decoded cannot be judged: the case stops here)")
        }
        guard FileManager.default.fileExists(atPath: segmentPath), !headerPatched else { generationBaseline = nil; return }
        let where_ = step.map { "after the step at \($0.location)" } ?? "after the parallel part"
        let snap: SegmentSnapshot
        switch SegmentSnapshot.read(path: segmentPath, owner: options.fixtureCredentials?.uid) {
        case .failure(let refusal):
            generationBaseline = nil
            if let want = futureRefusal, refusal.code == want { return }
            conformance("the segment is unreadable \(where_): \(refusal.code)",
                        "warmcheck's own decoder refused the segment \(where_) (PROTOCOL.md §4.2): \(refusal)")
            return
        case .success(let s):
            snap = s
        }
        // A role killed in a race was started again (and is no longer `crashed`), but what it
        // held may wait for whoever meets it (PROTOCOL.md §9.8).
        let someoneDied = roles.values.contains { $0.crashed } || !killsAt.isEmpty
        let problems = snap.problems
        for p in problems {
            // A process that died holding a claim legitimately leaves it until someone reclaims it.
            if someoneDied && p.isLeftByACrash { continue }
            // A slot the scenario corrupted on purpose fails its checksum until it is rewritten.
            if case .checksumMismatch(let at, _, _, _) = p, corrupted.contains(at.description) { continue }
            if case .impossibleStateWord(let at, _, _) = p, poisoned.contains(at.description) { continue }
            if case .duplicateKey(let at, _) = p, duplicated.contains(at.description) { continue }
            if isCollisionArtifact(p) { continue }
            conformance("invariant broken \(where_): \(p)",
                        "The segment, read by warmcheck's own decoder \(where_), breaks PROTOCOL.md §8.3 / §13 / §1:\n  \(p)")
        }
        checkCounters(Counters(snap.totals), where_: where_)
        // Nothing under way and nobody dead: the words are what the answered steps left.
        let settled = !someoneDied && !roles.values.contains(where: { $0.pending != nil })
        if settled { checkClaimHintsAtRest(snap, where_: where_) }
        if !someoneDied { checkClaimHintCover(snap, where_: where_) }
        if !someoneDied { checkOverlapHints(snap, where_: where_) }
        if settled { checkPinWords(snap, where_: where_) }
        if settled, let a = statsAnswer { checkStatsAnswer(a, snap, where_: where_) }
        if settled, let a = participantsAnswer { checkParticipantsAnswer(a, snap, where_: where_) }
        checkParticipantWords(snap, where_: where_)
        audit(audits, in: snap, where_: where_)
        watchCollisions(audits, in: snap, where_: where_)
        checkGeneration(audits, after: step, snap: snap, settled: settled, where_: where_)
        if !someoneDied { crossCheckDump(snap, problems: problems, where_: where_) }
        lock.lock()
        defer { lock.unlock() }
        // Snapshots of every state word let the checker compare the segment with the reported
        // transitions. Not while an operation is paused: its claim is in the segment already
        // but will only be reported with its response.
        if !roles.values.contains(where: { $0.pending != nil }) && untraced.isEmpty {
            for s in 0..<snap.geometry.shardCount {
                for j in 0..<snap.geometry.slotsPerShard {
                    let at = "shard \(s) slot \(j)"
                    guard !poisoned.contains(at), !duplicated.contains(at) else { continue }
                    checker.snapshot(shard: s, slot: j, word: snap.stateWord(s, j).raw)
                }
            }
            lock.unlock()
            checkTransitions()
            lock.lock()
        }
        // Only removals no answer reported: explicit evicts count in `evictions` too (§6).
        let paused = roles.values.filter { $0.pending != nil }.count
        if accounting.silentRemovalReason(Counters(snap.totals), inFlight: paused) != nil {
            silentRemovalPossible = true
        }
        lastSnapshot = snap
    }

    /// §5.1: with no operation under way, every live participant's `claim_hint` is 0: each
    /// write operation leaves the hint it entered, and the last to leave clears the whole word,
    /// `W` included. One that never leaves makes a successor sweep for claims that are not
    /// there; one that leaves twice hides a live claim from it; a `W` left behind (set beside a
    /// paused operation, CaseRunner+Overlap) makes every later successor sweep everything. Only
    /// the decoder sees this word: no answer depends on it.
    func checkClaimHintsAtRest(_ snap: SegmentSnapshot, where_: String) {
        for i in 0..<snap.geometry.participantCapacity where snap.participantAlive(index: i) {
            let h = snap.word(snap.geometry.participantOffset(i) + SpecLayout.Participant.claimHint)
            guard h != 0 else { continue }
            let what = h & 0xFFFF != 0 ? "has in_flight \(h & 0xFFFF)" : "is \(String(h, radix: 16)) with in_flight 0"
            conformance("claim hint of participant \(i + 1) \(what) at rest \(where_)",
                        "Participant \(i + 1) is alive with no operation under way \(where_), but its claim_hint "
                        + String(format: "(%#llx)", h) + " has in_flight = \(h & 0xFFFF), W = \(h >> 48 & 1): PROTOCOL.md §5.1 wants 0 "
                        + "(every write operation leaves what it entered, and the last to leave clears the whole word)")
        }
    }

    /// Counters agree with what happened: every get, put and removal the fixtures answered is
    /// counted exactly once; operations of unknown outcome widen the allowed range.
    func checkCounters(_ t: Counters, where_: String) {
        // An operation stopped at a pause point may already have counted itself.
        let paused = roles.values.filter { $0.pending != nil }.count
        let wrong = accounting.disagreements(with: t, inFlight: paused)
        guard !wrong.isEmpty else { return }
        conformance("counters disagree with what happened \(where_): \(wrong[0])",
                    "PROTOCOL.md §6 defines each counter; from the answers the fixtures gave, \(where_):\n"
                        + wrong.map { "  \($0)" }.joined(separator: "\n") + "\n  (seen: \(accounting.seen))")
    }
}
