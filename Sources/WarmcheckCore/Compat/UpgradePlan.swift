import Foundation

/// A randomized upgrade plan (`warmcheck upgrade --seed N`), in the manner of CockroachDB's
/// mixed-version framework: a fleet of a producer and consumers of random languages, each
/// starting as a random release build, then upgrades, language switches and rollbacks in random
/// order with traffic between every two of them, and at the end every process reads back every
/// acknowledged write. The plan is a scenario (docs/SCENARIOS.md), so it is checked like every
/// other run and a failure leaves a replay file; the same seed always gives the same plan.
public struct UpgradePlan: Sendable {
    public var seed: UInt64
    public var yaml: String
    public var name: String { "upgrade-plan-seed-\(seed)" }

    /// `releases`: versions built from history, oldest first; `head` (this checkout) is always
    /// the newest build. `events`: upgrades and rollbacks, each followed by traffic.
    public static func make(seed: UInt64, releases: [String], implementations: [String], events: Int) -> UpgradePlan {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        let builds = releases + ["head"]
        let roles = ["producer"] + (1...(2 + Int(rng.next() % 2))).map { "consumer\($0)" }
        var impl = Dictionary(uniqueKeysWithValues: roles.map { ($0, pick(implementations)) })
        var at = Dictionary(uniqueKeysWithValues: roles.map { ($0, pick(releases.isEmpty ? builds : releases)) })
        // Each role's earlier builds, for rollbacks.
        var history: [String: [(String, String)]] = [:]
        let keys = (0..<6).map { "k\($0)" }
        var last: [String: String] = [:]
        var y = "name: upgrade-plan-seed-\(seed)\n"
        y += "description: >\n  A randomized upgrade plan (warmcheck upgrade --seed \(seed)); every get expects the last acknowledged write.\n"
        y += "geometry: {shards: 4, slots: 16, key_capacity: 32, value_capacity: 256, window: 4, participants: 16}\n"
        y += "processes:\n" + roles.map { "  \($0): \(impl[$0]!)\n" }.joined()
        y += "init:\n"
        func target(_ i: String, _ b: String) -> String { b == "head" ? i : "\(i)@\(b)" }
        for r in roles { y += "  - upgrade: \(r) to=\(target(impl[r]!, at[r]!))\n" }
        y += "  - producer: create\n"
        for r in roles.dropFirst() { y += "  - \(r): open\n" }
        var written = 0
        func traffic() {
            y += "  # traffic\n"
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let k = pick(keys)
                written += 1
                let v = "w\(written)"
                y += "  - producer: put \(k) \(v)\n    expect: ok\n"
                last[k] = v
            }
            for r in roles.dropFirst() {
                for _ in 0..<(1 + Int(rng.next() % 2)) {
                    let k = pick(keys)
                    y += "  - \(r): get \(k)\n    expect: " + (last[k].map { "hit value=\($0)" } ?? "miss") + "\n"
                }
            }
        }
        traffic()
        for _ in 0..<events {
            let r = pick(roles)
            let cur = builds.firstIndex(of: at[r]!)!
            let back = history[r]?.last
            let newer = Array(builds[(cur + 1)...])
            let what: String
            if let back, rng.next() % 3 == 0 {
                history[r]!.removeLast()
                (impl[r], at[r]) = (back.0, back.1)
                what = "rollback"
            } else if !newer.isEmpty {
                history[r, default: []].append((impl[r]!, at[r]!))
                at[r] = pick(newer)
                // Now and then a process is replaced by another language at the same time.
                if rng.next() % 4 == 0 { impl[r] = pick(implementations) }
                what = "upgrade"
            } else {
                continue
            }
            y += "  # \(what) of \(r)\n  - upgrade: \(r) to=\(target(impl[r]!, at[r]!))\n"
            traffic()
        }
        y += "final:\n"
        for r in roles {
            for k in keys where last[k] != nil { y += "  - \(r): get \(k)\n    expect: hit value=\(last[k]!)\n" }
        }
        return UpgradePlan(seed: seed, yaml: y)
    }
}
