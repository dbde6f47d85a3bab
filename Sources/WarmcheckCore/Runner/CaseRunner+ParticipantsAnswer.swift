import WarmcheckScenario
import WarmcheckSegment

/// A `participants` answer, read back against the participant table. The answer is what an
/// operator's tooling lists ("who is attached, in which language, alive or not") and nothing
/// judged it: the driver decoded it and no scenario looked, so a library that read the protocol
/// major from the wrong bits of `info` (Go `>> 9` survived every case) or listed a dead entry as
/// alive passed. After a sequential `participants` with nothing else in flight, the list must be
/// exactly the entries with `epoch ≠ 0`, in index order, each with the table's epoch, pid,
/// start_time and language (PROTOCOL.md §5 words), `alive` as warmcheck's own lock probe finds
/// it, and, where the answer carries them (DRIVER.md `participants`: optional), the protocol
/// major and minor of `info`.
extension CaseRunner {
    struct ParticipantsAnswerToCheck { var result: JSON, role: String, impl: String, location: SourceLocation }

    func checkParticipantsAnswer(_ a: ParticipantsAnswerToCheck, _ snap: SegmentSnapshot, where_: String) {
        let g = snap.geometry
        typealias P = SpecLayout.Participant
        var problems: [String] = []
        let registered = (0..<g.participantCapacity).filter { snap.word(g.participantOffset($0) + P.epoch) != 0 }
        let listed = a.result["participants"]?.array ?? []
        let indices = listed.map { $0["index"]?.uint.map(Int.init) ?? -1 }
        if indices != registered {
            problems.append("lists indices \(indices), the table's entries with epoch ≠ 0 are \(registered)")
        }
        for p in listed {
            guard let i = p["index"]?.uint.map(Int.init), registered.contains(i) else { continue }
            let at = g.participantOffset(i)
            let info = snap.word(at + P.info)
            var want: [(String, UInt64)] = [("epoch", snap.word(at + P.epoch)), ("pid", snap.word(at + P.pid)),
                                            ("start_time", snap.word(at + P.startTime)), ("language", info & 0xFF)]
            if p["protocol_major"] != nil { want.append(("protocol_major", (info >> 8) & 0xFF)) }
            if p["protocol_minor"] != nil { want.append(("protocol_minor", (info >> 16) & 0xFF)) }
            for (field, value) in want where p[field]?.uint != value {
                problems.append("[\(i)].\(field) is \(p[field]?.uint.map(String.init) ?? "missing"), the table holds \(value)")
            }
            let alive = snap.participantAlive(index: i)
            if p["alive"]?.bool != alive {
                problems.append("[\(i)].alive is \(p["alive"]?.bool.map(String.init) ?? "missing"), its lock is \(alive ? "held" : "free")")
            }
        }
        guard !problems.isEmpty else { return }
        conformance("participants of \(a.role) (\(a.impl)) disagrees with the participant table \(where_): \(problems[0])",
                    "DRIVER.md `participants` / PROTOCOL.md §5: with nothing else in flight, the answer of the `participants` at "
                        + "\(a.location) lists every entry with epoch ≠ 0 as warmcheck's decoder and lock probe read it:\n"
                        + problems.prefix(12).map { "  \($0)" }.joined(separator: "\n"))
    }
}
