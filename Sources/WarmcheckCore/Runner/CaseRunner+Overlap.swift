import WarmcheckScenario
import WarmcheckSegment

/// §5.1 with two operations in flight on one handle, the only case in which `in_flight` passes
/// 1 and `W` means anything. A role's operation is paused at a point inside its write (after
/// its enter, before its leave); `overlap=true` steps then ran whole on the same handle
/// (DRIVER.md "Two operations of one handle"). Each of them entered and left, so the word must
/// now say exactly what the paused operation alone entered, plus `W` if any of them was a
/// write of another (`shard`, `home`): `W` is "cleared only with the whole word, when
/// `in_flight` returns to 0", which it has not. One that leaves the word at 0 (the last to
/// leave is taken for the only one: the claim left in flight is then covered by nothing), one
/// that never sets `W`, one that counts wrong: each shows here, in the harness's own decoding,
/// and in no answer.
extension CaseRunner {
    /// The points at which a write operation has entered its hint and not yet left it.
    static let insideWritePoints: Set<String> = [
        "put.before_lock", "lock.after_acquire", "put.before_claim", "evict.after_victim", "put.after_claim", "put.after_key",
        "put.after_payload", "refresh.before_claim", "refresh.after_claim", "refresh.after_payload", "invalidate.before_claim",
        "invalidate.after_claim", "reclaim.before_cas",
    ]

    static let writeOperations: Set<Operation> = [.put, .refresh, .invalidate, .evict]

    /// Roles whose paused operation had overlaps: their hint may be wide (checked exactly here).
    var overlappedParticipants: Set<Int> {
        Set(roles.values.compactMap { rp in rp.pending.flatMap { $0.overlaps.isEmpty ? nil : rp.participant } })
    }

    func checkOverlapHints(_ snap: SegmentSnapshot, where_: String) {
        let g = snap.geometry
        for rp in roles.values.sorted(by: { $0.role < $1.role }) {
            guard let p = rp.pending, !p.overlaps.isEmpty, p.finishedEarly == nil, let id = rp.participant,
                  id >= 1, id <= g.participantCapacity, snap.participantAlive(index: id - 1),
                  // A handle speaking 1.0 keeps no hint.
                  snap.participant(id - 1).protocolMinor >= 1 else { continue }
            let a = p.step
            func place(_ key: [UInt8]) -> (shard: Int, home: Int) { g.place(SpecHash.wch64(key, seed: SpecHash.keySeed)) }
            let want: UInt64
            let why: String
            if Self.writeOperations.contains(a.op), let point = a.pauseAt, Self.insideWritePoints.contains(point), let ka = a.key {
                let here = place(ka)
                let wide = p.overlaps.contains { b in
                    guard Self.writeOperations.contains(b.op), let kb = b.key else { return false }
                    let there = place(kb)
                    return there.shard != here.shard || there.home != here.home
                }
                want = (wide ? 1 << 48 : 0) | UInt64(here.shard) << 32 | UInt64(here.home) << 16 | 1
                why = "its \(a.op.rawValue) of \(ScenarioValue.render(ka)) is in flight at \(point) (shard \(here.shard), home \(here.home))"
                    + (wide ? ", and an overlapping write of another shard/home entered while it was, so W stays set until in_flight returns to 0"
                            : ", and every overlapping write was of the same shard/home, so W stays clear")
                    + "; the \(p.overlaps.count) overlapping operation(s) entered and left"
            } else if !Self.writeOperations.contains(a.op) {
                want = 0
                why = "its paused \(a.op.rawValue) claims nothing, and every overlapping operation left: in_flight is back at 0, the whole word cleared"
            } else {
                continue   // paused outside its enter/leave (a journal point): the word may be either
            }
            let off = g.participantOffset(id - 1) + SpecLayout.Participant.claimHint
            let h = snap.word(off)
            guard h != want else { continue }
            func show(_ w: UInt64) -> String {
                "0x\(String(w, radix: 16)) (in_flight \(w & 0xFFFF), home \(w >> 16 & 0xFFFF), shard \(w >> 32 & 0xFFFF), W \(w >> 48 & 1))"
            }
            conformance("claim hint of participant \(id) is \(String(h, radix: 16)), not \(String(want, radix: 16)), with two operations of one handle \(where_)",
                        "PROTOCOL.md §5.1: \(rp.role) (\(rp.impl), participant \(id)): \(why). Its claim_hint must be \(show(want)); "
                            + "warmcheck's decoder reads \(show(h)) \(where_)")
        }
    }
}
