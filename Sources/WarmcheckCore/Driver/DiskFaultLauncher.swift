// Starting a fixture on a failing disk (docs/SCENARIOS.md `disk:`, PERSISTENCE.md §6).
//
// posix_spawn has no hook between its fork and its exec, so the filter is installed by a
// trampoline: warmcheck itself, started as `warmcheck <argument> FAULT -- ARGV…`, installs the
// seccomp filter of CWarmcacheShim and execs ARGV. The fixture keeps the trampoline's pid (so
// its pipes, process group and registration are those ChildSpawn made) and inherits the filter
// across the exec; nothing in it can remove the filter. A filter and not LD_PRELOAD: the Go
// runtime makes raw system calls.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CWarmcacheShim
import Foundation
import WarmcheckScenario

public enum DiskFaultLauncher {
    /// argv[1] of the trampoline. Not a subcommand: it must run before warmcheck's main blocks
    /// its stop signals, since a blocked mask would live on in the fixture across the exec.
    public static let argument = "__exec-on-failing-disk"

    /// The trampoline: `WARMCHECK_TRAMPOLINE` when set, else the running binary when it is
    /// warmcheck (the `run` command), else the warmcheck of the same build (beside the running
    /// binary, as the test bundle sits in .build/debug, or in the checkout's .build/debug). A
    /// caller that is not warmcheck, such as the refusal gate run by a test, would otherwise
    /// exec itself with an argument it does not know, and every case under a fault would fail
    /// for a reason that is not the fixture's.
    static var trampoline: String {
        let fm = FileManager.default
        if let t = ProcessInfo.processInfo.environment["WARMCHECK_TRAMPOLINE"], !t.isEmpty { return t }
        let me = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        if (me as NSString).lastPathComponent == "warmcheck" { return me }
        var candidates = [((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("warmcheck")]
        if let root = Repo.root() { candidates.append(root.appendingPathComponent(".build/debug/warmcheck").path) }
        return candidates.first { fm.isExecutableFile(atPath: $0) } ?? me
    }

    /// `argv` started under `fault`'s filter.
    static func wrap(_ argv: [String], _ fault: DiskFault) -> [String] {
        [trampoline, argument, fault.rawValue, "--"] + argv
    }

    /// The trampoline's body: `args` is argv after `argument`. Never returns; a failure is
    /// reported on stderr (the harness shows the fixture's stderr tail) and exits 127.
    public static func execMain(_ args: [String]) -> Never {
        func die(_ why: String) -> Never {
            FileHandle.standardError.write(Data("warmcheck disk-fault trampoline: \(why)\n".utf8))
            exit(127)
        }
        guard args.count >= 3, let fault = DiskFault(rawValue: args[0]), args[1] == "--" else {
            die("usage: \(argument) \(DiskFault.allCases.map(\.rawValue).joined(separator: "|")) -- ARGV…")
        }
        let rc: Int32
        switch fault {
        case .syncFails: rc = wc_seccomp_fail_sync(0, EIO)
        case .fdatasyncFails: rc = wc_seccomp_fail_sync(1, EIO)
        case .fallocateUnsupported: rc = wc_seccomp_fallocate_unsupported()
        case .lockFails: rc = wc_seccomp_ofd_setlk_fails()
        }
        if rc != 0 { die("seccomp filter not installed: \(String(cString: strerror(-rc)))") }
        let argv = Array(args[2...])
        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        execvp(argv[0], cargs)
        die("exec \(argv[0]): \(String(cString: strerror(errno)))")
    }
}
