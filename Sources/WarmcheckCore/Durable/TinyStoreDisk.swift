// A store directory on a file system of its own that the harness can fill (`store_disk:`,
// docs/SCENARIOS.md, PERSISTENCE.md §6): a real ENOSPC, from the kernel, in the middle of a
// journal record, for every implementation alike (no interposition, so Go's raw system calls
// see it too).
//
// A 1 MiB tmpfs is mounted at the store directory before the case's processes start and
// unmounted (MNT_DETACH: a fixture that still holds a journal open cannot keep it) when the
// case ends, in every path: the runner's cleanup, and warmcheck's stop-signal handler for a
// Ctrl-C (Shutdown.onStop). A SIGKILL of warmcheck itself is the one path that leaves a mount;
// `umount` of the `.store` directory under the work dir undoes it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

enum TinyStoreDisk {
    /// The file `full` fills the disk with. Not a name of PERSISTENCE.md §2, so every reader
    /// ignores it.
    static let filler = "zz-disk-filler"
    static let size = "1m"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var mounted = Set<String>()
    nonisolated(unsafe) private static var hooked = false

    /// Mounts the tmpfs at `dir` (created 0700). Throws a reason when mounting is not
    /// permitted (no CAP_SYS_ADMIN, a container without mount rights): the case is a skip.
    /// `owner`: the uid and gid the fixtures run under (DRIVER.md "Fixture credentials"), who
    /// must be able to write the store; nil: warmcheck's.
    static func mount(at dir: String, owner: FixtureCredentials? = nil) throws {
        lock.lock()
        defer { lock.unlock() }
        if !hooked {
            hooked = true
            Shutdown.onStop { TinyStoreDisk.unmountAll() }
        }
        guard mkdir(dir, 0o700) == 0 || errno == EEXIST else { throw UsageError("mkdir \(dir): \(String(cString: strerror(errno)))") }
        guard Glibc.mount("warmcheck-store", dir, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "size=\(size),mode=0700" + (owner.map { ",uid=\($0.uid),gid=\($0.gid)" } ?? "")) == 0 else {
            let why = String(cString: strerror(errno))
            rmdir(dir)
            throw UsageError("mount -t tmpfs -o size=\(size) on the store directory: \(why)")
        }
        mounted.insert(dir)
    }

    /// Unmounts `dir` if this process mounted it. Idempotent.
    static func unmount(_ dir: String) {
        lock.lock()
        defer { lock.unlock() }
        guard mounted.remove(dir) != nil else { return }
        umount2(dir, Int32(MNT_DETACH))
    }

    static func unmountAll() {
        lock.lock()
        let all = mounted
        mounted = []
        lock.unlock()
        for d in all { umount2(d, Int32(MNT_DETACH)) }
    }

    /// Fills the file system to its last page: the next write that needs a new page (a journal
    /// record crossing a page boundary, a new journal's header) fails with ENOSPC. Returns the
    /// bytes the filler took.
    static func fill(_ dir: String) throws -> Int {
        let path = dir + "/" + filler
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw UsageError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let page = [UInt8](repeating: 0xA5, count: 4096)
        var total = 0
        while true {
            let n = page.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { total += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == ENOSPC { return total }
            throw UsageError("filling \(path): \(n < 0 ? String(cString: strerror(errno)) : "write returned 0")")
        }
    }

    /// Gives the room back.
    static func drain(_ dir: String) {
        unlink(dir + "/" + filler)
    }
}
