// The sequential specification of ONE key of the cache, for the linearizability checker.
//
// Shape follows porcupine's Model: an initial state, a step that says whether (input, output)
// is legal in a state and what the next state is, equality (Hashable), a partition function
// (per key: P-compositionality, each key is checked alone) and describe functions.
//
// Why one deterministic step suffices even with nondeterminism:
//  * silent removal (eviction by other keys' inserts, hard expiry) can make the key absent at
//    any moment. With `allowSilentRemoval` a state S stands for the set {S, absent} — the
//    powerset construction of porcupine's NondeterministicModel, which here never needs more
//    than one present member, because every write yields the same present state from both
//    members;
//  * an operation with an unknown outcome (Jepsen's :info) that *did* take effect may have
//    chosen any version above the current one; the state then carries a lower bound instead of
//    an exact version, fixed by the next read that sees it. That it did *not* take effect is
//    expressed by the checker never linearizing it (its return is +infinity).

/// Why a put/refresh/invalidate failed (PROTOCOL.md §15). `other` covers any failure with no
/// effect that the model does not distinguish.
public enum FailReason: String, Sendable, Hashable, CaseIterable {
    case busy, full
    case tooLarge = "too_large"
    case versionNotNewer = "version_not_newer"
    case notFound = "not_found"
    case other

    /// Parses a fixture's `reason`; unknown reasons become `.other` (no effect).
    public init(wire: String) { self = FailReason(rawValue: wire) ?? .other }
}

/// An operation on one key, as the harness asked it.
public enum CacheInput: Sendable, Hashable {
    case get(key: [UInt8])
    /// `version` is the explicit version asked for (nil = automatic, PROTOCOL.md §9.4).
    case put(key: [UInt8], value: [UInt8], version: UInt64?)
    case refresh(key: [UInt8], value: [UInt8], version: UInt64?)
    case invalidate(key: [UInt8])
    case evict(key: [UInt8])

    public var key: [UInt8] {
        switch self {
        case .get(let k), .invalidate(let k), .evict(let k): return k
        case .put(let k, _, _), .refresh(let k, _, _): return k
        }
    }

    /// "get", "put", ... as DRIVER.md spells the op.
    public var opName: String {
        switch self {
        case .get: return "get"
        case .put: return "put"
        case .refresh: return "refresh"
        case .invalidate: return "invalidate"
        case .evict: return "evict"
        }
    }
}

/// What the operation answered.
public enum CacheOutput: Sendable, Hashable {
    case miss
    /// A get hit; `stale` is time-dependent (§12) and not constrained by the model.
    case hit(value: [UInt8], version: UInt64, stale: Bool)
    /// put/refresh ok, with the version written.
    case ok(version: UInt64)
    /// invalidate/evict ok.
    case removed(Bool)
    case fail(FailReason)
    /// The fixture died or could not tell (DRIVER.md `unknown`): may or may not have taken effect.
    case unknown
}

/// A state of one key: absent, or a value with its version.
public struct CacheState: Sendable, Hashable, CustomStringConvertible {
    public var value: [UInt8]?
    public var version: UInt64
    /// false when the version is only known to be ≥ `version` (after an unknown-outcome write).
    public var versionExact: Bool

    public static let absent = CacheState(value: nil, version: 0, versionExact: true)
    public init(value: [UInt8]?, version: UInt64, versionExact: Bool = true) {
        self.value = value
        self.version = version
        self.versionExact = versionExact
    }
    public var isPresent: Bool { value != nil }
    public var description: String {
        guard let v = value else { return "absent" }
        return "\(describeBytes(v)) at version \(versionExact ? "" : "≥ ")\(version)"
    }
}

/// The model. `allowSilentRemoval`: the key may disappear between any two operations (turn on
/// when other keys' inserts can evict it, or when values carry a TTL that can pass).
public struct CacheModel: Sendable {
    public var allowSilentRemoval: Bool

    public init(allowSilentRemoval: Bool = false) {
        self.allowSilentRemoval = allowSilentRemoval
    }

    public func initialState() -> CacheState { .absent }

    /// Partition key (P-compositionality: keys are independent).
    public func partition(_ input: CacheInput) -> [UInt8] { input.key }

    /// Porcupine's Step: nil when `output` is not a legal answer to `input` in `state`.
    /// (An `.unknown` output is stepped as "took effect".)
    public func step(_ state: CacheState, _ input: CacheInput, _ output: CacheOutput) -> CacheState? {
        var table = ValueTable()
        let s = table.compile(state)
        let op = table.compile(input, output)
        guard let n = CompiledModel.step(s, op, silent: allowSilentRemoval) else { return nil }
        return table.decompile(n)
    }

    /// Porcupine's Equal.
    public func equal(_ a: CacheState, _ b: CacheState) -> Bool { a == b }

    public func describeOperation(_ input: CacheInput, _ output: CacheOutput) -> String {
        describe(input: input, output: output)
    }

    public func describeState(_ state: CacheState) -> String {
        guard state.isPresent else { return "absent" }
        return allowSilentRemoval ? "\(state) (or absent: silent removal allowed)" : state.description
    }

    /// Why `step` refused, in prose (used only to write explanations, never in the search).
    public func whyIllegal(_ state: CacheState, _ input: CacheInput, _ output: CacheOutput) -> String {
        let present = state.value != nil
        let cur = "the key is \(describeState(state))"
        switch (input, output) {
        case (.get, .miss):
            return "a miss needs the key absent, but \(cur)"
        case (.get, .hit(let v, let ver, _)):
            if !present { return "a hit of \(describeBytes(v)) at version \(ver) needs the key present, but it is absent" }
            return "a hit must return exactly the current value and version (\(state)), but it returned \(describeBytes(v)) at version \(ver)"
        case (.put(_, _, let e), .ok(let ver)), (.refresh(_, _, let e), .ok(let ver)):
            if let e = e, e != ver { return "it asked for explicit version \(e) but reported version \(ver)" }
            if case .refresh = input, !present {
                return "a refresh can only succeed on a present key, but it is absent"
            }
            return "a write's version must be greater than the current one, but \(cur) and the write reported version \(ver)"
        case (.refresh, .fail(.notFound)):
            return "refresh fail(not_found) needs the key absent, but \(cur)"
        case (_, .fail(.versionNotNewer)):
            return "fail(version_not_newer) needs a present key whose version is ≥ the requested one, but \(cur)"
        case (.invalidate, .removed(true)), (.evict, .removed(true)):
            return "removed=true needs the key present, but it is absent"
        case (.invalidate, .removed(false)), (.evict, .removed(false)):
            return "removed=false needs the key absent, but \(cur)"
        default:
            return "`\(describe(output: output))` is not an answer a \(input.opName) can give"
        }
    }
}

// MARK: - Compiled form used by the search
//
// Values are interned to small integers per partition so the search compares and hashes two
// machine words instead of byte arrays, and never allocates.

struct CompiledState: Hashable {
    var valueID: Int32      // -1 = absent
    var exact: Bool
    var version: UInt64

    static let absent = CompiledState(valueID: -1, exact: true, version: 0)

    @inline(__always) var hash64: UInt64 {
        var h = UInt64(bitPattern: Int64(valueID)) &* 0x9E37_79B9_7F4A_7C15
        h ^= version &+ 0x632B_E59B_D9B4_E019 &+ (h << 6) &+ (h >> 2)
        if !exact { h ^= 0xD6E8_FEB8_6659_FD93 }
        return h
    }
}

struct CompiledOp {
    enum Kind: UInt8 {
        case getMiss, getHit
        case write            // put/refresh ok(version)
        case writeUnknown     // put/refresh with unknown outcome, taken as "took effect"
        case refreshNotFound
        case removedTrue, removedFalse, removeUnknown
        case versionNotNewer  // explicit version r in `version`
        case noEffect
        case invalid          // output cannot answer this input
    }
    var kind: Kind
    var requiresPresent: Bool   // refresh
    var valueID: Int32
    var version: UInt64         // output version, explicit version, or hit version
    var explicit: Bool          // writeUnknown: `version` is the explicit one
}

struct ValueTable {
    private var ids: [[UInt8]: Int32] = [:]
    private(set) var values: [[UInt8]] = []

    mutating func intern(_ v: [UInt8]) -> Int32 {
        if let id = ids[v] { return id }
        let id = Int32(values.count)
        values.append(v)
        ids[v] = id
        return id
    }

    mutating func compile(_ s: CacheState) -> CompiledState {
        guard let v = s.value else { return .absent }
        return CompiledState(valueID: intern(v), exact: s.versionExact, version: s.version)
    }

    func decompile(_ s: CompiledState) -> CacheState {
        if s.valueID < 0 { return .absent }
        return CacheState(value: values[Int(s.valueID)], version: s.version, versionExact: s.exact)
    }

    mutating func compile(_ input: CacheInput, _ output: CacheOutput) -> CompiledOp {
        func op(_ k: CompiledOp.Kind, present: Bool = false, value: Int32 = -1, version: UInt64 = 0,
                explicit: Bool = false) -> CompiledOp {
            CompiledOp(kind: k, requiresPresent: present, valueID: value, version: version, explicit: explicit)
        }
        switch input {
        case .get:
            switch output {
            case .miss: return op(.getMiss)
            case .hit(let v, let ver, _): return op(.getHit, value: intern(v), version: ver)
            case .unknown, .fail: return op(.noEffect)
            default: return op(.invalid)
            }
        case .put(_, let v, let e), .refresh(_, let v, let e):
            let isRefresh: Bool
            if case .refresh = input { isRefresh = true } else { isRefresh = false }
            switch output {
            case .ok(let ver):
                if let e = e, e != ver { return op(.invalid) }
                if ver == 0 { return op(.invalid) }   // versions are > 0 (§7.1 invariant 2)
                return op(.write, present: isRefresh, value: intern(v), version: ver)
            case .unknown:
                return op(.writeUnknown, present: isRefresh, value: intern(v), version: e ?? 0, explicit: e != nil)
            case .fail(.notFound):
                return isRefresh ? op(.refreshNotFound) : op(.invalid)
            case .fail(.versionNotNewer):
                if let e = e { return op(.versionNotNewer, version: e) }
                return op(.noEffect)
            case .fail: return op(.noEffect)
            default: return op(.invalid)
            }
        case .invalidate, .evict:
            switch output {
            case .removed(true): return op(.removedTrue)
            case .removed(false): return op(.removedFalse)
            case .unknown: return op(.removeUnknown)
            case .fail: return op(.noEffect)
            default: return op(.invalid)
            }
        }
    }
}

enum CompiledModel {
    /// The step of the sequential model. With `silent`, a present state S means {S, absent}.
    @inline(__always)
    static func step(_ s: CompiledState, _ op: CompiledOp, silent: Bool) -> CompiledState? {
        let present = s.valueID >= 0
        switch op.kind {
        case .noEffect:
            return s
        case .invalid:
            return nil
        case .getMiss:
            if silent || !present { return .absent }
            return nil
        case .getHit:
            guard present, s.valueID == op.valueID else { return nil }
            if s.exact ? s.version == op.version : op.version >= s.version {
                return CompiledState(valueID: s.valueID, exact: true, version: op.version)
            }
            return nil
        case .write:
            if present {
                // With an inexact version v ≥ lb, some v < op.version exists iff op.version > lb.
                if op.version > s.version {
                    return CompiledState(valueID: op.valueID, exact: true, version: op.version)
                }
                if silent && !op.requiresPresent {  // the absent member of {S, absent}
                    return CompiledState(valueID: op.valueID, exact: true, version: op.version)
                }
                return nil
            }
            if op.requiresPresent { return nil }
            return CompiledState(valueID: op.valueID, exact: true, version: op.version)
        case .writeUnknown:
            if !present && op.requiresPresent { return nil }
            if op.explicit {
                if present && op.version <= s.version {
                    if silent && !op.requiresPresent {
                        return CompiledState(valueID: op.valueID, exact: true, version: op.version)
                    }
                    // Present with version (or bound) ≥ e: no version the write could take is newer.
                    return nil
                }
                return CompiledState(valueID: op.valueID, exact: true, version: op.version)
            }
            // Automatic version: some version above the current one, or (from absent) any ≥ 1.
            let lb: UInt64 = (present && !(silent && !op.requiresPresent)) ? s.version &+ 1 : 1
            return CompiledState(valueID: op.valueID, exact: false, version: lb)
        case .refreshNotFound:
            if silent || !present { return .absent }
            return nil
        case .removedTrue:
            return present ? .absent : nil
        case .removedFalse:
            if silent || !present { return .absent }
            return nil
        case .removeUnknown:
            return .absent
        case .versionNotNewer:
            guard present else { return nil }
            if s.exact { return op.version <= s.version ? s : nil }
            return CompiledState(valueID: s.valueID, exact: false, version: max(s.version, op.version))
        }
    }
}

// MARK: - Describing

func describeBytes(_ b: [UInt8]) -> String {
    if !b.isEmpty, b.count <= 40, b.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 }) {
        return "\"" + String(decoding: b, as: UTF8.self) + "\""
    }
    let hex = b.prefix(24).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    return "0x" + hex + (b.count > 24 ? "…(\(b.count) bytes)" : "")
}

func describe(output: CacheOutput) -> String {
    switch output {
    case .miss: return "miss"
    case .hit(let v, let ver, let stale): return "hit(\(describeBytes(v)), v\(ver)\(stale ? ", stale" : ""))"
    case .ok(let ver): return "ok(v\(ver))"
    case .removed(let r): return "ok(removed: \(r))"
    case .fail(let r): return "fail(\(r.rawValue))"
    case .unknown: return "unknown"
    }
}

func describe(input: CacheInput, output: CacheOutput) -> String {
    let k = describeBytes(input.key)
    let call: String
    switch input {
    case .get: call = "get(\(k))"
    case .put(_, let v, let e): call = "put(\(k), \(describeBytes(v))\(e.map { ", version \($0)" } ?? ""))"
    case .refresh(_, let v, let e): call = "refresh(\(k), \(describeBytes(v))\(e.map { ", version \($0)" } ?? ""))"
    case .invalidate: call = "invalidate(\(k))"
    case .evict: call = "evict(\(k))"
    }
    return "\(call) → \(describe(output: output))"
}
