// The scenario model (docs/SCENARIOS.md): what a parsed scenario file is, in types the runner
// consumes directly. Nothing here does I/O; ScenarioParser builds these values.

import Foundation
import WarmcheckSegment

/// A position in a scenario file (1-based line and column, columns in Unicode scalars).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `FILE:LINE:COL`.
    public var description: String { "\(file):\(line):\(column)" }
}

/// One parsed scenario file.
public struct Scenario: Sendable, Hashable {
    /// `name:` or the file name without `.yaml`.
    public var name: String
    /// `description:` (empty if absent).
    public var description: String
    /// Events of PROTOCOL.md §8.2 the case must observe (`covers:`), as spelled there.
    public var covers: [String]
    public var geometry: Geometry
    public var clock: ScenarioClock
    /// Roles in declaration order with the implementations allowed to play them.
    public var processes: [RoleDeclaration]
    public var expand: ExpandMode
    /// `init:`: sequential steps run first, in order.
    public var initSteps: [Step]
    /// `parallel:`: one list per role (in file order); the lists run concurrently.
    public var parallel: [ParallelList]
    /// `final:`: sequential steps run after every parallel list finished.
    public var finalSteps: [Step]
    /// The file this scenario was read from (as given to the parser).
    public var file: String
    /// Where the scenario's top-level mapping starts.
    public var location: SourceLocation

    /// `race:`: operations run under a scheduler that picks, at every pause point, who moves next.
    public var race: RaceBlock?
    /// `disk:`: roles whose process runs on a failing disk (PERSISTENCE.md §6).
    public var disks: [String: DiskFault] = [:]

    public init(name: String, description: String = "", covers: [String] = [],
                geometry: Geometry = .default, clock: ScenarioClock = .default,
                processes: [RoleDeclaration], expand: ExpandMode = .pairs,
                initSteps: [Step] = [], parallel: [ParallelList] = [], finalSteps: [Step] = [],
                race: RaceBlock? = nil, file: String, location: SourceLocation) {
        self.race = race
        self.name = name
        self.description = description
        self.covers = covers
        self.geometry = geometry
        self.clock = clock
        self.processes = processes
        self.expand = expand
        self.initSteps = initSteps
        self.parallel = parallel
        self.finalSteps = finalSteps
        self.file = file
        self.location = location
    }

    /// Role names in declaration order.
    public var roles: [String] { processes.map(\.role) }

    /// True if the scenario has a non-empty `parallel:` part.
    public var hasParallelPart: Bool { parallel.contains { !$0.steps.isEmpty } }

    /// Every operation of the scenario (init, then parallel lists in order, then final).
    /// Each `get` step's place among the scenario's gets in file order, fixed when the file is
    /// parsed: the rotation of `get`'s `via` goes by it (consecutive gets take consecutive
    /// paths), and a replay whose minimization dropped race operations keeps every other get's
    /// place, so it sends each get by the same path.
    public var getOrdinals: [SourceLocation: Int] = [:]

    /// `getOrdinals` of the scenario as it stands.
    public var countedGets: [SourceLocation: Int] {
        var out: [SourceLocation: Int] = [:]
        for o in allOperations where o.op == .get && out[o.location] == nil { out[o.location] = out.count }
        return out
    }

    public var allOperations: [OperationStep] {
        (initSteps + parallel.flatMap(\.steps) + (race?.ops.flatMap(\.steps) ?? []) + finalSteps).compactMap(\.operation)
    }

    /// The builds `upgrade:` steps switch roles to (`rust`, `go@1.0`), for the run to provide.
    public var upgradeTargets: Set<String> {
        var out = Set<String>()
        for st in initSteps + parallel.flatMap(\.steps) + finalSteps {
            if case .control(let c) = st, case .upgrade(_, let to) = c.kind { out.insert(to) }
        }
        return out
    }

    /// Whether a `store_disk:` step needs the store on its own tiny file system.
    public var fillsStoreDisk: Bool {
        (initSteps + finalSteps).contains { if case .control(let c) = $0, case .storeDisk = c.kind { return true } else { return false } }
    }

    /// Whether an operation of `role` goes to a handle the role closed (DRIVER.md "After
    /// close"): a capability a fixture declares (`after_close` in hello.operations), since a
    /// fixture of the contract before it drops its handle at `close`. Steps are taken in file
    /// order; a restart, start or upgrade of the role, or an open-type operation, opens anew.
    public func usesClosedHandle(role: String) -> Bool {
        var closed = false
        for st in initSteps + parallel.flatMap(\.steps) + (race?.ops.flatMap(\.steps) ?? []) + finalSteps {
            switch st {
            case .control(let c):
                switch c.kind {
                case .restart(let r), .start(let r), .upgrade(let r, _): if r == role { closed = false }
                default: break
                }
            case .operation(let o) where o.role == role:
                if o.op == .close { closed = true } else if [.create, .open, .openOrCreate, .restore].contains(o.op) { closed = false } else if closed && o.op != .compact && o.op != .resume { return true }
            default:
                break
            }
        }
        return false
    }

    /// Distinct operations the scenario uses, sorted (for matching against a fixture's `hello`).
    public var operationsUsed: Set<Operation> { Set(allOperations.map(\.op)) }

    /// Pause points (`crash_at=`, `pause_at=`) the scenario's steps of `role` use (nil: every
    /// role), to match against a fixture's `hello.pause_points`.
    public func pausePointsUsed(role: String? = nil) -> Set<String> {
        Set(allOperations.filter { role == nil || $0.role == role }.compactMap(\.pausePoint))
    }

    /// The event names PROTOCOL.md §8.2 defines (valid in `covers:`), read once from
    /// spec/vocabulary.json.
    public static let knownEvents: [String] = (try? Vocabulary.standard.get())?.events ?? []
}

/// The segment geometry `create` and `open_or_create` use (PROTOCOL.md §3).
public struct Geometry: Sendable, Hashable {
    public var shards: Int
    public var slots: Int
    public var keyCapacity: Int
    public var valueCapacity: Int
    public var window: Int
    public var participants: Int

    public init(shards: Int, slots: Int, keyCapacity: Int, valueCapacity: Int, window: Int, participants: Int) {
        self.shards = shards
        self.slots = slots
        self.keyCapacity = keyCapacity
        self.valueCapacity = valueCapacity
        self.window = window
        self.participants = participants
    }

    /// PROTOCOL.md §3's default: 16 × 64 slots, key 64 B, value 1024 B, window 8, 64 participants.
    public static let `default` = Geometry(shards: 16, slots: 64, keyCapacity: 64, valueCapacity: 1024,
                                           window: 8, participants: 64)

    /// The first geometry rule of PROTOCOL.md §3 this geometry violates, or nil.
    public var violatedRule: String? { violation.map { "rule \($0.rule): \($0.text)" } }

    /// The first geometry rule of PROTOCOL.md §3 this geometry violates, by its number in the
    /// table (1–6 bound the fields, 8 bounds total_len; rule 7 concerns stored derived words,
    /// which a geometry to create does not have).
    public var violation: (rule: Int, text: String)? {
        if !(1...65536).contains(shards) { return (1, "1 ≤ shards ≤ 65536") }
        if !(1...65536).contains(slots) { return (2, "1 ≤ slots ≤ 65536") }
        if !(8...4096).contains(keyCapacity) || keyCapacity % 8 != 0 { return (3, "8 ≤ key_capacity ≤ 4096, multiple of 8") }
        if !(8...1_048_576).contains(valueCapacity) || valueCapacity % 8 != 0 {
            return (4, "8 ≤ value_capacity ≤ 1048576, multiple of 8")
        }
        if window < 1 || window > min(slots, 64) { return (5, "1 ≤ window ≤ min(slots, 64)") }
        if !(1...4096).contains(participants) { return (6, "1 ≤ participants ≤ 4096") }
        if totalLen > 1 << 40 { return (8, "total_len ≤ 2^40 (it would be \(totalLen))") }
        return nil
    }

    /// `shards_offset + shards * shard_size` (PROTOCOL.md §3, §7). Only meaningful once rules
    /// 1–6 hold, which keep it far below 2^63.
    public var totalLen: Int {
        let slotSize = (64 + keyCapacity + 2 * (64 + valueCapacity) + 63) / 64 * 64
        let shardsOffset = (4096 + participants * 64 + 4095) / 4096 * 4096
        return shardsOffset + shards * (256 + slots * slotSize)
    }

    /// The geometry keys of `geometry:` and of a `create` step's overrides, with their fields.
    public static var fields: [(name: String, path: WritableKeyPath<Geometry, Int>)] {
        [("shards", \.shards), ("slots", \.slots), ("key_capacity", \.keyCapacity),
         ("value_capacity", \.valueCapacity), ("window", \.window), ("participants", \.participants)]
    }
}

/// The segment's clock: simulated (feature SIM_CLOCK, starting at a value) or CLOCK_REALTIME.
public enum ScenarioClock: Sendable, Hashable {
    /// `clock: DURATION`: SIM_CLOCK segment whose `sim_clock_ns` starts at this many nanoseconds.
    case simulated(startNs: UInt64)
    /// `clock: real`.
    case real

    /// `1000s`.
    public static let `default` = ScenarioClock.simulated(startNs: 1_000 * 1_000_000_000)
}

/// Which implementations may play a role (`any` or an explicit list).
public enum AllowedImplementations: Sendable, Hashable {
    case any
    case only([String])

    /// The allowed implementations among `available`, in the order of `available`.
    public func filter(_ available: [String]) -> [String] {
        switch self {
        case .any: return available
        case .only(let list): return available.filter { list.contains($0) }
        }
    }
}

/// How a role's disk fails (`disk: {ROLE: FAULT}`): the role's process runs under a seccomp
/// filter that makes these calls fail with EIO from its start (docs/SCENARIOS.md, PERSISTENCE.md §6).
public enum DiskFault: String, Sendable, Hashable, CaseIterable {
    /// fsync, fdatasync, sync_file_range, syncfs and msync fail: nothing is ever confirmed.
    case syncFails = "sync_fails"
    /// fdatasync fails, fsync works: the record sync of §6 step 3 fails, a journal's start need not.
    case fdatasyncFails = "fdatasync_fails"
    /// fallocate fails with EOPNOTSUPP, as on a file system without it: a create must take
    /// PROTOCOL.md §4.1 step 3's fallback (ftruncate, a zero byte per page) and still leave no
    /// hole. The syncs work.
    case fallocateUnsupported = "fallocate_unsupported"
    /// fcntl(F_OFD_SETLK) fails with ENOLCK, as on a kernel out of lock space: an open must fail
    /// with `io` when it cannot take a participant lock for that reason (PROTOCOL.md §5), and
    /// release what it took. The syncs work.
    case lockFails = "lock_fails"
}

/// One entry of `processes:`: a role and the implementations allowed to play it.
public struct RoleDeclaration: Sendable, Hashable {
    public var role: String
    public var allowed: AllowedImplementations
    public var location: SourceLocation

    public init(role: String, allowed: AllowedImplementations, location: SourceLocation) {
        self.role = role
        self.allowed = allowed
        self.location = location
    }
}

/// How a scenario is expanded over implementations (`expand:`).
public enum ExpandMode: String, Sendable, Hashable, CaseIterable {
    /// Every combination of the roles' allowed implementations.
    case pairs
    /// One case per implementation, playing every role.
    case same
    /// The `same` cases plus every case where exactly one role plays a different implementation.
    case diagonalPlusOne = "diagonal+one"
}

/// One role's list of the `parallel:` part.
public struct ParallelList: Sendable, Hashable {
    public var role: String
    public var steps: [Step]
    public var location: SourceLocation

    public init(role: String, steps: [Step], location: SourceLocation) {
        self.role = role
        self.steps = steps
        self.location = location
    }
}

/// A step: an operation sent to a role's fixture, or a control step run by the orchestrator.
public enum Step: Sendable, Hashable {
    case operation(OperationStep)
    case control(ControlStep)

    public var location: SourceLocation {
        switch self {
        case .operation(let o): return o.location
        case .control(let c): return c.location
        }
    }

    /// The operation, if this is an operation step.
    public var operation: OperationStep? {
        if case .operation(let o) = self { return o }
        return nil
    }

    /// The control step, if this is one.
    public var control: ControlStep? {
        if case .control(let c) = self { return c }
        return nil
    }
}

/// The operations a step may ask a fixture for (docs/SCENARIOS.md; raw values are DRIVER.md op names).
public enum Operation: String, Sendable, Hashable, CaseIterable, Comparable {
    case create, open
    case openOrCreate = "open_or_create"
    case close, get, put, refresh, invalidate, evict, stats, generation, wait
    /// `ROLE: restore`: open the segment, or rebuild it from the case's durable store when it is
    /// missing or unusable (docs/PERSISTENCE.md §7). Answers `created` = restored.
    case restore
    /// `ROLE: resume`: continue the role's operation paused at its `pause_at=` point
    /// (DRIVER.md "Pausing at a pause point"). Its `expect:` is judged against the response of
    /// that paused operation. Only allowed in sequential parts, after a step with `pause_at=`.
    case resume
    /// The namespace operations of PROTOCOL.md §18 (1.1; DRIVER.md "Namespaces"), each with
    /// `ns=N` (default 0): `ns_put KEY VALUE`, `ns_get KEY`, the others no positional argument.
    case nsStage = "ns_stage"
    case nsPut = "ns_put"
    case nsFlip = "ns_flip"
    case nsRollback = "ns_rollback"
    case nsPin = "ns_pin"
    case nsUnpin = "ns_unpin"
    case nsGet = "ns_get"
    case nsReclaim = "ns_reclaim"
    case nsState = "ns_state"
    /// `ROLE: compact`: fold the case's durable store into a snapshot (docs/PERSISTENCE.md §8).
    /// Answers `created` = a snapshot was written (false when no journal could be covered).
    case compact
    /// `ROLE: repair`: PROTOCOL.md §9.9 through the role's handle (DRIVER.md `repair`). Judged
    /// by `locks_freed=N reclaimed=N quarantined=N unrepairable=N quarantined_total=N`; the
    /// runner also checks that every quarantined slot is one the scenario damaged.
    case repair
    /// `ROLE: get_many KEY KEY …`: the library's batched get (DRIVER.md `get_many`), one get
    /// answer per key, each judged as the get of that key would be. `range:P:LO:HI` among the
    /// keys stands for the keys P‹LO› … P‹HI−1›, for batches across the libraries' chunks.
    case getMany = "get_many"
    /// `ROLE: participants`: the library's participant listing (DRIVER.md `participants`). A
    /// sequential one is read back against the participant table (CaseRunner+ParticipantsAnswer).
    case participants

    public static func < (a: Operation, b: Operation) -> Bool { a.rawValue < b.rawValue }

    /// The §18 operations, which the namespace model judges (not the per-key cache model).
    public var isNamespaceOperation: Bool { rawValue.hasPrefix("ns_") }

    /// False for `resume`: it is not an operation of its own (fixtures do not list it in
    /// `hello.operations`; it is only valid while the fixture is paused). Needing `pause_at=` is
    /// what a case requires of a fixture instead: see `OperationStep.pausePoint`.
    public var isListedInHello: Bool { self != .resume }

    /// Number of positional arguments: key (get, invalidate, evict), key and value (put, refresh).
    public var positionalCount: Int {
        switch self {
        case .get, .invalidate, .evict, .nsGet: return 1
        case .put, .refresh, .nsPut: return 2
        default: return 0
        }
    }

    /// Options this operation accepts (`crash_at` and `pause_at` are accepted by every operation
    /// except `resume`, which takes none).
    public var allowedOptions: [String] {
        switch self {
        case .create: return ["group", "crash_at", "pause_at", "fast_checksum", "protocol", "future", "store", "fsync",
                               "fsync_interval", "segment"] + Geometry.fields.map(\.name)
        case .openOrCreate: return ["crash_at", "pause_at", "fast_checksum", "protocol", "store", "fsync",
                                    "fsync_interval", "segment"] + Geometry.fields.map(\.name)
        case .open: return ["crash_at", "pause_at", "protocol", "store", "fsync",
                            "fsync_interval", "segment"]
        case .restore: return ["crash_at", "pause_at", "fsync", "fsync_interval"] + Geometry.fields.map(\.name)
        case .put, .refresh: return ["ttl", "grace", "origin", "version", "crash_at", "pause_at", "durable", "overlap"]
        case .invalidate, .evict: return ["crash_at", "pause_at", "durable", "overlap"]
        case .get: return ["crash_at", "pause_at", "overlap"]
        case .getMany: return ["crash_at", "pause_at"]
        case .wait: return ["timeout", "seen", "crash_at", "pause_at"]
        case .resume: return []
        case .nsUnpin: return ["crash_at", "pause_at"]
        case .nsStage, .nsPut, .nsFlip, .nsRollback, .nsPin, .nsGet, .nsReclaim, .nsState: return ["ns", "crash_at", "pause_at"]
        default: return ["crash_at", "pause_at"]
        }
    }
}

/// A `name=value` option of an operation step, typed by its name.
public enum OptionValue: Sendable, Hashable {
    /// `ttl=`, `grace=`, `timeout=` (nanoseconds).
    case duration(UInt64)
    /// `origin=`, `version=`, `seen=`.
    case integer(UInt64)
    /// `group=`.
    case bool(Bool)
    /// `crash_at=`, `pause_at=` (a fixture pause point of PROTOCOL.md §17 such as `put.after_claim`).
    case string(String)
}

/// An operation sent to ROLE's fixture, with what the response must show.
public struct OperationStep: Sendable, Hashable {
    public var role: String
    public var op: Operation
    /// The key (get, put, refresh, invalidate, evict), nil for the others.
    public var key: [UInt8]?
    /// The value (put, refresh), nil for the others.
    public var value: [UInt8]?
    /// Options by name (`ttl`, `grace`, `origin`, `version`, `group`, `timeout`, `seen`, `crash_at`,
    /// `pause_at`).
    public var options: [String: OptionValue]
    /// Expectations, in the order written. Empty: only a non-`error` response is required.
    public var expect: [Expectation]
    public var location: SourceLocation
    /// The step's text as written (`put k1 v1 ttl=10s`), for reports.
    public var text: String
    /// The keys of a `get_many`, in order (`range:` expanded), nil for the others.
    public var keys: [[UInt8]]?

    public init(role: String, op: Operation, key: [UInt8]? = nil, value: [UInt8]? = nil,
                options: [String: OptionValue] = [:], expect: [Expectation] = [],
                location: SourceLocation, text: String) {
        self.role = role
        self.op = op
        self.key = key
        self.value = value
        self.options = options
        self.expect = expect
        self.location = location
        self.text = text
    }

    /// `ttl=` in nanoseconds (nil: not given, i.e. never expires).
    public var ttlNs: UInt64? { options["ttl"]?.durationValue }
    /// `grace=` in nanoseconds.
    public var graceNs: UInt64? { options["grace"]?.durationValue }
    /// `origin=`.
    public var origin: UInt64? { options["origin"]?.integerValue }
    /// `version=` (explicit data version; nil: automatic).
    public var version: UInt64? { options["version"]?.integerValue }
    /// `timeout=` of `wait` in nanoseconds (nil: runner's default).
    public var timeoutNs: UInt64? { options["timeout"]?.durationValue }
    /// `seen=` of `wait` (nil: the role's remembered generation).
    public var seen: UInt64? { options["seen"]?.integerValue }
    /// `group=true` of `create`.
    public var group: Bool { options["group"]?.boolValue ?? false }
    /// `fast_checksum=true` of `create` / `open_or_create`: feature FAST_CHECKSUM (PROTOCOL.md §2).
    public var fastChecksum: Bool { options["fast_checksum"]?.boolValue ?? false }
    /// `protocol=1.0` of `create` / `open` / `open_or_create`: the version the handle speaks.
    public var protocolVersion: String? { options["protocol"]?.stringValue }
    /// `future=minor|incompat|major` of `create`: a future-version test image (PROTOCOL.md §14).
    public var future: String? { options["future"]?.stringValue }
    /// `segment=NAME` of `create`/`open`/`open_or_create`: a side-by-side segment of the case
    /// (a major migration's new segment) instead of the case's own (docs/SCENARIOS.md).
    public var segment: String? { options["segment"]?.stringValue }
    /// `durable=true` of a write or removal: journaled into the case's store (PERSISTENCE.md §6).
    public var durable: Bool { options["durable"]?.boolValue ?? false }
    /// `store=true` of `create`/`open`/`open_or_create`: the handle journals into the case's store.
    public var store: Bool { options["store"]?.boolValue ?? false }
    /// `fsync=` policy of the store (`always`, `interval`, `none`; default `always`).
    public var fsync: String? { options["fsync"]?.stringValue }
    /// `fsync_interval=` (with `fsync=interval`): the timer's period, sent as `fsync_interval_ms`
    /// (DRIVER.md "The durable store"; default 1 s).
    public var fsyncIntervalMs: UInt64? { options["fsync_interval"]?.durationValue.map { max(1, $0 / 1_000_000) } }
    /// `ns=` of a namespace operation (PROTOCOL.md §18): the namespace index, default 0.
    public var namespace: UInt64 { options["ns"]?.integerValue ?? 0 }
    /// `crash_at=`: the fixture kills itself at this pause point (expect `unknown`).
    public var crashAt: String? { options["crash_at"]?.stringValue }
    /// `pause_at=`: the fixture stops at this pause point (DRIVER.md "Pausing at a pause point")
    /// until the role's next step, which is always `ROLE: resume`. Never inside `parallel`.
    public var pauseAt: String? { options["pause_at"]?.stringValue }
    /// `overlap=true` of a get, put, refresh, invalidate or evict: sent while the role's operation
    /// is paused, it runs on the same handle with that one still in flight (DRIVER.md "Two
    /// operations of one handle"), so the handle has two operations in flight at once.
    public var overlap: Bool { options["overlap"]?.boolValue ?? false }
    /// The pause point this step needs the fixture to offer (`hello.pause_points`): `pause_at=`
    /// or `crash_at=` (the parser refuses both on one step).
    public var pausePoint: String? { pauseAt ?? crashAt }

    /// The geometry a `create` / `open_or_create` sends: the scenario's, with this step's
    /// `shards=`, `slots=`, … overrides (the only way to send a geometry the spec refuses).
    public func geometry(over base: Geometry) -> Geometry {
        var g = base
        for f in Geometry.fields { if let v = options[f.name]?.integerValue { g[keyPath: f.path] = Int(v) } }
        return g
    }
}

extension OptionValue {
    public var durationValue: UInt64? { if case .duration(let v) = self { return v }; return nil }
    public var integerValue: UInt64? { if case .integer(let v) = self { return v }; return nil }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }
}

/// A control step run by the orchestrator itself.
public struct ControlStep: Sendable, Hashable {
    public var kind: ControlKind
    public var location: SourceLocation

    public init(kind: ControlKind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}

/// What a control step does (docs/SCENARIOS.md, "Control steps").
public enum ControlKind: Sendable, Hashable {
    /// `advance: D`: move the segment's simulated clock forward by D nanoseconds.
    case advance(ns: UInt64)
    /// `sleep: D`: real sleep (inside a parallel list: of that role).
    case sleep(ns: UInt64)
    /// `restart: ROLE`: close ROLE's process, start a new one of the same implementation, `open`.
    case restart(role: String)
    /// `upgrade: ROLE to=IMPL[@VERSION]`: close ROLE's process, start one of another
    /// implementation or release build (`rust`, `go@1.0`), `open`; the segment stays.
    case upgrade(role: String, to: String)
    /// `patch_header: FIELD:VALUE,…`: the orchestrator rewrites the header's version or feature
    /// words (major/minor set, *_bits OR-ed in) and reseals its checksum. Only in `final`.
    case patchHeader([HeaderWord])
    /// `crash: ROLE`: SIGKILL ROLE's process.
    case crash(role: String)
    /// `start: ROLE`: start ROLE's process again after a crash and `open` the segment.
    case start(role: String)
    /// `check: {...}`: a check over the parallel part's results (only in `final`).
    case check(ScenarioCheck)
    /// `wipe: segment`: the orchestrator removes the segment file, as a reboot wipes tmpfs
    /// (docs/PERSISTENCE.md §7); processes that have it mapped keep their old inode.
    case wipe
    /// `store_disk: full` / `store_disk: room`: the store's file system (a tiny tmpfs the
    /// harness mounts at the store directory for such a scenario) is filled to its last page,
    /// so that the next write needing a new page fails with ENOSPC, or that room is given back
    /// (PERSISTENCE.md §6). Only in sequential parts.
    case storeDisk(full: Bool)
    /// `corrupt: KEY`: the orchestrator flips one byte of KEY's current value (`record[A]` of
    /// the slot holding KEY) inside the segment, leaving its checksum as it was, so that readers
    /// must notice the mismatch. Only in sequential parts.
    case corrupt(key: [UInt8])
    /// `remove_segment: NAME`: the orchestrator unlinks the case's segment (`main`) or a side
    /// segment (`segment=NAME`), as an operator removes an old one; processes that still have it
    /// mapped keep their inode. Only in sequential parts.
    case removeSegment(name: String)
    /// `corrupt_state: KEY`: the orchestrator writes an impossible state word (state code 7, no
    /// state of §8.1) into the slot holding KEY, so that readers miss it and a repair reports it
    /// unrepairable (PROTOCOL.md §9.9 step 4). Only in sequential parts.
    case corruptState(key: [UInt8])
    /// `duplicate: KEY`: the orchestrator copies the readable slot holding KEY (state word, key
    /// and both records) into the first EMPTY slot after it in its window, so that KEY is in two
    /// readable slots (invariant 1 broken) while a `get` still finds the original first, and
    /// `dump` must list the original only and report the copy (PROTOCOL.md §13.1). Only in
    /// `final`, and the rest of `final` only reads (the model does not follow a copy that a
    /// removal of the original would uncover). `duplicate: KEY wrapped` puts the copy where the
    /// window wraps past the shard's end instead: later in window order but at a lower slot
    /// index, so that a scan in slot order meets the copy first and must still keep the original.
    case duplicate(key: [UInt8], wrapped: Bool)
    /// `patch_ns: NS last=N`: the orchestrator raises namespace NS's `last` (PROTOCOL.md §18.2)
    /// to N, so the next stage hands out N + 1 (or, at 2^32 − 1, fails `full`). Only in
    /// sequential parts, with no stage of NS open.
    case patchNamespace(ns: Int, last: UInt64)
    /// `collide: KEY as=OTHER`: the orchestrator rewrites the key of the readable slot holding
    /// KEY (key_len and key bytes) to OTHER's, keeping KEY's `key_hash`, so that the slot is what
    /// a key OTHER' with WCH64(OTHER') = WCH64(KEY) would have written: a lookup of KEY meets the
    /// same hash, and must compare the bytes to see another key (PROTOCOL.md §9.1). Only in
    /// sequential parts.
    case collide(key: [UInt8], as: [UInt8])
    /// `patch_hint: ROLE FIELD=VALUE…`: the orchestrator rewrites the `claim_hint` of the entry
    /// ROLE's dead process registered (§5.1), `hint_epoch` untouched, so that the next
    /// registrant at that index meets a hint its dead predecessor seemingly kept. Only in
    /// sequential parts, and only while ROLE is crashed.
    case patchHint(role: String, hint: HintPatch)
}

/// The `claim_hint` a `patch_hint:` step writes (PROTOCOL.md §5.1). `shard` and `home` may name
/// the geometry's first value out of range (`shard_count`, `slots_per_shard`), resolved against
/// the segment when the step runs.
public struct HintPatch: Sendable, Hashable {
    public enum Field: Sendable, Hashable {
        case value(UInt64)
        case shardCount
        case slotsPerShard
    }
    public static let fields = ["in_flight", "shard", "home", "wide", "reserved"]
    public var inFlight: UInt64 = 1
    public var shard: Field = .value(0)
    public var home: Field = .value(0)
    public var wide = false
    /// Bits 49..63 (must be zero, §13): OR-ed in as given (shifted to bit 49).
    public var reserved: UInt64 = 0
    public init() {}
}

/// One word of a `patch_header:` step.
public struct HeaderWord: Sendable, Hashable {
    public static let fields = ["major", "minor", "incompat_bits", "compat_bits"]
    public var field: String
    public var value: UInt64
    public init(field: String, value: UInt64) {
        self.field = field
        self.value = value
    }
}

/// A `check:` of the final part.
public enum ScenarioCheck: Sendable, Hashable {
    /// `created_once: OP`: exactly one of the parallel calls of OP answered `created`.
    case createdOnce(Operation)
}

/// A stats counter name (PROTOCOL.md §6), as used in `NAME=N` after `stats`.
public enum StatsCounter: String, Sendable, Hashable, CaseIterable {
    case hits, misses
    case staleHits = "stale_hits"
    case inserts, refreshes, evictions, invalidations, expirations, reclaims
}

/// One expectation token of a step's `expect:`. Any token other than `fail`/`unknown` implies
/// the outcome `ok`.
public enum Expectation: Sendable, Hashable {
    /// `ok`.
    case ok
    /// `fail` (reason nil: any reason) or `fail(REASON)`.
    case fail(reason: String?)
    /// `unknown`.
    case unknown
    /// `hit` (fresh or stale).
    case hit
    /// `miss`.
    case miss
    /// `stale` (implies hit).
    case stale
    /// `fresh` (implies hit).
    case fresh
    /// `created` (true) / `not_created` (false): `put`, `refresh`, `open_or_create`.
    case created(Bool)
    /// `removed` / `not_removed`: `invalidate`, `evict`.
    case removed(Bool)
    /// `durable` / `not_durable`: a `durable=true` `put`, `refresh`, `invalidate` or `evict`
    /// answered `durable: true` / `false` (PERSISTENCE.md §6).
    case durable(Bool)
    /// `refresh_requested` / `no_refresh_requested`: `get`.
    case refreshRequested(Bool)
    /// `woken` (false) / `timed_out` (true): `wait`.
    case timedOut(Bool)
    /// `value=V`: the bytes read.
    case value([UInt8])
    /// `version=N`.
    case version(UInt64)
    /// `version>N`.
    case versionGreaterThan(UInt64)
    /// `origin=N`.
    case origin(UInt64)
    /// `writer=ROLE`: written by the process playing ROLE (language and pid).
    case writer(role: String)
    /// `NAME=N` after `stats`: the counter's total.
    case counter(StatsCounter, UInt64)
    /// `paused`: the operation stopped at its `pause_at=` point (the fixture sent its `paused`
    /// notification rather than a response). Only on a step with `pause_at=`; the response
    /// arrives later and is judged by the role's `resume` step.
    case paused
    /// `rule=N`, with `fail(bad_geometry)`: the refusal names geometry rule N of PROTOCOL.md §3
    /// (DRIVER.md: the message says `rule N`), and nothing was created.
    case rule(Int)
    /// `ns_version=N`: the namespace version an `ns_*` operation answered (PROTOCOL.md §18): the
    /// staged, flipped-to, rolled-back-to, pinned or released version, the version an `ns_get`
    /// read or an `ns_put` wrote, `ns_state`'s current one.
    case nsVersion(UInt64)
    /// `pinned` / `not_pinned`: an `ns_get` read under the handle's pin.
    case pinned(Bool)
    /// `reclaimed=N`: an `ns_reclaim` removed N entries.
    case reclaimed(UInt64)
    /// `kept=V,V…`: an `ns_reclaim`'s keep set, ascending (`kept=` for none).
    case kept([UInt64])
    /// `previous=N`: an `ns_flip`'s replaced version, or `ns_state`'s previous one.
    case previous(UInt64)
    /// `locks_freed=N`, `quarantined=N`, `unrepairable=N` (the length of that list of a
    /// `repair`'s report) and `quarantined_total=N` (header word 768 afterwards); `reclaimed=N`
    /// on a `repair` is the length of its `reclaimed` list.
    case repairActions(list: String, count: UInt64)
    /// `found=N`: a `get_many` hit N of its keys.
    case found(UInt64)

    /// The `repair` report fields `repairActions` names (DRIVER.md `repair`).
    public static let repairLists = ["locks_freed", "quarantined", "unrepairable", "quarantined_total"]

    /// The token as it would be written.
    public var token: String {
        switch self {
        case .ok: return "ok"
        case .fail(let r): return r.map { "fail(\($0))" } ?? "fail"
        case .unknown: return "unknown"
        case .hit: return "hit"
        case .miss: return "miss"
        case .stale: return "stale"
        case .fresh: return "fresh"
        case .created(let b): return b ? "created" : "not_created"
        case .removed(let b): return b ? "removed" : "not_removed"
        case .durable(let b): return b ? "durable" : "not_durable"
        case .refreshRequested(let b): return b ? "refresh_requested" : "no_refresh_requested"
        case .timedOut(let b): return b ? "timed_out" : "woken"
        case .value(let v): return "value=" + ScenarioValue.render(v)
        case .version(let n): return "version=\(n)"
        case .versionGreaterThan(let n): return "version>\(n)"
        case .origin(let n): return "origin=\(n)"
        case .writer(let r): return "writer=\(r)"
        case .counter(let c, let n): return "\(c.rawValue)=\(n)"
        case .paused: return "paused"
        case .rule(let n): return "rule=\(n)"
        case .nsVersion(let n): return "ns_version=\(n)"
        case .pinned(let b): return b ? "pinned" : "not_pinned"
        case .reclaimed(let n): return "reclaimed=\(n)"
        case .kept(let l): return "kept=" + l.map(String.init).joined(separator: ",")
        case .previous(let n): return "previous=\(n)"
        case .repairActions(let l, let n): return "\(l)=\(n)"
        case .found(let n): return "found=\(n)"
        }
    }

    /// The operations this expectation applies to. On `resume` a token is judged against the
    /// paused operation, so it applies if it applies to that operation (the parser checks this
    /// against the operation the role paused).
    public var applicableOperations: Set<Operation> {
        switch self {
        case .ok, .fail, .unknown: return Set(Operation.allCases)
        case .paused: return Set(Operation.allCases).subtracting([.resume])
        case .hit, .miss, .stale, .fresh, .refreshRequested, .value, .origin, .writer: return [.get, .nsGet]
        case .version, .versionGreaterThan: return [.get, .put, .refresh, .nsGet, .nsPut]
        case .created: return [.put, .refresh, .openOrCreate, .restore, .nsPut, .compact]
        case .removed: return [.invalidate, .evict]
        case .durable: return [.put, .refresh, .invalidate, .evict]
        case .timedOut: return [.wait]
        case .counter: return [.stats]
        case .rule: return [.create, .openOrCreate]
        case .nsVersion: return [.nsStage, .nsPut, .nsFlip, .nsRollback, .nsPin, .nsUnpin, .nsGet, .nsState]
        case .pinned: return [.nsGet]
        case .reclaimed: return [.nsReclaim, .repair]
        case .kept: return [.nsReclaim]
        case .previous: return [.nsFlip, .nsState]
        case .repairActions: return [.repair]
        case .found: return [.getMany]
        }
    }
}

/// Byte strings as written in scenarios: plain UTF-8, `hex:…`, `bytes:N`, `bytes:N:S`.
public enum ScenarioValue {
    /// Largest `bytes:N` accepted (twice the largest value capacity).
    public static let maxGeneratedLength = 2 * 1_048_576

    /// Parses a value token; nil with a reason if malformed.
    public static func parse(_ token: String) -> Result<[UInt8], ValueError> {
        if token.hasPrefix("hex:") {
            let hex = Array(token.utf8.dropFirst(4))
            guard hex.count % 2 == 0 else { return .failure(ValueError("hex value has an odd number of digits")) }
            var out: [UInt8] = []
            out.reserveCapacity(hex.count / 2)
            var i = 0
            while i < hex.count {
                guard let hi = hexDigit(hex[i]), let lo = hexDigit(hex[i + 1]) else {
                    return .failure(ValueError("'\(token)' has a character that is not a hex digit"))
                }
                out.append(hi << 4 | lo)
                i += 2
            }
            return .success(out)
        }
        if token.hasPrefix("bytes:") {
            let parts = token.dropFirst(6).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 1 || parts.count == 2,
                  let n = parseDecimal(parts[0]) else {
                return .failure(ValueError("'\(token)' is not bytes:N or bytes:N:S"))
            }
            guard n <= UInt64(maxGeneratedLength) else {
                return .failure(ValueError("bytes:\(n) is longer than \(maxGeneratedLength)"))
            }
            var seed: UInt64 = 0
            if parts.count == 2 {
                guard let s = parseDecimal(parts[1]) else {
                    return .failure(ValueError("'\(token)' is not bytes:N or bytes:N:S"))
                }
                seed = s
            }
            return .success(pattern(count: Int(n), seed: seed))
        }
        if token.isEmpty { return .failure(ValueError("empty value (write hex: for no bytes)")) }
        return .success(Array(token.utf8))
    }

    /// `bytes:N:S`: byte `j` = `(S + j) mod 251` (S = 0 for `bytes:N`).
    public static func pattern(count: Int, seed: UInt64 = 0) -> [UInt8] {
        let s = Int(seed % 251)
        return (0..<count).map { UInt8((s + $0) % 251) }
    }

    /// A readable spelling of bytes: plain if printable ASCII without spaces or `=`, else `hex:`.
    public static func render(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "=") }),
           let s = String(bytes: bytes, encoding: .utf8), !s.hasPrefix("hex:"), !s.hasPrefix("bytes:") {
            return s
        }
        return "hex:" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Why a value token is malformed.
    public struct ValueError: Error, Sendable, Hashable {
        public var message: String
        init(_ message: String) { self.message = message }
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func parseDecimal<S: StringProtocol>(_ s: S) -> UInt64? {
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(s)
    }
}

/// Durations as written in scenarios: `10s`, `250ms`, `5us`, `100ns`, `2m`.
public enum ScenarioDuration {
    /// Nanoseconds of a duration token, nil if malformed (no unit, unknown unit, overflow).
    public static func nanoseconds(_ token: String) -> UInt64? {
        let units: [(String, UInt64)] = [("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
                                         ("m", 60_000_000_000)]
        // Longest suffix first so that "ms" is not read as "m" + "s".
        for (suffix, factor) in units.sorted(by: { $0.0.count > $1.0.count }) where token.hasSuffix(suffix) {
            let number = token.dropLast(suffix.count)
            guard let n = ScenarioValue.parseDecimal(number) else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        return nil
    }
}

/// A `race:` block: each role's operations run in step mode (paused at every pause point) and a
/// scheduler decides who moves next; `schedules` executions are explored, each on a fresh
/// segment with the scenario's `init` and `final` around it.
public struct RaceBlock: Sendable, Hashable {
    public var strategy: RaceStrategy
    /// How many executions (schedules) to explore at most.
    public var schedules: Int
    /// PCT's bug depth d (d − 1 priority change points).
    public var depth: Int
    /// DFS's bound on preemptions.
    public var preemptions: Int
    /// The racing operations, one list per role.
    public var ops: [ParallelList]
    /// "Sometimes" goals: each is a set of positions that must all hold at one moment of at
    /// least one explored schedule, or the race proved nothing and fails.
    public var sometimes: [[RacePosition]]
    public var location: SourceLocation
    /// At most this many SIGKILLs per schedule, each a scheduler choice like a step: at any
    /// moment a role stands at a pause point, "kill it there" is one of the choices. 0: none.
    public var kills = 0

    public init(strategy: RaceStrategy, schedules: Int, depth: Int, preemptions: Int, ops: [ParallelList],
                sometimes: [[RacePosition]], location: SourceLocation) {
        self.strategy = strategy
        self.schedules = schedules
        self.depth = depth
        self.preemptions = preemptions
        self.ops = ops
        self.sometimes = sometimes
        self.location = location
    }
}

/// How a race explores schedules (docs/SCENARIOS.md, "Races").
public enum RaceStrategy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A uniformly random runnable role at every step.
    case random
    /// Probabilistic Concurrency Testing: random priorities, `depth − 1` change points.
    case pct
    /// Exhaustive depth-first search bounded by `preemptions`.
    case dfs

    public var description: String { rawValue }
}

/// `ROLE@POINT`: the role's operation stands at that pause point.
public struct RacePosition: Sendable, Hashable, CustomStringConvertible {
    public var role: String
    public var point: String
    public init(role: String, point: String) {
        self.role = role
        self.point = point
    }
    public var description: String { "\(role)@\(point)" }
}
