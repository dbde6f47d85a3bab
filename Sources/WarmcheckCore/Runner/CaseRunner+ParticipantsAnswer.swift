import WarmcheckScenario
import WarmcheckSegment

/// A `participants` answer, read back against the participant table. The answer is what an
/// operator's tooling lists ("who is attached, in which language, alive or not") and nothing
/// judged it: the driver decoded it (DriverAnswer) and no scenario looked, so a library that read the protocol
/// major from the wrong bits of `info` (Go `>> 9` survived every case) or listed a dead entry as
/// alive passed. After a sequential `participants` with nothing else in flight, the list must be
/// exactly the entries with `epoch ≠ 0`, in index order, each with the table's epoch, pid,
/// start_time and language (PROTOCOL.md §5 words), `alive` as warmcheck's own lock probe finds
/// it, and, where the answer carries them (DRIVER.md `participants`: optional), the protocol
/// major and minor of `info`.
extension CaseRunner {
    struct ParticipantsAnswerToCheck { var listed: [ParticipantAnswer], role: String, impl: String, location: SourceLocation }

    func checkParticipantsAnswer(_ a: ParticipantsAnswerToCheck, _ snap: SegmentSnapshot, where_: String) {
        let g = snap.geometry
        typealias P = SpecLayout.Participant
        var problems: [String] = []
        let registered = (0..<g.participantCapacity).filter { snap.word(g.participantOffset($0) + P.epoch) != 0 }
        let indices = a.listed.map(\.index)
        if indices != registered {
            problems.append("lists indices \(indices), the table's entries with epoch ≠ 0 are \(registered)")
        }
        for p in a.listed where registered.contains(p.index) {
            let at = g.participantOffset(p.index)
            let info = snap.word(at + P.info)
            var compared: [(String, UInt64?, UInt64)] = [("epoch", p.epoch, snap.word(at + P.epoch)), ("pid", p.pid, snap.word(at + P.pid)),
                                                          ("start_time", p.startTime, snap.word(at + P.startTime)), ("language", p.language, info & 0xFF)]
            if p.protocolMajor != nil { compared.append(("protocol_major", p.protocolMajor, (info >> 8) & 0xFF)) }
            if p.protocolMinor != nil { compared.append(("protocol_minor", p.protocolMinor, (info >> 16) & 0xFF)) }
            for (field, answered, held) in compared where answered != held {
                problems.append("[\(p.index)].\(field) is \(answered.map(String.init) ?? "missing"), the table holds \(held)")
            }
            let alive = snap.participantAlive(index: p.index)
            if p.alive != alive {
                problems.append("[\(p.index)].alive is \(p.alive), its lock is \(alive ? "held" : "free")")
            }
        }
        guard !problems.isEmpty else { return }
        conformance("participants of \(a.role) (\(a.impl)) disagrees with the participant table \(where_): \(problems[0])",
                    "DRIVER.md `participants` / PROTOCOL.md §5: with nothing else in flight, the answer of the `participants` at "
                        + "\(a.location) lists every entry with epoch ≠ 0 as warmcheck's decoder and lock probe read it:\n"
                        + problems.prefix(12).map { "  \($0)" }.joined(separator: "\n"))
    }
}
