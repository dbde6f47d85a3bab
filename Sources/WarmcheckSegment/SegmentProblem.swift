// What can be wrong in a segment that passed its opening checks (§8.3 invariants, §13 bounds,
// §1 padding), as typed values: the harness matches on the case, never on the wording.

public struct SlotAt: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var shard: Int, slot: Int
    public init(shard: Int, slot: Int) { self.shard = shard; self.slot = slot }
    public var description: String { "shard \(shard) slot \(slot)" }
    public static func < (a: SlotAt, b: SlotAt) -> Bool { (a.shard, a.slot) < (b.shard, b.slot) }
}

public enum SegmentProblem: Equatable, Sendable, CustomStringConvertible {
    /// `insert_lock` holds a value that is no participant id.
    case insertLockNotParticipant(shard: Int, value: UInt64, capacity: Int)
    /// `insert_lock` names a participant whose liveness lock is free (a crash leaves this).
    case insertLockHeldByDead(shard: Int, owner: Int)
    case impossibleStateWord(SlotAt, word: UInt64, Impossibility)
    /// An owned state whose owner is dead: legal until someone reclaims it (§9.8).
    case abandonedClaim(SlotAt, state: SpecState, owner: Int)
    case keyLenOutOfRange(SlotAt, keyLenWord: UInt64, capacity: Int)
    case keyHashMismatch(SlotAt, stored: UInt64, computed: UInt64)
    case keyOutsideWindow(SlotAt, homeShard: Int, home: Int)
    /// Invariant 1: the same key readable in two slots of one shard.
    case duplicateKey(SlotAt, otherSlot: Int)
    case keyPaddingNotZero(SlotAt)
    case valueLenOutOfRange(SlotAt, record: Int, valueLen: UInt64, capacity: Int)
    case checksumMismatch(SlotAt, record: Int, stored: UInt64, computed: UInt64)
    case versionZero(SlotAt, record: Int)
    case staleUntilBeforeExpiry(SlotAt, record: Int, staleUntil: UInt64, expiresAt: UInt64)
    case valuePaddingNotZero(SlotAt, record: Int)
    /// A namespace table entry that breaks §18.2 (Namespaces.swift).
    case illFormedNamespace(ns: Int, head: UInt64, stage: UInt64, why: String)

    /// The slot it concerns, if any.
    public var slot: SlotAt? {
        switch self {
        case .insertLockNotParticipant, .insertLockHeldByDead, .illFormedNamespace: return nil
        case .impossibleStateWord(let a, _, _), .abandonedClaim(let a, _, _), .keyLenOutOfRange(let a, _, _),
             .keyHashMismatch(let a, _, _), .keyOutsideWindow(let a, _, _), .duplicateKey(let a, _), .keyPaddingNotZero(let a),
             .valueLenOutOfRange(let a, _, _, _), .checksumMismatch(let a, _, _, _), .versionZero(let a, _),
             .staleUntilBeforeExpiry(let a, _, _, _), .valuePaddingNotZero(let a, _):
            return a
        }
    }

    /// A readable slot that `dump` must leave out and report (PROTOCOL.md §13.1): a `dump` that
    /// lists no problem while the decoder finds one of these has hidden it. Not the key-hash
    /// mismatch (a `collide:` artifact that only the decoder hashes for), nor padding (dump lists
    /// such a slot), nor a claim a crash left.
    public var dumpMustReport: Bool {
        switch self {
        case .duplicateKey, .keyOutsideWindow, .versionZero, .checksumMismatch, .valueLenOutOfRange, .keyLenOutOfRange: return true
        default: return false
        }
    }

    /// What a process killed mid-operation legitimately leaves behind until it is reclaimed.
    public var isLeftByACrash: Bool {
        switch self {
        case .abandonedClaim, .insertLockHeldByDead: return true
        default: return false
        }
    }

    public var description: String {
        func h(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case .insertLockNotParticipant(let s, let v, let c): return "shard \(s): insert_lock holds \(v), not a participant id (capacity \(c))"
        case .insertLockHeldByDead(let s, let o): return "shard \(s): insert_lock held by dead participant \(o)"
        case .impossibleStateWord(let a, let w, let why): return "\(a): impossible state word \(h(w)): \(why)"
        case .abandonedClaim(let a, let st, let o): return "\(a): \(st) claimed by participant \(o), which is dead (abandoned claim)"
        case .keyLenOutOfRange(let a, let l, let c): return "\(a): key_len word \(l) is not a length in 1..\(c) with bits 32..63 zero"
        case .keyHashMismatch(let a, let s, let c): return "\(a): key_hash \(h(s)) but WCH64(key) is \(h(c))"
        case .keyOutsideWindow(let a, let hs, let home): return "\(a): the key belongs to shard \(hs), window starting at slot \(home)"
        case .duplicateKey(let a, let o): return "\(a): the same key is readable in slot \(o) of this shard (invariant 1)"
        case .keyPaddingNotZero(let a): return "\(a): bytes after the key in its last word are not zero (§1)"
        case .valueLenOutOfRange(let a, let r, let l, let c): return "\(a): record[\(r)] value_len \(l) > value_capacity \(c)"
        case .checksumMismatch(let a, let r, let s, let c): return "\(a): record[\(r)] checksum \(h(s)) but the value hashes to \(h(c))"
        case .versionZero(let a, let r): return "\(a): record[\(r)] has version 0"
        case .staleUntilBeforeExpiry(let a, let r, let s, let e): return "\(a): record[\(r)] stale_until_ns \(s) < expires_at_ns \(e)"
        case .valuePaddingNotZero(let a, let r): return "\(a): record[\(r)] bytes after the value in its last word are not zero (§1)"
        case .illFormedNamespace(let ns, let hw, let sw, let why):
            return "namespace \(ns): ns_head \(h(hw)), ns_stage \(h(sw)): \(why) (PROTOCOL.md §18.2)"
        }
    }
}

extension SegmentSnapshot {
    /// Every problem of the segment, shard by shard, slot by slot.
    public var problems: [SegmentProblem] {
        var out: [SegmentProblem] = []
        let g = geometry
        for n in namespaces {
            if let why = n.illFormed(participantCapacity: g.participantCapacity) {
                out.append(.illFormedNamespace(ns: n.ns, head: n.headWord, stage: n.stageWord, why: why))
            }
        }
        for s in 0..<g.shardCount {
            let lock = insertLock(shard: s)
            if lock > UInt64(g.participantCapacity) {
                out.append(.insertLockNotParticipant(shard: s, value: lock, capacity: g.participantCapacity))
            } else if lock != 0 && !alive.isEmpty && !isAlive(participant: Int(lock)) {
                out.append(.insertLockHeldByDead(shard: s, owner: Int(lock)))
            }
            var readableKeys: [[UInt8]: (slot: Int, pos: Int)] = [:]
            for j in 0..<g.slotsPerShard {
                // Most slots are EMPTY: decode keys and records only where something is claimed.
                let w = stateWord(s, j)
                if w.raw & SpecLayout.StateWord.stateMask == UInt64(SpecState.empty.rawValue) && w.impossibility(participantCapacity: g.participantCapacity) == nil { continue }
                out += slotProblems(slot(s, j), keysSeen: &readableKeys)
            }
        }
        return out
    }

    /// `keysSeen`: the readable slot of each key met so far in this shard, with its position in
    /// the key's window (0 = home).
    func slotProblems(_ v: SlotView, keysSeen: inout [[UInt8]: (slot: Int, pos: Int)]) -> [SegmentProblem] {
        let at = SlotAt(shard: v.shard, slot: v.slot)
        if let why = v.word.impossibility(participantCapacity: geometry.participantCapacity) {
            return [.impossibleStateWord(at, word: v.word.raw, why)]
        }
        let st = v.word.state!
        var out: [SegmentProblem] = []
        if st.isOwned && !alive.isEmpty && !isAlive(participant: v.word.owner) {
            out.append(.abandonedClaim(at, state: st, owner: v.word.owner))
        }
        // Invariant 2 holds in the readable states only: a live WRITING owner may be mid-key.
        guard st.isReadable else { return out }
        if let key = v.key {
            let h = SpecHash.wch64(key, seed: SpecHash.keySeed)
            if h != v.keyHash {
                out.append(.keyHashMismatch(at, stored: v.keyHash, computed: h))
            } else {
                let (hs, home) = geometry.place(h)
                if hs != v.shard || !geometry.windowContains(home: home, slot: v.slot) {
                    out.append(.keyOutsideWindow(at, homeShard: hs, home: home))
                }
            }
            if !v.keyPaddingZero { out.append(.keyPaddingNotZero(at)) }
            // Invariant 1: of several copies the one a get finds, the first in window order, is
            // the key's (§9.2, §13.1); every other copy is the problem, whichever the scan met
            // first (a window that wraps past the shard's end puts a later copy at a lower index).
            let pos = (v.slot - geometry.place(h).home + geometry.slotsPerShard) % geometry.slotsPerShard
            if let other = keysSeen[key] {
                if pos < other.pos {
                    out.append(.duplicateKey(SlotAt(shard: v.shard, slot: other.slot), otherSlot: v.slot))
                    keysSeen[key] = (v.slot, pos)
                } else {
                    out.append(.duplicateKey(at, otherSlot: other.slot))
                }
            } else {
                keysSeen[key] = (v.slot, pos)
            }
        } else {
            out.append(.keyLenOutOfRange(at, keyLenWord: v.keyLenWord, capacity: geometry.keyCapacity))
        }
        let a = v.word.active, r = v.activeRecord
        if let sum = r.computedChecksum {
            if sum != r.checksum { out.append(.checksumMismatch(at, record: a, stored: r.checksum, computed: sum)) }
            if !r.valuePaddingZero { out.append(.valuePaddingNotZero(at, record: a)) }
        } else {
            out.append(.valueLenOutOfRange(at, record: a, valueLen: r.valueLen, capacity: geometry.valueCapacity))
        }
        if r.version == 0 { out.append(.versionZero(at, record: a)) }
        if r.expiresAtNs != 0 && r.staleUntilNs < r.expiresAtNs {
            out.append(.staleUntilBeforeExpiry(at, record: a, staleUntil: r.staleUntilNs, expiresAt: r.expiresAtNs))
        }
        return out
    }
}
