import Foundation
import WarmcheckScenario

/// The roles' processes: started (or taken over from the previous race schedule) before the
/// first step, and stopped or handed on after the last.
extension CaseRunner {
    func prepare() throws {
        if scenario.fillsStoreDisk { try mountTinyStore() }
        for a in testCase.assignments {
            guard var spec = options.fixtures[a.implementation] else {
                throw UsageError("no fixture named \(a.implementation)")
            }
            spec.argv += options.extraFixtureArgs[a.implementation] ?? []
            if let fault = scenario.disks[a.role] { spec.argv = DiskFaultLauncher.wrap(spec.argv, fault) }
            if let old = reuse[a.role], old.spec.argv == spec.argv, old.fixture != nil {
                roles[a.role] = RoleProcess(reusing: old)
            } else {
                roles[a.role] = RoleProcess(role: a.role, impl: a.implementation, spec: spec)
            }
        }
        reuse = [:]
        // Start every process up front: a fixture that lacks an operation the scenario needs
        // makes the case a skip, decided before anything runs.
        for a in testCase.assignments {
            let rp = roles[a.role]!
            if rp.fixture == nil { try startProcess(rp) }
            checkDeclaredVersions(rp)
            var needed = Set(scenario.allOperations.filter { $0.role == a.role && $0.op.isListedInHello }.map(\.op.rawValue))
            // Running a request beside a paused one is a capability of its own (DRIVER.md).
            if scenario.allOperations.contains(where: { $0.role == a.role && $0.overlap }) { needed.insert("overlap") }
            // So is keeping a closed handle (DRIVER.md "After close"): a fixture of the contract
            // before it answers `bad_request` there, which is no verdict on its library.
            if scenario.usesClosedHandle(role: a.role) { needed.insert("after_close") }
            var missing = needed.subtracting(rp.operations).sorted()
            missing += scenario.pausePointsUsed(role: a.role).subtracting(rp.pausePoints).sorted().map { "pause point \($0)" }
            if !missing.isEmpty {
                addFinding(Finding(kind: .skip, summary: "\(rp.impl) lacks \(missing.joined(separator: ", "))",
                                        details: "fixture \(rp.impl) does not list \(missing) in hello.operations"))
                throw Abort()
            }
        }
    }

    func startProcess(_ rp: RoleProcess) throws {
        rp.side = nil   // a new process has no handle on any segment yet
        // Nor a closed one: the process identity kept with a closed handle cannot tell a new
        // process from the old (an ObjectIdentifier is reused once the old object is freed).
        rp.closedHandle = nil
        if let who = options.fixtureCredentials, let why = Self.unusableWorkDir(options.workDir, by: who) {
            try harness("the work directory cannot be used by the fixtures", why)
        }
        do {
            try rp.start(timeout: options.timeout, scratchDir: options.workDir, runAs: options.fixtureCredentials)
        } catch let f as FixtureFailure {
            let runAs = options.fixtureCredentials.map {
                "\n(it runs as \($0), docs/DRIVER.md \"Fixture credentials\": its command and files must be usable by that uid, or pass --fixture-uid harness)"
            }
            try harness("\(rp.role) (\(rp.impl)) could not start", f.description + (runAs ?? ""))
        }
    }

    /// Why fixtures running as `who` could not make their files in `dir` (nil: they can). A
    /// root-owned 0700 or 0711 directory would otherwise show up much later, as a create that
    /// failed `io` and every operation after it answering "no open segment".
    static func unusableWorkDir(_ dir: String, by who: FixtureCredentials) -> String? {
        var st = stat()
        guard stat(dir, &st) == 0 else { return nil }  // a missing directory is reported where it is used
        let writable = st.st_uid == who.uid ? st.st_mode & 0o300 == 0o300
            : st.st_gid == who.gid ? st.st_mode & 0o030 == 0o030 : st.st_mode & 0o003 == 0o003
        guard !writable else { return nil }
        return "\(dir) (mode \(String(st.st_mode & 0o7777, radix: 8)), owner uid \(st.st_uid)) is not writable by the fixtures, which run as "
            + "\(who) because warmcheck runs as root (docs/DRIVER.md \"Fixture credentials\"): use a directory like /dev/shm (mode 1777), "
            + "or pass --fixture-uid harness"
    }

    func cleanup() {
        if handOverProcesses && findings.isEmpty {
            // Only a clean execution hands its processes on: after a failure or a crash their
            // state is part of the evidence, and a process that cannot close is not trusted.
            for (role, rp) in roles where !rp.crashed && rp.pending == nil && rp.fixture.map({ !$0.hasExited }) == true {
                if let r = try? rp.fixture!.call("close", timeout: options.timeout), r.errorKind == nil { reuse[role] = rp }
            }
        }
        RoleProcess.stopAll(roles.filter { reuse[$0.key] !== $0.value }.values)
        // Leftover PATH.init.* files need a creator that died or a case that failed; listing
        // /dev/shm for them would cost every clean race schedule a directory scan.
        SegmentSurgery.removeSegment(
            segmentPath, leftovers: !findings.isEmpty || roles.values.contains(where: { $0.crashed || $0.pids.count > 1 }))
        TinyStoreDisk.unmount(storeDir)
        try? FileManager.default.removeItem(atPath: storeDir)
        for p in sideSegmentPaths { SegmentSurgery.removeSegment(p, leftovers: true) }
    }

    /// Implementations in this case whose hello did not promise transitions. With one of them
    /// in a case, the segment changes under the checker without reports that explain them, so
    /// the transition checks are left out and the result says so, instead of calling every
    /// unexplained change an illegal transition.
    var untraced: [String] {
        var out: [String] = []
        for a in testCase.assignments {
            if let rp = roles[a.role], !rp.pids.isEmpty, !rp.hello.reportsTransitions, !out.contains(a.implementation) {
                out.append(a.implementation)
            }
        }
        return out
    }

    var laneNames: [String] { scenario.roles.map(lane) }

    func lane(_ role: String) -> String { "\(role) (\(roles[role]?.impl ?? "?"))" }
}
