// The uid and gid a scenario run's fixtures play under when warmcheck itself runs as root
// (docs/DRIVER.md, "Fixture credentials"). As root every creator's and participant's uid is 0,
// and 0 shifted or cut anywhere is still 0: a uid written or decoded from the wrong bits would
// pass every identity check. Under a non-zero uid with bits above 16 set, it cannot.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

public struct FixtureCredentials: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// 424242 = 0x67932: above 65535, so a uid cut to 16 bits shows too; no account needs to
    /// exist for it.
    public static let unprivileged = FixtureCredentials(uid: 424_242, gid: 424_242)

    /// What a run uses unless told otherwise: `unprivileged` when warmcheck's euid is 0, else
    /// nothing (the fixtures are warmcheck's uid, which is not 0 then).
    public static var whenRoot: FixtureCredentials? { geteuid() == 0 ? .unprivileged : nil }

    public var description: String { "uid \(uid), gid \(gid)" }

    /// `argv` behind setpriv(1) (util-linux), which sets the real, effective and saved ids and
    /// drops the supplementary groups, then execs it: same pid, same process group, same pipes.
    func wrap(_ argv: [String]) throws -> [String] {
        guard let setpriv = Self.setprivPath else {
            throw SpawnError(description: "setpriv (util-linux) was not found: it starts fixtures under \(self) "
                + "when warmcheck runs as root; install it, or pass --fixture-uid harness")
        }
        return [setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"] + argv
    }

    static let setprivPath: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in ["/usr/bin", "/bin"] + path.split(separator: ":").map(String.init) {
            let p = dir + "/setpriv"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }()

    /// `--fixture-uid`: a number (its gid the same), or `harness` for warmcheck's own uid.
    public static func parse(_ s: String) -> FixtureCredentials?? {
        if s == "harness" { return .some(nil) }
        guard let n = UInt32(s) else { return nil }
        return .some(FixtureCredentials(uid: n, gid: n))
    }
}
