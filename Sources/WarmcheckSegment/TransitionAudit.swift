#if canImport(Glibc)
import Glibc
#endif

// After a reported transition, every word the spec constrains — not only the state word:
// the A bit (§8.2), the owner (§7.1), `key_hash` after `clear` (T9), the record a publish wrote
// (§7.2, §9.4, §12) and its provenance, compared with the real process (§5, §7.2).
//
// A transition is audited only while its slot still holds the word it produced (same seq and
// state): a later transition overwrote the evidence and is audited itself.

/// The process that reported a transition, as the harness knows it (not as it claims to be).
public struct Actor: Sendable, Equatable {
    public var participant: Int
    /// The pid the harness started; the provenance pid may be a descendant (a wrapper).
    public var pid: Int
    /// §7.3 code of the language its hello named; nil when the vocabulary has no code for it.
    public var language: UInt8?
    public var protocolMajor: UInt8, protocolMinor: UInt8
    public init(participant: Int, pid: Int, language: UInt8?, protocolMajor: UInt8 = 1, protocolMinor: UInt8 = 0) {
        self.participant = participant; self.pid = pid; self.language = language
        self.protocolMajor = protocolMajor; self.protocolMinor = protocolMinor
    }
}

/// What a put or refresh was asked to write, and the version it answered.
public struct WriteIntent: Sendable, Equatable {
    public var key: [UInt8], value: [UInt8]
    public var ttlNs: UInt64, graceNs: UInt64, originTag: UInt32
    public var answeredVersion: UInt64?
    public init(key: [UInt8], value: [UInt8], ttlNs: UInt64 = 0, graceNs: UInt64 = 0, originTag: UInt32 = 0, answeredVersion: UInt64?) {
        self.key = key; self.value = value; self.ttlNs = ttlNs; self.graceNs = graceNs
        self.originTag = originTag; self.answeredVersion = answeredVersion
    }
}

/// One reported transition (DRIVER.md `transitions`), as far as the audit needs it.
public struct ReportedTransition: Sendable, Equatable {
    public var event: String, at: SlotAt, to: SpecState?, seq: UInt32
    public init(event: String, at: SlotAt, to: SpecState?, seq: UInt32) {
        self.event = event; self.at = at; self.to = to; self.seq = seq
    }
}

public enum RecordField: String, Sendable {
    case version, valueLen = "value_len", originTag = "origin_tag", checksum
    case expiresAt = "expires_at_ns", staleUntil = "stale_until_ns", writtenAt = "written_at_ns"
    case writerPid = "writer.pid", writerLanguage = "writer.language", writerMajor = "writer.protocol_major"
    case writerMinor = "writer.protocol_minor", writerParticipant = "writer.participant"
    case writerStartTime = "writer_start_time"
}

public enum IdentityField: String, Sendable {
    case pid, startTime = "start_time", language, protocolMajor = "protocol major", protocolMinor = "protocol minor"
    case uid, epoch, alive, registeredAt = "registered_at_ns"
}

/// Where an identity was written: a participant entry (§5) or the creator fields of the header (§3).
public enum IdentitySite: Equatable, Sendable, CustomStringConvertible {
    case participant(index: Int)
    case creator
    public var description: String {
        switch self {
        case .participant(let i): return "participant entry \(i)"
        case .creator: return "header creator fields"
        }
    }
}

public enum FieldProblem: Equatable, Sendable, CustomStringConvertible {
    case ownerNotClaimer(SlotAt, event: String, owner: Int, claimer: Int)
    case keyHashNotZeroAfterClear(SlotAt, keyHash: UInt64)
    case activeBit(SlotAt, event: String, expected: Int, found: Int)
    case recordField(SlotAt, event: String, record: Int, RecordField, expected: UInt64, found: UInt64)
    case valueDiffers(SlotAt, event: String, record: Int)
    case keyDiffers(SlotAt, event: String)
    case referencedNotSet(SlotAt, event: String)
    /// T4…T5 may write only `record[1−A]`; the record readers were copying changed.
    case activeRecordOverwritten(SlotAt, event: String, record: Int)
    case identity(IdentitySite, IdentityField, expected: UInt64, found: UInt64)
    /// A CLOCK_REALTIME stamp outside the real time its operation ran in (TimeStampAudit).
    case timeStamp(TimeStampField, at: String, found: UInt64, window: RealtimeWindow)

    public var description: String {
        switch self {
        case .ownerNotClaimer(let a, let e, let o, let c): return "\(a): after `\(e)` the state word names owner \(o), but participant \(c) claimed it"
        case .keyHashNotZeroAfterClear(let a, let h): return "\(a): after `clear` key_hash is 0x\(String(h, radix: 16)), T9 zeroes it"
        case .activeBit(let a, let e, let x, let f): return "\(a): after `\(e)` A is \(f), §8.2 requires \(x)"
        case .recordField(let a, let e, let r, let f, let x, let v): return "\(a): after `\(e)` record[\(r)].\(f.rawValue) is \(v), expected \(x)"
        case .valueDiffers(let a, let e, let r): return "\(a): after `\(e)` record[\(r)] does not hold the value that was put"
        case .keyDiffers(let a, let e): return "\(a): after `\(e)` the slot's key is not the key that was put"
        case .referencedNotSet(let a, let e): return "\(a): after `\(e)` referenced is not 1 (§9.4)"
        case .activeRecordOverwritten(let a, let e, let r): return "\(a): `\(e)` changed record[\(r)], which readers were copying (§9.4 writes record[1−A] only)"
        case .identity(let s, let f, let x, let v): return "\(s): \(f.rawValue) is \(v), the process's real value is \(x)"
        case .timeStamp(let f, let a, let v, let w):
            return "\(a): \(f.rawValue) is \(v), outside the real time the operation ran in (\(w), CLOCK_REALTIME ns)"
        }
    }
}

extension SegmentSnapshot {
    /// Audits one reported transition. `before` is the slot as the previous snapshot saw it;
    /// `quiet` says no other operation ran since the transition (then `referenced` is checked).
    /// `window`: the real time the operation ran in, for the record's time stamps (nil: not judged).
    public func audit(_ t: ReportedTransition, by actor: Actor, intent: WriteIntent?, before: SlotView?, quiet: Bool,
                      window: RealtimeWindow? = nil) -> [FieldProblem] {
        let v = slot(t.at.shard, t.at.slot)
        guard v.word.seq == t.seq, let st = v.word.state, st == t.to else { return [] }
        var out: [FieldProblem] = []
        let at = t.at
        if st.isOwned && v.word.owner != actor.participant {
            out.append(.ownerNotClaimer(at, event: t.event, owner: v.word.owner, claimer: actor.participant))
        }
        // The word the slot held just before this operation's transitions on it.
        let distance = before.map { t.seq &- $0.word.seq } ?? 0
        let prior = before.flatMap { b in b.word.state.map { (b, $0) } }
        switch t.event {
        case "clear":
            if v.keyHash != 0 { out.append(.keyHashNotZeroAfterClear(at, keyHash: v.keyHash)) }
        case "mark_stale", "refresh_claim", "invalidate_claim":
            if let (b, _) = prior, distance == 1, b.word.active != v.word.active {
                out.append(.activeBit(at, event: t.event, expected: b.word.active, found: v.word.active))
            }
        case "refresh_publish", "refresh_abort":
            // READY/STALE --T4--> REFRESHING --T5/T6--> READY: two steps from a readable word.
            if let (b, bs) = prior, distance == 2, bs == .ready || bs == .stale {
                let flips = t.event == "refresh_publish"
                let want = flips ? 1 - b.word.active : b.word.active
                if v.word.active != want { out.append(.activeBit(at, event: t.event, expected: want, found: v.word.active)) }
                if v.records[b.word.active] != b.records[b.word.active] && v.word.active == want {
                    out.append(.activeRecordOverwritten(at, event: t.event, record: b.word.active))
                }
            }
        default:
            break
        }
        if t.event == "publish" || t.event == "refresh_publish", let intent {
            out += auditPublished(v, event: t.event, intent: intent, actor: actor, quiet: quiet)
            if let window { out += auditRecordTimes(v.activeRecord, at: t.at, ttlNs: intent.ttlNs, within: window) }
        }
        return out
    }

    func auditPublished(_ v: SlotView, event: String, intent: WriteIntent, actor: Actor, quiet: Bool) -> [FieldProblem] {
        let at = SlotAt(shard: v.shard, slot: v.slot), a = v.word.active, r = v.activeRecord
        var out: [FieldProblem] = []
        func field(_ f: RecordField, _ expected: UInt64, _ found: UInt64) {
            if expected != found { out.append(.recordField(at, event: event, record: a, f, expected: expected, found: found)) }
        }
        if v.key != intent.key { out.append(.keyDiffers(at, event: event)) }
        if r.value != intent.value { out.append(.valueDiffers(at, event: event, record: a)) }
        field(.valueLen, UInt64(intent.value.count), r.valueLen)
        field(.checksum, SpecHash.valueChecksum(intent.value, fast: r.fastChecksum), r.checksum)
        field(.originTag, UInt64(intent.originTag), UInt64(r.originTag))
        if let version = intent.answeredVersion { field(.version, version, r.version) }
        if intent.ttlNs == 0 {
            field(.expiresAt, 0, r.expiresAtNs)
            field(.staleUntil, 0, r.staleUntilNs)
        } else {
            let hdr = header
            // On a simulated clock every participant agrees on `now` exactly (§12).
            if hdr.simClock {
                field(.writtenAt, hdr.simClockNs, r.writtenAtNs)
                let (e, o) = hdr.simClockNs.addingReportingOverflow(intent.ttlNs)
                if !o { field(.expiresAt, e, r.expiresAtNs) }
            }
            let (g, o) = r.expiresAtNs.addingReportingOverflow(intent.graceNs)
            if !o { field(.staleUntil, g, r.staleUntilNs) }
        }
        if quiet && v.referenced != 1 { out.append(.referencedNotSet(at, event: event)) }
        let w = r.writer
        if !ProcessIdentity.isSelfOrDescendant(Int(w.pid), of: actor.pid) { field(.writerPid, UInt64(actor.pid), UInt64(w.pid)) }
        if let lang = actor.language { field(.writerLanguage, UInt64(lang), UInt64(w.language)) }
        field(.writerMajor, UInt64(actor.protocolMajor), UInt64(w.protocolMajor))
        field(.writerMinor, UInt64(actor.protocolMinor), UInt64(w.protocolMinor))
        field(.writerParticipant, UInt64(actor.participant & 0xFF), UInt64(w.participantLow8))
        if let real = ProcessIdentity.of(pid: Int(w.pid)) { field(.writerStartTime, real.startTime, w.startTime) }
        return out
    }

    /// The participant entry a process registered (§5), against the process itself.
    public func auditRegistration(participant id: Int, by actor: Actor) -> [FieldProblem] {
        guard id >= 1 && id <= geometry.participantCapacity else { return [] }
        let p = participant(id - 1)
        let site = IdentitySite.participant(index: p.index)
        var out = identityProblems(site, pid: p.pid, startTime: p.startTime, language: p.language, uid: p.uid, actor: actor)
        if p.protocolMajor != actor.protocolMajor { out.append(.identity(site, .protocolMajor, expected: UInt64(actor.protocolMajor), found: UInt64(p.protocolMajor))) }
        if p.protocolMinor != actor.protocolMinor { out.append(.identity(site, .protocolMinor, expected: UInt64(actor.protocolMinor), found: UInt64(p.protocolMinor))) }
        if p.epoch == 0 { out.append(.identity(site, .epoch, expected: 1, found: 0)) }
        if !alive.isEmpty && !p.alive { out.append(.identity(site, .alive, expected: 1, found: 0)) }
        if p.registeredAtNs == 0 { out.append(.identity(site, .registeredAt, expected: 1, found: 0)) }
        return out
    }

    /// The header's creator fields (§3), against the process that answered `created`.
    public func auditCreator(by actor: Actor) -> [FieldProblem] {
        let h = header
        return identityProblems(.creator, pid: h.creatorPid, startTime: h.creatorStartTime, language: h.creatorLanguage,
                                uid: h.creatorUid, actor: actor)
    }

    func identityProblems(_ site: IdentitySite, pid: UInt64, startTime: UInt64, language: UInt8, uid: UInt32, actor: Actor) -> [FieldProblem] {
        var out: [FieldProblem] = []
        if !ProcessIdentity.isSelfOrDescendant(Int(truncatingIfNeeded: pid), of: actor.pid) {
            out.append(.identity(site, .pid, expected: UInt64(actor.pid), found: pid))
        } else if let real = ProcessIdentity.of(pid: Int(pid)), real.startTime != startTime {
            // 0 ("unknown", §5) is wrong here too: /proc is readable, the harness just read it.
            out.append(.identity(site, .startTime, expected: real.startTime, found: startTime))
        }
        if let lang = actor.language, lang != language { out.append(.identity(site, .language, expected: UInt64(lang), found: UInt64(language))) }
        // The writer's own uid, not warmcheck's: a run as root starts its fixtures under another
        // uid (docs/DRIVER.md, "Fixture credentials"), or every uid would be 0 and a uid taken from
        // the wrong bits would read 0 all the same.
        let writer = ProcessIdentity.isSelfOrDescendant(Int(truncatingIfNeeded: pid), of: actor.pid) ? Int(truncatingIfNeeded: pid) : actor.pid
        let real = ProcessIdentity.effectiveUid(pid: writer) ?? ProcessIdentity.effectiveUid(pid: actor.pid) ?? geteuid()
        if uid != real { out.append(.identity(site, .uid, expected: UInt64(real), found: UInt64(uid))) }
        return out
    }
}
