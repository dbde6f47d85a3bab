import Foundation

extension CaseResult {
    /// A case read back from a JSON report (`JSONReport.render`); nil when `j` is not one.
    public init?(json j: JSON) {
        guard let name = j["name"]?.string, let raw = j["verdict"]?.string, let verdict = Verdict(rawValue: raw) else { return nil }
        let assignment = (j["assignment"]?.object ?? [:]).sorted { $0.key < $1.key }.map { (role: $0.key, impl: $0.value.string ?? "") }
        self.init(name: name, scenario: j["scenario"]?.string ?? "", file: j["file"]?.string ?? "", assignment: assignment,
                  verdict: verdict, reason: j["reason"]?.string ?? "", details: j["details"]?.string ?? "",
                  seconds: j["seconds"].flatMap { if case .double(let d) = $0 { return d }; return $0.int.map(Double.init) } ?? 0,
                  rerun: j["rerun"]?.string ?? "")
        stats = (j["stats"]?.object ?? [:]).compactMapValues { $0.int.map(Int.init) }
        notes = (j["notes"]?.array ?? []).compactMap(\.string)
    }
}

/// `warmcheck merge`: the JSON reports of the shards of one run, checked to be exactly that run
/// (same seed, every shard once, no case twice, as many cases as the unsplit run had) and
/// combined into one list of results, so that one report and one exit status come out.
public struct ShardedRun {
    public var seed: UInt64 = 1
    public var fixtures: [String: [String]] = [:]
    public var results: [CaseResult] = []
    /// Problems that make the merged report untrustworthy (a missing shard, a case run twice):
    /// each is a harness error, whatever the cases say.
    public var problems: [String] = []

    public init() {}

    /// Merges reports given as (file name, parsed JSON), in any order.
    public static func merge(_ reports: [(file: String, json: JSON)]) -> ShardedRun {
        var m = ShardedRun()
        var seeds = Set<String>()
        var shards: [Int: String] = [:]
        var counts = Set<Int64>(), totals = Set<Int64>()
        var owner: [String: String] = [:]
        for (file, j) in reports {
            guard let cases = j["cases"]?.array else {
                m.problems.append("\(file): not a `warmcheck run --json` report (no \"cases\")")
                continue
            }
            if let s = j["seed"]?.string { seeds.insert(s) }
            for (k, v) in j["fixtures"]?.object ?? [:] {
                let argv = (v.array ?? []).compactMap(\.string)
                if let old = m.fixtures[k], old != argv {
                    m.problems.append("\(file): fixture \(k) ran as `\(argv.joined(separator: " "))`, elsewhere as `\(old.joined(separator: " "))`")
                }
                m.fixtures[k] = argv
            }
            let shard = j["shard"]
            let index = shard?["index"]?.int ?? 1, count = shard?["count"]?.int ?? 1
            counts.insert(count)
            if let t = shard?["total"]?.int { totals.insert(t) }
            if let other = shards[Int(index)] {
                m.problems.append("\(file): shard \(index)/\(count) was already given by \(other)")
            }
            shards[Int(index)] = file
            for (i, c) in cases.enumerated() {
                guard let r = CaseResult(json: c) else {
                    m.problems.append("\(file): case \(i + 1) is not a case result")
                    continue
                }
                m.add(r, from: file, owner: &owner)
            }
        }
        if seeds.count > 1 { m.problems.append("the reports come from runs with different seeds: \(seeds.sorted().joined(separator: ", "))") }
        m.seed = seeds.first.flatMap { UInt64($0) } ?? 1
        if counts.count > 1 {
            m.problems.append("the reports split the run differently: shard counts \(counts.sorted().map(String.init).joined(separator: ", "))")
        } else if let n = counts.first {
            let missing = (1...max(1, Int(n))).filter { shards[$0] == nil }
            if !missing.isEmpty { m.problems.append("shard(s) \(missing.map { "\($0)/\(n)" }.joined(separator: ", ")) missing") }
        }
        if totals.count > 1 {
            m.problems.append("the shards disagree on how many cases the run has: \(totals.sorted().map(String.init).joined(separator: ", "))")
        } else if let t = totals.first, t != Int64(m.results.count), m.problems.isEmpty {
            m.problems.append("the shards hold \(m.results.count) cases, the run has \(t)")
        }
        return m
    }

    /// Merges the `--junit` reports of shards, given as (file name, its cases). JUnit carries no
    /// shard record, seed or case count, so only a case given twice can be caught here; a missing
    /// shard cannot (the JSON reports can tell, and are what to merge when that matters).
    public static func merge(junit reports: [(file: String, results: [CaseResult])]) -> ShardedRun {
        var m = ShardedRun()
        var owner: [String: String] = [:]
        for (file, results) in reports {
            for r in results { m.add(r, from: file, owner: &owner) }
        }
        return m
    }

    /// Takes `r` unless another report already gave a case of that name (`owner`: case → file).
    private mutating func add(_ r: CaseResult, from file: String, owner: inout [String: String]) {
        if let other = owner[r.name] {
            problems.append("case \(r.name) is in \(other) and in \(file)")
            return
        }
        owner[r.name] = file
        results.append(r)
    }

    /// The exit status of the merged run, as `warmcheck run` would have given it unsplit:
    /// 1 a conformance failure, 2 a harness error or an incomplete merge, 0 otherwise.
    public var exitStatus: Int32 {
        if results.contains(where: \.failsRun) { return 1 }
        if !problems.isEmpty || results.contains(where: { $0.verdict == .error }) { return 2 }
        return 0
    }
}

/// The `--json` reports of `warmcheck selftest --shard I/N`: one list of faults, each attacked
/// once. They carry no shard record (the report is a bare list), so only a fault attacked twice
/// can be caught here; the count of faults is the sum of the shards'.
public struct ShardedSelftest {
    public var kills: [JSON] = []
    public var problems: [String] = []

    public static func merge(_ reports: [(file: String, json: JSON)]) -> ShardedSelftest {
        var m = ShardedSelftest()
        var owner: [String: String] = [:]
        for (file, j) in reports {
            guard let list = j.array else {
                m.problems.append("\(file): not a `warmcheck selftest --json` report (not a list)")
                continue
            }
            for k in list {
                let id = "\(k["fixture"]?.string ?? "?") \(k["fault"]?.string ?? "?")"
                if let other = owner[id] { m.problems.append("fault \(id) is in \(other) and in \(file)"); continue }
                owner[id] = file
                m.kills.append(k)
            }
        }
        return m
    }

    public var killed: Int { kills.filter { $0["killed"]?.bool == true }.count }

    /// 0 every fault killed, 1 one survived, 2 the reports do not merge.
    public var exitStatus: Int32 { !problems.isEmpty ? 2 : killed == kills.count ? 0 : 1 }
}
