#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CWarmcacheShim
import Foundation

/// Makes sure no fixture outlives warmcheck, however warmcheck ends — SIGKILL included, where no
/// handler runs.
///
/// A small bash process holds the read end of a pipe whose only write end is warmcheck's. Every
/// fixture's process group is announced on it when started (`+PGID`) and when reaped (`-PGID`);
/// when warmcheck dies the kernel closes the write end, the guard reads end of file and kills
/// the groups still announced. PR_SET_PDEATHSIG would fire when the *thread* that spawned a
/// fixture ends (stress starts replacement processes on worker threads that end before the
/// fixtures are stopped), so it cannot be used here. Only reaped groups are forgotten, so a
/// group id the kernel has handed to someone else is never killed.
final class OrphanGuard: @unchecked Sendable {
    static let shared = OrphanGuard()

    // `lock` guards `fd` and `pid`.
    private let lock = NSLock()
    private var fd: Int32 = -1
    private(set) var pid: pid_t = 0

    static let script = """
        trap '' INT TERM HUP QUIT PIPE
        declare -A live
        while IFS= read -r line; do
          case $line in
            +*) live[${line#+}]=1 ;;
            -*) unset "live[${line#-}]" ;;
          esac
        done
        for g in "${!live[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
        """

    /// Starts the guard on first use. Without bash there is no guard (and the signal handlers
    /// still stop fixtures on SIGINT/SIGTERM/SIGHUP).
    private func ensureStarted() -> Int32 {
        if fd >= 0 || pid < 0 { return fd }
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else { pid = -1; return -1 }
        _ = fcntl(p[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(p[0], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, p[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Nothing else of warmcheck's: the guard outlives it briefly and must hold no pipe
        // someone waits on.
        _ = wc_spawn_actions_closefrom(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own group, so a Ctrl-C at the terminal reaches warmcheck, not the guard.
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attr, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        let argv = ["/bin/bash", "-c", Self.script, "warmcheck-orphan-guard"]
        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/bin/bash", &actions, &attr, cargs, environ)
        close(p[0])
        guard rc == 0 else { close(p[1]); pid = -1; return -1 }
        pid = child
        fd = p[1]
        return fd
    }

    private func send(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        let fd = ensureStarted()
        guard fd >= 0 else { return }
        // One short line is written atomically (< PIPE_BUF); a dead guard gives EPIPE, ignored.
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    func add(group: pid_t) { send("+\(group)\n") }
    func remove(group: pid_t) { send("-\(group)\n") }

    /// What warmcheck's death does, for tests: the guard sees end of file and kills what is left.
    func closeForTesting() -> pid_t {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { close(fd) }
        fd = -1
        let p = pid
        pid = -1
        return p
    }

    init() {}
}
