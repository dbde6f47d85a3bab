import Foundation
@_spi(Harness) import Warmcache

/// The operations that let the harness look inside: the simulated clock, `dump`, `participants`.
extension Server {
    func setClock(_ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        let now = try u64(args, "now_ns")
        do { try c.setSimClock(now) } catch {
            if error == .closed { throw error }
            throw RequestError.bad("set_clock: \(error)")
        }
        return .ok([:])
    }

    func dump() throws -> Outcome {
        let c = try requireCache()
        let d = try c.dump()
        let entries: [[String: Any]] = d.entries.map { e in
            ["shard": e.shard, "slot": e.slot, "state": e.state, "seq": UInt64(e.seq), "key_hex": Hex.encode(e.key),
             "hit": !e.expired, "stale": e.stale, "expired": e.expired, "refresh_requested": false,
             "value_hex": Hex.encode(e.value), "version": e.version, "origin_tag": UInt64(e.originTag),
             "expires_at_ns": e.expiresAt, "stale_until_ns": e.staleUntil, "written_at_ns": e.writtenAt,
             "writer": writerJSON(e.provenance)]
        }
        return .ok(["entries": entries, "problems": d.problems])
    }

    func participants() throws -> Outcome {
        let c = try requireCache()
        let ps: [[String: Any]] = try c.participants().map {
            ["index": $0.index, "epoch": $0.epoch, "pid": $0.pid, "start_time": $0.startTime,
             "language": UInt64($0.language), "alive": $0.alive,
             "protocol_major": UInt64($0.protocolMajor), "protocol_minor": UInt64($0.protocolMinor)]
        }
        return .ok(["participants": ps])
    }

    /// PROTOCOL.md §9.9 through the open handle (DRIVER.md `repair`).
    func repair() throws -> Outcome {
        let c = try requireCache()
        let r = try c.repair()
        let list = { (a: [RepairAction]) -> [[String: Any]] in
            a.map { ["shard": $0.shard, "slot": $0.slot, "detail": $0.detail] }
        }
        return .ok(["locks_freed": list(r.locksFreed), "reclaimed": list(r.reclaimed),
                    "quarantined": list(r.quarantined), "unrepairable": list(r.unrepairable),
                    "quarantined_total": r.quarantinedTotal])
    }
}
