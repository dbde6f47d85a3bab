import Foundation
import WarmcheckSegment

// One reading of a live segment's counters (§6), occupancy (§8.1) and participants (§5), for
// `warmcheck stats`, `exporter` and the dashboard. Every number is loaded from the mapping at
// the time of the sample (LiveSegment); two samples give the per-second rates.
//
// All nine counters the issue names exist in the protocol (§6, one set per shard header): hits,
// stale_hits, misses, inserts, refreshes, evictions, invalidations, expirations, reclaims. No new
// counter was needed, so the shard header's reserved bytes are untouched.

/// The nine shard counters of §6 by their spec names, in the table's order.
public enum CounterField: String, CaseIterable, Sendable {
    case hits, misses, staleHits = "stale_hits", inserts, refreshes, evictions, invalidations, expirations, reclaims

    public var keyPath: KeyPath<ShardCounters, UInt64> {
        switch self {
        case .hits: return \.hits
        case .misses: return \.misses
        case .staleHits: return \.staleHits
        case .inserts: return \.inserts
        case .refreshes: return \.refreshes
        case .evictions: return \.evictions
        case .invalidations: return \.invalidations
        case .expirations: return \.expirations
        case .reclaims: return \.reclaims
        }
    }

    /// The order the views print them in: the gets first, then the writers' outcomes.
    public static let display: [CounterField] = [.hits, .staleHits, .misses, .inserts, .refreshes, .evictions,
                                                 .invalidations, .expirations, .reclaims]
}

extension ShardCounters {
    public subscript(_ f: CounterField) -> UInt64 { self[keyPath: f.keyPath] }
    public var gets: UInt64 { hits &+ staleHits &+ misses }
    /// Gets that returned a value (fresh or stale) over all gets; nil before the first get.
    /// A stale hit counts: the caller was served (§12), only its freshness differs.
    public var hitRatio: Double? { gets == 0 ? nil : Double(hits &+ staleHits) / Double(gets) }
}

/// A participant entry that was ever used (epoch > 0), with its liveness probed at sample time.
public struct ParticipantSummary: Sendable, Equatable {
    public var id: Int, alive: Bool, language: String, languageCode: Int
    public var protocolVersion: String, pid: UInt64, startTime: UInt64, uid: UInt32
    public var registeredAtNs: UInt64, epoch: UInt64

    var json: JSON {
        ["id": .int(Int64(id)), "alive": .bool(alive), "language": .string(language), "language_code": .int(Int64(languageCode)),
         "protocol": .string(protocolVersion), "pid": JSON(unsigned: pid), "start_time": JSON(unsigned: startTime),
         "uid": .int(Int64(uid)), "registered_at_ns": JSON(unsigned: registeredAtNs), "epoch": JSON(unsigned: epoch)]
    }
}

/// Language names of §7.3 from spec/vocabulary.json (the one list), or `#N` when the checkout's
/// vocabulary cannot be read (warmcheck run outside the repository).
public struct LanguageNames: Sendable {
    let names: [Int: String]
    public init(vocabulary: Vocabulary?) {
        names = Dictionary(uniqueKeysWithValues: (vocabulary?.languages ?? []).map { ($0.code, $0.name) })
    }
    public static func fromRepo() -> LanguageNames {
        LanguageNames(vocabulary: Repo.root().flatMap { try? Vocabulary.load($0.appendingPathComponent("spec/vocabulary.json")) })
    }
    public func name(_ code: UInt8) -> String { names[Int(code)] ?? (code == 0 ? "unknown" : "#\(code)") }
}

public struct StatsSample: Sendable {
    public var path: String
    /// CLOCK_MONOTONIC at the sample, for rates; CLOCK_REALTIME for people.
    public var monotonicNs: UInt64, wallNs: UInt64
    public var geometry: SpecGeometry
    public var protocolVersion: String
    public var shards: [ShardCounters]
    public var totals: ShardCounters
    /// Slots by state name (§8.1), plus "impossible" for words no state allows.
    public var occupancy: [String: Int]
    /// Readable entries (READY, REFRESHING, STALE) per shard.
    public var shardEntries: [Int]
    public var participants: [ParticipantSummary]

    public static let occupancyKeys = SpecState.allCases.map(\.name) + ["impossible"]

    /// Reads everything once. `occupancy: false` skips the walk over every state word, which
    /// touches one page per slot on large segments (the counters are in the shard headers).
    public static func take(_ seg: LiveSegment, languages: LanguageNames, occupancy walk: Bool = true) -> StatsSample {
        let g = seg.geometry
        let shards = (0..<g.shardCount).map { seg.counters(shard: $0) }
        var occ = Dictionary(uniqueKeysWithValues: occupancyKeys.map { ($0, 0) })
        var perShard = [Int](repeating: 0, count: g.shardCount)
        if walk {
            for s in 0..<g.shardCount {
                for j in 0..<g.slotsPerShard {
                    let w = seg.stateWord(s, j)
                    if w.impossibility(participantCapacity: g.participantCapacity) != nil {
                        occ["impossible", default: 0] += 1
                    } else if let st = w.state {
                        occ[st.name, default: 0] += 1
                        if st.isReadable { perShard[s] += 1 }
                    }
                }
            }
        }
        let version = seg.word(SpecLayout.Header.version)
        let parts = (0..<g.participantCapacity).compactMap { i -> ParticipantSummary? in
            let p = seg.participant(i)
            guard p.epoch > 0 else { return nil }
            return ParticipantSummary(id: p.id, alive: p.alive, language: languages.name(p.language), languageCode: Int(p.language),
                                      protocolVersion: "\(p.protocolMajor).\(p.protocolMinor)", pid: p.pid, startTime: p.startTime,
                                      uid: p.uid, registeredAtNs: p.registeredAtNs, epoch: p.epoch)
        }
        return StatsSample(path: seg.path, monotonicNs: monotonicNow(), wallNs: wallNow(), geometry: g,
                           protocolVersion: "\(version & 0xFFFF).\((version >> 16) & 0xFFFF)",
                           shards: shards, totals: shards.reduce(ShardCounters(), +),
                           occupancy: walk ? occ : [:], shardEntries: perShard, participants: parts)
    }

    public var aliveParticipants: Int { participants.filter(\.alive).count }
    public var entries: Int { shardEntries.reduce(0, +) }
}

/// Per-second rates between two samples of the same segment.
public struct StatsRates: Sendable {
    public var seconds: Double
    public var totals: [CounterField: Double]
    public var shards: [[CounterField: Double]]
    /// Hit ratio of the gets in the interval; nil when there were none.
    public var intervalHitRatio: Double?

    public init(from a: StatsSample, to b: StatsSample) {
        seconds = max(Double(b.monotonicNs &- a.monotonicNs) / 1e9, 1e-9)
        let dt = seconds
        // Counters only increase (§6); a smaller value means another segment under the same
        // path, which `LiveSegment.loss` reports before a sample is taken. Clamp anyway.
        func rate(_ x: ShardCounters, _ y: ShardCounters) -> [CounterField: Double] {
            Dictionary(uniqueKeysWithValues: CounterField.allCases.map { f in
                (f, y[f] >= x[f] ? Double(y[f] - x[f]) / dt : 0)
            })
        }
        totals = rate(a.totals, b.totals)
        shards = zip(a.shards, b.shards).map { rate($0, $1) }
        let served = (totals[.hits] ?? 0) + (totals[.staleHits] ?? 0)
        let gets = served + (totals[.misses] ?? 0)
        intervalHitRatio = gets > 0 ? served / gets : nil
    }
}

func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func wallNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
