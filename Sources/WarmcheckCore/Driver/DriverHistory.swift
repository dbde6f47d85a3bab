import WarmcheckModel

/// Turns driver answers into the checkers' terms; shared by the scenario runner and stress mode
/// so that both judge a fixture's answer the same way.
extension DriverResponse {
    /// The history output of an answer to `op` (`get`, `put`, `refresh`, `invalidate`,
    /// `evict`); nil (no answer: the process died) and `unknown` both mean "may or may not
    /// have taken effect".
    static func cacheOutput(_ r: DriverResponse?, op: String) -> CacheOutput {
        guard let r, let oc = r.outcome, oc != .unknown else { return .unknown }
        if oc == .fail { return .fail(FailReason(wire: r.reason ?? "other")) }
        // A mistyped answer is the fixture's contract violation, reported by the caller
        // (DriverAnswer); it must never reach the checker as a miss or a version 0.
        switch try? DriverAnswer.decode(r, op: op, fixture: "") {
        case .get(let hit?): return .hit(value: hit.value, version: hit.version, stale: hit.stale)
        case .get(nil): return .miss
        case .put(let version, _, _, _): return .ok(version: version)
        case .removed(let removed): return .removed(removed)
        default: return .unknown
        }
    }
}

extension ObservedTransition {
    /// One entry of a response's `transitions` (docs/DRIVER.md); missing fields become values
    /// the checker reports as violations rather than being silently dropped.
    init(driverJSON t: JSON) {
        self.init(event: t["event"]?.string ?? "?", shard: Int(t["shard"]?.int ?? -1), slot: Int(t["slot"]?.int ?? -1),
                  from: t["from"]?.string ?? "?", to: t["to"]?.string ?? "?", seq: t["seq"]?.uint ?? 0,
                  owner: Int(t["owner"]?.int ?? 0), gseq: t["gseq"]?.uint)
    }
}
