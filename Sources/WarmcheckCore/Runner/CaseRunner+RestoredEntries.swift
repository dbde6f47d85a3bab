import Foundation
import WarmcheckScenario
import WarmcheckSegment

/// What a restore installed, entry by entry (PERSISTENCE.md §7 step 6): every entry of the
/// restored segment sits in a slot whose state word is READY, A = 1, owner 0, seq 2 with
/// `referenced` 0, and is the winning put record of its key in the store it read, with that
/// record's version, value, origin, expiry, stale bound, written-at time and writer, so that a
/// reader after a restore sees who wrote the value and when, not who restored it. Scenarios
/// look at a few of these through `get` (value, version, writer role), so an install or a
/// snapshot encoder that moved `written_at_ns` or the writer's start time was invisible. Judged
/// where the restore counts are (a sequential restore of an unchanged store).
extension CaseRunner {
    func checkRestoredEntries(_ reading: StoreReading, role: String, at location: SourceLocation) {
        guard case .success(let seg) = LiveSegment.open(path: segmentPath, owner: options.fixtureCredentials?.uid) else { return }
        let g = seg.geometry
        typealias R = SpecLayout.Record
        var wrong: [String] = []
        for s in 0..<g.shardCount {
            for j in 0..<g.slotsPerShard {
                guard case .entry(let e) = seg.read(shard: s, slot: j), let key = e.key, e.record != nil else { continue }
                let name = shown(key)
                guard let w = reading.winnerRecords[key], w.kind == 1 else {
                    wrong.append("slot \(s)/\(j) holds \(name), which the store holds no winning put of")
                    continue
                }
                // Step 6 names the installed slot's words too, not only its record: a restore
                // that wrote another seq (Rust's install at seq 3 survived) or left `referenced`
                // set hands the first reclaimer and seqlock reader a slot no publish produced.
                let word = e.word
                if word.state != .ready || word.active != 1 || word.owner != 0 || word.seq != 2 {
                    wrong.append("\(name): the state word is \(word), not READY A=1 owner 0 seq=2 (as if claimed and published)")
                }
                let referenced = seg.word(g.slotOffset(s, j) + SpecLayout.Slot.referenced)
                if referenced != 0 { wrong.append("\(name): `referenced` is \(referenced), not 0") }
                let at = g.recordOffset(s, j, e.word.active)
                for (field, stored, installed) in recordFields(w, seg, record: at) where stored != installed {
                    wrong.append("\(name): `\(field)` is \(installed) in the segment, \(stored) in its record")
                }
                let len = Int(seg.word(at + R.valueInfo) & 0xFFFF_FFFF)
                if len <= g.valueCapacity, seg.loadBytes(at: at + R.value, count: len) != w.value {
                    wrong.append("\(name): the value differs from its record's")
                }
            }
        }
        guard let first = wrong.first else { return }
        conformance("\(role)'s restore at \(location) installed what the store does not hold: \(first)",
                    "PERSISTENCE.md §7 step 6: each installed entry is its key's winning put record, every field as recorded "
                        + "(read by the harness from the store before the request and from the segment after the answer):\n"
                        + wrong.prefix(20).map { "  \($0)" }.joined(separator: "\n"))
    }

    /// A store record's header fields (PERSISTENCE.md §5) beside the same fields of the segment
    /// record at `at` (§7.2): a put record repeats them exactly.
    func recordFields(_ rec: StoreReading.Record, _ seg: LiveSegment, record at: Int) -> [(String, UInt64, UInt64)] {
        typealias R = SpecLayout.Record
        return [
            ("version", rec.version, seg.word(at + R.version)),
            ("value_info", rec.valueInfo, seg.word(at + R.valueInfo)),
            ("expires_at_ns", rec.expires, seg.word(at + R.expiresAtNs)),
            ("stale_until_ns", rec.staleUntil, seg.word(at + R.staleUntilNs)),
            ("written_at_ns", rec.writtenAt, seg.word(at + R.writtenAtNs)),
            ("writer", rec.writer, seg.word(at + R.writer)),
            ("writer_start_time", rec.writerStart, seg.word(at + R.writerStartTime)),
        ]
    }

    /// Bytes for a message: quoted when printable ASCII, else hex.
    func shown(_ b: [UInt8]) -> String {
        b.allSatisfy({ (0x20..<0x7F).contains($0) }) ? "\"\(String(decoding: b, as: UTF8.self))\""
            : b.map { String(format: "%02x", $0) }.joined()
    }
}
