#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CWarmcacheShim
import Foundation

/// One implementation behind the driver contract (docs/DRIVER.md): a name and the command that
/// starts it in `serve` mode.
public struct FixtureSpec: Sendable, Equatable {
    public var name: String
    public var argv: [String]
    public init(name: String, argv: [String]) {
        self.name = name
        self.argv = argv
    }
}

/// What went wrong with a fixture process itself, as opposed to a protocol result.
public enum FixtureFailure: Error, CustomStringConvertible {
    case spawnFailed(fixture: String, reason: String)
    case exited(fixture: String, status: String, during: String, stderrTail: String)
    case hung(fixture: String, during: String, seconds: Double, stderrTail: String)
    case garbage(fixture: String, line: String, reason: String, stderrTail: String)
    /// A well-formed answer the contract forbids (a `paused` answer to a request that named no
    /// pause point, a line past the length guard): the fixture's fault, never a verdict.
    case contractViolation(fixture: String, line: String, reason: String, stderrTail: String)

    public var description: String {
        func tail(_ t: String) -> String {
            t.isEmpty ? " (stderr was empty)" : "\n--- stderr tail ---\n\(t)\n-------------------"
        }
        switch self {
        case .spawnFailed(let f, let r): return "fixture \(f) could not be started: \(r)"
        case .exited(let f, let s, let op, let t): return "fixture \(f) \(s) during \(op)\(tail(t))"
        case .hung(let f, let op, let s, let t):
            return "fixture \(f) did not answer \(op) within \(String(format: "%.1f", s)) s; "
                + "stopped with SIGQUIT\(tail(t))"
        case .garbage(let f, let line, let r, let t):
            return "fixture \(f) printed something that is not a driver response (\(r)): "
                + "\(line.prefix(200))\(tail(t))"
        case .contractViolation(let f, let line, let r, let t):
            return "fixture \(f) broke the driver contract (docs/DRIVER.md): \(r): \(line.prefix(200))\(tail(t))"
        }
    }
}

/// A response line, split into the parts the contract defines.
public struct DriverResponse: Sendable {
    public enum Outcome: String, Sendable { case ok, fail, unknown }
    public var outcome: Outcome?
    public var reason: String?
    public var message: String?
    public var result: JSON
    public var transitions: [JSON]
    /// `error.kind` when the fixture answered with a typed error rather than a protocol result.
    public var errorKind: String?
    public var raw: JSON

    init(_ j: JSON) throws {
        raw = j
        result = j["result"] ?? .object([:])
        transitions = j["transitions"]?.array ?? []
        reason = j["reason"]?.string
        message = j["message"]?.string
        if let e = j["error"] {
            errorKind = e["kind"]?.string ?? "runtime"
            message = e["message"]?.string
            outcome = nil
        } else {
            guard let o = j["outcome"]?.string, let oc = Outcome(rawValue: o) else {
                throw JSON.ParseError(description: "no valid \"outcome\" or \"error\" field")
            }
            outcome = oc
        }
    }

    public var isOK: Bool { outcome == .ok }
    public var summary: String {
        if let k = errorKind { return "error(\(k)): \(message ?? "")" }
        switch outcome {
        case .ok: return "ok"
        case .fail: return "fail(\(reason ?? "?"))"
        case .unknown: return "unknown"
        case nil: return "?"
        }
    }
}

/// A running fixture: requests go to its stdin, responses come from its stdout, stderr is drained
/// by a thread that keeps only its tail (`StderrTail`).
///
/// Every read and every write is bounded by the same timeout, measured on the monotonic clock:
/// a fixture that stops reading while a 1 MB request is being written is as hung as one that
/// stops answering.
public final class FixtureProcess: @unchecked Sendable {
    public let spec: FixtureSpec
    public let pid: pid_t
    private var toChild: Int32
    private var fromChild: Int32
    private let stderr: StderrTail
    private var chunk = [UInt8](repeating: 0, count: 65536)
    private var buffer: [UInt8] = []
    /// How much of `buffer` is known to hold no newline: each read scans only what it added
    /// (rescanning from the start made a long line cost quadratic time).
    private var scanned = 0
    private var nextID: Int64 = 1
    private var exitStatus: Int32? = nil
    public var defaultTimeout: Double
    public private(set) var hello: JSON = .null
    /// When (MonotonicClock) the fixture's stdout reached end of file: as close to its death as
    /// the harness can see (the failure is thrown later, once stderr has settled).
    public private(set) var eofAt: UInt64?
    /// false: a death is reported at once, without waiting for stderr to settle (the stress
    /// run's timed recovery reads the tail afterwards, when it is complete).
    public var settleStderrOnExit = true
    /// True once the process is known to have died of SIGKILL.
    public var diedOfSIGKILL: Bool {
        guard let s = exitStatus else { return false }
        return s & 0x7f == SIGKILL
    }
    /// The longest response line accepted; a longer one is a contract violation reported at
    /// once (values are at most a few MB of hex).
    public static let maxLineBytes = 64 * 1024 * 1024

    /// `scratchDir` is accepted for the callers' sake; nothing is written there any more.
    /// `runAs`: the uid and gid it plays under (FixtureCredentials), nil: warmcheck's.
    public init(spec: FixtureSpec, timeout: Double = 10, scratchDir: String = NSTemporaryDirectory(),
                runAs: FixtureCredentials? = nil) throws {
        self.spec = spec
        self.defaultTimeout = timeout
        guard !spec.argv.isEmpty else {
            throw FixtureFailure.spawnFailed(fixture: spec.name, reason: "empty command")
        }
        // Library users (the tests) get the same protection as the command: a fixture that
        // exits before reading must give EPIPE, not kill the harness.
        signal(SIGPIPE, SIG_IGN)

        let child: SpawnedChild
        do { child = try ChildSpawn.startRegistered(try runAs?.wrap(spec.argv) ?? spec.argv) } catch {
            throw FixtureFailure.spawnFailed(fixture: spec.name, reason: "\(error)")
        }
        // Our end of its stdin never blocks: writes wait in poll, under the deadline.
        _ = fcntl(child.stdin, F_SETFL, fcntl(child.stdin, F_GETFL) | O_NONBLOCK)
        pid = child.pid
        toChild = child.stdin
        fromChild = child.stdout
        stderr = StderrTail(fd: child.stderr)
    }

    deinit {
        stop()
    }

    /// The last lines the fixture wrote to stderr (Go prints its goroutine stacks there on SIGQUIT).
    public func stderrTail(lines: Int = 30) -> String {
        stderr.text(lines: lines)
    }

    /// The stderr tail once the fixture has stopped adding to it (at most `within` seconds).
    /// A fixture that prints garbage is still running and usually explains itself on stderr an
    /// instant later; reading at once would race with that write and lose the reason.
    public func settledStderrTail(within: Double = 0.3) -> String {
        let deadline = Deadline(seconds: within)
        var last = -1
        while !deadline.passed {
            let size = stderr.bytesSeen
            if size == last && size > 0 { break }
            last = size
            usleep(30_000)
        }
        return stderrTail()
    }

    /// What a request produced: its response, or the notice that the operation stopped at the
    /// pause point named by its `pause_at` (docs/DRIVER.md, controlled interleavings).
    public enum CallResult {
        case response(DriverResponse)
        case paused(point: String, id: Int64)
    }

    /// Sends one request that names no pause point and waits for its response. A `paused`
    /// answer to it breaks the contract (docs/DRIVER.md): a harness error, never a verdict.
    @discardableResult
    public func call(_ op: String, _ args: JSON = .object([:]), timeout: Double? = nil) throws -> DriverResponse {
        switch try start(op, args, timeout: timeout) {
        case .response(let r): return r
        case .paused(let point, let id):
            throw FixtureFailure.contractViolation(
                fixture: spec.name, line: #"{"id":\#(id),"paused":\#(JSON.string(point).serialized)}"#,
                reason: "answered `\(op)` with paused at \(point) although the request named no pause point",
                stderrTail: settledStderrTail())
        }
    }

    /// Sends one request that may stop at a pause point.
    public func start(_ op: String, _ args: JSON = .object([:]), timeout: Double? = nil) throws -> CallResult {
        let id = nextID
        nextID += 1
        let t = timeout ?? defaultTimeout
        let deadline = Deadline(seconds: t)
        let line = JSON.object(["id": .int(id), "op": .string(op), "args": args]).serialized + "\n"
        try writeAll(Array(line.utf8), during: op, deadline: deadline, timeout: t)
        return try receive(id: id, during: op, deadline: deadline, timeout: t)
    }

    /// Writes one line and reads one line back, with no JSON at all: the bare pipe ping-pong
    /// that `warmcheck bench` compares the driver's round trip with.
    public func rawRoundTrip(_ line: String) throws -> String {
        let deadline = Deadline(seconds: defaultTimeout)
        try writeAll(Array((line + "\n").utf8), during: "echo", deadline: deadline, timeout: defaultTimeout)
        return try readLine(deadline: deadline, during: "echo", timeout: defaultTimeout)
    }

    /// The same bytes JSON.serialized would give (keys sorted), without building a tree: a
    /// resume is what a controlled race sends at every step.
    static func resumeLine(id: Int64) -> String { #"{"args":{},"id":"# + String(id) + #","op":"resume"}"# + "\n" }

    /// Lets an operation that stopped at its pause point go on; returns what it then produced.
    public func resume(_ pausedID: Int64, timeout: Double? = nil) throws -> CallResult {
        let id = nextID
        nextID += 1
        let t = timeout ?? defaultTimeout
        let deadline = Deadline(seconds: t)
        try writeAll(Array(Self.resumeLine(id: id).utf8), during: "resume", deadline: deadline, timeout: t)
        return try receive(id: pausedID, during: "resume", deadline: deadline, timeout: t)
    }

    private func receive(id: Int64, during op: String, deadline: Deadline, timeout: Double) throws -> CallResult {
        let text = try readLine(deadline: deadline, during: op, timeout: timeout)
        let json: JSON
        do {
            json = try JSON.parse(text)
        } catch {
            throw FixtureFailure.garbage(fixture: spec.name, line: text, reason: "\(error)", stderrTail: settledStderrTail())
        }
        guard json["id"]?.int == id else {
            throw FixtureFailure.garbage(
                fixture: spec.name, line: text, reason: "response id does not match request \(id)",
                stderrTail: settledStderrTail())
        }
        if let point = json["paused"]?.string { return .paused(point: point, id: id) }
        do {
            return .response(try DriverResponse(json))
        } catch {
            throw FixtureFailure.garbage(fixture: spec.name, line: text, reason: "\(error)", stderrTail: settledStderrTail())
        }
    }

    /// Starts the session: the first request of the contract.
    /// The first request. It asks for transitions (DRIVER.md "hello"): tracing is part of the
    /// contract, not a command-line flag only the reference fixtures know.
    public func sayHello() throws -> JSON {
        let r = try call("hello", ["trace": true])
        try HelloAnswer.checked(r, fixture: spec.name)
        hello = r.result
        return r.result
    }

    private func writeAll(_ bytes: [UInt8], during op: String, deadline: Deadline, timeout: Double) throws {
        guard toChild >= 0 else {
            throw FixtureFailure.exited(fixture: spec.name, status: "had its input closed", during: op, stderrTail: stderrTail())
        }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(toChild, $0.baseAddress, $0.count) }
            if n >= 0 { off += n; continue }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                // The pipe is full: the fixture is not reading. Wait for room, not past the deadline.
                let ms = deadline.milliseconds
                if ms <= 0 {
                    let tail = stopHung()
                    throw FixtureFailure.hung(fixture: spec.name, during: "\(op) (it stopped reading its input after "
                                                + "\(off) of \(bytes.count) bytes of the request)", seconds: timeout, stderrTail: tail)
                }
                var pfd = pollfd(fd: toChild, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, min(ms, 1000))
            default:
                // EPIPE: it exited (or closed its stdin) before reading the request.
                _ = waitForExit(seconds: 2)
                throw FixtureFailure.exited(
                    fixture: spec.name, status: describeExit(), during: op, stderrTail: settledStderrTail())
            }
        }
    }

    private func readLine(deadline: Deadline, during op: String, timeout: Double) throws -> String {
        while true {
            if let nl = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                scanned = 0
                return line
            }
            scanned = buffer.count
            if buffer.count > Self.maxLineBytes {
                let head = String(decoding: buffer.prefix(200), as: UTF8.self)
                buffer = []
                scanned = 0
                let tail = stopHung()
                throw FixtureFailure.contractViolation(
                    fixture: spec.name, line: head,
                    reason: "a response line longer than \(Self.maxLineBytes / (1024 * 1024)) MiB (no newline after "
                        + "\(Self.maxLineBytes) bytes); the fixture was stopped", stderrTail: tail)
            }
            let ms = deadline.milliseconds
            if ms <= 0 {
                let tail = stopHung()
                throw FixtureFailure.hung(fixture: spec.name, during: op, seconds: timeout, stderrTail: tail)
            }
            var pfd = pollfd(fd: fromChild, events: Int16(POLLIN), revents: 0)
            let pr = poll(&pfd, 1, min(ms, 1000))
            if pr < 0 && errno == EINTR { continue }
            if pr <= 0 { continue }
            // One buffer for the life of the process: a fresh 64 KiB array per read was zeroed
            // every time, a measurable share of a controlled step.
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fromChild, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                // EOF: the fixture closed stdout, which in practice means it died.
                eofAt = MonotonicClock.now()
                _ = waitForExit(seconds: 2)
                throw FixtureFailure.exited(
                    fixture: spec.name, status: describeExit(), during: op,
                    stderrTail: settleStderrOnExit ? settledStderrTail() : stderrTail())
            }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    private func describeExit() -> String {
        if exitStatus == nil { _ = waitForExit(seconds: 1) }
        guard let s = exitStatus else { return "stopped answering" }
        if s & 0x7f == 0 { return "exited with status \((s >> 8) & 0xff)" }
        let sig = s & 0x7f
        return "was killed by signal \(sig) (\(String(cString: strsignal(sig))))"
    }

    /// Reaps the child if it has exited within `seconds`.
    private func waitForExit(seconds: Double) -> Bool {
        if exitStatus != nil { return true }
        let end = Deadline(seconds: seconds)
        // A fixture told to stop usually exits within a few hundred microseconds: poll fast
        // first, then back off to 2 ms (a fixed 2 ms poll cost every race schedule ~2 ms per
        // process, a third of its time; see docs/BENCHMARKS.md).
        var pause: UInt32 = 50
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                exitStatus = status
                FixtureRegistry.shared.remove(pid)
                return true
            }
            if r < 0 && errno == EINTR { continue }
            if r < 0 { return true }
            // Deadline before sleeping: `hasExited` (0 s) must not sleep at all.
            if end.passed { return false }
            usleep(pause)
            pause = min(pause * 2, 2000)
        }
    }

    private func stopHung() -> String {
        // SIGQUIT first: a Go fixture prints every goroutine's stack, which is what a person
        // debugging a hang wants to see; then SIGKILL if it still lingers.
        kill(-pid, SIGQUIT)
        if !waitForExit(seconds: 2) {
            kill(-pid, SIGKILL)
            _ = waitForExit(seconds: 2)
        }
        stderr.finish(within: 0.5)
        return stderrTail(lines: 60)
    }

    public var hasExited: Bool { waitForExit(seconds: 0) }

    /// Closes stdin (the polite stop), then escalates. Safe to call twice: each descriptor is
    /// closed once and forgotten, since a second close could hit a number another fixture
    /// started meanwhile has been given.
    public func stop(grace: Double = 2) {
        closeInput()
        if !waitForExit(seconds: grace) {
            kill(-pid, SIGQUIT)
            if !waitForExit(seconds: 1) {
                kill(-pid, SIGKILL)
                _ = waitForExit(seconds: 2)
            }
        }
        if fromChild >= 0 {
            close(fromChild)
            fromChild = -1
        }
        stderr.finish(within: 0.2)
    }

    /// The polite stop's first half: end of input tells the fixture to exit. Closing every
    /// process's input before waiting for any lets them exit in parallel.
    public func closeInput() {
        if toChild >= 0 {
            close(toChild)
            toChild = -1
        }
    }

    /// Kills the fixture at once, as a crash would (used by crash-injection steps).
    public func crash() {
        // Only while not reaped: afterwards the group id may belong to someone else.
        if exitStatus == nil { kill(-pid, SIGKILL) }
        _ = waitForExit(seconds: 2)
    }
}

/// A point in time on the monotonic clock: wall-clock jumps (NTP, a suspended VM) must neither
/// fire a timeout early nor stretch it.
struct Deadline {
    let at: UInt64

    init(seconds: Double) {
        at = MonotonicClock.now() &+ UInt64(max(0, min(seconds, 1e9)) * 1e9)
    }

    var passed: Bool { MonotonicClock.now() >= at }

    /// Milliseconds left, rounded up (0 once passed).
    var milliseconds: Int32 {
        let now = MonotonicClock.now()
        guard now < at else { return 0 }
        return Int32(min((at - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }
}
