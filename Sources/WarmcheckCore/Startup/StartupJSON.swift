import Foundation

// The `bench startup --json` file, written and read back (for `--plot`) through the harness's
// one JSON value. Field names are the Swift property names, as the file has always had them;
// a field that does not apply is left out. Reading names the field that is wrong
// (`$.rows[2].firstHit.p50: expected a number, found "x"`).

extension StartupSummary {
    var json: JSON {
        ["count": .int(Int64(count)), "p50": .double(p50), "p90": .double(p90), "p99": .double(p99),
         "min": .double(min), "max": .double(max)]
    }
    init(json f: JSONField) throws {
        count = try f.field("count").int
        p50 = try f.field("p50").double
        p90 = try f.field("p90").double
        p99 = try f.field("p99").double
        min = try f.field("min").double
        max = try f.field("max").double
    }
}

extension StartupRow {
    var json: JSON {
        .omittingNil([
            "row": .string(row), "what": .string(what), "language": .string(language), "entries": JSON(unsigned: entries),
            "status": .string(status), "note": note.map { .string($0) }, "segmentBytes": segmentBytes.map { JSON(unsigned: $0) },
            "firstHit": firstHit?.json, "served99": served99?.json, "warm": warm?.json,
        ])
    }
    init(json f: JSONField) throws {
        row = try f.field("row").string
        what = try f.field("what").string
        language = try f.field("language").string
        entries = try f.field("entries").uint64
        status = try f.field("status").string
        note = try f.optional("note")?.string
        segmentBytes = try f.optional("segmentBytes")?.uint64
        firstHit = try f.optional("firstHit").map(StartupSummary.init(json:))
        served99 = try f.optional("served99").map(StartupSummary.init(json:))
        warm = try f.optional("warm").map(StartupSummary.init(json:))
    }
}

extension StartupTarget {
    var json: JSON {
        ["what": .string(what), "language": .string(language), "entries": JSON(unsigned: entries), "ratio": .double(ratio),
         "goal": .string(goal), "met": .bool(met)]
    }
    init(json f: JSONField) throws {
        what = try f.field("what").string
        language = try f.field("language").string
        entries = try f.field("entries").uint64
        ratio = try f.field("ratio").double
        goal = try f.field("goal").string
        met = try f.field("met").bool
    }
}

extension StartupReport {
    public var json: JSON {
        ["command": .string(command), "date": .string(date), "loadBefore": .string(loadBefore), "loadAfter": .string(loadAfter),
         "cores": .int(Int64(cores)), "coldCostNs": JSON(unsigned: coldCostNs), "rows": .array(rows.map(\.json)),
         "targets": .array(targets.map(\.json))]
    }
    public init(json f: JSONField) throws {
        command = try f.field("command").string
        date = try f.field("date").string
        loadBefore = try f.field("loadBefore").string
        loadAfter = try f.field("loadAfter").string
        cores = try f.field("cores").int
        coldCostNs = try f.field("coldCostNs").uint64
        rows = try f.field("rows").array.map(StartupRow.init(json:))
        targets = try f.field("targets").array.map(StartupTarget.init(json:))
    }
}

/// One consumer run's milestones, as the consumer printed them (realtime ns).
struct ConsumerLine {
    let main_ns: Int64, opened_ns: Int64, first_hit_ns: Int64, served99_ns: Int64, warm_ns: Int64
    let requests: UInt64, hits: UInt64

    init(line: String) throws {
        let f = try JSONField.parse(Data(line.utf8), source: "consumer line")
        main_ns = try f.field("main_ns").int64
        opened_ns = try f.field("opened_ns").int64
        first_hit_ns = try f.field("first_hit_ns").int64
        served99_ns = try f.field("served99_ns").int64
        warm_ns = try f.field("warm_ns").int64
        requests = try f.field("requests").uint64
        hits = try f.field("hits").uint64
    }
}
