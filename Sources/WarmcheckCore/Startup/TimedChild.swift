#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// CLOCK_REALTIME in nanoseconds: the clock the consumers stamp their milestones with, so that
/// "exec" (taken here just before posix_spawn) and a child's stamps are on one time line.
func realtimeNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A child of the startup bench, spawned with posix_spawn (Foundation's Process adds its own
/// work between our timestamp and the exec): its own process group, registered with the
/// shutdown handling so that an interrupted bench kills it, stdout on a pipe, stdin on a pipe the
/// bench holds (closing it tells a producer to let go), the stop signals unblocked.
final class TimedChild {
    let pid: pid_t
    /// Realtime just before posix_spawn: the "exec" every milestone is measured from.
    let spawnedAt: Int64
    private let out: FileHandle
    private var stdinFD: Int32
    private var reaped = false
    private var buffer = Data()

    init(_ argv: [String]) throws {
        var outPipe: [Int32] = [0, 0], inPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&inPipe) == 0 else { throw StartupError("pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        for fd in [inPipe[0], inPipe[1], outPipe[0], outPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var p: pid_t = 0
        let t = realtimeNs()
        let rc = posix_spawn(&p, argv[0], &actions, &attr, cargs, environ)
        close(inPipe[0]); close(outPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0])
            throw StartupError("cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        pid = p
        spawnedAt = t
        stdinFD = inPipe[1]
        out = FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: true)
        if !FixtureRegistry.shared.add(p) { kill(-p, SIGKILL) }
    }

    /// The next line of the child's stdout, nil at EOF.
    func readLine() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...nl)
                return line
            }
            let chunk = out.availableData
            if chunk.isEmpty {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            buffer.append(chunk)
        }
    }

    func closeStdin() {
        if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
    }

    /// Waits for the child; returns its exit status (128 + N for a signal) and when it was reaped.
    @discardableResult
    func wait() -> (status: Int32, at: Int64) {
        closeStdin()
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        let at = realtimeNs()
        reaped = true
        FixtureRegistry.shared.remove(pid)
        let status = (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
        return (status, at)
    }

    /// Kills the child's group and reaps it (servers, producers on an error path).
    func stop() {
        guard !reaped else { return }
        kill(-pid, SIGKILL)
        wait()
    }

    deinit { stop() }
}
