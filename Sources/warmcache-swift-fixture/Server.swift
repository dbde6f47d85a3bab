// Server.swift — request dispatch for the driver contract (docs/DRIVER.md).

import Foundation
@_spi(Harness) import Warmcache

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
/// DRIVER.md "Crashing by chance": the k-th pause point a request reaches (k = 1, 2, …) kills
/// the process when splitmix64(seed + k·0x9E3779B97F4A7C15) mod 1,000,000 < ppm. The draw
/// depends on the seed and the count only, so every implementation dies at the same step.
final class CrashChance: @unchecked Sendable {
    let ppm: UInt64
    let seed: UInt64
    private var reached: UInt64 = 0
    init(ppm: UInt64, seed: UInt64) {
        self.ppm = ppm
        self.seed = seed
    }

    /// Counts one more point reached; true if the process is to die here.
    func draw() -> Bool {
        reached &+= 1
        var z = seed &+ reached &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) % 1_000_000 < ppm
    }
}

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
    /// The version handles speak unless a request's `protocol` names another (--protocol).
    let protocolVersion: ProtocolVersion
    var cache: WarmCache?
    /// The pause hook of the current request's crash_at / pause_at, nil otherwise. Also given
    /// to handles opened by the request, so that points reached while opening (the
    /// registration sweep's reclaim.before_cas) are honoured too.
    var hook: PauseHook?
    /// An overlap request is running on another thread (Server+Overlap.swift): the paused
    /// operation's hook ignores the points it reaches.
    var overlapping = false
    /// The paused operation's transitions made before an overlap, kept for its own response.
    var stashedTransitions: [[String: Any]] = []

    static let operations = ["hello", "create", "open", "open_or_create", "close", "get", "put", "refresh",
                             "invalidate", "evict", "stats", "generation", "wait", "set_clock", "dump",
                             "participants", "repair", "overlap", "get_many", "now", "after_close", "nul_path"] + durableOperations + namespaceOperations

    init(trace: Bool, openTimeoutNs: UInt64, faults: Faults = [], protocolVersion: ProtocolVersion = .current) {
        self.protocolVersion = protocolVersion
        self.trace = trace
        self.openTimeoutNs = openTimeoutNs
        self.faults = faults
    }

    /// The options of every handle the fixture opens.
    func options() -> WarmCacheOptions {
        WarmCacheOptions(openTimeoutNs: openTimeoutNs, protocolVersion: protocolVersion).harness(trace: trace, faults: faults, pauseHook: hook)
    }

    /// `options()` with a request's optional `protocol` ("1.0", "1.1") applied.
    func options(_ args: [String: Any]) throws -> WarmCacheOptions {
        var o = options()
        if let v = args["protocol"], !(v is NSNull) {
            guard let s = v as? String, let p = ProtocolVersion(rawValue: s) else {
                throw RequestError.bad("protocol: \(v) is not one this fixture speaks (1.0, 1.1)")
            }
            o.protocolVersion = p
        }
        return o
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
    func requestHook(id: Any, crashAt: String?, pauseAt: String?, chance: CrashChance? = nil) -> PauseHook? {
        if crashAt == nil && pauseAt == nil && chance == nil { return nil }
        let state = PauseState(id: id)
        return { [unowned self] point in
            if self.overlapping { return }   // a point of the overlapping request, not ours
            if let p = pauseAt {
                if p == stepMode {
                    self.pauseHere(id: state.id, point: point)
                } else if !state.paused && point.rawValue == p {
                    state.paused = true
                    self.pauseHere(id: state.id, point: point)
                }
            }
            var die = crashAt == point.rawValue
            if let chance, chance.draw() {
                FileHandle.standardError.write("crash_chance: SIGKILL at \(point.rawValue)\n".data(using: .utf8)!)
                die = true
            }
            if die {
                // No cleanup, no response, no flush: exactly as a process dying here would.
                kill(getpid(), SIGKILL)
                while true { pause() }   // SIGKILL cannot be caught; never go on with the operation
            }
        }
    }

    /// `crash_chance_ppm` / `crash_seed`: nil when absent or 0; JSON integers only (no decimal
    /// strings, unlike other fields here, so that all three fixtures refuse the same requests).
    func chanceArg(_ args: [String: Any]) throws -> CrashChance? {
        for k in ["crash_chance_ppm", "crash_seed"] where args[k] is String {
            throw RequestError.bad("\(k) must be an integer")
        }
        let ppm = try optU64(args, "crash_chance_ppm")
        let seed = try optU64(args, "crash_seed")
        guard let ppm else {
            if seed != nil { throw RequestError.bad("crash_seed needs crash_chance_ppm") }
            return nil
        }
        guard ppm <= 1_000_000 else { throw RequestError.bad("crash_chance_ppm: \(ppm) is above 1000000") }
        return ppm == 0 ? nil : CrashChance(ppm: ppm, seed: seed ?? 0)
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
            if Server.isOverlap(o) {
                writeLine(overlap(o))
                continue
            }
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
        if Server.isOverlap(obj) {
            // Likewise an overlap (Server+Overlap.swift).
            return encode(["id": id, "error": ["kind": "bad_request", "message": "overlap: no operation is paused"]])
        }
        // crash_at and pause_at (any op): arm the hook for this request only.
        do {
            let crashAt = try pointArg(args, "crash_at", allowStep: false)
            let pauseAt = try pointArg(args, "pause_at", allowStep: true)
            hook = requestHook(id: id, crashAt: crashAt, pauseAt: pauseAt, chance: try chanceArg(args))
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
        } catch let e as UsageError where e == .closed {
            // The closed handle's answer (PROTOCOL.md §15): a result, not a driver error.
            return encode(["id": id, "outcome": "fail", "reason": OpFailure.closed.code, "message": "\(op): \(e)",
                           "transitions": drainTransitions()])
        } catch let e as RequestError {
            _ = drainTransitions()
            return encode(["id": id, "error": ["kind": e.kind, "message": e.message]])
        } catch {
            _ = drainTransitions()
            return encode(["id": id, "error": ["kind": "runtime", "message": "\(error)"]])
        }
    }

    func drainTransitions() -> [[String: Any]] {
        let earlier = stashedTransitions
        stashedTransitions = []
        guard let c = cache else { return earlier }
        return earlier + c.drainTransitions().map {
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

    /// Routes one request to the handler of its operation (Server+*.swift).
    func dispatch(op: String, args: [String: Any]) throws -> Outcome {
        switch op {
        case "hello": return try hello(args)
        case "create", "open_or_create": return try create(op, args)
        case "open": return try open(args)
        case "close": return close()
        case "get": return try get(args)
        case "get_many": return try getMany(args)
        case "now": return try now()
        case "put", "refresh": return try put(op, args)
        case "invalidate", "evict": return try remove(op, args)
        case "stats": return try stats()
        case "generation": return try generation()
        case "wait": return try wait(args)
        case "set_clock": return try setClock(args)
        case "dump": return try dump()
        case "participants": return try participants()
        case "repair": return try repair()
        case "restore": return try restore(args)
        case "journal_state": return try journalState()
        case "compact": return try compact(args)
        case _ where Server.namespaceOperations.contains(op): return try namespace(op, args)
        default:
            throw RequestError(kind: "unsupported", message: "unknown op '\(op)'")
        }
    }
}

