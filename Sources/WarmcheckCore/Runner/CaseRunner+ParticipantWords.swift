import WarmcheckSegment

/// The participant words only their owner writes (§5, §5.1, §18.3), at every snapshot:
///
/// - **A 1.0 participant never touches bytes 40..63** (`claim_hint`, `hint_epoch`, `ns_pin`):
///   while an entry's `epoch` stays and it speaks 1.0, those bytes stay what the previous
///   snapshot saw, whatever a dead 1.1 predecessor left there. Nobody else writes them while the
///   `epoch` stays (a successor bumps it first), so any change is the 1.0 owner's. A handle that
///   leaves a hint it never entered would clear a dead predecessor's, and no answer shows it:
///   its successor never trusts the word (`hint_epoch ≠ e`).
/// - **A live 1.1 participant's `ns_pin` is 0 or carries its own `pin_epoch`**, once its
///   registration has finished (`hint_epoch = epoch`, §5 step 3, stored after `ns_pin = 0`): a
///   registrant that skips the store keeps its dead predecessor's pin, void by its epoch
///   (§18.3), so no reader sees the difference; only the word does.
extension CaseRunner {
    func checkParticipantWords(_ snap: SegmentSnapshot, where_: String) {
        let g = snap.geometry
        func word(_ s: SegmentSnapshot, _ i: Int, _ field: Int) -> UInt64 { s.word(g.participantOffset(i) + field) }
        let P = SpecLayout.Participant.self
        let before = lastSnapshot.flatMap { prev in
            // The same segment, its entries where they were: a `wipe:` and a restore make another.
            prev.geometry == g && prev.header.createdAtNs == snap.header.createdAtNs
                && prev.header.creatorPid == snap.header.creatorPid ? prev : nil
        }
        for i in 0..<g.participantCapacity {
            let p = snap.participant(i)
            if participantWordsPatched[i] == p.epoch { continue }
            if let prev = before, p.protocolMinor == 0, p.epoch != 0 {
                let q = prev.participant(i)
                let fields = [("claim_hint", P.claimHint), ("hint_epoch", P.hintEpoch), ("ns_pin", P.nsPin)]
                if q.epoch == p.epoch, q.protocolMinor == 0, q.pid == p.pid,
                   let (name, f) = fields.first(where: { word(prev, i, $0.1) != word(snap, i, $0.1) }) {
                    conformance("participant \(i + 1), speaking 1.0, changed its \(name) \(where_)",
                                "PROTOCOL.md §5: a 1.0 registrant never touches bytes 40..63 of its entry (claim_hint, hint_epoch, ns_pin). "
                                    + "Participant \(i + 1) (pid \(p.pid), epoch \(p.epoch), minor 0 in its info word) had \(name) = "
                                    + "0x\(String(word(prev, i, f), radix: 16)) at the previous snapshot and 0x\(String(word(snap, i, f), radix: 16)) \(where_), "
                                    + "its epoch unchanged, so nobody else can have written it")
                    return
                }
            }
            guard p.alive, p.protocolMinor >= 1, p.epoch != 0, word(snap, i, P.hintEpoch) == p.epoch else { continue }
            let pin = word(snap, i, P.nsPin)
            if pin != 0 && pin >> 40 != p.epoch & 0xFF_FFFF {
                conformance("live participant \(i + 1)'s ns_pin carries another registration's pin_epoch \(where_)",
                            "PROTOCOL.md §5 step 3 and §18.3: a registrant stores ns_pin = 0 before it keeps its hint, and pins only with "
                                + "pin_epoch = the low 24 bits of its own epoch. Live participant \(i + 1) (epoch \(p.epoch), hint_epoch = epoch: "
                                + "registered) has ns_pin 0x\(String(pin, radix: 16)), pin_epoch \(pin >> 40), not \(p.epoch & 0xFF_FFFF) \(where_)")
                return
            }
        }
    }
}
