import Foundation
import WarmcheckScenario

/// After a `close`, and after a refused open, create or restore while no handle is open, the
/// fixture's process holds no descriptor of the case's files: the segment, its private `.init.`
/// files (PROTOCOL.md §4.1), its durable store directory or a file in it
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
            checkNoDescriptorsHeld(pid: processID(of: rp, fx), role: role, impl: rp.impl, after: nil)
        }
    }

    /// The implementation's own process: hello's pid, since a fixture may run behind a wrapper
    /// whose descriptors say nothing.
    func processID(of rp: RoleProcess, _ fx: FixtureProcess) -> pid_t {
        rp.pids.last.map { pid_t(truncatingIfNeeded: $0) } ?? fx.pid
    }

    /// Whether the role holds no open handle in `fx`: none was ever opened, or the last one was
    /// closed there. Only then may the process hold no descriptor of the case's files.
    func holdsNoHandle(_ rp: RoleProcess, _ fx: FixtureProcess) -> Bool {
        rp.side == nil && (rp.participant == nil || rp.closedHandle?.process == ObjectIdentifier(fx))
    }

    /// `after` says when, for the message: "after `close` at LOCATION", "after the refused
    /// `create` at LOCATION" (a refused open or create releases what it took, §4.1 step 6 and
    /// §4.2: TMP, the directory opened for the sweep, the segment's descriptor), or nil for the
    /// case's final close.
    func checkNoDescriptorsHeld(pid: pid_t, role: String, impl: String, after: String?) {
        let segmentDir = (segmentPath as NSString).deletingLastPathComponent
        let held = OpenDescriptors.held(by: pid) { path in
            path == segmentPath || path.hasPrefix(segmentPath + ".init.") || path == storeDir
                || path.hasPrefix(storeDir + "/") || path == segmentDir
        } ?? []
        guard !held.isEmpty else { return }
        let when = after ?? "after the case's final close"
        conformance("\(role) (\(impl)) still holds \(held.count) descriptor(s) or mapping(s) of the case's files \(when)",
                    "a closed handle, and a refused open or create, release every descriptor and mapping they took (PROTOCOL.md §4, §5, PERSISTENCE.md): read from /proc/\(pid)/fd and maps "
                        + "right after the answer:\n" + held.map { "  \($0)" }.joined(separator: "\n"))
    }
}
