import WarmcheckScenario
import WarmcheckSegment

/// A `stats` answer, read back against the segment. Expectations (`hits=N` …) and the
/// accounting judge the totals' counters; nothing judged the rest of the answer, which is what a
/// service's dashboard shows: every shard's counters and the occupancy by state. A library that
/// reads a shard's counter from the wrong line, leaves a shard out, or counts a state wrong
/// (an impossible word under READY, an occupancy that starts at 1) answered every expectation.
/// So after a sequential `stats`, with nothing else in flight, the answer must equal what
/// warmcheck's own decoder reads from the same bytes: per shard and in total, each of the nine
/// counters, and the number of slots in each state of §8.1 plus `IMPOSSIBLE` (DRIVER.md
/// `stats`: a state absent from `occupancy` counts 0, as the contract lets IMPOSSIBLE be left out).
extension CaseRunner {
    struct StatsAnswerToCheck { var result: JSON, role: String, impl: String, location: SourceLocation }

    static let counterNames = ["hits", "misses", "stale_hits", "inserts", "refreshes", "evictions", "invalidations", "expirations", "reclaims"]
    static let occupancyNames = SpecState.allCases.map(\.name) + ["IMPOSSIBLE"]

    static func counterValues(_ c: ShardCounters) -> [UInt64] {
        [c.hits, c.misses, c.staleHits, c.inserts, c.refreshes, c.evictions, c.invalidations, c.expirations, c.reclaims]
    }

    func checkStatsAnswer(_ a: StatsAnswerToCheck, _ snap: SegmentSnapshot, where_: String) {
        let g = snap.geometry
        var problems: [String] = []
        func compare(_ obj: JSON?, _ what: String, counters: ShardCounters, occupancy: [String: Int]) {
            guard let obj, obj.object != nil else { problems.append("\(what) is missing"); return }
            for (name, want) in zip(Self.counterNames, Self.counterValues(counters)) {
                let got = obj[name]?.uint
                if got != want { problems.append("\(what).\(name) is \(got.map(String.init) ?? "missing"), the segment holds \(want)") }
            }
            guard let occ = obj["occupancy"], occ.object != nil else { problems.append("\(what).occupancy is missing"); return }
            for name in Self.occupancyNames {
                let got = occ[name].map { $0.uint.map(Int.init) ?? -1 } ?? 0
                let want = occupancy[name] ?? 0
                if got != want { problems.append("\(what).occupancy.\(name) is \(got < 0 ? "not a count" : String(got)), the segment has \(want)") }
            }
        }
        var total: [String: Int] = [:]
        let shards = a.result["shards"]?.array
        if shards?.count != g.shardCount {
            problems.append("shards lists \(shards.map { String($0.count) } ?? "no") shards, the segment has \(g.shardCount)")
        }
        for s in 0..<g.shardCount {
            var occ: [String: Int] = [:]
            for j in 0..<g.slotsPerShard {
                let w = snap.stateWord(s, j)
                let name = w.impossibility(participantCapacity: g.participantCapacity) == nil ? w.state!.name : "IMPOSSIBLE"
                occ[name, default: 0] += 1
                total[name, default: 0] += 1
            }
            if let shards, s < shards.count { compare(shards[s], "shards[\(s)]", counters: snap.counters(shard: s), occupancy: occ) }
        }
        compare(a.result["totals"], "totals", counters: snap.totals, occupancy: total)
        guard !problems.isEmpty else { return }
        conformance("stats of \(a.role) (\(a.impl)) disagrees with the segment \(where_): \(problems[0])",
                    "DRIVER.md `stats` / PROTOCOL.md §6: with nothing else in flight, the answer of the `stats` at \(a.location) "
                        + "must be the segment's counters and occupancy as warmcheck's decoder reads them:\n"
                        + problems.prefix(12).map { "  \($0)" }.joined(separator: "\n")
                        + (problems.count > 12 ? "\n  … \(problems.count - 12) more" : ""))
    }
}
