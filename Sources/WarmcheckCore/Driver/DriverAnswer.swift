@_spi(Harness) import Warmcache
import WarmcheckSegment

// Every driver answer decoded once into typed values (docs/DRIVER.md "Operations").
//
// A field the contract requires that is missing or has the wrong type is the fixture breaking
// the driver contract, not the implementation breaking the protocol: it becomes a harness error
// naming the fixture, the operation and the field — never a default (a miss, an empty value,
// version 0) that the checker would then blame on the implementation.

/// The fixture broke docs/DRIVER.md: `field` of its answer to `op` is missing or mistyped.
public struct DriverContractViolation: Error, CustomStringConvertible, Equatable {
    public var fixture: String
    public var op: String
    public var field: String
    public var problem: String
    public var description: String {
        "fixture \(fixture) broke the driver contract (docs/DRIVER.md) answering `\(op)`: field `\(field)` \(problem)"
    }
}

/// The writer of a value as a `get` or `dump` reports it.
public struct WriterAnswer: Equatable, Sendable {
    public var pid: UInt64, language: UInt64, protocolMajor: UInt64, protocolMinor: UInt64
    public var participant: UInt64, startTime: UInt64
}

/// What a hit carries (also each `dump` entry).
public struct HitAnswer: Equatable, Sendable {
    /// Always false in a `dump` entry.
    public var stale: Bool, refreshRequested: Bool
    public var value: [UInt8], version: UInt64, originTag: UInt64
    public var expiresAtNs: UInt64, staleUntilNs: UInt64, writtenAtNs: UInt64
    public var writer: WriterAnswer
    public var shard: Int, slot: Int
}

public struct DumpEntryAnswer: Equatable, Sendable {
    public var state: String, seq: UInt64, key: [UInt8]
    public var hit: HitAnswer
}

public struct HelloAnswer: Equatable, Sendable {
    public var language: String, implementation: String
    public var protocolMajor: UInt64, protocolMinor: UInt64
    public var features: [String], operations: [String], pausePoints: [String], faults: [String]
}

public struct ParticipantAnswer: Equatable, Sendable {
    public var index: Int, epoch: UInt64, pid: UInt64, startTime: UInt64, language: UInt64, alive: Bool
    /// The version of the entry's `info` (PROTOCOL.md §5); optional in DRIVER.md, nil when absent.
    public var protocolMajor: UInt64? = nil, protocolMinor: UInt64? = nil
}

/// One entry of `transitions` (PROTOCOL.md §8.4).
public struct TransitionAnswer: Equatable, Sendable {
    public var event: String, shard: Int, slot: Int, from: String, to: String
    public var seq: UInt64, owner: Int, gseq: UInt64?
}

/// The `result` of an `ok` answer, by operation.
public enum DriverAnswer: Equatable, Sendable {
    case hello(HelloAnswer)
    /// `create`, `open`, `open_or_create` (`created` only for the last).
    case opened(participant: Int, created: Bool?)
    case get(HitAnswer?)
    case put(version: UInt64, created: Bool, shard: Int, slot: Int)
    case removed(Bool)
    case stats(totals: [String: UInt64])
    case generation(UInt64)
    case wait(generation: UInt64, timedOut: Bool)
    case dump(entries: [DumpEntryAnswer], problems: [String])
    case participants([ParticipantAnswer])
    /// An `ns_*` operation (DRIVER.md "Namespaces").
    case namespace(NamespaceAnswer)
    /// `close`, `set_clock`, and operations this file does not know (fixtures may add some).
    case empty
    /// A `fail` or `unknown` outcome: no `result` to decode (a `fail` has its `reason`).
    case notDone

    /// Decodes `r`, the answer to `op`. Also checks the parts every answer has (`reason` of a
    /// `fail`, every `transitions` entry).
    public static func decode(_ r: DriverResponse, op: String, fixture: String) throws -> DriverAnswer {
        var d = FieldReader(fixture: fixture, op: op)
        _ = try d.transitions(r.transitions)
        guard r.errorKind == nil else { return .notDone }
        if r.outcome == .fail {
            guard r.raw["reason"]?.string != nil else { throw d.violation("reason", "is missing or not a string on a fail outcome") }
            return .notDone
        }
        guard r.outcome == .ok else { return .notDone }
        let res = r.result
        guard res.object != nil else { throw d.violation("result", "is not an object") }
        switch op {
        case "hello":
            guard let proto = res["protocol"], proto.object != nil else { throw d.violation("protocol", "is missing or not an object") }
            return .hello(HelloAnswer(language: try d.string(res, "language"), implementation: try d.string(res, "implementation"),
                                      protocolMajor: try d.uint(proto, "major", in: "protocol."),
                                      protocolMinor: try d.uint(proto, "minor", in: "protocol."),
                                      features: try d.strings(res, "features"), operations: try d.strings(res, "operations"),
                                      pausePoints: try d.strings(res, "pause_points"), faults: try d.strings(res, "faults")))
        case "create", "open":
            return .opened(participant: try d.participantID(res), created: nil)
        case "open_or_create":
            return .opened(participant: try d.participantID(res), created: try d.bool(res, "created"))
        case "get":
            return .get(try d.bool(res, "hit") ? try d.hit(res) : nil)
        case "put", "refresh":
            return .put(version: try d.uint(res, "version"), created: try d.bool(res, "created"),
                        shard: try d.int(res, "shard"), slot: try d.int(res, "slot"))
        case "invalidate", "evict":
            return .removed(try d.bool(res, "removed"))
        case "stats":
            guard let t = res["totals"], t.object != nil else { throw d.violation("totals", "is missing or not an object") }
            var totals: [String: UInt64] = [:]
            for c in ["hits", "misses", "stale_hits", "inserts", "refreshes", "evictions", "invalidations", "expirations", "reclaims"] {
                totals[c] = try d.uint(t, c, in: "totals.")
            }
            return .stats(totals: totals)
        case "generation":
            return .generation(try d.uint(res, "generation"))
        case "wait":
            return .wait(generation: try d.uint(res, "generation"), timedOut: try d.bool(res, "timed_out"))
        case "dump":
            guard let list = res["entries"]?.array else { throw d.violation("entries", "is missing or not a list") }
            let entries = try list.enumerated().map { i, e in
                try d.scoped("entries[\(i)].") {
                    DumpEntryAnswer(state: try $0.string(e, "state"), seq: try $0.uint(e, "seq"), key: try $0.hex(e, "key_hex"),
                                    hit: try $0.hit(e, inDump: true))
                }
            }
            return .dump(entries: entries, problems: try d.strings(res, "problems"))
        case "participants":
            guard let list = res["participants"]?.array else { throw d.violation("participants", "is missing or not a list") }
            return .participants(try list.enumerated().map { i, p in
                try d.scoped("participants[\(i)].") {
                    ParticipantAnswer(index: try $0.int(p, "index"), epoch: try $0.uint(p, "epoch"), pid: try $0.uint(p, "pid"),
                                      startTime: try $0.uint(p, "start_time"), language: try $0.uint(p, "language"),
                                      alive: try $0.bool(p, "alive"),
                                      protocolMajor: try $0.optionalUInt(p, "protocol_major"),
                                      protocolMinor: try $0.optionalUInt(p, "protocol_minor"))
                }
            })
        case "ns_stage", "ns_flip", "ns_rollback", "ns_pin", "ns_unpin", "ns_put", "ns_get", "ns_reclaim", "ns_state":
            return .namespace(try NamespaceAnswer.decode(res, op: op, &d))
        default:
            return .empty
        }
    }

    /// Decodes the `transitions` of an answer (its outcome aside).
    public static func transitions(_ r: DriverResponse, op: String, fixture: String) throws -> [TransitionAnswer] {
        var d = FieldReader(fixture: fixture, op: op)
        return try d.transitions(r.transitions)
    }
}

/// Reads typed fields, naming the exact path of the first one that is wrong.
struct FieldReader {
    let fixture: String
    let op: String
    var prefix = ""

    func violation(_ field: String, _ problem: String) -> DriverContractViolation {
        DriverContractViolation(fixture: fixture, op: op, field: prefix + field, problem: problem)
    }

    mutating func scoped<T>(_ p: String, _ body: (inout FieldReader) throws -> T) throws -> T {
        let old = prefix
        prefix = old + p
        defer { prefix = old }
        return try body(&self)
    }

    func value(_ j: JSON, _ k: String, in scope: String) throws -> JSON {
        guard let v = j[k], v != .null else { throw DriverContractViolation(fixture: fixture, op: op, field: prefix + scope + k, problem: "is missing") }
        return v
    }

    func string(_ j: JSON, _ k: String, in scope: String = "") throws -> String {
        guard let s = try value(j, k, in: scope).string else { throw violation(scope + k, "is not a string") }
        return s
    }

    func bool(_ j: JSON, _ k: String, in scope: String = "") throws -> Bool {
        guard let b = try value(j, k, in: scope).bool else { throw violation(scope + k, "is not a boolean") }
        return b
    }

    /// A non-negative integer: a JSON number, or a decimal string past 2^53 (DRIVER.md).
    func uint(_ j: JSON, _ k: String, in scope: String = "") throws -> UInt64 {
        switch try value(j, k, in: scope) {
        case .int(let v) where v >= 0: return UInt64(v)
        case .uint(let v): return v
        case .string(let s): if let v = UInt64(s) { return v }
        case .double(let d) where d >= 0 && d == d.rounded() && d < 1.8e19: return UInt64(d)
        default: break
        }
        throw violation(scope + k, "is not a non-negative integer")
    }

    /// `uint` of a field the contract makes optional: nil when absent or null.
    func optionalUInt(_ j: JSON, _ k: String, in scope: String = "") throws -> UInt64? {
        guard let v = j[k], v != .null else { return nil }
        return try uint(j, k, in: scope)
    }

    func int(_ j: JSON, _ k: String, in scope: String = "") throws -> Int {
        let v = try uint(j, k, in: scope)
        guard v <= UInt64(Int.max) else { throw violation(scope + k, "is out of range") }
        return Int(v)
    }

    func strings(_ j: JSON, _ k: String, in scope: String = "") throws -> [String] {
        guard let a = try value(j, k, in: scope).array else { throw violation(scope + k, "is not a list") }
        return try a.enumerated().map { i, e in
            guard let s = e.string else { throw violation(scope + "\(k)[\(i)]", "is not a string") }
            return s
        }
    }

    func hex(_ j: JSON, _ k: String) throws -> [UInt8] {
        guard let b = Hex.decode(try string(j, k)) else { throw violation(k, "is not lowercase hex") }
        return b
    }

    func participantID(_ j: JSON) throws -> Int {
        let p = try int(j, "participant")
        guard p >= 1 else { throw violation("participant", "is \(p); participant ids start at 1 (PROTOCOL.md §5)") }
        return p
    }

    /// A `dump` entry has the fields of a hit except `refresh_requested`, which only a get's T7
    /// can set (docs/DRIVER.md).
    mutating func hit(_ j: JSON, inDump: Bool = false) throws -> HitAnswer {
        guard let w = j["writer"], w.object != nil else { throw violation("writer", "is missing or not an object") }
        let writer = WriterAnswer(pid: try uint(w, "pid", in: "writer."), language: try uint(w, "language", in: "writer."),
                                  protocolMajor: try uint(w, "protocol_major", in: "writer."),
                                  protocolMinor: try uint(w, "protocol_minor", in: "writer."),
                                  participant: try uint(w, "participant", in: "writer."),
                                  startTime: try uint(w, "start_time", in: "writer."))
        return HitAnswer(stale: try bool(j, "stale"), refreshRequested: inDump ? false : try bool(j, "refresh_requested"), value: try hex(j, "value_hex"),
                         version: try uint(j, "version"), originTag: try uint(j, "origin_tag"),
                         expiresAtNs: try uint(j, "expires_at_ns"), staleUntilNs: try uint(j, "stale_until_ns"),
                         writtenAtNs: try uint(j, "written_at_ns"), writer: writer, shard: try int(j, "shard"), slot: try int(j, "slot"))
    }

    mutating func transitions(_ list: [JSON]) throws -> [TransitionAnswer] {
        try list.enumerated().map { i, t in
            try scoped("transitions[\(i)].") { d in
                let gseq: UInt64? = t["gseq"] == nil || t["gseq"] == .null ? nil : try d.uint(t, "gseq")
                return TransitionAnswer(event: try d.string(t, "event"), shard: try d.int(t, "shard"), slot: try d.int(t, "slot"),
                                        from: try d.string(t, "from"), to: try d.string(t, "to"), seq: try d.uint(t, "seq"),
                                        owner: try d.int(t, "owner"), gseq: gseq)
            }
        }
    }
}

extension HelloAnswer {
    /// Decodes a `hello` and holds the names it lists to spec/vocabulary.json: a fixture that
    /// offers a pause point the protocol does not define (a renamed one, say) breaks the contract
    /// loudly here, instead of every case that uses the real name turning into a skip.
    /// The rest of a hello is judged by `Hello` and `warmcheck conform`; this holds only its
    /// `pause_points` (a list of strings when present) to the vocabulary.
    public static func checked(_ r: DriverResponse, fixture: String) throws {
        let d = FieldReader(fixture: fixture, op: "hello")
        guard r.outcome == .ok, r.result["pause_points"] != nil else { return }
        let points = try d.strings(r.result, "pause_points")
        let vocabulary = try Vocabulary.standard.get()
        for (i, p) in points.enumerated() where !vocabulary.pausePoints.contains(p) {
            throw DriverContractViolation(fixture: fixture, op: "hello", field: "pause_points[\(i)]",
                                          problem: "names \"\(p)\", which is not a pause point of spec/vocabulary.json (PROTOCOL.md §17)")
        }
    }
}

/// The result of an `ok` answer to an `ns_*` operation, each field as DRIVER.md names it.
public struct NamespaceAnswer: Equatable, Sendable {
    /// The namespace version: `version` (stage, flip, rollback, pin, unpin), `ns_version` (put,
    /// get), `current` (state); 0 for a reclaim.
    public var version: UInt64 = 0
    /// `previous` (flip, state), `retired` (rollback).
    public var replaced: UInt64 = 0
    public var hit: HitAnswer?
    public var pinned = false
    /// `ns_put`: as `put`.
    public var put: (version: UInt64, created: Bool, shard: Int, slot: Int)?
    /// `ns_reclaim`.
    public var removed: UInt64 = 0, kept: [UInt64] = []

    public static func == (a: NamespaceAnswer, b: NamespaceAnswer) -> Bool {
        a.version == b.version && a.replaced == b.replaced && a.hit == b.hit && a.pinned == b.pinned
            && a.put?.version == b.put?.version && a.put?.created == b.put?.created && a.put?.shard == b.put?.shard
            && a.put?.slot == b.put?.slot && a.removed == b.removed && a.kept == b.kept
    }

    static func decode(_ res: JSON, op: String, _ d: inout FieldReader) throws -> NamespaceAnswer {
        var a = NamespaceAnswer()
        switch op {
        case "ns_stage", "ns_pin":
            a.version = try d.uint(res, "version")
        case "ns_unpin":
            a.version = try d.uint(res, "version")
            _ = try d.uint(res, "ns")
        case "ns_flip":
            a.version = try d.uint(res, "version")
            a.replaced = try d.uint(res, "previous")
        case "ns_rollback":
            a.version = try d.uint(res, "version")
            a.replaced = try d.uint(res, "retired")
        case "ns_put":
            a.version = try d.uint(res, "ns_version")
            a.put = (try d.uint(res, "version"), try d.bool(res, "created"), try d.int(res, "shard"), try d.int(res, "slot"))
        case "ns_get":
            a.version = try d.uint(res, "ns_version")
            a.pinned = try d.bool(res, "pinned")
            a.hit = try d.bool(res, "hit") ? try d.hit(res) : nil
        case "ns_reclaim":
            a.removed = try d.uint(res, "removed")
            guard let list = res["kept"]?.array else { throw d.violation("kept", "is missing or not a list") }
            a.kept = try list.enumerated().map { i, v in
                guard let n = v.uint ?? v.int.flatMap({ $0 >= 0 ? UInt64($0) : nil }) else { throw d.violation("kept[\(i)]", "is not a non-negative integer") }
                return n
            }
        default: // ns_state
            a.version = try d.uint(res, "current")
            a.replaced = try d.uint(res, "previous")
            _ = try d.uint(res, "last")
            _ = try d.uint(res, "stager")
            guard res["pins"]?.array != nil else { throw d.violation("pins", "is missing or not a list") }
        }
        return a
    }
}
