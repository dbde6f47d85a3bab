import Foundation

// A self-contained HTML page (inline CSS and SVG, no script, nothing fetched) drawn from a series
// of `stats --json` readings: the ones `warmcheck dashboard` takes itself, or a file of
// `stats --watch --json` lines recorded beside a stress or bench run. Charts: gets per second by
// result, hit ratio per interval, writers' outcomes per second; then the last reading's totals,
// occupancy and participants.

public enum Dashboard {
    /// One reading, as read back from its JSON line (the `stats --json` shape, docs/OBSERVING.md).
    public struct Point: Sendable {
        public var wallNs: Double
        public var totals: [String: Double]
        public var rates: [String: Double]?
        public var intervalHitRatio: Double?
        public var occupancy: [String: Double]
        public var participants: [(alive: Bool, language: String, pid: Double, proto: String)]
    }

    public struct InputError: Error, CustomStringConvertible { public let description: String }

    /// Parses `stats --json` lines; a line that is not one is an error naming its number.
    public static func points(jsonLines text: String, source: String) throws -> [Point] {
        var out = [Point]()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let j: JSON
            do { j = try JSON.parse(String(line)) } catch {
                throw InputError(description: "\(source):\(i + 1): not JSON: \(error)")
            }
            guard let wall = j["wall_ns"]?.number, let totals = j["totals"]?.object else {
                throw InputError(description: "\(source):\(i + 1): not a `warmcheck stats --json` reading (no wall_ns/totals)")
            }
            func nums(_ o: [String: JSON]?) -> [String: Double] { (o ?? [:]).compactMapValues(\.number) }
            let parts = (j["participants"]?.array ?? []).map { p in
                (alive: p["alive"]?.bool ?? false, language: p["language"]?.string ?? "?", pid: p["pid"]?.number ?? 0,
                 proto: p["protocol"]?.string ?? "?")
            }
            out.append(Point(wallNs: wall, totals: nums(totals), rates: j["rates"]?.object.map(nums),
                             intervalHitRatio: j["interval_hit_ratio"]?.number, occupancy: nums(j["occupancy"]?.object),
                             participants: parts))
        }
        guard !out.isEmpty else { throw InputError(description: "\(source): no readings") }
        return out
    }

    public static func page(title: String, points: [Point]) -> String {
        let t0 = points[0].wallNs
        let xs = points.map { ($0.wallNs - t0) / 1e9 }
        func series(_ name: String, _ color: String, _ f: (Point) -> Double?) -> Series {
            Series(name: name, color: color, points: zip(xs, points).compactMap { x, p in f(p).map { (x, $0) } })
        }
        let gets = [series("hits/s", "#2e7d32") { $0.rates?["hits"] }, series("stale hits/s", "#f9a825") { $0.rates?["stale_hits"] },
                    series("misses/s", "#c62828") { $0.rates?["misses"] }]
        let ratio = [series("hit ratio (interval)", "#1565c0") { $0.intervalHitRatio.map { $0 * 100 } }]
        let writes = [series("inserts/s", "#6a1b9a") { $0.rates?["inserts"] }, series("refreshes/s", "#00838f") { $0.rates?["refreshes"] },
                      series("evictions/s", "#d84315") { $0.rates?["evictions"] }, series("invalidations/s", "#5d4037") { $0.rates?["invalidations"] },
                      series("expirations/s", "#9e9d24") { $0.rates?["expirations"] }, series("reclaims/s", "#455a64") { $0.rates?["reclaims"] }]
        let last = points[points.count - 1]
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
            h1{font-size:20px} h2{font-size:16px;margin-top:28px}
            table{border-collapse:collapse} td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
            th:first-child,td:first-child{text-align:left} .legend span{margin-right:14px} .sw{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}
            .bar{height:14px;display:inline-block;background:#1565c0;vertical-align:middle}
            </style></head><body>
            <h1>\(esc(title))</h1>
            <p>\(points.count) readings over \(String(format: "%.1f", xs.last ?? 0)) s, from \(esc(iso(points[0].wallNs))) to \(esc(iso(last.wallNs))).</p>

            """
        h += "<h2>Gets per second</h2>\n" + chart(gets, unit: "/s")
        h += "<h2>Hit ratio per interval</h2>\n" + chart(ratio, unit: "%", yMax: 100)
        h += "<h2>Writers' outcomes per second (evictions among them)</h2>\n" + chart(writes, unit: "/s")
        h += "<h2>Totals at the last reading</h2>\n<table><tr><th>counter</th><th>total</th></tr>\n"
        for name in ["hits", "stale_hits", "misses", "inserts", "refreshes", "evictions", "invalidations", "expirations", "reclaims"] {
            h += "<tr><td>\(name)</td><td>\(Int64(last.totals[name] ?? 0))</td></tr>\n"
        }
        h += "</table>\n"
        if !last.occupancy.isEmpty {
            let slots = max(1, last.occupancy.values.reduce(0, +))
            h += "<h2>Slots by state at the last reading</h2>\n<table><tr><th>state</th><th>slots</th><th></th></tr>\n"
            for k in ["READY", "STALE", "REFRESHING", "WRITING", "INVALIDATED", "EMPTY", "impossible"] {
                let n = last.occupancy[k] ?? 0
                h += "<tr><td>\(k)</td><td>\(Int(n))</td><td style=\"text-align:left\"><span class=\"bar\" style=\"width:\(Int(300 * n / slots))px\"></span></td></tr>\n"
            }
            h += "</table>\n"
        }
        h += "<h2>Participants at the last reading</h2>\n<table><tr><th>state</th><th>language</th><th>pid</th><th>protocol</th></tr>\n"
        for p in last.participants {
            h += "<tr><td>\(p.alive ? "alive" : "gone")</td><td>\(esc(p.language))</td><td>\(Int(p.pid))</td><td>\(esc(p.proto))</td></tr>\n"
        }
        return h + "</table>\n</body></html>\n"
    }

    struct Series { var name: String, color: String, points: [(Double, Double)] }

    /// A line chart in inline SVG: time in seconds across, the series' values up, with a legend.
    static func chart(_ all: [Series], unit: String, yMax fixed: Double? = nil) -> String {
        let w = 900.0, hgt = 220.0, left = 60.0, bottom = 28.0, top = 10.0, right = 30.0
        let xMax = max(all.flatMap { $0.points.map(\.0) }.max() ?? 1, 1e-9)
        let yMax = fixed ?? max(all.flatMap { $0.points.map(\.1) }.max() ?? 1, 1)
        let px = { (x: Double) in left + x / xMax * (w - left - right) }
        let py = { (y: Double) in top + (1 - y / yMax) * (hgt - top - bottom) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(hgt))\" role=\"img\">\n"
        for i in 0...4 {
            let y = yMax * Double(i) / 4
            s += "<line x1=\"\(left)\" x2=\"\(w - right)\" y1=\(q(py(y))) y2=\(q(py(y))) stroke=\"#eee\"/>"
            s += "<text x=\"\(left - 6)\" y=\(q(py(y) + 4)) font-size=\"11\" text-anchor=\"end\">\(fmt(y))\(unit == "%" ? "%" : "")</text>\n"
        }
        for i in 0...5 {
            let x = xMax * Double(i) / 5
            s += "<text x=\(q(px(x))) y=\"\(hgt - 8)\" font-size=\"11\" text-anchor=\"middle\">\(fmt(x)) s</text>\n"
        }
        for ser in all where !ser.points.isEmpty {
            let pts = ser.points.map { "\(r(px($0.0))),\(r(py($0.1)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"2\" points=\"\(pts)\"><title>\(esc(ser.name))</title></polyline>\n"
        }
        s += "</svg>\n<div class=\"legend\">"
        for ser in all { s += "<span><i class=\"sw\" style=\"background:\(ser.color)\"></i>\(esc(ser.name))</span>" }
        if all.allSatisfy({ $0.points.isEmpty }) { s += "<span>(no rates: one reading only)</span>" }
        return s + "</div>\n"
    }

    static func q(_ x: Double) -> String { "\"\(r(x))\"" }
    static func r(_ x: Double) -> String { String(format: "%.1f", x) }
    static func fmt(_ x: Double) -> String { x >= 100 || x == x.rounded() ? String(format: "%.0f", x) : String(format: "%.1f", x) }
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
    static func iso(_ ns: Double) -> String { StatsView.isoTime(UInt64(max(0, ns))) }
}

extension JSON {
    /// Any JSON number as a Double (counters, rates, times), for drawing only: a chart needs no
    /// more than a Double's 53 bits, and a counter past 2^63 (`.uint`) is still drawn.
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }
}
