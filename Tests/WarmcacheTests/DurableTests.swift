import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// The Swift durable store (docs/PERSISTENCE.md): the §9 reader against the cases the Go and
/// Rust readers agree on, the journal's order of operations, and restore.
final class DurableTests: XCTestCase {
    /// Every case of testdata/journal-cases.json decodes to the answer Go and Rust agreed on:
    /// the code, where reading stopped, the records accepted, the tombstones, the file's kind
    /// and a snapshot's end record (the same fields go-fixture's TestJournalCases checks).
    func testJournalCases() throws {
        let data = try Data(contentsOf: repoRoot.appendingPathComponent("testdata/journal-cases.json"))
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let w = try XCTUnwrap(doc["geometry"] as? [String]).map { UInt64($0)! }
        let restoring = Geometry.unpack(shards: w[0], sizes: w[1], limits: w[2])
        let cases = try XCTUnwrap(doc["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        for c in cases {
            let name = c["name"] as! String
            let image = fromHexString(c["image_hex"] as! String)
            let e = c["expect"] as! [String: Any]
            let f = StoreReader.decode(image, want: (c["any_geometry"] as! Bool) ? nil : restoring)
            var code = "ok", offset = image.count
            if let p = f.problems.first { (code, offset) = (p.code, f.usable ? p.offset : 0) }
            let kind = !f.usable ? 0 : (f.header!.isSnapshot ? 2 : 1)
            let tomb = f.records.filter { $0.kind == .invalidate }.count
            let end = f.complete ? (String(f.end!.order), String(f.end!.version)) : ("0", "0")
            XCTAssertEqual(code, e["code"] as? String, name)
            XCTAssertEqual(offset, (e["offset"] as! NSNumber).intValue, name)
            XCTAssertEqual(f.records.count, (e["records"] as! NSNumber).intValue, name)
            XCTAssertEqual(tomb, (e["tombstones"] as! NSNumber).intValue, name)
            XCTAssertEqual(kind, (e["kind"] as! NSNumber).intValue, name)
            XCTAssertEqual(f.complete ? 1 : 0, (e["complete"] as! NSNumber).intValue, name)
            XCTAssertEqual(end.0, e["end_order"] as? String, name)
            XCTAssertEqual(end.1, e["end_version"] as? String, name)
        }
    }

    func storeDir(_ name: String = #function) -> String { tempPath("store" + name) }

    func removeStore(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

    /// A durable put under `always` is fdatasynced before it is answered (§6): the journal
    /// state says the synced bytes cover the record, and the pause points come in §10's order.
    func testAlwaysSyncsBeforeAnswer() throws {
        let p = tempPath(), dir = storeDir()
        defer { removeFile(p); removeStore(dir) }
        let seen = PointLog()
        let c = try WarmCache.create(path: p, geometry: small, options: WarmCacheOptions().harness(pauseHook: { seen.add($0) }))
        defer { c.close() }
        try c.attachStore(StoreOptions(directory: dir, policy: .always))
        XCTAssertEqual((try c.journalState), JournalState())
        let (r, durable) = c.durablePut(bytes("k"), bytes("v"))
        XCTAssertTrue(r.isOK)
        XCTAssertTrue(durable)
        let s = (try c.journalState)
        XCTAssertEqual(s.seq, 1)
        XCTAssertEqual(s.written, StoreFormat.HEADER_SIZE + 104)
        XCTAssertEqual(s.synced, s.written, "always: synced before the answer")
        XCTAssertEqual(seen.points.filter { $0.rawValue.hasPrefix("journal.") },
                       [.journalBeforeAppend, .journalAfterAppend, .journalAfterSync])
        // A put that did not take effect writes no record (§6 step 1).
        let (nf, d2) = c.durableRefresh(bytes("absent"), bytes("v"))
        XCTAssertEqual(nf.failure, .notFound)
        XCTAssertFalse(d2)
        XCTAssertEqual((try c.journalState).seq, 1)
        // The file is what §9 reads back: one put with the published fields and provenance.
        let f = StoreReader.read(path: s.path, want: small)
        XCTAssertEqual(f.problems, [])
        XCTAssertEqual(f.records.map(\.key), [bytes("k")])
        XCTAssertEqual(f.records.first?.version, r.version)
        XCTAssertEqual(f.records.first?.writer, c.writer)
        XCTAssertEqual(f.header?.participant, c.participantId)
    }

    /// `none` answers without syncing; `interval` syncs later, by its timer.
    func testNoneAndIntervalPolicies() throws {
        for policy in [FsyncPolicy.none, .interval] {
            let p = tempPath("policy\(policy)"), dir = storeDir("policy\(policy)")
            defer { removeFile(p); removeStore(dir) }
            let c = try WarmCache.create(path: p, geometry: small)
            defer { c.close() }
            try c.attachStore(StoreOptions(directory: dir, policy: policy, intervalNs: 5_000_000))
            XCTAssertTrue(c.durablePut(bytes("k"), bytes("v")).durable)
            let s = (try c.journalState)
            XCTAssertLessThan(s.synced, s.written, "\(policy): answered before the record was synced")
            if policy == .interval {
                let deadline = Date().addingTimeInterval(5)
                while (try c.journalState).synced < s.written && Date() < deadline { usleep(2000) }
                XCTAssertEqual((try c.journalState).synced, s.written, "interval: the timer synced the record")
            }
        }
    }

    /// A reboot wipes the segment; restore rebuilds it (§7): last durable values with their
    /// provenance, tombstones applied, versions and orders continue above the floors.
    func testRestoreAfterWipe() throws {
        let p = tempPath(), dir = storeDir()
        defer { removeFile(p); removeStore(dir) }
        let store = StoreOptions(directory: dir, policy: .always)
        var (c, rep) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        XCTAssertTrue(rep.restored)
        XCTAssertEqual(rep.installed, 0)
        _ = c.durablePut(bytes("a"), bytes("1"), options: PutOptions(originTag: 7))
        _ = c.durablePut(bytes("b"), bytes("2"))
        _ = c.durablePut(bytes("a"), bytes("3"), options: PutOptions(originTag: 8))
        XCTAssertEqual(c.durableInvalidate(bytes("b")).durable, true)
        _ = c.put(bytes("plain"), bytes("lost"))
        let writer = c.writer
        c.close()
        removeFile(p)
        (c, rep) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        defer { c.close() }
        XCTAssertTrue(rep.restored)
        XCTAssertEqual(rep.records, 4)
        XCTAssertEqual(rep.installed, 1)
        XCTAssertEqual(rep.tombstones, 1)
        XCTAssertEqual(rep.versionFloor, 3)
        XCTAssertEqual(rep.orderFloor, 4)
        guard case .hit(let h) = c.get(bytes("a")) else { return XCTFail("a restored") }
        XCTAssertEqual(h.value, bytes("3"))
        XCTAssertEqual(h.version, 3)
        XCTAssertEqual(h.originTag, 8)
        XCTAssertEqual(UInt64(h.provenance.pid), writer & 0xFFFF_FFFF, "the writer's provenance")
        XCTAssertEqual(UInt64(h.provenance.participant), writer >> 56)
        guard case .miss = c.get(bytes("b")) else { return XCTFail("b was invalidated durably") }
        guard case .miss = c.get(bytes("plain")) else { return XCTFail("a plain put is not in the store") }
        XCTAssertGreaterThan(c.put(bytes("c"), bytes("4")).version ?? 0, 3, "versions never go back")
        // A second starter finds the restored segment and opens it.
        let (c2, rep2) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        c2.close()
        XCTAssertFalse(rep2.restored)
    }

    /// A record corrupt in the middle of a journal ends that file there: the records after it
    /// are reported, never applied (§9).
    func testCorruptRecordIsNeverApplied() throws {
        let p = tempPath(), dir = storeDir()
        defer { removeFile(p); removeStore(dir) }
        let store = StoreOptions(directory: dir, policy: .none)
        var (c, _) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        for i in 0..<3 { _ = c.durablePut(bytes("k\(i)"), bytes("v\(i)")) }
        let path = (try c.journalState).path
        c.close()
        removeFile(p)
        // Flip one value byte of the second record (each is 104 bytes after the 96-byte header).
        patch(path, at: StoreFormat.HEADER_SIZE + 104 + StoreFormat.RECORD_FIXED_SIZE + 8, [0x58])
        let rep: RestoreReport
        (c, rep) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        defer { c.close() }
        XCTAssertEqual(rep.installed, 1)
        XCTAssertEqual(rep.problems.map(\.code), ["bad_checksum"])
        XCTAssertEqual(rep.problems.first?.offset, StoreFormat.HEADER_SIZE + 104)
        XCTAssertEqual(rep.problems.first?.notAppliedBytes, 2 * 104)
        guard case .hit = c.get(bytes("k0")) else { return XCTFail("k0 precedes the damage") }
        guard case .miss = c.get(bytes("k1")) else { return XCTFail("the corrupt record was applied") }
        guard case .miss = c.get(bytes("k2")) else { return XCTFail("a record after the damage was applied") }
    }

    /// A journal of another geometry is skipped and reported; an unusable segment file is
    /// replaced by the restored one (§7 steps 2 and 7).
    func testOtherGeometrySkippedAndUnusableReplaced() throws {
        let p = tempPath(), other = tempPath("other"), dir = storeDir()
        defer { removeFile(p); removeFile(other); removeStore(dir) }
        let store = StoreOptions(directory: dir, policy: .none)
        var g2 = small
        g2.valueCapacity = 512
        let (o, _) = try WarmCache.openOrRestore(path: other, geometry: g2, store: store)
        _ = o.durablePut(bytes("x"), bytes("y"))
        o.close()
        let (c, _) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        _ = c.durablePut(bytes("k"), bytes("v"))
        c.close()
        patchWord(p, at: Layout.HDR_MAGIC, 0)   // bad_magic: unusable
        let (r, rep) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        defer { r.close() }
        XCTAssertTrue(rep.restored)
        XCTAssertEqual(rep.installed, 1)
        XCTAssertEqual(rep.problems.map(\.code), ["other_geometry"])
    }
}

/// Compaction (PERSISTENCE.md §8) in the Swift store.
final class DurableCompactTests: XCTestCase {
    /// A closed journal is covered and removed, a live one (its writer holds the flock) is left;
    /// a restore from the snapshot plus the live journal gives every key; the pause points come
    /// in §10's order; a second compaction folds the first snapshot in as its base.
    func testCompactCoversClosedJournalsOnly() throws {
        let p = tempPath(), dir = tempPath("store")
        defer { removeFile(p); try? FileManager.default.removeItem(atPath: dir) }
        let store = StoreOptions(directory: dir, policy: .always)
        var (c, _) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        _ = c.durablePut(bytes("a"), bytes("1"))
        _ = c.durablePut(bytes("b"), bytes("2"))
        XCTAssertEqual(c.durableInvalidate(bytes("b")).durable, true)
        c.close()   // its journal is closed: coverable
        let live: WarmCache
        (live, _) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        defer { live.close() }
        _ = live.durablePut(bytes("c"), bytes("3"))   // a live journal: not coverable
        let seen = PointLog()
        let rep = try StoreCompaction.compact(directory: dir, geometry: small, pauseHook: { seen.add($0) })
        XCTAssertTrue(rep.created)
        XCTAssertEqual(rep.covered, 1)
        XCTAssertEqual(rep.live, 1)
        XCTAssertEqual(rep.records, 2)
        XCTAssertEqual(rep.tombstones, 1, "the tombstone is kept: a live journal may hold an older put")
        XCTAssertEqual(rep.removed, 1)
        XCTAssertEqual(seen.points, [.snapshotAfterWrite, .snapshotBeforeRename, .snapshotBeforeRemove, .snapshotAfterRemove])
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".wcj") || $0.hasSuffix(".wcs") }
        XCTAssertEqual(names.filter { $0.hasSuffix(".wcs") }, [rep.snapshot])
        XCTAssertEqual(names.filter { $0.hasSuffix(".wcj") }.count, 1, "only the live journal is left")
        // The live handle compacts its own store: it ends its part, so its journal is covered too.
        let second = try live.compact()
        XCTAssertEqual(second.covered, 1)
        XCTAssertEqual(second.live, 0)
        XCTAssertEqual(second.base, rep.snapshot)
        removeFile(p)
        let r: WarmCache, back: RestoreReport
        (r, back) = try WarmCache.openOrRestore(path: p, geometry: small, store: store)
        defer { r.close() }
        XCTAssertEqual(back.snapshot, second.snapshot)
        XCTAssertEqual(back.problems, [])
        XCTAssertEqual(back.installed, 2)
        guard case .hit = r.get(bytes("a")), case .hit = r.get(bytes("c")), case .miss = r.get(bytes("b")) else {
            return XCTFail("the snapshot lost or invented a key")
        }
        // Nothing to cover: no snapshot (the restorer's journal is live but empty of records).
        let none = try StoreCompaction.compact(directory: dir, geometry: small)
        XCTAssertFalse(none.created)
    }
}

/// The pause points a handle reached, in order (the hook runs on the operation's thread).
final class PointLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [PausePoint] = []
    func add(_ p: PausePoint) { lock.lock(); log.append(p); lock.unlock() }
    var points: [PausePoint] { lock.lock(); defer { lock.unlock() }; return log }
}
