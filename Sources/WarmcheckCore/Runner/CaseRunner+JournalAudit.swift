import Foundation
import WarmcheckScenario
import WarmcheckSegment

/// A put record repeats the published record's fields exactly (PERSISTENCE.md §5), so that a
/// restore republishes the same version, expiry and provenance. Scenarios judge the journal only
/// through what a restore brings back, and only the fields a scenario then looks at: a Go
/// journal writer that stored `written_at_ns` one byte early (over the top byte of
/// `stale_until_ns`) survived every case. So after every sequential durable `put` or `refresh`
/// answered `durable: true`, the harness reads the store (StoreReading, from the spec) and the
/// segment (LiveSegment) itself and requires the newest record of the store to be this key's
/// put record, field for field equal to the slot's published record, with the value sent.
extension CaseRunner {
    func checkJournalRecord(_ r: DriverResponse, step o: OperationStep, role: String) {
        guard r.isOK, r.result["durable"]?.bool == true, let key = o.key, let value = o.value,
              let geometry = StoreReading.segmentGeometry(segmentPath) else { return }
        var newest: StoreReading.Record?
        var newestFile: String?
        for (name, bytes) in StoreReading.storeFiles(storeDir) {
            for rec in StoreReading.read(bytes, geometry: geometry).records where rec.order >= (newest?.order ?? 0) {
                newest = rec
                newestFile = name
            }
        }
        if let newestFile { checkSamePart(newestFile, step: o, role: role) }
        func fail(_ what: String) {
            conformance("\(role)'s journal record for `\(o.text)` at \(o.location) is not the published record: \(what)",
                        "PERSISTENCE.md §5–§6: after the publish the writer appends a put record that repeats the published "
                            + "record's fields exactly, before it answers; read by the harness from the store and the segment "
                            + "right after the answer"
                            + (storeDiskFull ? ". The store's disk is full (`store_disk: full`): a record whose write fails "
                                + "with ENOSPC, whole or after a short write, is answered durable: false and ends the file "
                                + "(§6 step 2), never acknowledged" : ""))
        }
        guard let rec = newest else { return fail("the store holds no record at all") }
        guard rec.kind == 1, rec.key == key else {
            return fail("the newest record (order \(rec.order)) is kind \(rec.kind) of key \(shown(rec.key)), not a put of \(shown(key))")
        }
        guard case .success(let seg) = LiveSegment.open(path: segmentPath, owner: options.fixtureCredentials?.uid) else { return }
        let g = seg.geometry
        var published: Int?
        search: for s in 0..<g.shardCount {
            for j in 0..<g.slotsPerShard {
                if case .entry(let e) = seg.read(shard: s, slot: j), e.key == key, e.record != nil {
                    published = g.recordOffset(s, j, e.word.active)
                    break search
                }
            }
        }
        guard let at = published else { return }   // already gone (evicted): nothing to compare
        var wrong = recordFields(rec, seg, record: at).filter { $0.1 != $0.2 }.map { "`\($0.0)` is \($0.1) in the journal, \($0.2) in the segment" }
        if rec.value != value { wrong.append("the value is \(shown(rec.value)) in the journal, \(shown(value)) was put") }
        if !wrong.isEmpty { fail(wrong.joined(separator: "; ")) }
    }

    /// PERSISTENCE.md §6: a handle's journal part ends on an error (a failed write or sync), when
    /// the handle closes, or when a compaction of its own asks (§8), never otherwise. So on a
    /// healthy disk two acknowledged records of one handle with none of those between them are
    /// in one file: a writer that started a new part after a *successful* timer sync (Go
    /// syncLoop's test inverted, durable_journal.go:cmp-eq:0894a561:3) loses nothing a restore
    /// shows, and only this sees it. `journalParts` is reset by every step that may end a part.
    func checkSamePart(_ file: String, step o: OperationStep, role: String) {
        guard scenario.disks[role] == nil, !scenario.fillsStoreDisk, let rp = roles[role], let fx = rp.fixture else {
            journalParts[role] = nil
            return
        }
        let me = ObjectIdentifier(fx)
        defer { journalParts[role] = (me, file, o.location.description) }
        guard let last = journalParts[role], last.process == me, last.file != file else { return }
        conformance("\(role)'s durable `\(o.text)` at \(o.location) went to a new journal part, \(file), on a healthy disk",
                    "PERSISTENCE.md §6: a handle's part ends only on a failed write or sync, at close, or for its own "
                        + "compaction (§8); the record acknowledged at \(last.at) is in \(last.file), and nothing between "
                        + "the two steps may end that part (the disk works, no close, open, compact or crash came between)")
    }
}
