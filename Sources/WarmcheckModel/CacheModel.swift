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
//
// Automatic versions come from the segment's one `version_clock` (PROTOCOL.md §9.4), so they
// never go back, not even after the key was absent (§8.3 invariant 3): the state keeps
// `autoFloor`, a lower bound of that clock learnt from this key's automatic writes, through
// removals. What this
// per-key model cannot see — automatic versions of *different* keys — is checked by
// `AutomaticVersionOrder` (unique, and ordered by real time).

/// Why a put/refresh/invalidate failed (PROTOCOL.md §15). `other` is a reason §15 does not
/// list: no operation may answer it.
public enum FailReason: String, Sendable, Hashable, CaseIterable {
    case busy, full
    case tooLarge = "too_large"
    case versionNotNewer = "version_not_newer"
    case notFound = "not_found"
    case other

    /// Parses a fixture's `reason`; reasons §15 does not list become `.other`.
    public init(wire: String) { self = FailReason(rawValue: wire) ?? .other }
}

/// An operation on one key, as the harness asked it.
public enum CacheInput: Sendable, Hashable {
    case get(key: [UInt8])
    /// `version` is the explicit version asked for (nil = automatic, PROTOCOL.md §9.4).
    /// `ttl` is the `ttl_ns` the write asked for: 0 = never expires (so the entry can never be
    /// read stale, §12), nil = not recorded (the model then allows stale reads of it).
    case put(key: [UInt8], value: [UInt8], version: UInt64?, ttl: UInt64? = nil)
    case refresh(key: [UInt8], value: [UInt8], version: UInt64?, ttl: UInt64? = nil)
    case invalidate(key: [UInt8])
    case evict(key: [UInt8])

    public var key: [UInt8] {
        switch self {
        case .get(let k), .invalidate(let k), .evict(let k): return k
        case .put(let k, _, _, _), .refresh(let k, _, _, _): return k
        }
    }

    /// The value a put/refresh writes.
    public var value: [UInt8]? {
        switch self {
        case .put(_, let v, _, _), .refresh(_, let v, _, _): return v
        default: return nil
        }
    }

    /// The explicit version a put/refresh asked for (nil: automatic, or not a write).
    public var explicitVersion: UInt64? {
        switch self {
        case .put(_, _, let e, _), .refresh(_, _, let e, _): return e
        default: return nil
        }
    }

    public var isWrite: Bool {
        switch self {
        case .put, .refresh: return true
        default: return false
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
    /// A get hit; `stale` is time-dependent (§12): the model only requires that the entry has a TTL.
    case hit(value: [UInt8], version: UInt64, stale: Bool)
    /// put/refresh ok, with the version written.
    case ok(version: UInt64)
    /// invalidate/evict ok.
    case removed(Bool)
    case fail(FailReason)
    /// The fixture died or could not tell (DRIVER.md `unknown`): may or may not have taken effect.
    case unknown
}

/// A state of one key: absent, or a value with its version; and, present or not, a lower bound
/// of the segment's version clock (`autoFloor`), which no later automatic write may go below.
public struct CacheState: Sendable, Hashable, CustomStringConvertible {
    public var value: [UInt8]?
    public var version: UInt64
    /// false when the version is only known to be ≥ `version` (after an unknown-outcome write).
    public var versionExact: Bool
    /// The next automatic version of this key is > autoFloor (§9.4: one clock, never back).
    /// An automatic write that certainly took the clock's value (an insert, or a refresh of a
    /// current version the clock had passed) raises it to its version; one that may have taken
    /// `current + 1` above the clock (after an explicit version) only by one.
    public var autoFloor: UInt64
    /// The entry may be read stale: it was written with a TTL (or one that was not recorded).
    public var mayBeStale: Bool

    public static let absent = CacheState(value: nil, version: 0)
    public init(value: [UInt8]?, version: UInt64, versionExact: Bool = true, autoFloor: UInt64 = 0,
                mayBeStale: Bool = true) {
        self.value = value
        self.version = value == nil ? 0 : version
        self.versionExact = value == nil ? true : versionExact
        self.autoFloor = autoFloor
        self.mayBeStale = value == nil ? false : mayBeStale
    }
    public var isPresent: Bool { value != nil }
    public var description: String {
        let floor = autoFloor > 0 ? " (version clock ≥ \(autoFloor))" : ""
        guard let v = value else { return "absent" + floor }
        return "\(describeBytes(v)) at version \(versionExact ? "" : "≥ ")\(version)" + floor
    }
}

/// The model. `allowSilentRemoval`: the key may disappear between any two operations (turn on
/// when other keys' inserts can evict it, when values carry a TTL that can pass, or when a
/// reclaim may have undone an eviction nobody reported).
public struct CacheModel: Sendable {
    public var allowSilentRemoval: Bool
    /// Why silent removal is allowed (for reports and exports); empty when it is not.
    public var silentRemovalReason: String
    /// Check automatic versions across keys (unique, ordered by real time, §9.4). Only valid
    /// when every write of the history went to one segment whose clock started at 0 and no
    /// write asked for an explicit version (an explicit one lets `current + 1` overtake the
    /// clock, so two keys may then share a version).
    public var automaticVersionsAcrossKeys: Bool

    public init(allowSilentRemoval: Bool = false, silentRemovalReason: String = "",
                automaticVersionsAcrossKeys: Bool = false) {
        self.allowSilentRemoval = allowSilentRemoval
        self.silentRemovalReason = allowSilentRemoval && silentRemovalReason.isEmpty ? "allowed by the caller" : silentRemovalReason
        self.automaticVersionsAcrossKeys = automaticVersionsAcrossKeys
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
        guard state.isPresent else { return state.description }
        return allowSilentRemoval ? "\(state) (or absent: silent removal allowed)" : state.description
    }

    /// Why `step` refused, in prose citing the spec (used only to write explanations).
    public func whyIllegal(_ state: CacheState, _ input: CacheInput, _ output: CacheOutput) -> String {
        let present = state.value != nil
        let cur = "the key is \(describeState(state))"
        let automatic = input.explicitVersion == nil
        switch (input, output) {
        case (.get, .miss):
            return "a miss needs the key absent, but \(cur)"
        case (.get, .hit(let v, let ver, let stale)):
            if !present { return "a hit of \(describeBytes(v)) at version \(ver) needs the key present, but it is absent" }
            if stale && !state.mayBeStale && state.value == v && (state.versionExact ? state.version == ver : ver >= state.version) {
                return "a stale hit needs an entry written with a TTL (PROTOCOL.md §12: with ttl_ns = 0 it never "
                    + "expires), but the entry read, \(describeBytes(v)) at version \(ver), was written without one"
            }
            return "a hit must return exactly the current value and version (\(state)), but it returned \(describeBytes(v)) at version \(ver)"
        case (.get, .fail(let r)):
            return "a get is a hit or a miss (PROTOCOL.md §15); it can never fail, but it answered fail(\(r.rawValue))"
        case (_, .fail(.other)):
            return "the failure reason is none of those PROTOCOL.md §15 lists (too_large, not_found, full, version_not_newer, busy)"
        case (.invalidate, .fail(let r)), (.evict, .fail(let r)):
            return "an \(input.opName) either removes the entry, finds none, or answers busy (PROTOCOL.md §9.5: an "
                + "invalidation is never silently lost), but it answered fail(\(r.rawValue))"
        case (.put, .fail(.versionNotNewer)) where automatic, (.refresh, .fail(.versionNotNewer)) where automatic:
            return "an automatic version is max(clock + 1, current + 1), always newer (PROTOCOL.md §9.4): "
                + "version_not_newer answers an automatic \(input.opName) only when the current version is "
                + "2^64 − 1 (§13.1), but \(cur)"
        case (.put, .fail(.full)):
            return "full comes only from the insert path, which a put takes when the key is not found (PROTOCOL.md §9.4), but \(cur)"
        case (.refresh, .fail(.full)):
            return "a refresh is the refresh path only (PROTOCOL.md §9.4): it answers ok, not_found, version_not_newer or busy, never full"
        case (.put, .fail(.notFound)):
            return "a put inserts a key it does not find (PROTOCOL.md §9.4); not_found is only a refresh's answer"
        case (.put(_, _, let e, _), .ok(let ver)), (.refresh(_, _, let e, _), .ok(let ver)):
            if let e = e, e != ver { return "it asked for explicit version \(e) but reported version \(ver)" }
            if ver == 0 { return "versions are > 0 (PROTOCOL.md §8.3 invariant 2), but it reported version 0" }
            if case .refresh = input, !present {
                return "a refresh can only succeed on a present key, but it is absent"
            }
            if automatic && ver <= state.autoFloor && !(present && ver <= state.version) {
                return "automatic versions come from the segment's one clock and never go back, not even after the key "
                    + "was absent (PROTOCOL.md §8.3 invariant 3, §9.4), but this key's earlier automatic writes show the "
                    + "clock had reached \(state.autoFloor) and the write reported version \(ver)"
            }
            return "a write's version must be greater than the current one (PROTOCOL.md §9.4), but \(cur) and the write reported version \(ver)"
        case (.refresh, .fail(.notFound)):
            return "refresh fail(not_found) needs the key absent (PROTOCOL.md §9.4), but \(cur)"
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
// Values are interned to small integers once per history, so the search compares and hashes a
// few machine words instead of byte arrays, and never allocates.

struct CompiledState: Hashable {
    var valueID: Int32      // -1 = absent
    var exact: Bool
    var mayBeStale: Bool
    /// Inexact only: the unknown version is a value of the clock (not `current + 1`), so the
    /// read that learns it learns a lower bound of the clock too.
    var clockDerived = false
    var version: UInt64
    /// A lower bound of the segment's version_clock: the next automatic version is > floor.
    var floor: UInt64

    static let absent = CompiledState(valueID: -1, exact: true, mayBeStale: false, version: 0, floor: 0)

    init(valueID: Int32, exact: Bool, mayBeStale: Bool, clockDerived: Bool = false, version: UInt64, floor: UInt64) {
        self.valueID = valueID
        self.exact = exact
        self.mayBeStale = mayBeStale
        self.clockDerived = clockDerived
        self.version = version
        self.floor = floor
    }

    /// Absent, keeping what survives absence: the floor of automatic versions.
    @inline(__always) var removed: CompiledState {
        CompiledState(valueID: -1, exact: true, mayBeStale: false, version: 0, floor: floor)
    }

    @inline(__always) var hash64: UInt64 {
        var h = UInt64(bitPattern: Int64(valueID)) &* 0x9E37_79B9_7F4A_7C15
        h ^= version &+ 0x632B_E59B_D9B4_E019 &+ (h << 6) &+ (h >> 2)
        h ^= (floor &* 0xC2B2_AE3D_27D4_EB4F) &+ (h << 6) &+ (h >> 2)
        if !exact { h ^= clockDerived ? 0x94D0_49BB_1331_11EB : 0xD6E8_FEB8_6659_FD93 }
        if mayBeStale { h ^= 0x2545_F491_4F6C_DD1D }
        return h
    }
}

struct CompiledOp {
    enum Kind: UInt8 {
        case getMiss, getHit
        case write            // put/refresh ok(version)
        case writeUnknown     // put/refresh with unknown outcome, taken as "took effect"
        case absentOnly       // refresh fail(not_found), put fail(full): the key was absent
        case removedTrue, removedFalse, removeUnknown
        case versionNotNewer  // explicit version r in `version`
        case noEffect
        case invalid          // output cannot answer this input in any state
    }
    var kind: Kind
    var requiresPresent: Bool   // refresh
    var automatic: Bool         // write/writeUnknown: no explicit version
    var flag: Bool              // getHit: stale; write/writeUnknown: the entry may be read stale
    var valueID: Int32
    var version: UInt64         // output version, explicit version, or hit version
}

/// Interns byte strings. The hash is computed once per occurrence with a word-at-a-time mix,
/// not byte by byte through Hasher, so 1–4 KB values cost a memory pass each.
struct ValueTable {
    struct Bytes: Hashable {
        let bytes: [UInt8]
        let h: UInt64
        init(_ b: [UInt8]) { bytes = b; h = Bytes.mix(b) }
        static func == (a: Bytes, b: Bytes) -> Bool { a.h == b.h && a.bytes == b.bytes }
        func hash(into hasher: inout Hasher) { hasher.combine(h) }
        static func mix(_ b: [UInt8]) -> UInt64 {
            b.withUnsafeBytes { raw -> UInt64 in
                var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(raw.count)
                var i = 0
                let n = raw.count
                while i + 8 <= n {
                    let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
                    h ^= h >> 29
                    i += 8
                }
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while i < n { tail |= UInt64(raw[i]) << shift; shift += 8; i += 1 }
                h = (h ^ tail) &* 0xBF58_476D_1CE4_E5B9
                return h ^ (h >> 31)
            }
        }
    }
    private var ids: [Bytes: Int32] = [:]
    private(set) var values: [[UInt8]] = []

    mutating func intern(_ v: [UInt8]) -> Int32 {
        let k = Bytes(v)
        if let id = ids[k] { return id }
        let id = Int32(values.count)
        values.append(v)
        ids[k] = id
        return id
    }

    mutating func compile(_ s: CacheState) -> CompiledState {
        guard let v = s.value else { return CompiledState.absent.with(floor: s.autoFloor) }
        return CompiledState(valueID: intern(v), exact: s.versionExact, mayBeStale: s.mayBeStale,
                             version: s.version, floor: s.autoFloor)
    }

    func decompile(_ s: CompiledState) -> CacheState {
        if s.valueID < 0 { return CacheState(value: nil, version: 0, autoFloor: s.floor) }
        return CacheState(value: values[Int(s.valueID)], version: s.version, versionExact: s.exact,
                          autoFloor: s.floor, mayBeStale: s.mayBeStale)
    }

    mutating func compile(_ input: CacheInput, _ output: CacheOutput) -> CompiledOp {
        func op(_ k: CompiledOp.Kind, present: Bool = false, automatic: Bool = false, flag: Bool = false,
                value: Int32 = -1, version: UInt64 = 0) -> CompiledOp {
            CompiledOp(kind: k, requiresPresent: present, automatic: automatic, flag: flag, valueID: value, version: version)
        }
        switch input {
        case .get:
            switch output {
            case .miss: return op(.getMiss)
            case .hit(let v, let ver, let stale): return op(.getHit, flag: stale, value: intern(v), version: ver)
            case .unknown: return op(.noEffect)
            default: return op(.invalid)   // including fail: a get never fails (§15)
            }
        case .put(_, let v, let e, let ttl), .refresh(_, let v, let e, let ttl):
            let isRefresh: Bool
            if case .refresh = input { isRefresh = true } else { isRefresh = false }
            let staleOK = ttl.map { $0 > 0 } ?? true
            switch output {
            case .ok(let ver):
                if let e = e, e != ver { return op(.invalid) }
                if ver == 0 { return op(.invalid) }   // versions are > 0 (§7.1 invariant 2)
                return op(.write, present: isRefresh, automatic: e == nil, flag: staleOK, value: intern(v), version: ver)
            case .unknown:
                return op(.writeUnknown, present: isRefresh, automatic: e == nil, flag: staleOK, value: intern(v), version: e ?? 0)
            case .fail(.notFound):
                return isRefresh ? op(.absentOnly) : op(.invalid)
            case .fail(.full):
                return isRefresh ? op(.invalid) : op(.absentOnly)
            case .fail(.versionNotNewer):
                if let e = e { return op(.versionNotNewer, version: e) }
                // An automatic version is always newer (§9.4) but for one case: no version is
                // greater than 2^64 − 1, and a refresh of such a record gives the slot back
                // (§13.1). Stepped as an explicit request for 2^64 − 1: legal only on a present
                // key whose version may be the maximum.
                return op(.versionNotNewer, version: .max)
            case .fail(.busy), .fail(.tooLarge): return op(.noEffect)
            default: return op(.invalid)
            }
        case .invalidate, .evict:
            switch output {
            case .removed(true): return op(.removedTrue)
            case .removed(false): return op(.removedFalse)
            case .unknown: return op(.removeUnknown)
            case .fail(.busy): return op(.noEffect)
            default: return op(.invalid)   // §9.5: removed, none found, or busy
            }
        }
    }
}

extension CompiledState {
    @inline(__always) func with(floor f: UInt64) -> CompiledState {
        var s = self
        s.floor = f
        return s
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
        case .getMiss, .absentOnly, .removedFalse:
            if silent || !present { return s.removed }
            return nil
        case .getHit:
            guard present, s.valueID == op.valueID else { return nil }
            if op.flag && !s.mayBeStale { return nil }
            if s.exact ? s.version == op.version : op.version >= s.version {
                // A hit that fixes an inexact version may learn a value the clock had.
                let floor = !s.exact && s.clockDerived ? max(s.floor, op.version) : s.floor
                return CompiledState(valueID: s.valueID, exact: true, mayBeStale: s.mayBeStale, version: op.version, floor: floor)
            }
            return nil
        case .write:
            // v = max(c + 1, current + 1) with c ≥ floor the clock's value (§9.4). When v is
            // certainly c + 1 the clock is now ≥ v; when it may be current + 1 (an explicit
            // current above the clock), the clock only moved on by one.
            var floor = s.floor
            if op.automatic {
                // Only the present member can have taken `current + 1`, and only if it is newer.
                let presentMember = present && op.version > s.version
                let clockValue = !presentMember
                    || (s.exact ? s.version <= s.floor || op.version > s.version &+ 1 : s.clockDerived)
                floor = clockValue ? max(s.floor, op.version) : s.floor &+ 1
            }
            let next = CompiledState(valueID: op.valueID, exact: true, mayBeStale: op.flag, version: op.version, floor: floor)
            if op.automatic && op.version <= s.floor { return nil }
            if present {
                // With an inexact version v ≥ lb, some v < op.version exists iff op.version > lb.
                if op.version > s.version { return next }
                if silent && !op.requiresPresent { return next }  // the absent member of {S, absent}
                return nil
            }
            return op.requiresPresent ? nil : next
        case .writeUnknown:
            if !present && op.requiresPresent { return nil }
            if !op.automatic {
                if present && op.version <= s.version && !(silent && !op.requiresPresent) {
                    // Present with version (or bound) ≥ e: no version the write could take is newer.
                    return nil
                }
                return CompiledState(valueID: op.valueID, exact: true, mayBeStale: op.flag, version: op.version, floor: s.floor)
            }
            // Automatic version: above the floor and, on the refresh path, above the current one.
            let fromPresent = present && !(silent && !op.requiresPresent)
            let lb = max(s.floor, fromPresent ? s.version : 0) &+ 1
            let clockValue = !present || (s.exact ? s.version <= s.floor : s.clockDerived)
            // A clock value ≥ lb leaves the clock ≥ lb; `current + 1` only moves it on by one.
            return CompiledState(valueID: op.valueID, exact: false, mayBeStale: op.flag, clockDerived: clockValue,
                                 version: lb, floor: clockValue ? lb : s.floor &+ 1)
        case .removedTrue:
            return present ? s.removed : nil
        case .removeUnknown:
            return s.removed
        case .versionNotNewer:
            guard present else { return nil }
            if s.exact { return op.version <= s.version ? s : nil }
            // An inexact version comes from an automatic write of unknown outcome, whose version
            // the clock gave: it is never known to be 2^64 − 1, so the automatic refusal of §13.1
            // (stepped as a request for 2^64 − 1) needs an exact maximum.
            if op.version == .max { return nil }
            var n = s
            n.version = max(s.version, op.version)
            if s.clockDerived { n.floor = max(s.floor, n.version) }
            return n
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
    case .put(_, let v, let e, let ttl), .refresh(_, let v, let e, let ttl):
        call = "\(input.opName)(\(k), \(describeBytes(v))\(e.map { ", version \($0)" } ?? "")\(ttl.map { $0 > 0 ? ", ttl \($0) ns" : "" } ?? ""))"
    case .invalidate: call = "invalidate(\(k))"
    case .evict: call = "evict(\(k))"
    }
    return "\(call) → \(describe(output: output))"
}
