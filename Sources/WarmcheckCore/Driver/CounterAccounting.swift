@_spi(Harness) import Warmcache
import WarmcheckModel

/// What the fixtures' answers say the segment's counters (PROTOCOL.md §6) must be, for scenarios
/// and stress runs alike. An operation of unknown outcome (a killed process, a paused one) may
/// or may not have counted itself, so each counter is checked against a range.
struct Accounting: Sendable {
    var fresh = 0, stale = 0, misses = 0, unknownGets = 0
    var inserts = 0, refreshes = 0, unknownPuts = 0
    var invalidations = 0, evictions = 0, unknownRemovals = 0
    /// Misses an unpinned `ns_get` may have counted on top of its answer: it retries, up to
    /// READ_RETRIES gets, when the version it read retired under it (PROTOCOL.md §18.5).
    var namespaceRetryMisses = 0

    /// Adds one operation (driver op name) with its answer, nil if it never answered.
    mutating func note(op: String, _ r: DriverResponse?, output: CacheOutput) {
        switch output {
        case .unknown:
            switch op {
            case "get": unknownGets += 1
            case "put", "refresh": unknownPuts += 1
            default: unknownRemovals += 1
            }
        case .hit(_, _, let isStale):
            if isStale { stale += 1 } else { fresh += 1 }
        case .miss:
            misses += 1
        case .ok:
            if r?.result["created"]?.bool == true { inserts += 1 } else { refreshes += 1 }
        case .removed(let removed):
            if removed { if op == "invalidate" { invalidations += 1 } else { evictions += 1 } }
        case .fail:
            break
        }
    }

    static func + (a: Accounting, b: Accounting) -> Accounting {
        Accounting(fresh: a.fresh + b.fresh, stale: a.stale + b.stale, misses: a.misses + b.misses,
                   unknownGets: a.unknownGets + b.unknownGets, inserts: a.inserts + b.inserts,
                   refreshes: a.refreshes + b.refreshes, unknownPuts: a.unknownPuts + b.unknownPuts,
                   invalidations: a.invalidations + b.invalidations, evictions: a.evictions + b.evictions,
                   unknownRemovals: a.unknownRemovals + b.unknownRemovals,
                   namespaceRetryMisses: a.namespaceRetryMisses + b.namespaceRetryMisses)
    }

    /// The counters that disagree, as `name = got, expected lo…hi`. `inFlight` operations
    /// (stopped at a pause point) may have counted themselves as anything.
    func disagreements(with t: Counters, inFlight: Int = 0) -> [String] {
        var wrong: [String] = []
        func range(_ name: String, _ got: UInt64, _ lo: Int, _ slack: Int, atLeastOnly: Bool = false) {
            let hi = lo + slack + inFlight
            if got < UInt64(lo) || (!atLeastOnly && got > UInt64(hi)) {
                wrong.append("\(name) = \(got), expected \(atLeastOnly ? "≥ \(lo)" : lo == hi ? "\(lo)" : "\(lo)…\(hi)")")
            }
        }
        range("hits", t.hits, fresh, unknownGets)
        range("stale_hits", t.staleHits, stale, unknownGets)
        range("misses", t.misses, misses, unknownGets + namespaceRetryMisses)
        range("inserts", t.inserts, inserts, unknownPuts)
        range("refreshes", t.refreshes, refreshes, unknownPuts)
        range("invalidations", t.invalidations, invalidations, unknownRemovals)
        // Evictions also happen under pressure (CLOCK), which no operation reports by itself.
        range("evictions", t.evictions, evictions, 0, atLeastOnly: true)
        return wrong
    }

    /// Adds one namespace operation (PROTOCOL.md §18): its put, get and removals are the
    /// ordinary ones of §9 and count in the same counters.
    mutating func noteNamespace(op: String, _ r: DriverResponse?) {
        guard let r else {
            switch op {
            case "ns_put": unknownPuts += 1
            case "ns_get": unknownGets += 1
            case "ns_reclaim", "ns_flip": unknownRemovals += 1
            default: break
            }
            return
        }
        guard r.outcome == .ok else { return }
        let res = r.result
        switch op {
        case "ns_put":
            if res["created"]?.bool == true { inserts += 1 } else { refreshes += 1 }
        case "ns_get":
            // No get at all for a namespace without a version (ns_version 0, §18.5).
            guard (res["ns_version"]?.uint ?? 0) != 0 else { break }
            if res["hit"]?.bool == true { fresh += 1 } else { misses += 1 }
            if res["pinned"]?.bool != true { namespaceRetryMisses += 7 }  // READ_RETRIES − 1
        case "ns_reclaim":
            invalidations += Int(res["removed"]?.uint ?? 0)
        default:
            break
        }
    }

    /// What was seen, for the explanation of a disagreement.
    var seen: String {
        "\(fresh) fresh hits, \(stale) stale hits, \(misses) misses, \(inserts) inserts, \(refreshes) refreshes, "
            + "\(invalidations) invalidations, \(evictions) evictions; "
            + "\(unknownGets + unknownPuts + unknownRemovals) operations of unknown outcome"
    }
}
