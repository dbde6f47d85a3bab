// The harness side of one FFI worker: spawns `warmcheck ffi-worker` for a library, sends it
// batches and reads the replies with a deadline. A worker that dies or stops answering is
// reported as WorkerFailure (with its stderr), and is killed and reaped: nothing is left running.

import Foundation

/// A library to test: a name, the shared object and its manifest.
public struct ABILibrary: Sendable {
    public let name: String
    public let path: String
    public let manifest: String
    public init(name: String, path: String, manifest: String) {
        self.name = name
        self.path = path
        self.manifest = manifest
    }

    /// The reference libraries built by scripts/build-abi.sh.
    public static func references(root: URL) -> [ABILibrary] {
        func p(_ s: String) -> String { root.appendingPathComponent(s).path }
        return [
            ABILibrary(name: "rust", path: p("rust-fixture/abi/target/release/libwarmcache_abi.so"), manifest: p("rust-fixture/abi/manifest.json")),
            ABILibrary(name: "go", path: p(".build/abi/libwarmcache_go_abi.so"), manifest: p("go-fixture/cmd/warmcache-abi/manifest.json")),
            ABILibrary(name: "swift", path: p(".build/abi/libWarmcacheABI.so"), manifest: p("Sources/WarmcacheABI/manifest.json")),
        ]
    }

    /// `NAME=PATH` from --library, with the manifest given separately.
    public static func parse(_ text: String, manifest: String) throws -> ABILibrary {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex, text.index(after: eq) != text.endIndex else {
            throw ManifestError("--library \(text): expected NAME=PATH")
        }
        return ABILibrary(name: String(text[..<eq]), path: String(text[text.index(after: eq)...]), manifest: manifest)
    }
}

public struct WorkerFailure: Error, CustomStringConvertible {
    public let library: String
    public let what: String     // "died", "hung", "refused"
    public let detail: String
    public var description: String { "library \(library): worker \(what): \(detail)" }
}

public final class FFIWorkerClient {
    public let library: ABILibrary
    let pid: pid_t
    let toWorker: Int32
    let fromWorker: Int32
    /// The worker's stderr, drained in memory (the reason it gives when it refuses or dies).
    let stderr: StderrTail
    var exited = false
    /// The library declares wc_batch, so the worker runs a batch in one call.
    public private(set) var batched = false
    /// Seconds a batch may take before the worker counts as hung.
    public var timeout: Double = 30

    public init(_ library: ABILibrary, executable: String) throws {
        self.library = library
        let argv = [executable, "ffi-worker", "--name", library.name, "--library", library.path, "--manifest", library.manifest]
        let child: SpawnedChild
        do { child = try ChildSpawn.startRegistered(argv) } catch {
            throw WorkerFailure(library: library.name, what: "refused", detail: "cannot start \(error)")
        }
        pid = child.pid
        toWorker = child.stdin
        fromWorker = child.stdout
        stderr = StderrTail(fd: child.stderr)
        let hello = try readReply(deadline: PipeIO.monotonicSeconds() + 30, during: "loading")
        switch String(decoding: hello, as: UTF8.self) {
        case WorkerGreeting.plain: batched = false
        case WorkerGreeting.batch: batched = true
        default: throw failure("refused", "unexpected greeting")
        }
    }

    deinit { stop() }

    /// Asks the worker to quit, then makes sure it is gone (SIGKILL after a short grace).
    public func stop() {
        if closed { return }
        closed = true
        if !exited {
            var w = ByteWriter()
            w.u32(WorkerRequest.quit.rawValue); w.u32(0); w.u64(0)
            try? PipeIO.writeAll(toWorker, w.bytes)
        }
        close(toWorker)
        close(fromWorker)
        reap(graceSeconds: 1)
    }

    var closed = false

    func reap(graceSeconds: Double) {
        if exited { return }
        let deadline = PipeIO.monotonicSeconds() + graceSeconds
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if PipeIO.monotonicSeconds() > deadline {
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(2000)
        }
        exited = true
        stderr.finish()
        FixtureRegistry.shared.remove(pid)
        lastStatus = status
    }

    var lastStatus: Int32 = 0

    func stderrTail() -> String { stderr.text(lines: 30) }

    func failure(_ what: String, _ during: String) -> WorkerFailure {
        if what == "hung" { kill(-pid, SIGKILL) }
        reap(graceSeconds: 2)
        let st = lastStatus
        let how: String
        if st & 0x7f != 0 { how = "killed by signal \(st & 0x7f)" } else { how = "exit status \((st >> 8) & 0xff)" }
        let tail = stderrTail()
        return WorkerFailure(library: library.name, what: what,
                             detail: "\(during) (\(how))\(tail.isEmpty ? "" : ": " + tail)")
    }

    func readReply(deadline: Double, during: String) throws -> [UInt8] {
        do {
            var r = ByteReader(try PipeIO.readExactly(fromWorker, 8, deadline: deadline))
            let n = Int(try r.u64())
            return try PipeIO.readExactly(fromWorker, n, deadline: deadline)
        } catch is PipeIO.TimedOut {
            throw failure("hung", "no answer within \(Int(timeout)) s while \(during)")
        } catch {
            throw failure(during == "loading" ? "refused" : "died", during)
        }
    }

    /// Sends a request without waiting (pair with `receive`), so several workers run at once.
    func send(_ kind: WorkerRequest, _ payload: [UInt8], flags: WorkerFlags = []) throws {
        var w = ByteWriter()
        w.u32(kind.rawValue); w.u32(flags.rawValue); w.u64(UInt64(payload.count))
        do { try PipeIO.writeAll(toWorker, w.bytes + payload) } catch {
            throw failure("died", "receiving a request")
        }
    }

    func receive(during: String) throws -> [UInt8] {
        try readReply(deadline: PipeIO.monotonicSeconds() + timeout, during: during)
    }
}
