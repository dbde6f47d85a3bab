// Starting a child process the way every child of warmcheck is started (fixtures, FFI workers,
// the orphan guard): posix_spawn with the standard streams on pipes or /dev/null, nothing else
// inherited, its own process group, and a clean signal state.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CWarmcacheShim
import Foundation

/// Where a child's stdout or stderr goes (its stdin is always a pipe from warmcheck).
enum ChildStream {
    case pipe
    case devNull
}

/// A started child and warmcheck's ends of its pipes (−1 for a stream sent to /dev/null). The
/// caller owns the descriptors and the reaping.
struct SpawnedChild {
    let pid: pid_t
    /// Write end of the child's stdin.
    let stdin: Int32
    /// Read ends of its stdout and stderr.
    let stdout: Int32
    let stderr: Int32
}

struct SpawnError: Error, CustomStringConvertible {
    let description: String
}

enum ChildSpawn {
    /// Starts `argv` (argv[0] looked up in PATH unless it contains a slash).
    ///
    /// - Every pipe end is close-on-exec: a child started later must not inherit this one's
    ///   pipes, or the end of file that tells this child to stop would never come.
    /// - The child gets fds 0–2 only: a descriptor warmcheck inherited without close-on-exec
    ///   (its parent's pipes, say) must not live on in a child, or whoever waits for that
    ///   pipe's end of file waits for the child.
    /// - Its own process group, so a stop signal to the group reaches anything it started, and
    ///   a Ctrl-C at the terminal reaches warmcheck rather than the child directly.
    /// - An empty signal mask (warmcheck blocks its stop signals for the sigwait thread) and
    ///   SIGPIPE, SIGQUIT, SIGINT, SIGTERM, SIGHUP at their defaults (warmcheck ignores SIGPIPE).
    static func start(_ argv: [String], stdout: ChildStream = .pipe, stderr: ChildStream = .pipe) throws -> SpawnedChild {
        guard let exe = argv.first else { throw SpawnError(description: "empty command") }
        var fds: [Int32] = []
        func closeAll() { for fd in fds where fd >= 0 { close(fd) } }
        func makePipe() throws -> (read: Int32, write: Int32) {
            var p: [Int32] = [-1, -1]
            guard pipe(&p) == 0 else {
                let reason = String(cString: strerror(errno))
                closeAll()
                throw SpawnError(description: "pipe: \(reason)")
            }
            for fd in p { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            fds += p
            return (p[0], p[1])
        }
        let inPipe = try makePipe()
        let outPipe = stdout == .pipe ? try makePipe() : nil
        let errPipe = stderr == .pipe ? try makePipe() : nil

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe.read, 0)
        if let outPipe { posix_spawn_file_actions_adddup2(&actions, outPipe.write, 1) } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        if let errPipe { posix_spawn_file_actions_adddup2(&actions, errPipe.write, 2) } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        _ = wc_spawn_actions_closefrom(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attr, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGQUIT, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)

        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, exe, &actions, &attr, cargs, environ)
        // The child's ends are its own now (or nobody's if it did not start).
        close(inPipe.read)
        if let outPipe { close(outPipe.write) }
        if let errPipe { close(errPipe.write) }
        guard rc == 0 else {
            close(inPipe.write)
            if let outPipe { close(outPipe.read) }
            if let errPipe { close(errPipe.read) }
            throw SpawnError(description: "\(exe): \(String(cString: strerror(rc)))")
        }
        return SpawnedChild(pid: child, stdin: inPipe.write, stdout: outPipe?.read ?? -1, stderr: errPipe?.read ?? -1)
    }

    /// `start`, and the child's group registered with FixtureRegistry, so warmcheck's stop
    /// signals and the orphan guard reach it. Started while warmcheck is shutting down (after
    /// the kill went out), it is killed at once; the caller's next read then fails.
    static func startRegistered(_ argv: [String]) throws -> SpawnedChild {
        let child = try start(argv)
        if !FixtureRegistry.shared.add(child.pid) { kill(-child.pid, SIGKILL) }
        return child
    }
}
