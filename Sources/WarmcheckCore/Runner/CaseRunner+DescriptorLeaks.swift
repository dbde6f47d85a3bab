import Foundation
import WarmcheckScenario

/// After a `close`, the fixture's process holds no descriptor of the case's files: the segment,
/// its private `.init.` files (PROTOCOL.md §4.1), its durable store directory or a file in it
/// (PERSISTENCE.md), or the directory the segment lives in (opened to sweep dead creators' files,
/// §4.1, or to `fsync` a store's directory). A library that leaks one descriptor per open, create
/// or restore runs a long-lived service out of descriptors, and nothing else in the suite can see
/// it: the leak changes no byte of the segment (a Go create that never closed its directory
/// survived every case). Read from /proc/PID/fd; where that cannot be read the check is skipped.
/// Side-by-side segments (`segment=`, `PATH.NAME`) are another handle's and are left out.
extension CaseRunner {
    /// The end of a case: every role whose process still has a handle on the case's segment
    /// closes it and is checked, so that a leak on the open, create or restore path is seen in
    /// every case, not only in the few whose steps close. A race's schedules hand their processes
    /// on instead (their own close, in cleanup). A close that fails is left to the fixture's
    /// next case: this is not a step of the scenario and proves nothing else.
    func closeHandlesAndCheckDescriptors() {
        guard !handOverProcesses else { return }
        for (role, rp) in roles.sorted(by: { $0.key < $1.key }) {
            guard let fx = rp.fixture, !fx.hasExited, !rp.crashed, rp.pending == nil, rp.side == nil,
                  rp.participant != nil else { continue }
            guard let r = try? fx.call("close", timeout: options.timeout), r.errorKind == nil, r.isOK else { continue }
            checkNoDescriptorsAfterClose(pid: processID(of: rp, fx), role: role, impl: rp.impl, at: nil)
        }
    }

    /// The implementation's own process: hello's pid, since a fixture may run behind a wrapper
    /// whose descriptors say nothing.
    func processID(of rp: RoleProcess, _ fx: FixtureProcess) -> pid_t {
        rp.pids.last.map { pid_t(truncatingIfNeeded: $0) } ?? fx.pid
    }

    func checkNoDescriptorsAfterClose(pid: pid_t, role: String, impl: String, at location: SourceLocation?) {
        let fdDir = "/proc/\(pid)/fd"
        let fm = FileManager.default
        guard let fds = try? fm.contentsOfDirectory(atPath: fdDir) else { return }
        let segmentDir = (segmentPath as NSString).deletingLastPathComponent
        func isCaseFile(_ path: String) -> Bool {
            path == segmentPath || path.hasPrefix(segmentPath + ".init.") || path == storeDir
                || path.hasPrefix(storeDir + "/") || path == segmentDir
        }
        var held: [String] = []
        for fd in fds.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
            guard let target = try? fm.destinationOfSymbolicLink(atPath: "\(fdDir)/\(fd)") else { continue }
            // An unlinked file reads "PATH (deleted)": still a descriptor of it.
            let path = target.hasSuffix(" (deleted)") ? String(target.dropLast(" (deleted)".count)) : target
            if isCaseFile(path) { held.append("fd \(fd) → \(target)") }
        }
        guard !held.isEmpty else { return }
        let when = location.map { "after `close` at \($0)" } ?? "after the case's final close"
        conformance("\(role) (\(impl)) still holds \(held.count) descriptor(s) of the case's files \(when)",
                    "a closed handle releases every descriptor it opened (PROTOCOL.md §4, PERSISTENCE.md): read from \(fdDir) "
                        + "right after the answer:\n" + held.map { "  \($0)" }.joined(separator: "\n"))
    }
}
