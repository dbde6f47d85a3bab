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
        // Its own group, so a Ctrl-C at the terminal reaches warmcheck, not the guard; and
        // nothing else of warmcheck's: the guard outlives it briefly and must hold no pipe
        // someone waits on (ChildSpawn does both).
        let argv = ["/bin/bash", "-c", Self.script, "warmcheck-orphan-guard"]
        guard let child = try? ChildSpawn.start(argv, stdout: .devNull, stderr: .devNull) else { pid = -1; return -1 }
        pid = child.pid
        fd = child.stdin
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
