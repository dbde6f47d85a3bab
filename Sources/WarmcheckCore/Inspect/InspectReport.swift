import Foundation
@_spi(Harness) import Warmcache
import WarmcheckSegment

/// `warmcheck inspect`: renders what the Swift implementation's read-only inspector found
/// (Warmcache/Inspection.swift) for people and for machines, and maps it to an exit status.
/// The harness's own decoder (WarmcheckSegment) reads the same file as a second opinion: the
/// rich view stays the inspector's (its report, as InspectJSON.swift prints it, is what tools
/// consume), but where the two readers disagree the report says so and the segment does not
/// count as healthy.
public struct InspectReport {
    public let report: InspectionReport
    /// Where warmcheck's decoder sees it differently, or nil when both agree.
    public let disagreement: String?
    /// The namespace table entries in use and the pin words (PROTOCOL.md §18), as warmcheck's
    /// decoder reads them: the Swift inspector predates namespaces.
    public var namespaces: [NamespaceView] = []
    public var pins: [PinView] = []

    /// `maxTotalLen`: the size bound of geometry rule 9 (PROTOCOL.md §13.2) both readers apply;
    /// 0 means the default 2^34. It bounds the decoder's copy of the file too.
    public static func make(path: String, maxTotalLen: UInt64 = 0) -> InspectReport {
        let report = SegmentInspector.inspect(path: path, maxTotalLen: maxTotalLen)
        let bound = maxTotalLen == 0 ? SpecLayout.defaultMaxTotalLen : min(maxTotalLen, SpecLayout.maxTotalLen)
        let snap = SegmentSnapshot.read(path: path, maxTotalLen: bound)
        var r = InspectReport(report: report, disagreement: secondOpinion(report, snap))
        if case .success(let s) = snap {
            r.namespaces = s.namespaces.filter { !$0.isEmpty }
            r.pins = s.pins
        }
        return r
    }

    static func secondOpinion(_ r: InspectionReport, _ d: Result<SegmentSnapshot, OpenRefusal>) -> String? {
        switch (r.error, d) {
        case (let e?, .failure(let refusal)):
            return e.code == refusal.code ? nil : "the inspector refuses it with \(e.code), warmcheck's decoder with \(refusal)"
        case (let e?, .success):
            return "the inspector refuses it with \(e.code), warmcheck's decoder opens it"
        case (nil, .failure(let refusal)):
            return "the inspector opens it, warmcheck's decoder refuses it: \(refusal)"
        case (nil, .success(let snap)):
            let mine = snap.problems
            if mine.isEmpty == r.problems.isEmpty { return nil }
            return mine.isEmpty ? "the inspector finds problems, warmcheck's decoder none"
                : "warmcheck's decoder finds problems the inspector does not: " + mine.prefix(5).map(\.description).joined(separator: "; ")
        }
    }

    /// 0 healthy, 1 problems found (or the two readers disagree), 2 not a readable segment.
    public var exitStatus: Int32 {
        if report.error != nil { return 2 }
        return report.problems.isEmpty && disagreement == nil ? 0 : 1
    }

    /// The report for machines (InspectJSON.swift), pretty-printed with sorted keys.
    public var jsonText: String { json.pretty }

    static let languages = ["unknown", "go", "rust", "swift"]
    static func language(_ code: UInt8) -> String {
        Int(code) < languages.count ? languages[Int(code)] : "code \(code)"
    }
    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
    static func time(_ ns: UInt64) -> String {
        let d = Date(timeIntervalSince1970: Double(ns) / 1e9)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    public var text: String {
        var out = "segment \(report.path)\n"
        if let e = report.error {
            out += "NOT A READABLE SEGMENT: \(e.code): \(e.message)\n"
            if let d = disagreement { out += "READERS DISAGREE: \(d)\n" }
            if let h = report.header, h.magic == 0x484341434D524157 {
                out += "(header as found: version \(h.versionMajor).\(h.versionMinor), total_len \(h.totalLen), ready \(h.isReady))\n"
            }
            return out
        }
        guard let h = report.header else { return out + "no header\n" }
        let g = h.geometry
        out += "  protocol      \(h.versionMajor).\(h.versionMinor)   features incompat \(Self.hex(h.featuresIncompat)) compat \(Self.hex(h.featuresCompat))\n"
        out += "  fingerprint   \(Self.hex(h.layoutFingerprint))   header checksum \(Self.hex(h.headerChecksum))\n"
        out += "  geometry      \(g.shardCount) shards × \(g.slotsPerShard) slots, key \(g.keyCapacity) B, value \(g.valueCapacity) B, "
            + "window \(g.probeWindow), \(g.participantCapacity) participants\n"
        out += "  size          \(h.totalLen) bytes (slot \(h.slotSize) B, shard \(h.shardSize) B)\n"
        out += "  creator       pid \(h.creatorPid) (\(Self.language(h.creatorLanguage)), uid \(h.creatorUid)) at \(Self.time(h.createdAtNs))\n"
        out += "  clock         " + (h.simClock ? "simulated, now \(h.simClockNs) ns" : "realtime") + "\n"
        out += "  live words    generation \(h.generation), waiters \(h.waiters), event_seq \(h.eventSeq), version_clock \(h.versionClock)\n"
        let alive = report.participants.filter(\.alive)
        out += "  participants  \(report.participants.filter { $0.epoch > 0 }.count) registered, \(alive.count) alive\n"
        for p in report.participants where p.epoch > 0 {
            out += "    #\(p.index + 1) \(p.alive ? "alive" : "gone ") pid \(p.pid) \(Self.language(p.language)) epoch \(p.epoch)\n"
        }
        for n in namespaces {
            out += "  namespace \(n.ns)   current \(n.current), previous \(n.previous), last \(n.last), "
                + (n.stager == 0 ? "no stage open" : "stage \(n.last) open by #\(n.stager)") + "\n"
        }
        for p in pins {
            out += "    pin #\(p.participant) namespace \(p.ns) version \(p.version) "
                + (p.isLive ? "(live)" : "(void: \(p.alive ? "epoch differs" : "pinner gone"))") + "\n"
        }
        let occ = report.occupancy.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        out += "  occupancy     \(occ)\n"
        if let t = report.totals {
            out += "  counters      hits \(t.hits), misses \(t.misses), stale_hits \(t.staleHits), inserts \(t.inserts), "
                + "refreshes \(t.refreshes), evictions \(t.evictions), invalidations \(t.invalidations), "
                + "expirations \(t.expirations), reclaims \(t.reclaims)\n"
        }
        out += "  shard  used  hits  misses  inserts  refreshes  evictions\n"
        for s in report.shards {
            let used = s.occupancy.filter { $0.key != "EMPTY" }.values.reduce(0, +)
            let c = s.counters
            out += String(format: "  %5d %5d %5llu %7llu %8llu %10llu %10llu\n", s.shard, used, c.hits, c.misses, c.inserts, c.refreshes, c.evictions)
        }
        if let d = disagreement { out += "READERS DISAGREE: \(d)\n" }
        if report.problems.isEmpty && disagreement == nil {
            out += "healthy: no problems found (the inspector and warmcheck's decoder agree)\n"
        } else if report.problems.isEmpty {
            out += "no problems found by the inspector\n"
        } else {
            out += "PROBLEMS (\(report.problems.count)):\n"
            for p in report.problems { out += "  - \(p)\n" }
        }
        return out
    }
}
