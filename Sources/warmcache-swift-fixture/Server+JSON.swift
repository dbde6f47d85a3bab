import Foundation
@_spi(Harness) import Warmcache

/// Results as the JSON objects of docs/DRIVER.md.
extension Server {
    func hitJSON(_ h: Hit) -> [String: Any] {
        ["hit": true, "stale": h.stale, "refresh_requested": h.refreshRequested, "value_hex": Hex.encode(h.value),
         "version": h.version, "origin_tag": UInt64(h.originTag), "expires_at_ns": h.expiresAt,
         "stale_until_ns": h.staleUntil, "written_at_ns": h.writtenAt, "writer": writerJSON(h.provenance),
         "shard": h.shard, "slot": h.slot]
    }

    func writerJSON(_ p: Provenance) -> [String: Any] {
        ["pid": UInt64(p.pid), "language": UInt64(p.language), "protocol_major": UInt64(p.protocolMajor),
         "protocol_minor": UInt64(p.protocolMinor), "participant": UInt64(p.participant), "start_time": p.startTime]
    }

    func countersJSON(_ c: Counters) -> [String: Any] {
        ["hits": c.hits, "misses": c.misses, "stale_hits": c.staleHits, "inserts": c.inserts,
         "refreshes": c.refreshes, "evictions": c.evictions, "invalidations": c.invalidations,
         "expirations": c.expirations, "reclaims": c.reclaims]
    }
}
