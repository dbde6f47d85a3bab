#if canImport(Glibc)
import Glibc
#endif

// The real identity of a process, from /proc, to compare with the provenance a fixture wrote.
// §5 defines `start_time` as field 22 of /proc/<pid>/stat (clock ticks since boot): no
// conversion, the same number.

public struct ProcessIdentity: Equatable, Sendable {
    public var pid: Int
    public var parent: Int
    /// Field 22 of /proc/<pid>/stat.
    public var startTime: UInt64

    /// Nil when the process is gone (or /proc cannot be read).
    public static func of(pid: Int) -> ProcessIdentity? {
        guard pid > 0, let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        // Field 2 is "(comm)" and may contain spaces and parentheses: split after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state); field n is rest[n - 3].
        guard rest.count > 19, let ppid = Int(rest[1]), let start = UInt64(rest[19]) else { return nil }
        return ProcessIdentity(pid: pid, parent: ppid, startTime: start)
    }

    /// The effective uid of `pid` (the second number of the `Uid:` line of /proc/<pid>/status):
    /// what its `geteuid()` answers, so what §3 and §5 have it write. Nil when it is gone.
    public static func effectiveUid(pid: Int) -> UInt32? {
        guard pid > 0, let text = readSmallFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Uid:") {
            let ids = line.dropFirst(4).split(whereSeparator: { $0 == " " || $0 == "\t" })
            return ids.count > 1 ? UInt32(ids[1]) : nil
        }
        return nil
    }

    /// Whether `pid` is `ancestor` or one of its descendants (a fixture may run behind a wrapper
    /// that forks the real implementation).
    public static func isSelfOrDescendant(_ pid: Int, of ancestor: Int) -> Bool {
        var p = pid
        for _ in 0..<16 {
            if p == ancestor { return true }
            guard p > 1, let id = of(pid: p) else { return false }
            p = id.parent
        }
        return false
    }
}

func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
    guard n > 0 else { return nil }
    return String(decoding: buf[0..<n], as: UTF8.self)
}
