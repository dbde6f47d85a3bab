/// What the versioned namespaces of PROTOCOL.md §18 allow a history of `ns_*` answers to show.
///
/// The per-key cache model (CacheModel) judges plain keys; namespace entries live under prefixed
/// keys that no plain step names, so their answers are judged here, from the answers alone:
///
/// - **N1, versions handed out once**: no two stages of a namespace answer the same version, and
///   a stage that starts after another answered gets a higher one.
/// - **A pinned read sequence never mixes versions**: between a role's `ns_pin` (version v) and
///   its `ns_unpin` (or the end of its handle), every `ns_get` of that namespace reads v, says so
///   (`pinned`), and returns v's entry or a miss that v's staging explains.
/// - **The flip is atomic, and reads after it are never old**: an unpinned `ns_get` reads a
///   version that was current at some instant of its interval (the one current before it began,
///   or one a concurrent flip or rollback brought in or took out), and for that version returns
///   the value its stage wrote, never a miss of an entry the stage acknowledged before the read
///   began (unless that entry's slot was evicted or expired by a plain insert, which §18.6 allows).
/// - **Reclamation keeps what is protected**: an `ns_reclaim` keeps every version a live role
///   pinned throughout it, and removes no entry of a version it had to keep.
public struct NamespaceOperation: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case stage = "ns_stage", put = "ns_put", flip = "ns_flip", rollback = "ns_rollback"
        case pin = "ns_pin", unpin = "ns_unpin", get = "ns_get", reclaim = "ns_reclaim", state = "ns_state"
        /// Not an operation: the role's handle was replaced (open, create, restart, upgrade,
        /// crash), so its pin is gone with the old handle.
        case reset
    }
    public enum Outcome: Sendable, Hashable { case ok, fail, unknown }

    public var kind: Kind
    public var client: Int
    public var ns: UInt64
    public var key: [UInt8]
    public var value: [UInt8]
    public var call: UInt64
    /// nil: the operation never answered.
    public var returnAt: UInt64?
    public var outcome: Outcome
    /// The namespace version answered: stage/flip/rollback/pin/unpin `version`, put/get `ns_version`.
    public var version: UInt64
    /// `ns_flip`'s `previous`, `ns_rollback`'s `retired`.
    public var replaced: UInt64
    public var hit: Bool
    public var pinned: Bool
    public var readValue: [UInt8]
    /// `ns_put`'s slot; `ns_reclaim`'s removed slots (its `clear` transitions).
    public var slots: [SlotRef]
    /// `ns_reclaim`'s `kept`.
    public var kept: [UInt64]

    public init(kind: Kind, client: Int, ns: UInt64, key: [UInt8] = [], value: [UInt8] = [], call: UInt64, returnAt: UInt64?,
                outcome: Outcome, version: UInt64 = 0, replaced: UInt64 = 0, hit: Bool = false, pinned: Bool = false,
                readValue: [UInt8] = [], slots: [SlotRef] = [], kept: [UInt64] = []) {
        self.kind = kind; self.client = client; self.ns = ns; self.key = key; self.value = value
        self.call = call; self.returnAt = returnAt; self.outcome = outcome; self.version = version
        self.replaced = replaced; self.hit = hit; self.pinned = pinned; self.readValue = readValue
        self.slots = slots; self.kept = kept
    }

    var ret: UInt64 { returnAt ?? .max }
    var isOK: Bool { outcome == .ok }
    public var isOKAnswer: Bool { outcome == .ok }
}

/// A slot of the segment, as a transition or a put answer names it.
public struct SlotRef: Sendable, Hashable {
    public var shard: Int, slot: Int
    public init(shard: Int, slot: Int) { self.shard = shard; self.slot = slot }
}

/// A slot removal that a plain operation reported (T8 by invalidate/evict, T10, T11): the
/// entries in that slot may be gone without any namespace rule being broken.
public struct SlotDisturbance: Sendable, Hashable {
    public var slot: SlotRef
    public var at: UInt64
    public init(slot: SlotRef, at: UInt64) { self.slot = slot; self.at = at }
}

public struct NamespaceViolation: Sendable, Hashable, CustomStringConvertible {
    public var summary: String
    public var explanation: String
    public var description: String { summary }
}

/// Judges a case's namespace history (see NamespaceOperation). `disturbed` lists the slot
/// removals made by plain operations (evictions, expiries, explicit removals).
public func checkNamespaces(_ ops: [NamespaceOperation], disturbed: [SlotDisturbance] = []) -> [NamespaceViolation] {
    var out: [NamespaceViolation] = []
    for ns in Set(ops.map(\.ns)).sorted() {
        let mine = ops.filter { $0.ns == ns || $0.kind == .reset || $0.kind == .unpin }
        out += NamespaceJudge(ns: ns, ops: mine, disturbed: disturbed).violations()
    }
    return out
}

struct NamespaceJudge {
    let ns: UInt64
    let ops: [NamespaceOperation]
    let disturbed: [SlotDisturbance]

    func violations() -> [NamespaceViolation] {
        stagesOnce() + pinnedReads() + reads() + reclaims()
    }

    func v(_ s: String, _ e: String) -> NamespaceViolation { NamespaceViolation(summary: "namespace \(ns): " + s, explanation: e) }

    // MARK: N1

    func stagesOnce() -> [NamespaceViolation] {
        let stages = ops.filter { $0.kind == .stage && $0.isOK && $0.ns == ns }
        var out: [NamespaceViolation] = []
        for a in stages {
            for b in stages where b.call > a.ret && b.version <= a.version {
                out.append(v("ns_stage answered version \(b.version) after a stage that had answered \(a.version)",
                             "PROTOCOL.md §18.2 invariant 1: `last` never decreases and a version is handed out once, so a stage "
                             + "that begins after another answered gets a higher version."))
            }
        }
        return out
    }

    // MARK: pins

    /// The pins each client held, as (version, pinned-at return, released-at call) intervals.
    struct PinSpan { var client: Int; var version: UInt64; var from: UInt64; var until: UInt64 }

    var pinSpans: [PinSpan] {
        var out: [PinSpan] = []
        for client in Set(ops.map(\.client)) {
            var open: PinSpan?
            for o in ops.filter({ $0.client == client }).sorted(by: { $0.call < $1.call }) {
                switch o.kind {
                case .pin where o.isOK && o.ns == ns:
                    open = PinSpan(client: client, version: o.version, from: o.ret, until: .max)
                case .unpin, .reset:
                    if var p = open { p.until = o.call; out.append(p); open = nil }
                default: break
                }
            }
            if let open { out.append(open) }
        }
        return out
    }

    func pinnedReads() -> [NamespaceViolation] {
        var out: [NamespaceViolation] = []
        for span in pinSpans {
            for g in ops where g.kind == .get && g.isOK && g.ns == ns && g.client == span.client && g.call > span.from && g.ret < span.until {
                if !g.pinned || g.version != span.version {
                    out.append(v("a pinned read sequence mixed versions: ns_get read version \(g.version)\(g.pinned ? "" : " unpinned") "
                                 + "while the handle pinned \(span.version)",
                                 "PROTOCOL.md §18.5/§18.6: under a pin every ns_get of the namespace reads the pinned version; a reader "
                                 + "must never see two versions of one namespace in one pinned read sequence."))
                }
            }
        }
        return out
    }

    // MARK: reads

    /// Versions current at some instant of [call, ret]: the last one a head change installed before
    /// `call`, and every version a head change overlapping the interval installed or replaced.
    func currentCandidates(_ call: UInt64, _ ret: UInt64) -> Set<UInt64>? {
        let changes = ops.filter { ($0.kind == .flip || $0.kind == .rollback) && $0.ns == ns && $0.outcome != .fail }
        if changes.contains(where: { $0.outcome == .unknown }) { return nil }  // a flip of unknown outcome: no judgement
        var set: Set<UInt64> = []
        if let before = changes.filter({ $0.ret < call }).max(by: { $0.ret < $1.ret }) { set.insert(before.version) } else { set.insert(0) }
        for c in changes where c.call < ret && c.ret > call { set.insert(c.version); set.insert(c.replaced) }
        return set
    }

    func reads() -> [NamespaceViolation] {
        var out: [NamespaceViolation] = []
        for g in ops where g.kind == .get && g.isOK && g.ns == ns {
            if !g.pinned, let cands = currentCandidates(g.call, g.ret), !cands.contains(g.version) {
                out.append(v("an unpinned ns_get read version \(g.version), which was not current at any instant of it (current: "
                             + "\(cands.sorted().map(String.init).joined(separator: " or ")))",
                             "PROTOCOL.md §18.6: the flip is atomic — no read sees a staged version before its flip, and a read "
                             + "that begins after a flip returned never reads the old version; an unpinned read is linearizable at "
                             + "its load of ns_head."))
            }
            guard g.version != 0 else { continue }
            let puts = ops.filter { $0.kind == .put && $0.ns == ns && $0.version == g.version && $0.key == g.key && $0.outcome != .fail }
            if g.hit {
                // Puts of this entry that could be the last one before the read.
                let live = puts.filter { p in p.call < g.ret && !puts.contains { q in q.isOK && p.ret < q.call && q.ret < g.call } }
                if !live.contains(where: { $0.value == g.readValue }) {
                    out.append(v("ns_get of \(render(g.key)) in version \(g.version) returned \(render(g.readValue)), which no stage of "
                                 + "that version wrote last",
                                 "PROTOCOL.md §18.1/§18.6: a version's entries are those its stager put; a read returns one of them, "
                                 + "never a value of another version. Staged values of this key: "
                                 + (puts.isEmpty ? "none" : puts.map { render($0.value) }.joined(separator: ", ")) + "."))
                }
            } else if let p = puts.first(where: { $0.isOK && $0.ret < g.call }), !evicted(p, before: g.ret) {
                out.append(v("ns_get of \(render(g.key)) missed in version \(g.version), whose stage had put it",
                             "PROTOCOL.md §18.6: a reader that reads a version reads it complete — the stager's puts all returned "
                             + "before its flip, and the version's entries are removed only once it is neither current, previous "
                             + "nor pinned. The entry (shard \(p.slots.first?.shard ?? -1) slot \(p.slots.first?.slot ?? -1)) was not "
                             + "evicted by a plain insert meanwhile."))
            }
        }
        return out
    }

    /// Whether a plain operation removed whatever was in the put's slot after the put began.
    func evicted(_ p: NamespaceOperation, before t: UInt64) -> Bool {
        guard let s = p.slots.first else { return true }  // no slot answered: cannot tell
        return disturbed.contains { $0.slot == s && $0.at >= p.call && $0.at <= t }
    }

    // MARK: reclaim

    func reclaims() -> [NamespaceViolation] {
        var out: [NamespaceViolation] = []
        let spans = pinSpans
        for r in ops where r.kind == .reclaim && r.isOK && r.ns == ns {
            // Pinned by a role for the whole reclaim: it must be kept.
            var protected = Set(spans.filter { $0.from < r.call && $0.until > r.ret }.map(\.version))
            if let cands = currentCandidates(r.call, r.ret), cands.count == 1, let c = cands.first, c != 0 { protected.insert(c) }
            for p in protected.sorted() where !r.kept.contains(p) {
                out.append(v("ns_reclaim did not keep version \(p), which was pinned or current throughout it (kept: "
                             + "\(r.kept.map(String.init).joined(separator: ",")))",
                             "PROTOCOL.md §18.7: a reclaim keeps the current and previous versions, the open stage of a live "
                             + "stager and every version a live participant pins."))
            }
            // Entries it removed, by the slots their puts answered.
            for s in r.slots {
                guard let put = ops.filter({ $0.kind == .put && $0.isOK && $0.ns == ns && $0.slots.first == s && $0.ret < r.call })
                    .max(by: { $0.ret < $1.ret }), protected.contains(put.version) else { continue }
                out.append(v("ns_reclaim removed the entry \(render(put.key)) of version \(put.version), which it had to keep",
                             "PROTOCOL.md §18.7: a version kept by the reclaim loses no entry; a pinned reader would miss it."))
            }
        }
        return out
    }
}

private func render(_ b: [UInt8]) -> String {
    if let s = String(validating: b, as: UTF8.self), !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) { return s }
    return "hex:" + b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
