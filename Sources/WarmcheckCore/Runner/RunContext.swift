#if canImport(Glibc)
import Glibc
#endif
import Foundation
import WarmcheckScenario

/// Settings shared by every case of a run.
public struct RunOptions: Sendable {
    /// Implementations by name (the `--fixture` list).
    public var fixtures: [String: FixtureSpec]
    /// Where segment files go (one per case, removed afterwards).
    public var workDir: String
    /// Seconds to wait for any one fixture response before calling it hung.
    public var timeout: Double = 15
    public var seed: UInt64 = 1
    /// Exploration budget of the linearizability search per case.
    public var linearizabilityStates: Int = 2_000_000
    /// Extra arguments given to every fixture command (`--fault NAME` in the self-test).
    public var extraFixtureArgs: [String: [String]] = [:]
    /// How the one command that reruns a case starts (`warmcheck run` plus the run's flags).
    public var rerunPrefix: String = "warmcheck run"
    /// Where failing cases leave replay files and HTML reports (nil: nowhere).
    public var artifactsDir: String?
    /// The uid and gid the roles' processes run under (docs/DRIVER.md, "Fixture credentials");
    /// nil: warmcheck's. Under root it is a non-zero uid, so that the uids §3 and §5 have
    /// implementations write are worth checking.
    public var fixtureCredentials: FixtureCredentials? = FixtureCredentials.whenRoot

    /// Each implementation's full command, extra arguments (a fault switch) included: what a
    /// replay file records so that it reproduces on its own.
    public var fixtureCommands: [String: [String]] {
        Dictionary(uniqueKeysWithValues: fixtures.map { ($0.key, $0.value.argv + (extraFixtureArgs[$0.key] ?? [])) })
    }

    public init(fixtures: [String: FixtureSpec], workDir: String) {
        self.fixtures = fixtures
        self.workDir = workDir
    }
}

/// One monotonic clock for every call and return of a case (the history's time axis).
enum MonotonicClock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A role's process across restarts: every incarnation's pid is remembered, since provenance
/// written by an earlier incarnation still names the role.
final class RoleProcess {
    let role: String
    /// The implementation playing the role now: an `upgrade:` step replaces it (and `spec`).
    var impl: String
    var spec: FixtureSpec
    /// Every implementation that played the role, oldest first (records the earlier ones wrote
    /// stay in the segment and name them).
    var pastHellos: [Hello] = []
    var fixture: FixtureProcess?
    var pids: [Int64] = []
    /// What the fixture declared in hello: provenance is checked against its language code, and
    /// whether it reports transitions decides whether the transition checker can judge the case.
    var hello = Hello(.null)
    var operations: Set<String> = []
    var pausePoints: Set<String> = []
    /// How long the role's last operation took, call to return (monotonic).
    var lastDurationNs: UInt64 = 0
    var participant: Int?
    /// The minor its open handle speaks when a step named `protocol=`; nil: `hello.protocol`.
    var speaksMinor: Int?
    /// Participant ids of every incarnation: provenance names the writer by participant id and
    /// language (the pid may belong to a wrapper process when a fixture runs behind a shell).
    var participants: [Int] = []
    var rememberedGeneration: UInt64?
    /// The side-by-side segment (`segment=NAME`) its open handle is on, nil: the case's own. Its
    /// operations there are logged and their expectations judged, but they stay out of the
    /// history, the counters, the audits and the transition checker, which all describe the
    /// case's segment.
    var side: String?
    var crashed = false
    /// The fsync policy of its open handle's store, nil: no store (CaseRunner+FailingDisk).
    var storePolicy: String?
    /// Its journal file as a durable operation on a failing disk left it (CaseRunner+FailingDisk).
    var endedJournal: EndedJournal?
    /// The operation stopped at its pause point, waiting for a `resume` step.
    var pending: Pending?
    /// Set by an `ok` close of this process's handle, cleared by its next open
    /// (CaseRunner+ClosedHandles): a handle of another process is a new one.
    var closedHandle: ClosedHandle?

    struct ClosedHandle {
        var process: ObjectIdentifier
        var at: String
    }

    struct Pending {
        var step: OperationStep
        var id: Int64
        var callAt: UInt64
        /// Set when the operation finished without reaching its pause point.
        var finishedEarly: DriverResponse?
        /// The `overlap=true` steps answered while it was paused (CaseRunner+Overlap).
        var overlaps: [OperationStep] = []
    }

    init(role: String, impl: String, spec: FixtureSpec) {
        self.role = role
        self.impl = impl
        self.spec = spec
    }

    /// A role record for a new case around the process of `old`, which has said hello and closed
    /// its segment (a race reuses its processes between schedules): what belongs to the process
    /// carries over, nothing that belongs to the case.
    init(reusing old: RoleProcess) {
        role = old.role
        impl = old.impl
        spec = old.spec
        fixture = old.fixture
        pids = old.fixture.map { [Int64($0.pid)] } ?? []
        hello = old.hello
        operations = old.operations
        pausePoints = old.pausePoints
    }

    /// Starts a new incarnation and says hello.
    func start(timeout: Double, scratchDir: String, runAs: FixtureCredentials?) throws {
        let fx = try FixtureProcess(spec: spec, timeout: timeout, scratchDir: scratchDir, runAs: runAs)
        fixture = fx
        pids.append(Int64(fx.pid))
        hello = Hello(try fx.sayHello(), fallbackName: impl)
        if let p = hello.pid, p != Int64(fx.pid) { pids.append(p) }
        operations = Set(hello.operations)
        pausePoints = Set(hello.pausePoints)
        crashed = false
    }

    func stop() {
        fixture?.stop()
        fixture = nil
    }

    /// Stops several roles' processes: every one is told to stop before any is waited for, so
    /// they exit in parallel rather than one after the other.
    static func stopAll<S: Sequence>(_ roles: S) where S.Element == RoleProcess {
        let all = Array(roles)
        for rp in all { rp.fixture?.closeInput() }
        for rp in all { rp.stop() }
    }
}

/// The step log of a case: what a person reads to see how the failure came about.
struct StepLog {
    private(set) var lines: [String] = []

    mutating func add(_ s: String) { lines.append("\(lines.count + 1). \(s)") }

    func render(last n: Int = 25) -> String {
        let shown = lines.suffix(n)
        var out = ""
        if lines.count > n { out += "   … \(lines.count - n) earlier steps\n" }
        for l in shown { out += "   \(l)\n" }
        return out
    }
}
