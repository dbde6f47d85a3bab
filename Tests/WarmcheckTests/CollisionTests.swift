#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

@_spi(Harness) import Warmcache
@testable import WarmcheckCore
import WarmcheckScenario
import WarmcheckSegment

/// `collide: KEY as=OTHER` (docs/SCENARIOS.md): what the surgery writes, and that the runner
/// excuses the emulation's one artifact on that slot only and judges the first transition on it.
/// The scenarios collide-*.yaml and race-collided-slot-vs-two-inserts.yaml judge the fixtures.
final class CollisionTests: XCTestCase {
    var runner: CaseRunner!
    var cache: WarmCache!
    var path: String { runner.segmentPath }
    let a = Array("a".utf8), b = Array("b".utf8)

    override func setUpWithError() throws {
        let yaml = "processes: {w: any}\ninit:\n  - w: create\n  - collide: a as=b\n"
        let (s, errors) = ScenarioParser.parseCollectingErrors(yaml: yaml, file: "inline.yaml")
        XCTAssertEqual(errors, [])
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        runner = CaseRunner(expand(try XCTUnwrap(s), implementations: ["go"])[0], options: RunOptions(fixtures: [:], workDir: dir))
        cache = try WarmCache.create(path: path, geometry: Geometry(shardCount: 2, slotsPerShard: 8, keyCapacity: 16,
                                                                    valueCapacity: 16, probeWindow: 4, participantCapacity: 4))
    }

    override func tearDown() {
        cache?.close()
        unlink(path)
    }

    func slotBytes(_ g: SegmentSurgery.Geometry, _ shard: Int, _ slot: Int) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        return SegmentSurgery.bytes(fd, g.slotOffset(shard, slot), g.slotSize) ?? []
    }

    func geometry() throws -> SegmentSurgery.Geometry {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        return try XCTUnwrap(SegmentSurgery.geometry(fd))
    }

    /// Only key_len and the key bytes change; a reader (this checkout's Swift library) then
    /// misses a, a put of a inserts beside it, and the harness's own key lookup skips it.
    func testTheSurgeryRewritesTheKeyAndNothingElse() throws {
        guard case .ok(_, true, let shard, let slot) = cache.put(a, Array("v1".utf8)) else { return XCTFail("put a") }
        let g = try geometry()
        let before = slotBytes(g, shard, slot)
        let c = try SegmentSurgery.collide(path: path, key: a, as: b).get()
        XCTAssertEqual([c.shard, c.slot], [shard, slot])
        XCTAssertEqual(c.keyHash, WCH64.hash(a, seed: Layout.KEY_SEED))
        let after = slotBytes(g, shard, slot)
        let changed = (0..<before.count).filter { before[$0] != after[$0] }
        XCTAssertEqual(changed, [Layout.SLOT_KEY], "the key byte only (key_len stays 1, the hash, state and records stay)")
        XCTAssertEqual(after[Layout.SLOT_KEY], b[0])
        XCTAssertNil(cache.get(a).hit)
        guard case .ok(_, true, let s2, let j2) = cache.put(a, Array("v2".utf8)) else { return XCTFail("put a beside it") }
        XCTAssertTrue(s2 == shard && j2 != slot)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        XCTAssertEqual(SegmentSurgery.readableSlot(fd, g, a).map { [$0.shard, $0.slot] }, [s2, j2])
        XCTAssertEqual(after, slotBytes(g, shard, slot), "the insert beside it left the collided slot's words")
    }

    /// A longer OTHER writes its key_len and the zero padding of its last word; one that does not
    /// fit, or a KEY not in a READY/STALE slot, is a harness error.
    func testLengthsAndRefusals() throws {
        let key = Array("0123456789ab".utf8)
        guard case .ok = cache.put(key, [1]) else { return XCTFail("put") }
        XCTAssertNoThrow(try SegmentSurgery.collide(path: path, key: key, as: Array("0123456789abc".utf8)).get())
        let snap = try SegmentSnapshot.read(path: path).get()
        XCTAssertEqual(snap.problems.count, 1)
        guard case .keyHashMismatch = snap.problems.first else { return XCTFail("\(snap.problems)") }
        XCTAssertThrowsError(try SegmentSurgery.collide(path: path, key: Array("absent".utf8), as: b).get())
        XCTAssertThrowsError(try SegmentSurgery.collide(path: path, key: key, as: [UInt8](repeating: 0x61, count: 17)).get())
    }

    func collideThroughTheRunner() throws -> (SlotAt, SegmentSnapshot) {
        guard case .ok = cache.put(a, Array("v1".utf8)) else { throw XCTSkip("put") }
        let step = runner.scenario.initSteps[1].control!
        try runner.collide(a, as: b, step)
        let at = try XCTUnwrap(runner.collisions.keys.first)
        return (at, try SegmentSnapshot.read(path: path).get())
    }

    /// The decoder's complaint is excused for exactly the words the surgery left, on that slot.
    func testOnlyTheCollisionsOwnComplaintIsExcused() throws {
        let (at, snap) = try collideThroughTheRunner()
        XCTAssertEqual(snap.problems.count, 1)
        XCTAssertTrue(runner.isCollisionArtifact(try XCTUnwrap(snap.problems.first)))
        let ha = WCH64.hash(a, seed: Layout.KEY_SEED), hb = WCH64.hash(b, seed: Layout.KEY_SEED)
        let elsewhere = SlotAt(shard: at.shard, slot: (at.slot + 1) % 8)
        for p in [SegmentProblem.keyHashMismatch(elsewhere, stored: ha, computed: hb),
                  .keyHashMismatch(at, stored: ha, computed: WCH64.hash(Array("k4".utf8), seed: Layout.KEY_SEED)),
                  .keyHashMismatch(at, stored: 0, computed: hb),
                  .checksumMismatch(at, record: 0, stored: 1, computed: 2),
                  .duplicateKey(at, otherSlot: elsewhere.slot), .keyPaddingNotZero(at)] {
            XCTAssertFalse(runner.isCollisionArtifact(p), "\(p)")
        }
        XCTAssertTrue(runner.isCollision(at.description))
        XCTAssertFalse(runner.isCollision(elsewhere.description))
    }

    func transition(_ event: String, _ at: SlotAt, seq: UInt64, to: String = "WRITING") -> TransitionAnswer {
        TransitionAnswer(event: event, shard: at.shard, slot: at.slot, from: "READY", to: to, seq: seq, owner: 1, gseq: nil)
    }

    func watch(_ op: String, _ t: TransitionAnswer, _ snap: SegmentSnapshot) {
        var q = AuditQueue()
        q.items = [PendingAudit(op: op, actor: Actor(participant: 1, pid: 1, language: 3), transitions: [t])]
        runner.watchCollisions(q, in: snap, where_: "in the test")
    }

    /// The first transition on the slot after the surgery: an insert's reuse or a repair's
    /// quarantine ends the collision; a refresh, removal or mark_stale of it is a finding.
    func testTheFirstTransitionOnTheSlotIsJudged() throws {
        let (at, snap) = try collideThroughTheRunner()
        let seq0 = UInt64(snap.stateWord(at.shard, at.slot).seq)
        let saved = runner.collisions
        for (op, event, finding) in [("put", "evict", false), ("put", "expire", false), ("repair", "invalidate_claim", false),
                                     ("put", "refresh_claim", true), ("refresh", "refresh_claim", true),
                                     ("invalidate", "invalidate_claim", true), ("evict", "invalidate_claim", true),
                                     ("get", "mark_stale", true)] {
            runner.collisions = saved
            runner.findings = []
            watch(op, transition(event, at, seq: seq0 + 1), snap)
            XCTAssertEqual(runner.findings.count, finding ? 1 : 0, "\(op) \(event)")
            XCTAssertTrue(runner.collisions.isEmpty, "\(op) \(event) ends the collision")
        }
        // Another slot's transition, or nothing reported while the words still hold the
        // collision (a paused claim), leave it watched; a later seq (something unreported came
        // first) ends it unjudged.
        runner.collisions = saved
        runner.findings = []
        watch("put", transition("refresh_claim", SlotAt(shard: at.shard, slot: (at.slot + 1) % 8), seq: 1), snap)
        runner.watchCollisions(AuditQueue(), in: snap, where_: "in the test")
        XCTAssertEqual(runner.collisions.count, 1)
        watch("put", transition("refresh_claim", at, seq: seq0 + 2), snap)
        XCTAssertTrue(runner.findings.isEmpty && runner.collisions.isEmpty)
    }

    /// The parser: two different keys, OTHER written by no step, each OTHER borrowed once.
    func testTheParserRefusesWhatWouldNotBeACollision() {
        func errors(_ steps: String) -> [String] {
            ScenarioParser.parseCollectingErrors(yaml: "processes: {w: any}\ninit:\n  - w: create\n" + steps, file: "x.yaml")
                .errors.map(\.message)
        }
        XCTAssertEqual(errors("  - w: put a v\n  - collide: a as=b\n  - w: get b\n"), [])
        XCTAssertEqual(errors("  - collide: a as=a\n").count, 1)
        XCTAssertEqual(errors("  - collide: a\n").count, 1)
        XCTAssertEqual(errors("  - collide: a b\n").count, 1)
        XCTAssertEqual(errors("  - collide: as=b\n").count, 1)
        XCTAssertEqual(errors("  - collide: a as=\n").count, 1)
        XCTAssertTrue(errors("  - collide: a as=b\n  - w: put b v\n").first?.contains("no step writes") == true)
        XCTAssertTrue(errors("  - collide: a as=b\n  - collide: c as=b\n").first?.contains("second time") == true)
        XCTAssertTrue(errors("  - w: put a v\n  - collide: a as=b\n").isEmpty)
        let parallel = "processes: {w: any}\ninit:\n  - w: create\nparallel:\n  w:\n    - collide: a as=b\n"
        XCTAssertEqual(ScenarioParser.parseCollectingErrors(yaml: parallel, file: "x.yaml").errors.count, 1)
    }
}
