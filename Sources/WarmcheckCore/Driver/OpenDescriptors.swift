import Foundation

/// A fixture process's open descriptors, read from /proc/PID/fd: what the descriptor-leak checks
/// of the runner (CaseRunner+DescriptorLeaks) and of the refusal gate (RefusalGate+Descriptors)
/// look at. A leak changes no byte of a segment, so only the process itself can show it.
enum OpenDescriptors {
    /// "fd N → TARGET" for every descriptor whose file `matches` (the target with an unlinked
    /// file's " (deleted)" cut off: still a descriptor of that file), in descriptor order; nil
    /// where /proc cannot be read (then a check has nothing to judge and is skipped).
    static func held(by pid: pid_t, where matches: (String) -> Bool) -> [String]? {
        let fdDir = "/proc/\(pid)/fd"
        let fm = FileManager.default
        guard let fds = try? fm.contentsOfDirectory(atPath: fdDir) else { return nil }
        var held: [String] = []
        for fd in fds.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
            // A descriptor closed between the listing and this read is simply gone.
            guard let target = try? fm.destinationOfSymbolicLink(atPath: "\(fdDir)/\(fd)") else { continue }
            let path = target.hasSuffix(" (deleted)") ? String(target.dropLast(" (deleted)".count)) : target
            if matches(path) { held.append("fd \(fd) → \(target)") }
        }
        return held
    }
}
