import Foundation
import WarmcheckSegment

// `warmcheck entries`: every occupied slot of a live segment with its key, state, version,
// expiry and writer (the provenance of §7.2), filtered, plus who wrote what. Slots are read one
// by one with §9.2's consistent snapshot (LiveSegment.read); a slot that changed under every
// retry is counted as contended, not shown half-read.

public struct EntryRow: Sendable {
    public struct Writer: Sendable, Hashable {
        public var language: String, languageCode: Int, pid: UInt32, startTime: UInt64, protocolVersion: String, participant: Int
        /// Whether a process with that pid and start time (§5) still runs: "running", "gone".
        public var process: String
        var json: JSON {
            ["language": .string(language), "language_code": .int(Int64(languageCode)), "pid": .int(Int64(pid)),
             "start_time": JSON(unsigned: startTime), "protocol": .string(protocolVersion), "participant": .int(Int64(participant)),
             "process": .string(process)]
        }
    }
    public var shard: Int, slot: Int, state: String, owner: Int?
    /// The key as text when it is printable UTF-8, else nil (`keyHex` always).
    public var key: String?, keyHex: String
    public var version: UInt64?, valueLen: UInt64?, originTag: UInt32?
    public var expiresAtNs: UInt64?, staleUntilNs: UInt64?, writtenAtNs: UInt64?
    /// By §12 at the time of the listing: "fresh", "stale" (in grace), "expired"; nil when no record is readable.
    public var freshness: String?
    /// Seconds until `expires_at_ns` (negative: past), nil when it never expires or there is no record.
    public var expiresInS: Double?
    public var writer: Writer?

    /// The `--json` shape of docs/OBSERVING.md: absent fields are left out, not null.
    var json: JSON {
        .omittingNil([
            "shard": .int(Int64(shard)), "slot": .int(Int64(slot)), "state": .string(state), "owner": owner.map { .int(Int64($0)) },
            "key": key.map { .string($0) }, "key_hex": .string(keyHex), "version": version.map { JSON(unsigned: $0) },
            "value_len": valueLen.map { JSON(unsigned: $0) }, "origin_tag": originTag.map { .int(Int64($0)) },
            "expires_at_ns": expiresAtNs.map { JSON(unsigned: $0) }, "stale_until_ns": staleUntilNs.map { JSON(unsigned: $0) },
            "written_at_ns": writtenAtNs.map { JSON(unsigned: $0) }, "freshness": freshness.map { .string($0) },
            "expires_in_s": expiresInS.map { .double($0) }, "writer": writer?.json,
        ])
    }
}

public struct EntryFilter: Sendable {
    public var keyPrefix: String?, states: Set<String> = [], language: String?, pid: UInt32?, originTag: UInt32?
    public init(keyPrefix: String? = nil, states: Set<String> = [], language: String? = nil, pid: UInt32? = nil, originTag: UInt32? = nil) {
        self.keyPrefix = keyPrefix; self.states = states; self.language = language; self.pid = pid; self.originTag = originTag
    }
    func accepts(_ r: EntryRow) -> Bool {
        if let p = keyPrefix, !(r.key ?? "").hasPrefix(p) && !r.keyHex.hasPrefix(p.lowercased()) { return false }
        if !states.isEmpty && !states.contains(r.state) { return false }
        if let l = language, r.writer?.language != l.lowercased() { return false }
        if let p = pid, r.writer?.pid != p { return false }
        if let o = originTag, r.originTag != o { return false }
        return true
    }
}

public struct EntriesReport: Sendable {
    public struct WriterSummary: Sendable {
        public var writer: EntryRow.Writer, entries: Int, originTags: [UInt32], states: [String: Int]
        var json: JSON {
            ["writer": writer.json, "entries": .int(Int64(entries)), "origin_tags": .array(originTags.map { .int(Int64($0)) }),
             "states": .object(states.mapValues { .int(Int64($0)) })]
        }
    }
    public var segment: String
    /// Occupied slots read (before the filter), shown (after it, before the limit), slots that never read consistently.
    public var occupied: Int, matched: Int, contended: Int
    public var entries: [EntryRow]
    /// Who wrote what, over the matched entries (all of them, whatever the limit).
    public var writers: [WriterSummary]

    public static func make(_ seg: LiveSegment, filter: EntryFilter, limit: Int, languages: LanguageNames) -> EntriesReport {
        let g = seg.geometry
        let now = seg.now()
        var occupied = 0, contended = 0
        var rows = [EntryRow]()
        var processes = [Int: ProcessIdentity?]()
        for s in 0..<g.shardCount {
            for j in 0..<g.slotsPerShard {
                switch seg.read(shard: s, slot: j) {
                case .empty: continue
                case .contended: contended += 1; occupied += 1
                case .entry(let e):
                    occupied += 1
                    let row = Self.row(e, now: now, languages: languages) { pid in
                        if let known = processes[pid] { return known }
                        let id = ProcessIdentity.of(pid: pid)
                        processes[pid] = id
                        return id
                    }
                    if filter.accepts(row) { rows.append(row) }
                }
            }
        }
        var byWriter = [EntryRow.Writer: (Int, Set<UInt32>, [String: Int])]()
        for r in rows {
            guard let w = r.writer else { continue }
            var v = byWriter[w] ?? (0, [], [:])
            v.0 += 1
            if let o = r.originTag { v.1.insert(o) }
            v.2[r.state, default: 0] += 1
            byWriter[w] = v
        }
        let writers = byWriter.map { WriterSummary(writer: $0.key, entries: $0.value.0, originTags: $0.value.1.sorted(), states: $0.value.2) }
            .sorted { ($0.entries, $1.writer.pid) > ($1.entries, $0.writer.pid) }
        return EntriesReport(segment: seg.path, occupied: occupied, matched: rows.count, contended: contended,
                             entries: limit > 0 ? Array(rows.prefix(limit)) : rows, writers: writers)
    }

    static func row(_ e: LiveEntry, now: UInt64, languages: LanguageNames, process: (Int) -> ProcessIdentity?) -> EntryRow {
        let keyBytes = e.key ?? []
        let text = String(validating: keyBytes, as: UTF8.self)
        let printable = text.map { t in !t.isEmpty && t.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } } ?? false
        // An impossible word is shown as such (readers treat it as a miss, §8.1), never as its state code's name.
        let state = e.impossibility.map { "IMPOSSIBLE (\($0))" } ?? e.word.state?.name ?? "state#\(e.word.code)"
        var row = EntryRow(shard: e.shard, slot: e.slot, state: state,
                           owner: e.word.owner == 0 ? nil : e.word.owner, key: printable ? text : nil,
                           keyHex: keyBytes.map { String(format: "%02x", $0) }.joined())
        if let r = e.record {
            row.version = r.version; row.valueLen = r.valueLen; row.originTag = r.originTag
            row.expiresAtNs = r.expiresAtNs; row.staleUntilNs = r.staleUntilNs; row.writtenAtNs = r.writtenAtNs
            // §12, as a reader would judge it now (a g of 0 with a non-zero e is no grace).
            if r.expiresAtNs == 0 || now < r.expiresAtNs { row.freshness = "fresh" }
            else if now < r.staleUntilNs { row.freshness = "stale" }
            else { row.freshness = "expired" }
            if r.expiresAtNs != 0 { row.expiresInS = (Double(r.expiresAtNs) - Double(now)) / 1e9 }
            let w = r.writer
            let running = process(Int(w.pid)).map { $0.startTime == w.startTime || w.startTime == 0 } ?? false
            row.writer = EntryRow.Writer(language: languages.name(w.language), languageCode: Int(w.language), pid: w.pid,
                                         startTime: w.startTime, protocolVersion: "\(w.protocolMajor).\(w.protocolMinor)",
                                         participant: Int(w.participantLow8), process: running ? "running" : "gone")
        }
        return row
    }

    public var json: String {
        JSON.object(["segment": .string(segment), "occupied": .int(Int64(occupied)), "matched": .int(Int64(matched)),
                     "contended": .int(Int64(contended)), "entries": .array(entries.map(\.json)),
                     "writers": .array(writers.map(\.json))]).serialized
    }

    public var text: String {
        var out = "segment \(segment): \(occupied) occupied slots, \(matched) match"
        out += contended > 0 ? ", \(contended) kept changing while read (not shown)\n" : "\n"
        if !entries.isEmpty {
            out += StatsView.pad("shard/slot", 11) + StatsView.pad("key", 24) + StatsView.pad("state", 12) + StatsView.lpad("version", 8)
                + StatsView.pad("  expiry", 18) + StatsView.pad("writer", 30) + "origin\n"
            for r in entries {
                let expiry: String
                switch (r.freshness, r.expiresInS) {
                case (nil, _): expiry = "-"
                case (_, nil): expiry = "never"
                case (let f?, let s?): expiry = s >= 0 ? String(format: "%@ %.1fs", f, s) : String(format: "%@ %.1fs ago", f, -s)
                }
                let writer = r.writer.map { "\($0.language) pid \($0.pid) (\($0.process)) p\($0.protocolVersion)" } ?? (r.owner.map { "owner \($0)" } ?? "-")
                out += StatsView.pad("\(r.shard)/\(r.slot)", 11) + StatsView.pad(r.key ?? "0x" + r.keyHex, 24)
                    + StatsView.pad(r.state, 12) + StatsView.lpad(r.version.map(String.init) ?? "-", 8) + "  "
                    + StatsView.pad(expiry, 16) + StatsView.pad(writer, 30) + (r.originTag.map(String.init) ?? "-") + "\n"
            }
            if entries.count < matched { out += "  … \(matched - entries.count) more (--limit 0 shows all)\n" }
        }
        out += "\nwho wrote what:\n"
        if writers.isEmpty { out += "  (no readable entries)\n" }
        for w in writers {
            let states = w.states.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            out += "  \(w.writer.language) pid \(w.writer.pid) start_time \(w.writer.startTime) protocol \(w.writer.protocolVersion)"
                + " (\(w.writer.process)): \(w.entries) entries (\(states)); origin tags \(w.originTags.map(String.init).joined(separator: ", "))\n"
        }
        return out
    }
}
