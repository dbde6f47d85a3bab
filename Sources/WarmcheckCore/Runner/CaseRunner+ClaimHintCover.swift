import WarmcheckSegment

/// §5.1 at every snapshot, not only at rest: "at any instant every claim and insert lock the
/// owner holds is covered by `claim_hint`". The harness drives each handle one request at a
/// time, so a live participant's hint can only ever be 0 or one operation's: `in_flight` ≤ 1
/// and `W` clear (W is for a second operation starting while one is in flight, which happens
/// only beside a paused operation, with `overlap=true`: CaseRunner+Overlap). And every owned slot of a live owner lies in its owner's hint: `in_flight`
/// ≥ 1, and the slot in the window of the hint's (`shard`, `home`) unless `W` is set.
/// A hint entered wide, or one that names another window, only changes what a successor sweeps
/// after a crash, so no answer shows it; an operation paused at a pause point does.
extension CaseRunner {
    func checkClaimHintCover(_ snap: SegmentSnapshot, where_: String) {
        let g = snap.geometry
        func hint(_ i: Int) -> UInt64 { snap.word(g.participantOffset(i) + SpecLayout.Participant.claimHint) }
        // A paused operation with overlaps beside it: two operations were in flight, and W may
        // be set; what the word must be then is checked exactly in CaseRunner+Overlap.
        let overlapped = overlappedParticipants
        for i in 0..<g.participantCapacity where snap.participantAlive(index: i) && !overlapped.contains(i + 1) {
            let h = hint(i)
            if h & 0xFFFF > 1 || h & (1 << 48) != 0 {
                conformance("claim hint of participant \(i + 1) is \(String(h, radix: 16)) \(where_)",
                            "Participant \(i + 1)'s claim_hint is 0x\(String(h, radix: 16)) \(where_): in_flight \(h & 0xFFFF), W \(h >> 48 & 1). "
                                + "The harness sends each handle one request at a time (no overlap=true step is beside a paused one), so PROTOCOL.md §5.1 allows only 0 or one operation's hint (in_flight 1, W 0)")
                return
            }
        }
        for s in 0..<g.shardCount {
            for j in 0..<g.slotsPerShard {
                let w = snap.stateWord(s, j)
                guard let st = w.state, st.isOwned, w.owner >= 1, w.owner <= g.participantCapacity,
                      snap.participantAlive(index: w.owner - 1),
                      // A handle speaking 1.0 keeps no hint (§5.1 is 1.1's; its successors sweep everything).
                      snap.participant(w.owner - 1).protocolMinor >= 1 else { continue }
                let h = hint(w.owner - 1)
                // `home` must name a slot of the shard: the window arithmetic is modulo
                // slots_per_shard, so an out-of-range home (a field shifted by a byte, say) would
                // otherwise pass whenever it is congruent to the real one, while a successor's
                // registration treats such a hint as ill-formed and sweeps everything (§5 step 2).
                let home = Int(h >> 16 & 0xFFFF)
                let covered = h & 0xFFFF >= 1 && (h & (1 << 48) != 0
                    || (Int(h >> 32 & 0xFFFF) == s && home < g.slotsPerShard && g.windowContains(home: home, slot: j)))
                guard !covered else { continue }
                conformance("slot \(s)/\(j) (\(st)) of participant \(w.owner) is not covered by its claim hint \(where_)",
                            "PROTOCOL.md §5.1: every claim the owner holds is covered by claim_hint at any instant. Slot \(s)/\(j) is "
                                + "\(st), owned by participant \(w.owner), whose claim_hint 0x\(String(h, radix: 16)) names shard \(h >> 32 & 0xFFFF), "
                                + "home \(h >> 16 & 0xFFFF), in_flight \(h & 0xFFFF), W \(h >> 48 & 1) \(where_)")
                return
            }
        }
    }
}
