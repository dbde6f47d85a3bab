import Foundation
@_spi(Harness) import Warmcache
import WarmcheckModel

/// The history file (`warmcheck stress --export-history`, read by `warmcheck check`): a history
/// with everything a checker needs to judge it on its own — the model's parameters and why,
/// the clock, the implementation behind each client — in JSON lines, values and keys as small
/// integers into tables written once. The format is docs/HISTORY.md; `version` changes with
/// any change a reader would misread.
public struct HistoryFile {
    public static let format = "warmcheck-history"
    public static let version: Int64 = 2
    /// Values up to this many bytes are written in full; longer ones by length, prefix and hash.
    public static let fullValueLimit = 64

    /// The stand-in a reader uses for a value described but not copied: longer than any value
    /// written in full, and one per number, so equality is exactly equality of numbers.
    static func surrogate(_ id: Int) -> [UInt8] {
        Array(repeating: 0, count: fullValueLimit + 1) + Array("value #\(id)".utf8)
    }

    /// Who wrote the record a hit read (DRIVER.md `writer`).
    public struct Writer: Sendable, Hashable {
        public var pid: Int64?
        public var language: String?
        public var participant: Int64?
        public var startTime: UInt64?

        init?(driverJSON j: JSON?) {
            guard let j, j.object != nil else { return nil }
            pid = j["pid"]?.int
            language = j["language"]?.string
            participant = j["participant"]?.int
            startTime = j["start_time"]?.uint
        }

        public init(pid: Int64?, language: String?, participant: Int64?, startTime: UInt64?) {
            self.pid = pid
            self.language = language
            self.participant = participant
            self.startTime = startTime
        }
    }

    public struct Client: Sendable, Equatable {
        public var id: Int
        public var implementation: String
        public var pid: Int64?
        public var participant: Int?
        public var killed: Bool
    }

    /// What the answer said beyond the model's output.
    public struct Extra: Sendable, Equatable {
        public var created: Bool?
        public var refreshRequested: Bool?
        public var writer: Writer?
        public init(created: Bool? = nil, refreshRequested: Bool? = nil, writer: Writer? = nil) {
            self.created = created
            self.refreshRequested = refreshRequested
            self.writer = writer
        }
    }

    public var model: CacheModel
    /// The simulated clock (ns) the segment ran on, and whether anything moved it.
    public var simClockNs: UInt64?
    public var clockAdvanced: Bool
    /// Free-form origin: tool, command, seed, geometry, … (kept as read).
    public var provenance: JSON
    public var clients: [Client]
    public var operations: [CacheOperation]
    public var extras: [Extra]

    public init(model: CacheModel, simClockNs: UInt64?, clockAdvanced: Bool, provenance: JSON, clients: [Client],
                operations: [CacheOperation], extras: [Extra]) {
        self.model = model
        self.simClockNs = simClockNs
        self.clockAdvanced = clockAdvanced
        self.provenance = provenance
        self.clients = clients
        self.operations = operations
        self.extras = extras
    }

    // MARK: - writing

    public func render() -> String {
        var keyIDs: [[UInt8]: Int] = [:], keys: [[UInt8]] = []
        var valueIDs: [[UInt8]: Int] = [:], values: [[UInt8]] = []
        func id(_ b: [UInt8], _ ids: inout [[UInt8]: Int], _ table: inout [[UInt8]]) -> Int {
            if let i = ids[b] { return i }
            ids[b] = table.count
            table.append(b)
            return table.count - 1
        }
        var writerIDs: [Writer: Int] = [:], writers: [Writer] = []
        // Times are written from the first call on: shorter, and only their order matters.
        let t0 = operations.map(\.call).min() ?? 0
        var lines: [String] = []
        lines.reserveCapacity(operations.count)
        for (i, op) in operations.enumerated() {
            var kv: [(String, JSON)] = [("c", .int(Int64(op.clientId))), ("op", .string(op.input.opName)),
                                             ("k", .int(Int64(id(op.input.key, &keyIDs, &keys))))]
            if let v = op.input.value { kv.append(("v", .int(Int64(id(v, &valueIDs, &values))))) }
            if let e = op.input.explicitVersion { kv.append(("ask_version", JSON(unsigned: e))) }
            switch op.input {
            case .put(_, _, _, let ttl?), .refresh(_, _, _, let ttl?): kv.append(("ttl_ns", JSON(unsigned: ttl)))
            default: break
            }
            kv.append(("call", JSON(unsigned: op.call &- t0)))
            kv.append(("ret", op.return == UInt64.max ? .null : JSON(unsigned: op.return &- t0)))
            switch op.output {
            case .miss: kv.append(("out", .string("miss")))
            case .hit(let v, let ver, let stale):
                kv += [("out", .string("hit")), ("hv", .int(Int64(id(v, &valueIDs, &values)))), ("version", JSON(unsigned: ver))]
                if stale { kv.append(("stale", .bool(true))) }
            case .ok(let ver): kv += [("out", .string("ok")), ("version", JSON(unsigned: ver))]
            case .removed(let r): kv += [("out", .string("ok")), ("removed", .bool(r))]
            case .fail(let r): kv += [("out", .string("fail")), ("reason", .string(r.rawValue))]
            case .unknown: kv.append(("out", .string("unknown")))
            }
            let x = i < extras.count ? extras[i] : Extra()
            if let c = x.created { kv.append(("created", .bool(c))) }
            if x.refreshRequested == true { kv.append(("refresh_requested", .bool(true))) }
            if let w = x.writer {
                if let n = writerIDs[w] { kv.append(("w", .int(Int64(n)))) } else {
                    writerIDs[w] = writers.count
                    kv.append(("w", .int(Int64(writers.count))))
                    writers.append(w)
                }
            }
            lines.append(JSON.ordered(kv).serialized)
        }
        let header: [(String, JSON)] = [
            ("format", .string(HistoryFile.format)), ("version", .int(HistoryFile.version)),
            ("model", .ordered([
                ("silent_removal", .bool(model.allowSilentRemoval)),
                ("silent_removal_reason", .string(model.silentRemovalReason)),
                ("automatic_versions_across_keys", .bool(model.automaticVersionsAcrossKeys)),
            ])),
            ("clock", .ordered([("sim_clock_ns", simClockNs.map { JSON(unsigned: $0) } ?? .null), ("advanced", .bool(clockAdvanced))])),
            ("t0_ns", JSON(unsigned: t0)),
            ("provenance", HistoryFile.modelJSON(provenance)),
            ("clients", .array(clients.map { c in
                .ordered([("id", .int(Int64(c.id))), ("implementation", .string(c.implementation)),
                         ("pid", c.pid.map { .int($0) } ?? .null), ("participant", c.participant.map { .int(Int64($0)) } ?? .null),
                         ("killed", .bool(c.killed))])
            })),
            ("keys", .int(Int64(keys.count))), ("values", .int(Int64(values.count))), ("operations", .int(Int64(operations.count))),
        ]
        var out = JSON.ordered(header).serialized + "\n"
        out.reserveCapacity(out.count + lines.count * 90 + values.reduce(0) { $0 + 2 * $1.count + 24 })
        for (i, k) in keys.enumerated() { out += "{\"key\":\(i),\"hex\":\"\(Hex.encode(k))\"}\n" }
        for (i, v) in values.enumerated() {
            if v.count <= HistoryFile.fullValueLimit {
                out += "{\"value\":\(i),\"hex\":\"\(Hex.encode(v))\"}\n"
            } else {
                // Equality is all a checker needs (the lines refer to values by number); a long
                // value is described, not copied: length, first bytes, WCH64 with seed 0.
                let h = v.withUnsafeBytes { WCH64.hash($0, seed: 0) }
                out += "{\"value\":\(i),\"len\":\(v.count),\"prefix_hex\":\"\(Hex.encode(Array(v.prefix(16))))\",\"wch64\":\"\(h)\"}\n"
            }
        }
        for (i, w) in writers.enumerated() {
            var wk: [(String, JSON)] = [("writer", .int(Int64(i)))]
            if let p = w.pid { wk.append(("pid", .int(p))) }
            if let l = w.language { wk.append(("language", .string(l))) }
            if let p = w.participant { wk.append(("participant", .int(p))) }
            if let t = w.startTime { wk.append(("start_time", JSON(unsigned: t))) }
            out += JSON.ordered(wk).serialized + "\n"
        }
        for l in lines { out += l; out += "\n" }
        return out
    }

    /// Provenance as the file carries it: keys sorted (`.object` writes them so), and doubles as
    /// decimal strings, so a reader needs no float parsing to copy it.
    static func modelJSON(_ j: JSON) -> JSON {
        switch j {
        case .double(let d): return .string(String(d))
        case .array(let a): return .array(a.map(modelJSON))
        case .object, .ordered: return .object(j.object!.mapValues(modelJSON))
        default: return j
        }
    }

    // MARK: - reading

    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a history file; every problem names the file, the line and the field.
    public static func read(path: String) throws -> HistoryFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(description: "\(path): cannot read the file")
        }
        return try parse([UInt8](data), name: path)
    }

    public static func parse(_ bytes: [UInt8], name: String) throws -> HistoryFile {
        var lineNo = 0
        func fail(_ what: String) -> ReadError { ReadError(description: "\(name):\(lineNo): \(what)") }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).makeIterator()
        func nextLine() -> ArraySlice<UInt8>? {
            while let l = lines.next() {
                lineNo += 1
                if !l.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return l }
            }
            return nil
        }
        guard let first = nextLine() else { lineNo = 0; throw fail("empty file: expected a \(format) header line") }
        if first.first(where: { $0 != 0x20 }) == UInt8(ascii: "[") {
            throw fail("this is a porcupine-shaped export (a JSON array, `stress --export-porcupine`, or the format of "
                       + "warmcheck before history version 2): it carries no model parameters (silent removal, clock), "
                       + "so it cannot be judged on its own; export it again with `warmcheck stress --export-history`")
        }
        let header: JSON
        do { header = try JSON.parse(Array(first)) } catch { throw fail("the header is not JSON: \(error)") }
        guard header["format"]?.string == format else {
            throw fail("not a \(format) file: the header's \"format\" is \(header["format"].map { $0.serialized } ?? "missing")")
        }
        guard let v = header["version"]?.int else { throw fail("the header has no \"version\"") }
        guard v == version else {
            throw fail("history version \(v) is not supported (this warmcheck reads version \(version))")
        }
        guard let m = header["model"], let silent = m["silent_removal"]?.bool else {
            throw fail("the header has no model.silent_removal (true or false)")
        }
        let across = m["automatic_versions_across_keys"]?.bool ?? false
        let model = CacheModel(allowSilentRemoval: silent, silentRemovalReason: m["silent_removal_reason"]?.string ?? "",
                               automaticVersionsAcrossKeys: across)
        var clients: [Client] = []
        for (i, c) in (header["clients"]?.array ?? []).enumerated() {
            guard let id = c["id"]?.int, let impl = c["implementation"]?.string else {
                throw fail("clients[\(i)] needs \"id\" and \"implementation\"")
            }
            clients.append(Client(id: Int(id), implementation: impl, pid: c["pid"]?.int,
                                  participant: c["participant"]?.int.map(Int.init), killed: c["killed"]?.bool ?? false))
        }
        var keys: [Int: [UInt8]] = [:], values: [Int: [UInt8]] = [:], writers: [Int: Writer] = [:]
        let t0 = header["t0_ns"]?.uint ?? 0
        var ops: [CacheOperation] = []
        var extras: [Extra] = []
        ops.reserveCapacity(Int(header["operations"]?.int ?? 0))
        while let l = nextLine() {
            let j: JSON
            do { j = try JSON.parse(Array(l)) } catch { throw fail("not JSON: \(error)") }
            if let k = j["key"]?.int {
                guard let hex = j["hex"]?.string, let b = Hex.decode(hex) else { throw fail("key \(k): \"hex\" is missing or not hex") }
                keys[Int(k)] = b
                continue
            }
            if let k = j["value"]?.int {
                if j["hex"] == nil, j["len"]?.int != nil {
                    values[Int(k)] = surrogate(Int(k))
                    continue
                }
                guard let hex = j["hex"]?.string, let b = Hex.decode(hex), b.count <= fullValueLimit else {
                    throw fail("value \(k): needs \"hex\" (at most \(fullValueLimit) bytes) or \"len\"")
                }
                values[Int(k)] = b
                continue
            }
            if let k = j["writer"]?.int {
                writers[Int(k)] = Writer(driverJSON: j)
                continue
            }
            guard let opName = j["op"]?.string else { throw fail("expected a key, value, writer or operation line (with \"op\")") }
            func int(_ f: String) throws -> Int64 {
                guard let x = j[f]?.int else { throw fail("\(opName): \"\(f)\" is missing or not an integer") }
                return x
            }
            // 0 … 2^64 − 1 as the writer spells it: `.int`, or `.uint` above 2^63 − 1 (versions
            // may be anywhere in u64; a reader that took only `.int` refused them).
            func uint(_ f: String) throws -> UInt64 {
                switch j[f] {
                case .int(let i)? where i >= 0: return UInt64(i)
                case .uint(let u)?: return u
                default: throw fail("\(opName): \"\(f)\" is missing or not an integer in 0 … 2^64 − 1")
                }
            }
            func table(_ f: String, _ t: [Int: [UInt8]], _ what: String) throws -> [UInt8] {
                let i = try int(f)
                guard let b = t[Int(i)] else { throw fail("\(opName): \"\(f)\" names \(what) \(i), which no earlier line defines") }
                return b
            }
            let client = Int(try int("c"))
            let key = try table("k", keys, "key")
            let ask: UInt64? = j["ask_version"] == nil ? nil : try uint("ask_version")
            let ttl: UInt64? = j["ttl_ns"] == nil ? nil : try uint("ttl_ns")
            let input: CacheInput
            switch opName {
            case "get": input = .get(key: key)
            case "put": input = .put(key: key, value: try table("v", values, "value"), version: ask, ttl: ttl)
            case "refresh": input = .refresh(key: key, value: try table("v", values, "value"), version: ask, ttl: ttl)
            case "invalidate": input = .invalidate(key: key)
            case "evict": input = .evict(key: key)
            default: throw fail("unknown op \"\(opName)\" (get, put, refresh, invalidate, evict)")
            }
            let call = try uint("call")
            let ret: UInt64? = j["ret"] == nil || j["ret"] == .null ? nil : try uint("ret")
            let outName = j["out"]?.string ?? ""
            let output: CacheOutput
            switch (outName, input) {
            case ("miss", .get): output = .miss
            case ("hit", .get):
                let stale = j["stale"]?.bool ?? false
                output = .hit(value: try table("hv", values, "value"), version: try uint("version"), stale: stale)
            case ("ok", .put), ("ok", .refresh): output = .ok(version: try uint("version"))
            case ("ok", .invalidate), ("ok", .evict):
                guard let r = j["removed"]?.bool else { throw fail("\(opName): ok needs \"removed\" (true or false)") }
                output = .removed(r)
            case ("fail", _):
                guard let r = j["reason"]?.string else { throw fail("\(opName): fail needs a \"reason\"") }
                output = .fail(FailReason(wire: r))
            case ("unknown", _): output = .unknown
            default: throw fail("\(opName): \"out\" must be \(opName == "get" ? "hit, miss" : "ok"), fail or unknown, not \(j["out"].map { $0.serialized } ?? "missing")")
            }
            if output != .unknown && ret == nil { throw fail("\(opName): a known outcome needs \"ret\"") }
            if let r = ret, r < call { throw fail("\(opName): \"ret\" \(r) is before \"call\" \(call)") }
            ops.append(CacheOperation(clientId: client, input: input, call: call &+ t0, output: output, returnAt: ret.map { $0 &+ t0 }))
            var writer: Writer? = nil
            if j["w"] != nil {
                guard let w = j["w"]?.int, let known = writers[Int(w)] else { throw fail("\(opName): \"w\" names a writer no earlier line defines") }
                writer = known
            }
            extras.append(Extra(created: j["created"]?.bool, refreshRequested: j["refresh_requested"]?.bool ?? (output.isHit ? false : nil),
                                writer: writer))
        }
        if let n = header["operations"]?.int, n != Int64(ops.count) {
            lineNo += 1
            throw fail("the header announces \(n) operations but the file has \(ops.count) (truncated?)")
        }
        return HistoryFile(model: model, simClockNs: header["clock"]?["sim_clock_ns"]?.uint,
                           clockAdvanced: header["clock"]?["advanced"]?.bool ?? false, provenance: header["provenance"] ?? .null,
                           clients: clients, operations: ops, extras: extras)
    }
}

extension CacheOutput {
    var isHit: Bool { if case .hit = self { return true } else { return false } }
}
