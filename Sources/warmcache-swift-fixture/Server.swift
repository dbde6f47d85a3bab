// Server.swift — request dispatch for the driver contract (docs/DRIVER.md).

import Foundation
import Warmcache

#if canImport(Glibc)
import Glibc
#endif

/// One line of stdin without its newline, or the news that it was not UTF-8 (readLine would
/// have repaired it with U+FFFD and let a corrupted request through).
enum InputLine {
    case text(String)
    case notUTF8
}

/// Our own stream on descriptor 0 (Glibc's `stdin` global is not concurrency-safe to name in
/// Swift 6); every request is read through it, in the main loop and while paused.
nonisolated(unsafe) let requestStream = fdopen(0, "r")

/// The next line of stdin; nil at end of input. A last line without a newline counts.
func nextInputLine() -> InputLine? {
    var buf: UnsafeMutablePointer<CChar>? = nil
    var cap = 0
    defer { free(buf) }
    let n = getline(&buf, &cap, requestStream)
    guard n >= 0, let b = buf else { return nil }
    var bytes = UnsafeRawBufferPointer(start: b, count: n)
    if bytes.last == UInt8(ascii: "\n") { bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast()) }
    guard let s = String(bytes: bytes, encoding: .utf8) else { return .notUTF8 }
    return .text(s)
}

/// The answer to a line that is not UTF-8 (DRIVER.md "Odd input").
let notUTF8Answer = #"{"id":null,"error":{"kind":"bad_request","message":"the line is not valid UTF-8"}}"#

/// Write one line to stdout and flush (the orchestrator reads line by line).
func writeLine(_ s: String) {
    // write(2) on the descriptor: nothing is buffered, so each line is out when this returns.
    FileHandle.standardOutput.write((s + "\n").data(using: .utf8)!)
}

/// A request-level error (not a protocol result).
struct RequestError: Error {
    let kind: String   // bad_request | runtime | unsupported
    let message: String
    static func bad(_ m: String) -> RequestError { RequestError(kind: "bad_request", message: m) }
}

/// A protocol result.
enum Outcome {
    case ok([String: Any])
    case fail(reason: String, message: String)
}

/// The step mode value of `pause_at` (DRIVER.md): pause at every pause point reached.
let stepMode = "*"

/// Per-request state of the pause hook (whether the one-point pause already happened).
final class PauseState: @unchecked Sendable {
    /// The request's id (a JSON value), echoed in the notification.
    let id: Any
    var paused = false
    init(id: Any) { self.id = id }
}

final class Server: @unchecked Sendable {
    /// Fill `transitions`: --trace, or asked for in hello.
    var trace: Bool
    let openTimeoutNs: UInt64
    /// The --fault switches, given to every handle the fixture opens.
    let faults: Faults
    var cache: WarmCache?
    /// The pause hook of the current request's crash_at / pause_at, nil otherwise. Also given
    /// to handles opened by the request, so that points reached while opening (the
    /// registration sweep's reclaim.before_cas) are honoured too.
    var hook: PauseHook?

    static let operations = ["hello", "create", "open", "open_or_create", "close", "get", "put", "refresh",
                             "invalidate", "evict", "stats", "generation", "wait", "set_clock", "dump",
                             "participants"]

    init(trace: Bool, openTimeoutNs: UInt64, faults: Faults = []) {
        self.trace = trace
        self.openTimeoutNs = openTimeoutNs
        self.faults = faults
    }

    /// The options of every handle the fixture opens.
    func options() -> WarmCacheOptions {
        WarmCacheOptions(openTimeoutNs: openTimeoutNs, trace: trace, faults: faults, pauseHook: hook)
    }

    // MARK: Crashing and pausing at a pause point (DRIVER.md)

    /// `crash_at` / `pause_at` of a request: nil if absent; a bad request if not a string naming
    /// a pause point (`allowStep`: "*" is accepted too).
    func pointArg(_ args: [String: Any], _ name: String, allowStep: Bool) throws -> String? {
        guard let v = args[name], !(v is NSNull) else { return nil }
        guard let s = v as? String else { throw RequestError.bad("\(name): must be a string naming a pause point") }
        if allowStep && s == stepMode { return s }
        guard PausePoint(rawValue: s) != nil else { throw RequestError.bad("\(name): unknown pause point \"\(s)\"") }
        return s
    }

    /// The pause hook of a request's crash_at and pause_at (nil if it has neither). The pause
    /// fires the first time the operation reaches its point; in step mode ("*") at every point
    /// reached, each time. The crash fires when its point is reached. If pause and crash meet at
    /// the same point, the pause comes first and the crash follows the resume.
    func requestHook(id: Any, crashAt: String?, pauseAt: String?) -> PauseHook? {
        if crashAt == nil && pauseAt == nil { return nil }
        let state = PauseState(id: id)
        return { [unowned self] point in
            if let p = pauseAt {
                if p == stepMode {
                    self.pauseHere(id: state.id, point: point)
                } else if !state.paused && point.rawValue == p {
                    state.paused = true
                    self.pauseHere(id: state.id, point: point)
                }
            }
            if let c = crashAt, point.rawValue == c {
                // No cleanup, no response, no flush: exactly as a process dying here would.
                kill(getpid(), SIGKILL)
                while true { pause() }   // SIGKILL cannot be caught; never go on with the operation
            }
        }
    }

    /// The pause of DRIVER.md, called from inside the operation of request `id`: write the
    /// notification, then read requests from stdin (the main loop's reader, so no line is lost)
    /// until a resume, which returns to the operation (resume has no response of its own).
    /// Every other request is answered with a bad_request error (its own id) and the operation
    /// stays paused. EOF while paused: the orchestrator gave up; exit 0 at once.
    func pauseHere(id: Any, point: PausePoint) {
        writeLine(encode(["id": id, "paused": point.rawValue]))
        while true {
            guard let input = nextInputLine() else {
                FileHandle.standardError.write("warmcache-swift-fixture: stdin closed while paused at \(point.rawValue); exiting\n".data(using: .utf8)!)
                exit(0)
            }
            let only = "paused at \(point.rawValue); only resume is accepted"
            guard case .text(let line) = input else {
                writeLine(encode(["id": NSNull(), "error": ["kind": "bad_request", "message": "the line is not valid UTF-8; " + only]]))
                continue
            }
            guard let data = line.data(using: .utf8),
                  let o = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any] else {
                writeLine(encode(["id": NSNull(), "error": ["kind": "bad_request", "message": "malformed JSON; " + only]]))
                continue
            }
            if (o["op"] as? String) == "resume" { return }
            writeLine(encode(["id": o["id"] ?? NSNull(), "error": ["kind": "bad_request", "message": only]]))
        }
    }

    func shutdown() {
        cache?.close()
        cache = nil
    }

    func handle(line: String) -> String {
        var id: Any = NSNull()
        let obj: [String: Any]
        do {
            guard let data = line.data(using: .utf8),
                  let o = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any] else {
                return encode(["id": id, "error": ["kind": "bad_request", "message": "request is not a JSON object"]])
            }
            obj = o
        } catch {
            return encode(["id": id, "error": ["kind": "bad_request", "message": "malformed JSON: \(error.localizedDescription)"]])
        }
        id = obj["id"] ?? NSNull()
        guard let op = obj["op"] as? String else {
            return encode(["id": id, "error": ["kind": "bad_request", "message": "missing string field 'op'"]])
        }
        let args = (obj["args"] as? [String: Any]) ?? [:]
        if obj["args"] != nil && !(obj["args"] is [String: Any]) && !(obj["args"] is NSNull) {
            return encode(["id": id, "error": ["kind": "bad_request", "message": "'args' must be an object"]])
        }
        if op == "resume" {
            // A resume while paused never gets here (pauseHere consumes it).
            return encode(["id": id, "error": ["kind": "bad_request", "message": "resume: no operation is paused"]])
        }
        // crash_at and pause_at (any op): arm the hook for this request only.
        do {
            let crashAt = try pointArg(args, "crash_at", allowStep: false)
            let pauseAt = try pointArg(args, "pause_at", allowStep: true)
            hook = requestHook(id: id, crashAt: crashAt, pauseAt: pauseAt)
        } catch let e as RequestError {
            return encode(["id": id, "error": ["kind": e.kind, "message": e.message]])
        } catch {
            return encode(["id": id, "error": ["kind": "runtime", "message": "\(error)"]])
        }
        cache?.pauseHook = hook
        defer {
            hook = nil
            cache?.pauseHook = nil
        }
        do {
            let outcome = try dispatch(op: op, args: args)
            let transitions = drainTransitions()
            switch outcome {
            case .ok(let result):
                return encode(["id": id, "outcome": "ok", "result": result, "transitions": transitions])
            case .fail(let reason, let message):
                return encode(["id": id, "outcome": "fail", "reason": reason, "message": message, "transitions": transitions])
            }
        } catch let e as RequestError {
            _ = drainTransitions()
            return encode(["id": id, "error": ["kind": e.kind, "message": e.message]])
        } catch {
            _ = drainTransitions()
            return encode(["id": id, "error": ["kind": "runtime", "message": "\(error)"]])
        }
    }

    func drainTransitions() -> [[String: Any]] {
        guard let c = cache else { return [] }
        return c.drainTransitions().map {
            ["event": $0.event, "shard": $0.shard, "slot": $0.slot, "from": $0.from, "to": $0.to,
             "seq": UInt64($0.seq), "owner": UInt64($0.owner), "gseq": $0.gseq]
        }
    }

    func encode(_ o: [String: Any]) -> String {
        do {
            let d = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: d, as: UTF8.self)
        } catch {
            return "{\"error\":{\"kind\":\"runtime\",\"message\":\"cannot encode response\"}}"
        }
    }

    func requireCache() throws -> WarmCache {
        guard let c = cache else { throw RequestError.bad("no open segment") }
        return c
    }

    // MARK: Dispatch

    func dispatch(op: String, args: [String: Any]) throws -> Outcome {
        switch op {
        case "hello":
            // DRIVER.md "hello": transitions are asked for here; the answer says whether they
            // will be reported.
            if try optBool(args, "trace") == true { trace = true }
            return .ok(["language": "swift", "language_code": 3, "pid": Int(getpid()), "implementation": "warmcache-swift 0.1.0",
                        "protocol": ["major": 1, "minor": 0], "trace": trace, "features": ["SIM_CLOCK"],
                        "operations": Server.operations, "pause_points": PausePoint.allNames,
                        "faults": Faults.allNames])
        case "create", "open_or_create":
            let path = try pathArg(args)
            let geometry = try parseGeometry(args)
            var opts = options()
            opts.groupAccess = try optBool(args, "group") ?? false
            opts.simClockStartNs = try optU64(args, "sim_clock_ns")
            // A failed create or open leaves the open handle as it was (DRIVER.md): the new
            // handle replaces the old one only once it exists.
            do {
                let c = op == "create"
                    ? try WarmCache.create(path: path, geometry: geometry, options: opts)
                    : try WarmCache.openOrCreate(path: path, geometry: geometry, options: opts)
                replaceHandle()
                cache = c
                var r: [String: Any] = ["participant": UInt64(c.participantId)]
                if op == "open_or_create" { r["created"] = c.created }
                return .ok(r)
            } catch {
                return .fail(reason: error.code, message: error.message)
            }
        case "open":
            let path = try pathArg(args)
            do {
                let c = try WarmCache.open(path: path, options: options())
                replaceHandle()
                cache = c
                return .ok(["participant": UInt64(c.participantId)])
            } catch {
                return .fail(reason: error.code, message: error.message)
            }
        case "close":
            // Idempotent: closing with nothing open is not an error.
            replaceHandle()
            return .ok([:])
        case "get":
            let c = try requireCache()
            let key = try hex(args, "key_hex")
            switch c.get(key) {
            case .miss: return .ok(["hit": false])
            case .hit(let h): return .ok(hitJSON(h))
            }
        case "put", "refresh":
            let c = try requireCache()
            let key = try hex(args, "key_hex")
            let value = try hex(args, "value_hex")
            var o = PutOptions()
            o.ttlNs = try optU64(args, "ttl_ns") ?? 0
            o.graceNs = try optU64(args, "grace_ns") ?? 0
            let tag = try optU64(args, "origin_tag") ?? 0
            guard tag <= UInt64(UInt32.max) else { throw RequestError.bad("origin_tag must fit in 32 bits") }
            o.originTag = UInt32(tag)
            o.version = try optU64(args, "version") ?? 0
            let r = op == "put" ? c.put(key, value, options: o) : c.refresh(key, value, options: o)
            switch r {
            case .ok(let v, let created, let s, let j):
                return .ok(["version": v, "created": created, "shard": s, "slot": j])
            case .fail(let f):
                return .fail(reason: f.code, message: failMessage(f, op: op))
            }
        case "invalidate", "evict":
            let c = try requireCache()
            let key = try hex(args, "key_hex")
            switch op == "invalidate" ? c.invalidate(key) : c.evict(key) {
            case .ok(let removed): return .ok(["removed": removed])
            case .fail(let f): return .fail(reason: f.code, message: failMessage(f, op: op))
            }
        case "stats":
            let c = try requireCache()
            let st = c.stats()
            var totals = countersJSON(st.totals)
            totals["occupancy"] = st.occupancy
            totals["corrupt"] = st.corrupt
            let shards: [[String: Any]] = st.shards.map {
                var d = countersJSON($0.counters)
                d["shard"] = $0.shard
                d["occupancy"] = $0.occupancy
                return d
            }
            return .ok(["totals": totals, "shards": shards, "occupancy": st.occupancy])
        case "generation":
            let c = try requireCache()
            return .ok(["generation": UInt64(c.generation())])
        case "wait":
            let c = try requireCache()
            let seen = try u64(args, "seen")
            guard seen <= UInt64(UInt32.max) else { throw RequestError.bad("seen must fit in 32 bits") }
            let ms = try u64(args, "timeout_ms")
            let (g, timedOut) = c.waitForChange(seen: UInt32(seen), timeoutNs: ms.multipliedReportingOverflow(by: 1_000_000).overflow ? UInt64.max : ms * 1_000_000)
            return .ok(["generation": UInt64(g), "timed_out": timedOut])
        case "set_clock":
            let c = try requireCache()
            let now = try u64(args, "now_ns")
            do { try c.setSimClock(now) } catch {
                throw RequestError.bad("set_clock: \(error)")
            }
            return .ok([:])
        case "dump":
            let c = try requireCache()
            let d = c.dump()
            let entries: [[String: Any]] = d.entries.map { e in
                ["shard": e.shard, "slot": e.slot, "state": e.state, "seq": UInt64(e.seq), "key_hex": Hex.encode(e.key),
                 "hit": !e.expired, "stale": e.stale, "expired": e.expired, "refresh_requested": false,
                 "value_hex": Hex.encode(e.value), "version": e.version, "origin_tag": UInt64(e.originTag),
                 "expires_at_ns": e.expiresAt, "stale_until_ns": e.staleUntil, "written_at_ns": e.writtenAt,
                 "writer": writerJSON(e.provenance)]
            }
            return .ok(["entries": entries, "problems": d.problems])
        case "participants":
            let c = try requireCache()
            let ps: [[String: Any]] = c.participants().map {
                ["index": $0.index, "epoch": $0.epoch, "pid": $0.pid, "start_time": $0.startTime,
                 "language": UInt64($0.language), "alive": $0.alive]
            }
            return .ok(["participants": ps])
        default:
            throw RequestError(kind: "unsupported", message: "unknown op '\(op)'")
        }
    }

    func replaceHandle() {
        cache?.close()
        cache = nil
    }

    func failMessage(_ f: OpFailure, op: String) -> String {
        switch f {
        case .tooLarge: return "\(op): key must be 1..key_capacity bytes and value at most value_capacity bytes"
        case .notFound: return "\(op): key not found"
        case .full: return "\(op): no slot in the key's window could be taken"
        case .versionNotNewer: return "\(op): explicit version is not newer than the stored version"
        case .busy: return "\(op): a live participant held the slot or lock for the whole bounded wait"
        }
    }

    // MARK: JSON helpers

    func hitJSON(_ h: Hit) -> [String: Any] {
        ["hit": true, "stale": h.stale, "refresh_requested": h.refreshRequested, "value_hex": Hex.encode(h.value),
         "version": h.version, "origin_tag": UInt64(h.originTag), "expires_at_ns": h.expiresAt,
         "stale_until_ns": h.staleUntil, "written_at_ns": h.writtenAt, "writer": writerJSON(h.provenance),
         "shard": h.shard, "slot": h.slot]
    }

    func writerJSON(_ p: Provenance) -> [String: Any] {
        ["pid": UInt64(p.pid), "language": UInt64(p.language), "protocol_major": UInt64(p.protocolMajor),
         "protocol_minor": UInt64(p.protocolMinor), "participant": UInt64(p.participant), "start_time": p.startTime]
    }

    func countersJSON(_ c: Counters) -> [String: Any] {
        ["hits": c.hits, "misses": c.misses, "stale_hits": c.staleHits, "inserts": c.inserts,
         "refreshes": c.refreshes, "evictions": c.evictions, "invalidations": c.invalidations,
         "expirations": c.expirations, "reclaims": c.reclaims]
    }

    func parseGeometry(_ args: [String: Any]) throws -> Geometry {
        guard let g = args["geometry"] as? [String: Any] else { throw RequestError.bad("missing object field 'geometry'") }
        func f(_ name: String) throws -> UInt32 {
            let v = try u64(g, name)
            guard v <= UInt64(UInt32.max) else {
                // Out of the 32-bit field: let the geometry rules report it.
                return UInt32.max
            }
            return UInt32(v)
        }
        return Geometry(shardCount: try f("shard_count"), slotsPerShard: try f("slots_per_shard"),
                        keyCapacity: try f("key_capacity"), valueCapacity: try f("value_capacity"),
                        probeWindow: try f("probe_window"), participantCapacity: try f("participant_capacity"))
    }

    /// The `path` argument of create/open/open_or_create (DRIVER.md "Odd input"): neither empty
    /// nor with a NUL byte, which C would cut short and so open another file.
    func pathArg(_ a: [String: Any]) throws -> String {
        let p = try str(a, "path")
        if p.isEmpty { throw RequestError.bad("missing path") }
        if p.utf8.contains(0) { throw RequestError.bad("path \(p.debugDescription) contains a NUL byte") }
        return p
    }

    func str(_ a: [String: Any], _ k: String) throws -> String {
        guard let s = a[k] as? String else { throw RequestError.bad("missing string field '\(k)'") }
        return s
    }

    func hex(_ a: [String: Any], _ k: String) throws -> [UInt8] {
        let s = try str(a, k)
        guard let b = Hex.decode(s) else { throw RequestError.bad("field '\(k)' is not a hex string") }
        return b
    }

    func optBool(_ a: [String: Any], _ k: String) throws -> Bool? {
        guard let v = a[k], !(v is NSNull) else { return nil }
        if isBool(v), let n = v as? NSNumber { return n.boolValue }
        throw RequestError.bad("field '\(k)' must be a boolean")
    }

    func u64(_ a: [String: Any], _ k: String) throws -> UInt64 {
        guard let v = try optU64(a, k) else { throw RequestError.bad("missing integer field '\(k)'") }
        return v
    }

    /// A non-negative integer given as a JSON number or a decimal string.
    func optU64(_ a: [String: Any], _ k: String) throws -> UInt64? {
        guard let v = a[k], !(v is NSNull) else { return nil }
        if let s = v as? String {
            guard let n = UInt64(s) else { throw RequestError.bad("field '\(k)' is not a decimal integer") }
            return n
        }
        if isBool(v) { throw RequestError.bad("field '\(k)' must be an integer") }
        if let n = v as? NSNumber {
            // Integers keep their exact digits in stringValue (beyond 2^53 too).
            if let u = UInt64(n.stringValue) { return u }
            let d = n.doubleValue
            if d < 0 || d.rounded() != d || d >= 18446744073709551616.0 {
                throw RequestError.bad("field '\(k)' must be a non-negative integer")
            }
            return UInt64(d)
        }
        throw RequestError.bad("field '\(k)' must be an integer")
    }

    func isBool(_ v: Any) -> Bool {
        // JSON booleans come back as NSNumber with objCType "c" (and `1 is Bool` is true, so
        // a plain cast cannot tell them apart).
        if let n = v as? NSNumber { return String(cString: n.objCType) == "c" }
        return false
    }
}

