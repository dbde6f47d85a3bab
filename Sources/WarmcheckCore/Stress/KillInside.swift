#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Harness) import Warmcache

/// A claim a dead participant held when it died: what someone must reclaim (PROTOCOL.md §9.3,
/// §9.8). Read by the harness from the file right after the death.
public struct DeadClaim: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A slot in `WRITING` (T12 gives it back as `EMPTY`).
        case writing = "slot WRITING"
        /// A slot in `REFRESHING` (T13 gives it back as `READY`).
        case refreshing = "slot REFRESHING"
        /// A slot in `INVALIDATED` (T14 gives it back as `EMPTY`).
        case invalidated = "slot INVALIDATED"
        /// A shard insert lock (§9.3).
        case insertLock = "insert lock"
    }
    public var kind: Kind
    public var shard: Int
    /// The slot, nil for an insert lock.
    public var slot: Int?
    /// The word as the dead left it: the claim is reclaimed once the word is something else
    /// (a reclaim CAS, or a new claim after one; the `seq` of a new claim differs, §9.8).
    public var word: UInt64
}

/// The claims of `owner` in the segment at `path`, by pread of the file: between the death and
/// the reclaim no one else can write these words with this owner (the owner's liveness lock is
/// free, and a new holder of its index sweeps them first), so a copy that differs from the
/// captured word means the claim was taken back. Each aligned 8-byte pread of tmpfs is one copy
/// of the page-cache word the fixtures map.
enum DeadClaims {
    static func of(owner: Int, path: String) -> [DeadClaim] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        guard let g = SegmentSurgery.geometry(fd) else { return [] }
        var out: [DeadClaim] = []
        for s in 0..<g.shardCount {
            let shardOff = g.shardsOffset + s * g.shardSize
            if let w = SegmentSurgery.word(fd, shardOff + Layout.SH_INSERT_LOCK), w != 0, Int(w) == owner {
                out.append(DeadClaim(kind: .insertLock, shard: s, slot: nil, word: w))
            }
            for j in 0..<g.slotsPerShard {
                guard let raw = SegmentSurgery.word(fd, g.slotOffset(s, j) + Layout.SLOT_STATE) else { continue }
                let w = StateWord(raw: raw)
                guard Int(w.owner) == owner, let k = w.kind, k.isOwned else { continue }
                let kind: DeadClaim.Kind = k == .writing ? .writing : k == .refreshing ? .refreshing : .invalidated
                out.append(DeadClaim(kind: kind, shard: s, slot: j, word: raw))
            }
        }
        return out
    }

    /// The claims of `claims` still held (their word unchanged).
    static func outstanding(_ claims: [DeadClaim], path: String) -> [DeadClaim] {
        guard !claims.isEmpty else { return [] }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return claims }
        defer { close(fd) }
        guard let g = SegmentSurgery.geometry(fd) else { return claims }
        return claims.filter { c in
            let off = c.slot.map { g.slotOffset(c.shard, $0) + Layout.SLOT_STATE }
                ?? g.shardsOffset + c.shard * g.shardSize + Layout.SH_INSERT_LOCK
            return SegmentSurgery.word(fd, off) == c.word
        }
    }
}

/// One death by `crash_chance` (DRIVER.md "Crashing by chance") in a stress run and what
/// recovering from it took.
public struct InsideKill: Sendable {
    public var implementation: String
    /// The pause point the fixture said it died at (its last stderr line).
    public var point: String
    public var op: StressOp
    public var key: [UInt8]
    /// What the dead held, as read from the file right after the death.
    public var claims: [DeadClaim]
    /// The implementation whose process wrote the key after the death (the probe).
    public var prober: String?
    /// Death (its stdout's end of file) to the probe's first `ok` put of the key, ns.
    public var writableNs: UInt64?
    /// Death to every claim of `claims` taken back, ns (the replacement's registration sweep
    /// included); nil when some were still held when the harness stopped looking.
    public var reclaimedNs: UInt64?
    /// The claims still held a second after the replacement registered.
    public var leaked: [DeadClaim] = []
}

/// p50 / p99 / max of a list of durations (nearest rank).
public struct LatencySummary: Sendable, Equatable {
    public var count: Int
    public var p50: UInt64, p99: UInt64, max: UInt64

    public init?(_ values: [UInt64]) {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        func rank(_ q: Double) -> UInt64 { s[Swift.max(0, Swift.min(s.count - 1, Int((q * Double(s.count)).rounded(.up)) - 1))] }
        count = s.count
        p50 = rank(0.50)
        p99 = rank(0.99)
        max = s[s.count - 1]
    }

    public var text: String {
        String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)", Double(p50) / 1e6, Double(p99) / 1e6, Double(max) / 1e6, count)
    }

    public var json: JSON {
        .object(["count": .int(Int64(count)), "p50_ns": .int(Int64(p50)), "p99_ns": .int(Int64(p99)), "max_ns": .int(Int64(max))])
    }
}

/// What `stress --kill-inside` reports: how many deaths landed where, how many claims they left
/// (by kind), and the recovery latencies per implementation of the dead.
public struct InsideKillReport: Sendable {
    public var kills: [InsideKill]

    public var leaked: [InsideKill] { kills.filter { !$0.leaked.isEmpty } }
    /// Deaths after which the prober's put of the key was still refused 2 s later.
    public var neverWritable: [InsideKill] { kills.filter { $0.writableNs == UInt64.max } }
    public var ok: Bool { leaked.isEmpty && neverWritable.isEmpty }

    /// `lock.after_acquire 12, put.after_claim 9, …`, most frequent first.
    public var byPoint: [(String, Int)] { Self.tally(kills.map(\.point)) }
    public var byClaim: [(String, Int)] { Self.tally(kills.flatMap { $0.claims.map(\.kind.rawValue) }) }
    public var withClaims: Int { kills.filter { !$0.claims.isEmpty }.count }

    static func tally(_ xs: [String]) -> [(String, Int)] {
        var c: [String: Int] = [:]
        for x in xs { c[x, default: 0] += 1 }
        return c.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public func latencies(_ path: KeyPath<InsideKill, UInt64?>) -> [(String, LatencySummary)] {
        let impls = Set(kills.map(\.implementation)).sorted()
        return impls.compactMap { i in
            LatencySummary(kills.filter { $0.implementation == i }.compactMap { $0[keyPath: path] }.filter { $0 != UInt64.max }).map { (i, $0) }
        }
    }

    public var lines: [String] {
        var out = ["Kills inside operations (crash_chance): \(kills.count) deaths, \(withClaims) holding a claim; "
                   + "claims left by the dead: " + (byClaim.isEmpty ? "none" : byClaim.map { "\($0.0) \($0.1)" }.joined(separator: ", "))]
        out.append("  died at: " + byPoint.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        for (i, l) in latencies(\.writableNs) { out.append("  \(i) died → its key written by another implementation: \(l.text)") }
        for (i, l) in latencies(\.reclaimedNs) { out.append("  \(i) died → every claim it held reclaimed (replacement started): \(l.text)") }
        if !neverWritable.isEmpty {
            out.append("  NOT WRITABLE: after \(neverWritable.count) deaths another implementation's put of the key was still refused 2 s later: "
                       + neverWritable.prefix(5).map { "\($0.implementation) at \($0.point) (\($0.claims.map(\.kind.rawValue).joined(separator: ", ")))" }
                           .joined(separator: "; "))
        }
        if !leaked.isEmpty {
            out.append("  LEAKED: \(leaked.count) deaths left claims nobody took back: "
                       + leaked.prefix(5).map { "\($0.implementation) at \($0.point) (\($0.leaked.map(\.kind.rawValue).joined(separator: ", ")))" }
                           .joined(separator: "; "))
        }
        return out
    }

    public var json: JSON {
        .object([
            "deaths": .int(Int64(kills.count)),
            "deaths_holding_claims": .int(Int64(withClaims)),
            "by_point": .object(Dictionary(uniqueKeysWithValues: byPoint.map { ($0.0, JSON.int(Int64($0.1))) })),
            "claims_by_kind": .object(Dictionary(uniqueKeysWithValues: byClaim.map { ($0.0, JSON.int(Int64($0.1))) })),
            "writable_ns": .object(Dictionary(uniqueKeysWithValues: latencies(\.writableNs).map { ($0.0, $0.1.json) })),
            "reclaimed_ns": .object(Dictionary(uniqueKeysWithValues: latencies(\.reclaimedNs).map { ($0.0, $0.1.json) })),
            "leaked": .int(Int64(leaked.count)),
            "never_writable": .int(Int64(neverWritable.count)),
        ])
    }
}
