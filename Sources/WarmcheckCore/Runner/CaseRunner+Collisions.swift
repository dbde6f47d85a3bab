import Foundation
import WarmcheckScenario
import WarmcheckSegment

/// A slot a `collide: KEY as=OTHER` step turned into another key of KEY's `key_hash`
/// (docs/SCENARIOS.md "Control steps", PROTOCOL.md §9.1).
///
/// Two keys with one 64-bit hash cost ~2^32 hashes to find, so the step emulates the second
/// one: it borrows OTHER's bytes and length and keeps KEY's hash. The result differs from a real
/// collision in exactly one word a reader can check, `key_hash` against WCH64(the key bytes), and
/// only the decoder (and `dump`, `inspect`, `repair`) checks it; a lookup never hashes the bytes
/// it finds. So for the model the slot belongs to no key a driver can name: KEY is removed (a
/// correct reader misses it), OTHER is not there (its hash places it elsewhere), and the slot
/// stays until an insert reuses it.
struct CollidedSlot {
    var key: [UInt8], other: [UInt8]
    /// KEY's WCH64, left in `key_hash`, and OTHER's, which the decoder computes from the bytes.
    var keyHash: UInt64, otherHash: UInt64
    /// The state word the surgery left (unchanged by it): the transitions after it are judged.
    var stateWord: UInt64
    var location: SourceLocation
}

extension CaseRunner {
    /// `collide: KEY as=OTHER`: the surgery, and KEY removed from the model (like `corrupt:`).
    func collide(_ key: [UInt8], as other: [UInt8], _ c: ControlStep) throws {
        var made: SegmentSurgery.Collision?
        let d = try damage(key, c, "collide") { path, key in
            SegmentSurgery.collide(path: path, key: key, as: other).map { made = $0; return "shard \($0.shard) slot \($0.slot)" }
        }
        guard let m = made else { return }
        collisions[SlotAt(shard: m.shard, slot: m.slot)] =
            CollidedSlot(key: key, other: other, keyHash: m.keyHash, otherHash: SpecHash.wch64(other, seed: SpecHash.keySeed),
                         stateWord: m.stateWord, location: c.location)
        log.add("collide: \(ScenarioValue.render(key))'s slot (\(d)) now holds \(ScenarioValue.render(other))'s bytes under "
                + "\(ScenarioValue.render(key))'s key_hash " + String(format: "%#llx", m.keyHash))
    }

    /// The decoder's one complaint a collision slot earns: `key_hash` is KEY's, the bytes hash to
    /// OTHER's. Only with exactly those two values, so a slot rewritten since (by an insert that
    /// reused it, or anything else) is judged like any other.
    func isCollisionArtifact(_ p: SegmentProblem) -> Bool {
        guard case .keyHashMismatch(let at, let stored, let computed) = p, let c = collisions[at] else { return false }
        return stored == c.keyHash && computed == c.otherHash
    }

    /// A repair quarantines a collision slot: §9.9 step 3 checks `key_hash` against the bytes,
    /// the word the emulation could not make right (a real collision would pass).
    func isCollision(_ at: String) -> Bool { collisions.keys.contains { $0.description == at } }

    /// The first transition reported on a collision slot after the surgery says who matched it.
    /// An insert's claim (T10 `evict`, T11 `expire`) reuses it for its own key, which ends the
    /// collision; so does a repair's quarantine. A `refresh_claim`, an `invalidate_claim` of an
    /// invalidate or evict, or a `mark_stale` is an operation that took the slot for a key whose
    /// bytes it never compared: no key a driver can name is in it. Only a transition with the
    /// very next `seq` is judged; when something unreported came between (a process that died
    /// inside its claim), the collision ends unjudged, and the transition checker sees the rest.
    func watchCollisions(_ q: AuditQueue, in snap: SegmentSnapshot, where_: String) {
        for (at, c) in collisions.sorted(by: { $0.key < $1.key }) {
            let seq0 = UInt32(truncatingIfNeeded: c.stateWord >> 32)
            func after(_ t: TransitionAnswer) -> UInt32 { UInt32(truncatingIfNeeded: t.seq) &- seq0 }
            let mine = q.items.flatMap { item in
                item.transitions.filter { $0.shard == at.shard && $0.slot == at.slot && (1..<(1 << 31)).contains(after($0)) }.map { (item, $0) }
            }
            guard let (item, t) = mine.min(by: { after($0.1) < after($1.1) }) else {
                // Nothing reported: a paused claim answers later. The collision ends only when the
                // words that make it are gone.
                let v = snap.slot(at.shard, at.slot)
                if v.keyHash != c.keyHash || v.key != c.other { collisions[at] = nil }
                continue
            }
            collisions[at] = nil
            let by = "\(item.op) of participant \(item.actor.participant) (pid \(item.actor.pid))"
            guard after(t) == 1 else { continue }
            switch (t.event, item.op) {
            case ("evict", _), ("expire", _), ("invalidate_claim", "repair"):
                continue
            default:
                conformance("`\(t.event)` on the collided slot \(at) by `\(item.op)` \(where_)",
                            "At \(c.location), `collide:` gave \(at) the bytes of \(ScenarioValue.render(c.other)) under the key_hash of "
                                + "\(ScenarioValue.render(c.key)) (" + String(format: "%#llx", c.keyHash) + "): the slot holds another key "
                                + "of that hash. Then the \(by) made `\(t.event)` (\(t.from) → \(t.to), seq \(t.seq)) on it, which only an "
                                + "operation that matched the slot by key_hash and key_len without comparing the key bytes can do "
                                + "(PROTOCOL.md §9.1, §9.2: a slot whose hash and length match but whose bytes differ is another key; "
                                + "lookups skip it, a put inserts beside it, a removal leaves it).")
            }
        }
    }
}
