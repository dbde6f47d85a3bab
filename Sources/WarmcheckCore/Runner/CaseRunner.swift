#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Harness) import Warmcache
import WarmcheckModel
import WarmcheckScenario
import WarmcheckSegment

/// Runs one expanded scenario case against real fixture processes and judges it: expectations,
/// the transition checker, invariants after every step, counters, coverage, linearizability.
///
/// One responsibility per file: the case's state and its run (here), the roles' processes
/// (+Roles), the sequential and parallel parts (+Parts), one operation step (+Operations) and
/// its request and log line (+Requests), control steps (+ControlSteps) with crashes and
/// restarts (+CrashRestart), the race block (+Race); observation: the history (+History), what
/// answers oblige the segment to show (+Audit), the fixtures' `dump` against the decoder
/// (+DumpCrossCheck); judging: expectations (+Expectations), invariants and counters after each
/// step (+Invariants), and the verdict at the end (+Verdict).
///
/// Threads: the orchestrator runs everything except a parallel part's lists, which run one
/// thread per role. Those threads share what `lock` guards; each touches only its own role's
/// `RoleProcess`. Everything else is the orchestrator's alone.
public final class CaseRunner: @unchecked Sendable {
    let testCase: ScenarioCase
    let options: RunOptions
    let segmentPath: String
    /// Set up by `prepare` before any step runs; not changed while a parallel part runs.
    var roles: [String: RoleProcess] = [:]

    /// Guards `log`, `checker`, `history`, `accounting`, `timeline`, `auditQueue`,
    /// `parallelResults` and `firstLiveUpgradeAt`, which the parallel part's threads all write. Not `findings`: a
    /// finding may be reported while `lock` is held.
    let lock = CheckedLock()
    var log = StepLog()
    var checker = TransitionChecker(initial: .freshSegment)
    /// Checkers of segments a `wipe:` removed (their verdicts still count); the segment a
    /// restore builds next is judged by a fresh checker that knows nothing of its slots.
    var retiredCheckers: [TransitionChecker] = []
    /// The case's durable store (docs/PERSISTENCE.md), next to the segment; removed at cleanup.
    var storeDir: String { segmentPath + ".store" }
    var history: [CacheOperation] = []
    /// Keys a durable operation answered `durable: false` for since the last wipe, and the keys
    /// a wipe left with such an answer: their history ends at the wipe (CaseRunner+FailingDisk).
    var undurableKeys: Set<[UInt8]> = []
    var wipedUndurableKeys: Set<[UInt8]> = []
    /// A `store_disk: full` is in force (CaseRunner+FailingDisk).
    var storeDiskFull = false
    /// The `ns_*` answers (and handle replacements) for the namespace model (CaseRunner+Namespaces).
    var namespaceHistory: [NamespaceOperation] = []
    /// Slot removals plain operations reported: namespace entries may vanish there (§18.6).
    var slotDisturbances: [SlotDisturbance] = []
    var accounting = Accounting()
    /// Calls, pauses, transitions and answers per process, for the HTML failure report.
    public internal(set) var timeline: [Timeline.Event] = []
    /// What answered operations oblige the next segment snapshot to show (CaseRunner+Audit).
    var auditQueue = AuditQueue()
    var parallelResults: [(op: WarmcheckScenario.Operation, response: DriverResponse?)] = []
    /// When the first `upgrade:` replaced a process while the segment existed (the timeline's
    /// clock): misses from then on that nothing explains are the upgrade's (CaseRunner+Verdict).
    var firstLiveUpgradeAt: UInt64?

    /// Guards `findings`, which any thread may add to (`addFinding`).
    let findingsLock = NSLock()
    var findings: [Finding] = []

    // The orchestrator's alone.
    /// Set for race cases: decides who moves next at each pause (see Schedule/).
    public var scheduler: RecordingScheduler?
    /// Indices of the race block's `sometimes` goals this execution reached.
    public internal(set) var goalsReached: Set<Int> = []
    /// The race kills of this execution (`kills: N`), as `ROLE@POINT`.
    public internal(set) var killsAt: [String] = []
    var reportedViolations = 0
    /// Slots the scenario damaged on purpose (`corrupt:`): their bad checksum is expected.
    var corrupted: Set<String> = []
    /// Slots given an impossible state word on purpose (`corrupt_state:`), as `shard S slot J`:
    /// no transition leaves one (§9.9 step 4), so the decoder's and the transition checker's
    /// complaints about them are expected.
    var poisoned: Set<String> = []
    /// Copies a `duplicate:` step made of a key's slot, as `shard S slot J`: the decoder's
    /// duplicate-key complaint about them is expected, and the transition checker does not
    /// watch them (a copy appears without a transition).
    var duplicated: Set<String> = []
    /// Per role, the journal file its last acknowledged durable put or refresh went to, while
    /// nothing that may end a part came since (CaseRunner+JournalAudit `checkSamePart`).
    var journalParts: [String: (process: ObjectIdentifier, file: String, at: String)] = [:]
    /// Slots a `collide:` step made into another key of the same `key_hash`, while they still
    /// hold it (CaseRunner+Collisions).
    var collisions: [SlotAt: CollidedSlot] = [:]
    /// The refusal code of a future-version image a `create future=` step made (PROTOCOL.md §14):
    /// the decoder's snapshot refusing it with exactly this code is expected, not a failure.
    var futureRefusal: String?
    var simNow: UInt64 = 0
    var silentRemovalPossible = false
    /// Set by `patch_header:`: the segment now claims another version, which the case's own
    /// expectations judge; the decoder-based invariant checks describe the unpatched segment.
    var headerPatched = false
    /// A sequential `stats` answer, judged against the next snapshot (CaseRunner+StatsAnswer).
    var statsToCheck: StatsAnswerToCheck?
    var participantsToCheck: ParticipantsAnswerToCheck?
    var lastSnapshot: SegmentSnapshot?
    /// Participant indices whose `claim_hint` a `patch_hint:` step rewrote, with the entry's
    /// epoch then: while it stays, the owner's rules (CaseRunner+ParticipantWords) do not
    /// describe the word; the next registrant's do again.
    var participantWordsPatched: [Int: UInt64] = [:]
    /// CLOCK_REALTIME when the case was set up, before any of its processes ran: the earliest
    /// time stamp an answer of the case can have written (TimeStampAudit).
    let startedRealtimeNs = RealtimeWindow.now()
    /// The previous snapshot's `generation`, when nothing was under way then (CaseRunner+Generation).
    var generationBaseline: GenerationBaseline?
    /// Whose `dump` the decoder is compared with next.
    var dumpTurn = 0
    /// The rotation of `get`'s `via` (CaseRunner+GetPaths): each get step's place among the
    /// scenario's gets, the case's offset, and (under `lock`) how many gets took each path.
    let getOrdinals: [SourceLocation: Int]
    let getViaSalt: UInt64
    var getViaCounts: [String: Int] = [:]
    /// The `sim_clock_ns` the harness last had written (a create's start, an `advance`), for
    /// the `now` check; nil: the scenario's start.
    var lastSimClock: UInt64?

    /// A reason the case fails, with the prose that explains it.
    struct Finding {
        var kind: Kind
        var summary: String
        var details: String
        enum Kind { case conformance, harness, skip, inconclusive }
        /// When it was found, on the timeline's clock: the report highlights the last event
        /// before it, unless `event` names the offending event's time exactly.
        var at: UInt64 = MonotonicClock.now()
        var event: UInt64?
    }

    struct Abort: Error {}

    /// Processes to play the roles instead of starting new ones (set before `run`; a race
    /// passes one schedule's processes to the next), and, after `run` with
    /// `handOverProcesses`, the ones this execution left open for the next.
    var reuse: [String: RoleProcess] = [:]
    var handOverProcesses = false

    public init(_ c: ScenarioCase, options: RunOptions) {
        testCase = c
        self.options = options
        let safe = String(c.scenario.name.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
        segmentPath = (options.workDir as NSString).appendingPathComponent(
            "wc-\(safe)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).seg")
        if case .simulated(let start) = c.scenario.clock { simNow = start }
        // A scenario built in code rather than parsed has no ordinals yet.
        getOrdinals = c.scenario.getOrdinals.isEmpty ? c.scenario.countedGets : c.scenario.getOrdinals
        getViaSalt = CaseRunner.viaSalt(of: c.name)
    }

    var scenario: Scenario { testCase.scenario }

    public func run() -> CaseResult {
        let started = Date()
        defer { cleanup() }
        do {
            try prepare()
            try runSequential(scenario.initSteps, part: "init")
            if scenario.hasParallelPart { try runParallel() }
            if let race = scenario.race { try runRace(race) }
            try runSequential(scenario.finalSteps, part: "final")
            checkCoverage()
            checkTransitions()
            checkLinearizability()
            checkNamespaces()
            closeHandlesAndCheckDescriptors()
        } catch is Abort {
            // A finding already says why.
        } catch {
            findings.append(Finding(kind: .harness, summary: "\(error)", details: "\(error)"))
        }
        // Counted also when a failure stopped the case early: the count is the upgrade's verdict.
        let upgradeMisses = checkUpgradeMisses()
        var r = result(seconds: Date().timeIntervalSince(started))
        if let upgradeMisses { r.stats["upgrade_misses"] = upgradeMisses }
        for (via, n) in getViaCounts { r.stats["get_via_\(via)"] = n }
        // DRIVER.md "The get paths": a fixture that routes fewer paths says so in every report.
        let partial = Set(roles.values.filter { $0.hello.getVia.count < Hello.getPaths.count }
            .map { "\($0.impl) routes only \($0.hello.getVia.joined(separator: ", "))" })
        if !partial.isEmpty && r.verdict != .skip {
            r.notes.append("get paths not all driven (hello.get_via): \(partial.sorted().joined(separator: "; "))")
        }
        if !untraced.isEmpty && r.verdict != .skip {
            r.notes.append("transitions not reported by \(untraced.joined(separator: ", ")) (hello.trace is not true): "
                + "the state machine, the segment snapshots and `covers` were not checked")
        }
        return r
    }

    // MARK: - findings

    /// Records a harness finding (a fixture that crashed, hung or answered garbage) and unwinds
    /// the case: nothing after it would be meaningful.
    func harness(_ summary: String, _ details: String) throws -> Never {
        addFinding(Finding(kind: .harness, summary: summary, details: details))
        throw Abort()
    }

    func conformance(_ summary: String, _ details: String, event: UInt64? = nil) {
        addFinding(Finding(kind: .conformance, summary: summary, details: details, event: event))
    }

    /// Findings come from the parallel roles' threads too, hence their own lock (`lock` may
    /// already be held by the caller).
    func addFinding(_ f: Finding) {
        findingsLock.lock()
        findings.append(f)
        findingsLock.unlock()
    }
}
