import Foundation

/// A fixture process's open descriptors and file mappings, read from /proc/PID/fd and
/// /proc/PID/maps: what the leak checks of the runner (CaseRunner+DescriptorLeaks) and of the
/// refusal gate (RefusalGate+Descriptors) look at. A leak changes no byte of a segment, so only
/// the process itself can show it. A mapping counts as much as a descriptor: an open that fails
/// after mmap and closes its descriptor but not the mapping keeps the inode, and its pages, alive.
enum OpenDescriptors {
    /// "fd N → TARGET" for every descriptor whose file `matches` (the target with an unlinked
    /// file's " (deleted)" cut off: still a descriptor of that file), in descriptor order, then
    /// "mapping START-END → PATH" for every mapping of such a file; nil where /proc cannot be
    /// read (then a check has nothing to judge and is skipped).
    static func held(by pid: pid_t, where matches: (String) -> Bool) -> [String]? {
        let fdDir = "/proc/\(pid)/fd"
        let fm = FileManager.default
        guard let fds = try? fm.contentsOfDirectory(atPath: fdDir) else { return nil }
        var held: [String] = []
        for fd in fds.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
            // A descriptor closed between the listing and this read is simply gone.
            guard let target = try? fm.destinationOfSymbolicLink(atPath: "\(fdDir)/\(fd)") else { continue }
            if matches(undeleted(target)) { held.append("fd \(fd) → \(target)") }
        }
        return held + (mappings(of: pid, where: matches) ?? [])
    }

    /// /proc/PID/maps lines: `START-END PERMS OFFSET DEV INODE PATH`, PATH from the sixth field
    /// to the end of the line (it may hold spaces).
    static func mappings(of pid: pid_t, where matches: (String) -> Bool) -> [String]? {
        // Read to EOF: procfs reports a size of 0, and a read sized from it (String(contentsOfFile:))
        // stops after the first page of a long map.
        guard let h = FileHandle(forReadingAtPath: "/proc/\(pid)/maps") else { return nil }
        defer { try? h.close() }
        guard let data = try? h.readToEnd() else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        var out: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { continue }
            let target = fields[5].trimmingCharacters(in: .whitespaces)
            let path = undeleted(target)
            if path.hasPrefix("/"), matches(path) { out.append("mapping \(fields[0]) → \(target)") }
        }
        return out
    }

    /// A /proc link or map path with an unlinked file's " (deleted)" cut off: still that file.
    static func undeleted(_ target: String) -> String {
        target.hasSuffix(" (deleted)") ? String(target.dropLast(" (deleted)".count)) : target
    }
}
