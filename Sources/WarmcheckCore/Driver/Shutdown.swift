#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Every fixture alive, so that an interrupted warmcheck leaves no process behind.
final class FixtureRegistry: @unchecked Sendable {
    static let shared = FixtureRegistry()
    // `lock` guards `pids` and `closed`.
    private let lock = NSLock()
    private var pids = Set<pid_t>()
    private var closed = false

    /// False once shutdown has begun: a fixture started then would escape the kill.
    func add(_ p: pid_t) -> Bool {
        lock.lock(); defer { lock.unlock() }
        pids.insert(p)
        OrphanGuard.shared.add(group: p)
        return !closed
    }
    func remove(_ p: pid_t) {
        lock.lock(); defer { lock.unlock() }
        if pids.remove(p) != nil { OrphanGuard.shared.remove(group: p) }
    }
    func killAll() {
        lock.lock(); closed = true; let all = pids; lock.unlock()
        for p in all { kill(-p, SIGKILL) }
    }
}

/// What warmcheck does when it is told to stop (SIGINT, SIGTERM, SIGHUP): kill every fixture's
/// process group, remove this process's segments from the work directories, then die of the
/// signal as if unhandled (so a shell sees 128 + N).
///
/// The signals are blocked in every thread and taken by one thread with `sigwait`, so the
/// cleanup is ordinary code — taking locks, listing directories — with no async-signal-safety
/// constraint. Blocking must happen before any other thread exists (threads inherit the mask),
/// hence `Shutdown.install()` first thing in `main`.
public enum Shutdown {
    static let signals = [SIGINT, SIGTERM, SIGHUP]
    nonisolated(unsafe) private static var installed = false
    private static let dirsLock = NSLock()
    nonisolated(unsafe) private static var dirs = Set<String>()

    /// Blocks the stop signals in the calling thread (and so in every thread it starts) and
    /// starts the thread that handles them. Also ignores SIGPIPE: a fixture that exits before
    /// reading its request must give a write error, not kill warmcheck. Idempotent.
    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        guard !installed else { return }
        installed = true
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let t = Thread {
            var waitFor = sigset_t()
            sigemptyset(&waitFor)
            for s in signals { sigaddset(&waitFor, s) }
            var sig: Int32 = 0
            while sigwait(&waitFor, &sig) != 0 {}
            cleanUp()
            // Die of the signal: default action, unblocked in this thread, raised at it.
            signal(sig, SIG_DFL)
            var one = sigset_t()
            sigemptyset(&one)
            sigaddset(&one, sig)
            pthread_sigmask(SIG_UNBLOCK, &one, nil)
            raise(sig)
            _exit(128 + sig)
        }
        t.stackSize = 256 * 1024
        t.start()
    }

    /// Runs `body` (which starts a child with Foundation's Process) with the stop signals
    /// unblocked in this thread, so that the child does not inherit them blocked whatever
    /// Process does with the mask: a build must stop on Ctrl-C like warmcheck.
    public static func withStopSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        var old = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        return try body()
    }

    /// A directory where this process creates segments: cleaned on a stop signal.
    public static func watch(workDir: String) {
        dirsLock.lock(); dirs.insert(workDir); dirsLock.unlock()
    }

    nonisolated(unsafe) private static var stopActions: [() -> Void] = []

    /// Work that must be undone before warmcheck dies of a stop signal and that no directory
    /// listing finds (the mutation runner puts back the source file it mutated). Runs on the
    /// signal thread, before the fixtures are killed.
    public static func onStop(_ action: @escaping () -> Void) {
        dirsLock.lock(); stopActions.append(action); dirsLock.unlock()
    }

    /// Kills the fixtures and removes this process's scratch files. Public for tests.
    public static func cleanUp() {
        dirsLock.lock(); let actions = stopActions; dirsLock.unlock()
        for a in actions { a() }
        FixtureRegistry.shared.killAll()
        dirsLock.lock(); let all = dirs; dirsLock.unlock()
        for d in all { removeScratch(in: d, pid: getpid()) }
    }

    /// Whether `name` is a scratch file of process `pid`: segments (and their `.init.*`
    /// leftovers) are named `wc-…-PID-RANDOM.seg`, `warmcheck-…-PID-RANDOM.seg` and
    /// `matrix-…-PID.seg` (CaseRunner, StressRunner, MatrixRunner, the benches), and a gate's
    /// whole working directory is `warmcheck-GATE-PID` (powercut, refusals, compat).
    static func isScratch(_ name: String, pid: pid_t) -> Bool {
        guard name.hasPrefix("wc-") || name.hasPrefix("warmcheck-") || name.hasPrefix("matrix-") else { return false }
        return name.contains("-\(pid)-") || name.contains("-\(pid).seg") || name.hasSuffix("-\(pid)")
    }

    /// Removes this process's scratch files and gate directories (with what they hold): an
    /// interrupted `powercut` used to leave `warmcheck-powercut-PID/` in /dev/shm, since only
    /// files were unlinked.
    static func removeScratch(in dir: String, pid: pid_t) {
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where isScratch(f, pid: pid) {
            try? FileManager.default.removeItem(atPath: (dir as NSString).appendingPathComponent(f))
        }
    }
}

/// Kept for the commands' call sites: installs the stop-signal handling (see `Shutdown`).
public func installFixtureCleanupOnSignals() {
    Shutdown.install()
}
