import WarmcheckModel
import WarmcheckSegment

/// §18.3's pin word, read back. The namespace model judges what pinned readers were answered;
/// this judges the word other processes act on. A reclaimer honours only the pins it can decode,
/// so a pin written with its namespace in the wrong bits, a stale epoch, or left behind after
/// `ns_unpin` changes nothing the pinner is told, but lets a reclaimer of another language take
/// the pinned version away (or keeps a version forever). So at rest, every live handle speaking
/// 1.1 must hold exactly the word its own answered `ns_pin`/`ns_unpin` steps call for:
/// `version | ns << 32 | (epoch & 0xFFFFFF) << 40`, or 0 when it holds no pin (§5 step 3 stores 0
/// at registration, N7 at unpin, and a failed `ns_pin` leaves or restores 0).
extension CaseRunner {
    enum ExpectedPin: Equatable { case none, pinned(ns: UInt64, version: UInt64), unknown }

    /// What each role's handle should hold, from its own answered namespace steps in order
    /// (caller holds `lock`).
    func expectedPins() -> [Int: ExpectedPin] {
        var pins: [Int: ExpectedPin] = [:]
        for op in namespaceHistory {
            switch op.kind {
            case .reset:
                pins[op.client] = ExpectedPin.none
            case .pin:
                if op.outcome == .unknown { pins[op.client] = .unknown } else if op.isOKAnswer {
                    pins[op.client] = .pinned(ns: op.ns, version: op.version)
                }
                // A refusal (`pinned`, `not_found`, `busy`) leaves the pin as it was: `pinned`
                // keeps the old one, and the others only happen with no pin (§18.5).
            case .unpin:
                pins[op.client] = op.outcome == .unknown ? .unknown : ExpectedPin.none
            default:
                break
            }
        }
        return pins
    }

    func checkPinWords(_ snap: SegmentSnapshot, where_: String) {
        let g = snap.geometry
        let pins = lock.withLock { expectedPins() }
        for rp in roles.values.sorted(by: { $0.role < $1.role }) {
            guard rp.fixture != nil, !rp.crashed, let id = rp.participant, id >= 1, id <= g.participantCapacity,
                  snap.participantAlive(index: id - 1) else { continue }
            let entry = snap.participant(id - 1)
            // A 1.0 handle never touches the word (§5): a dead 1.1 predecessor's pin may stay.
            guard entry.protocolMinor >= 1 else { continue }
            let expected = pins[rolesIndex(rp.role)] ?? ExpectedPin.none
            let want: UInt64
            let why: String
            switch expected {
            case .unknown:
                continue
            case .none:
                want = 0
                why = "it holds no pin (registration stores 0, §5 step 3; ns_unpin stores 0, N7)"
            case .pinned(let ns, let version):
                want = version | ns << 32 | (entry.epoch & SpecNamespace.pinEpochMask) << 40
                why = "its ns_pin was answered with version \(version) of namespace \(ns), and its epoch is \(entry.epoch) (N6: version | ns << 32 | pin_epoch << 40)"
            }
            let off = g.participantOffset(id - 1) + SpecLayout.Participant.nsPin
            let found = snap.word(off)
            guard found != want else { continue }
            conformance("ns_pin of participant \(id) (\(rp.role), \(rp.impl)) is 0x\(String(found, radix: 16)), not 0x\(String(want, radix: 16)) \(where_)",
                        "PROTOCOL.md §18.3: the pin word of participant \(id) should be 0x\(String(want, radix: 16)), since \(why); "
                            + "it is 0x\(String(found, radix: 16)) (version \(found & 0xFFFF_FFFF), ns \(found >> 32 & 7), bits 35..39 \(found >> 35 & 0x1F), pin_epoch \(found >> 40)). "
                            + "Reclaimers of every language decide by this word which versions are pinned.")
        }
    }
}
