import Foundation
@_spi(Harness) import Warmcache
import WarmcheckSegment

/// `warmcheck inspect --json`: the inspector's report as the harness's own `JSON` value, so the
/// harness has one JSON stack (issue 11). The field names and nesting are those the inspector's
/// report types have always been printed with (snake_case, as in docs/DRIVER.md); an absent
/// error, header or totals is left out rather than written as null, as before.
/// InspectJSONTests pins the names.
extension InspectReport {
    public var json: JSON {
        let r = report
        var o: [String: JSON] = [
            "path": .string(r.path),
            "participants": .array(r.participants.map(Self.json)),
            "shards": .array(r.shards.map { s in
                .object(["shard": .int(Int64(s.shard)), "counters": Self.json(s.counters), "occupancy": Self.json(s.occupancy)])
            }),
            "occupancy": Self.json(r.occupancy),
            "problems": .array(r.problems.map { .string($0) }),
            "healthy": .bool(r.healthy),
        ]
        if let e = r.error { o["error"] = .object(["code": .string(e.code), "message": .string(e.message)]) }
        if let h = r.header { o["header"] = Self.json(h) }
        if let t = r.totals { o["totals"] = Self.json(t) }
        if !namespaces.isEmpty || !pins.isEmpty {
            let u = JSON.init(unsigned:)
            o["namespaces"] = .object([
                "table": .array(namespaces.map { n in
                    .object(["ns": .int(Int64(n.ns)), "current": u(n.current), "previous": u(n.previous), "last": u(n.last),
                             "stager": .int(Int64(n.stager))])
                }),
                "pins": .array(pins.map { p in
                    .object(["participant": .int(Int64(p.participant)), "ns": .int(Int64(p.ns)), "version": u(p.version), "live": .bool(p.isLive)])
                }),
            ])
        }
        return .object(o)
    }

    static func json(_ h: HeaderReport) -> JSON {
        let u = JSON.init(unsigned:)
        let g = h.geometry
        return .object([
            "magic": u(h.magic), "version_major": u(h.versionMajor), "version_minor": u(h.versionMinor),
            "header_size": u(h.headerSize), "features_incompat": u(h.featuresIncompat), "features_compat": u(h.featuresCompat),
            "layout_fingerprint": u(h.layoutFingerprint), "total_len": u(h.totalLen),
            "geometry": .object([
                "shard_count": u(UInt64(g.shardCount)), "slots_per_shard": u(UInt64(g.slotsPerShard)),
                "key_capacity": u(UInt64(g.keyCapacity)), "value_capacity": u(UInt64(g.valueCapacity)),
                "probe_window": u(UInt64(g.probeWindow)), "participant_capacity": u(UInt64(g.participantCapacity)),
            ]),
            "slot_size": u(h.slotSize), "participants_offset": u(h.participantsOffset), "shards_offset": u(h.shardsOffset),
            "shard_size": u(h.shardSize), "creator_pid": u(h.creatorPid), "creator_start_time": u(h.creatorStartTime),
            "creator_language": u(UInt64(h.creatorLanguage)), "creator_uid": u(UInt64(h.creatorUid)),
            "created_at_ns": u(h.createdAtNs), "header_checksum": u(h.headerChecksum), "ready": u(h.ready),
            "is_ready": .bool(h.isReady), "generation": u(h.generation), "waiters": u(h.waiters), "event_seq": u(h.eventSeq),
            "version_clock": u(h.versionClock), "sim_clock": .bool(h.simClock), "sim_clock_ns": u(h.simClockNs),
        ])
    }

    static func json(_ p: ParticipantInfo) -> JSON {
        let u = JSON.init(unsigned:)
        return .object([
            "index": .int(Int64(p.index)), "epoch": u(p.epoch), "pid": u(p.pid), "start_time": u(p.startTime),
            "language": u(UInt64(p.language)), "protocol_major": u(UInt64(p.protocolMajor)),
            "protocol_minor": u(UInt64(p.protocolMinor)), "uid": u(UInt64(p.uid)),
            "registered_at_ns": u(p.registeredAtNs), "alive": .bool(p.alive),
        ])
    }

    static func json(_ c: Counters) -> JSON {
        let u = JSON.init(unsigned:)
        return .object([
            "hits": u(c.hits), "misses": u(c.misses), "stale_hits": u(c.staleHits), "inserts": u(c.inserts),
            "refreshes": u(c.refreshes), "evictions": u(c.evictions), "invalidations": u(c.invalidations),
            "expirations": u(c.expirations), "reclaims": u(c.reclaims),
        ])
    }

    static func json(_ occupancy: Occupancy) -> JSON { .object(occupancy.mapValues { .int(Int64($0)) }) }
}
