import Foundation
import WarmcheckScenario

/// Orders the suite for one mutant so that likely killers run first. What it learns:
/// 1. cases that killed earlier mutants of the same function, then of the same file, counted in
///    this run and in earlier runs (`.build/mutate/kill-history.json`, updated after every kill);
/// 2. cases whose scenario uses an operation the mutated function or file is named after
///    (`putSlow` → put, `reclaim.rs` → reclaim scenarios, …);
/// 3. cases that killed anything at all;
/// then the rest, fastest first (baseline durations), so a survivor's full pass is as short as
/// the suite allows and a mutant killed by a quick case dies in seconds.
public struct CaseOrdering {
    /// counts[scope][case] where scope is `file` or `file#function`.
    public private(set) var counts: [String: [String: Int]] = [:]
    public var durations: [String: Double] = [:]
    let path: String?
    /// Where the durations are kept between runs (next to the history), so that a run with a
    /// lazy baseline still tries the fastest cases first.
    var durationsPath: String? { path.map { ($0 as NSString).deletingLastPathComponent + "/case-durations.json" } }

    public init(historyPath: String?) {
        path = historyPath
        // A hint file only orders cases: one that cannot be read is ignored (a fresh history).
        if let p = historyPath, let d = FileManager.default.contents(atPath: p),
           let j = try? CaseOrdering.counts(JSONField.parse(d, source: p)) {
            counts = j
        }
        if let p = durationsPath, let d = FileManager.default.contents(atPath: p),
           let members = try? JSONField.parse(d, source: p).members {
            durations = Dictionary(uniqueKeysWithValues: members.compactMap { k, v in (try? v.double).map { (k, $0) } })
        }
    }

    public func saveDurations() {
        guard let p = durationsPath else { return }
        let j = JSON.object(durations.mapValues { .double($0) })
        try? Data(j.serialized.utf8).write(to: URL(fileURLWithPath: p))
    }

    static func counts(_ f: JSONField) throws -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for (scope, cases) in try f.members {
            for (name, n) in try cases.members { out[scope, default: [:]][name] = try n.int }
        }
        return out
    }

    public mutating func recordKill(_ m: Mutant, by name: String) {
        for scope in [m.file, m.file + "#" + m.function, "*"] { counts[scope, default: [:]][name, default: 0] += 1 }
        guard let p = path else { return }
        let j = JSON.object(counts.mapValues { .object($0.mapValues { .int(Int64($0)) }) })
        try? Data(j.serialized.utf8).write(to: URL(fileURLWithPath: p))
    }

    static let words: [(String, [String])] = [
        ("get", ["get"]), ("lookup", ["get"]), ("read", ["get"]), ("copy", ["get"]), ("checksum", ["get", "put"]),
        ("put", ["put"]), ("insert", ["put"]), ("publish", ["put", "refresh"]), ("claim", ["put", "refresh", "invalidate"]),
        ("write", ["put"]), ("refresh", ["refresh"]), ("invalidate", ["invalidate"]), ("remove", ["invalidate"]),
        ("evict", ["evict", "put"]), ("clock", ["evict", "put"]), ("victim", ["evict", "put"]), ("stat", ["stats"]),
        ("count", ["stats"]), ("dump", ["stats"]), ("inspect", ["stats"]), ("wait", ["wait", "generation"]),
        ("notify", ["wait", "generation"]), ("wake", ["wait"]), ("generation", ["generation", "wait"]),
        ("open", ["open", "open_or_create", "create"]), ("create", ["create", "open_or_create"]), ("header", ["open", "create"]),
        ("validate", ["open"]), ("particip", ["open", "create"]), ("register", ["open", "create"]),
        ("reclaim", ["reclaim"]), ("sweep", ["reclaim"]), ("alive", ["reclaim"]), ("dead", ["reclaim"]),
        ("durable", ["durable", "restore"]), ("journal", ["durable", "restore"]), ("restore", ["durable", "restore"]),
    ]

    /// Operations (and the `reclaim` theme) the mutated function or file suggests.
    static func themes(of m: Mutant) -> Set<String> {
        // The whole path: a folder names a theme too (rust-fixture/src/durable/format.rs).
        let name = (m.function + " " + m.file).lowercased()
        var out = Set<String>()
        for (w, ops) in words where name.contains(w) { out.formUnion(ops) }
        return out
    }

    static func themes(of c: ScenarioCase) -> Set<String> {
        var out = Set(c.scenario.operationsUsed.map(\.rawValue))
        let text = (c.scenario.name + " " + c.scenario.covers.joined(separator: " ")).lowercased()
        if text.contains("reclaim") || text.contains("crash") { out.insert("reclaim") }
        return out
    }

    public func order(_ cases: [ScenarioCase], for m: Mutant) -> [ScenarioCase] {
        order(cases, name: \.name, themes: Self.themes(of:), for: m)
    }

    /// The same order for anything with a name and themes (scenario cases and the gates of
    /// MutationGate alike, so that a gate that killed a function's mutants runs first for it).
    public func order<T>(_ items: [T], name: (T) -> String, themes: (T) -> Set<String>, for m: Mutant) -> [T] {
        let fn = counts[m.file + "#" + m.function] ?? [:]
        let file = counts[m.file] ?? [:]
        let any = counts["*"] ?? [:]
        let want = Self.themes(of: m)
        let keyed = items.enumerated().map { (i, c) -> (T, [Double]) in
            let n = name(c)
            let touches = want.isEmpty ? 0 : Double(themes(c).intersection(want).count)
            return (c, [-Double(fn[n] ?? 0), -Double(file[n] ?? 0), -touches, -Double(any[n] ?? 0), durations[n] ?? 1e9, Double(i)])
        }
        return keyed.sorted { $0.1.lexicographicallyPrecedes($1.1) }.map(\.0)
    }
}
