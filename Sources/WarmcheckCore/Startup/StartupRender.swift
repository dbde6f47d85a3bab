import Foundation

/// The startup bench's table (text and Markdown) and its plot, both drawn from a report — the
/// plot from the JSON file the bench wrote (`StartupPlot.svg(fromJSON:)`), so that anyone can
/// redraw it from a committed run.
public enum StartupRender {
    static func f(_ v: Double?) -> String { v.map { String(format: $0 < 10 ? "%.2f" : "%.1f", $0) } ?? "—" }

    /// Markdown table: medians (p99) in ms, and each row's ratio to its language's floor and
    /// to row (a) of the same language and size.
    public static func table(_ r: StartupReport) -> String {
        var out = "| row | what | consumer | entries | exec → first hit ms p50 (p99) | × floor | exec → 99 % served ms p50 (p99) | ÷ (a) | ÷ (a-batched) | exec → warm ratio ms p50 |\n"
        out += "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for row in r.rows {
            let floor = r.rows.first { $0.row == "f" && $0.language == row.language }?.firstHit?.p50
            // This row's 99 %-served over that of the warm row `base` of the same consumer
            // language and size (Go's for d and e, whose client is Go).
            func over(_ base: String) -> Double? {
                guard row.row != base, row.row != "f" else { return nil }
                let w = r.rows.first { $0.row == base && $0.language == (row.row == "d" || row.row == "e" ? "go" : row.language) && $0.entries == row.entries }
                return (row.served99?.p50).flatMap { v in (w?.served99?.p50).map { v / $0 } }
            }
            let xFloor = (row.firstHit?.p50).flatMap { v in floor.map { v / $0 } }
            let xA = row.row == "a-batched" ? nil : over("a"), xAB = row.row == "a" ? nil : over("a-batched")
            let first = row.status == "pending" ? "pending" : "\(f(row.firstHit?.p50)) (\(f(row.firstHit?.p99)))"
            let s99 = row.served99 == nil ? (row.status == "pending" ? "pending" : "—") : "\(f(row.served99?.p50)) (\(f(row.served99?.p99)))"
            let entries = row.entries == 0 ? "—" : "\(row.entries)"
            out += "| \(row.row) | \(row.what)\(row.note.map { " — " + $0 } ?? "") | \(row.language) | \(entries) | \(first) | \(f(xFloor)) | \(s99) | \(f(xA)) | \(f(xAB)) | \(f(row.warm?.p50)) |\n"
        }
        out += "\nTargets (medians of this run):\n\n"
        for t in r.targets {
            out += "- \(t.what), \(t.language), \(t.entries) entries: \(String(format: "%.1f", t.ratio)) (goal \(t.goal)): \(t.met ? "met" : "MISSED")\n"
        }
        return out
    }
}

public enum StartupPlot {
    /// A self-contained SVG: exec → first hit against segment size (log–log), for the lazy sweep
    /// (row a), the 1.0 full sweep (row a-legacy) and the restore from the durable store (row b)
    /// of each consumer language, with each
    /// language's exec floor as a dashed line.
    public static func svg(fromJSON data: Data) throws -> String {
        let r = try StartupReport(json: JSONField.parse(data, source: "startup report"))
        let series: [(String, String, String)] = [("a", "go", "#1f77b4"), ("a-legacy", "go", "#aec7e8"),
                                                  ("a", "rust", "#d62728"), ("a-legacy", "rust", "#ff9896"),
                                                  ("b", "go", "#2ca02c"), ("b", "rust", "#ff7f0e"),
                                                  ("a", "swift", "#9467bd"), ("a-legacy", "swift", "#c5b0d5")]
        let pts = r.rows.filter { ["a", "a-legacy", "b"].contains($0.row) && $0.firstHit != nil && ($0.segmentBytes ?? 0) > 0 }
        guard !pts.isEmpty else { throw StartupError("the report has no warm-segment rows to plot") }
        let floors = r.rows.filter { $0.row == "f" }
        let xs = pts.map { Double($0.segmentBytes!) }, ys = pts.map { $0.firstHit!.p50 } + floors.compactMap { $0.firstHit?.p50 }
        let (x0, x1) = (log10(xs.min()! / 2), log10(xs.max()! * 2))
        let (y0, y1) = (log10(ys.min()! / 2), log10(ys.max()! * 2))
        let ratioRows = Set(r.targets.filter { $0.what.hasSuffix("to 99 % served") }.map { "\($0.language) \($0.entries)" }).count
        let (w, h, l, t, pw, ph) = (720.0, 420.0 + Double(ratioRows) * 14 + 10, 70.0, 40.0, 560.0, 320.0)
        func px(_ v: Double) -> Double { l + (log10(v) - x0) / (x1 - x0) * pw }
        func py(_ v: Double) -> Double { t + ph - (log10(v) - y0) / (y1 - y0) * ph }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(l)\" y=\"20\" font-size=\"14\">exec → first hit vs segment size (medians; \(r.date), load \(r.loadBefore))</text>\n"
        s += "<rect x=\"\(l)\" y=\"\(t)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#888\"/>\n"
        for e in Int(floor(x0))...Int(ceil(x1)) where Double(e) >= x0 && Double(e) <= x1 {
            let x = px(pow(10, Double(e)))
            s += "<line x1=\"\(x)\" y1=\"\(t)\" x2=\"\(x)\" y2=\"\(t + ph)\" stroke=\"#eee\"/><text x=\"\(x - 20)\" y=\"\(t + ph + 16)\">\(bytes(pow(10, Double(e))))</text>\n"
        }
        for e in Int(floor(y0))...Int(ceil(y1)) where Double(e) >= y0 && Double(e) <= y1 {
            let y = py(pow(10, Double(e)))
            s += "<line x1=\"\(l)\" y1=\"\(y)\" x2=\"\(l + pw)\" y2=\"\(y)\" stroke=\"#eee\"/><text x=\"\(l - 60)\" y=\"\(y + 4)\">\(String(format: "%g", pow(10, Double(e)))) ms</text>\n"
        }
        var legendY = t + 10
        for (row, lang, color) in series {
            let p = pts.filter { $0.row == row && $0.language == lang }.sorted { $0.segmentBytes! < $1.segmentBytes! }
            guard !p.isEmpty else { continue }
            let path = p.map { "\(px(Double($0.segmentBytes!))),\(py($0.firstHit!.p50))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for q in p { s += "<circle cx=\"\(px(Double(q.segmentBytes!)))\" cy=\"\(py(q.firstHit!.p50))\" r=\"3\" fill=\"\(color)\"/>\n" }
            let name = "\(lang) consumer, " + (row == "a" ? "lazy sweep (1.1)" : row == "b" ? "restored from the store (b)" : "full sweep (1.0)")
            s += "<rect x=\"\(l + pw - 200)\" y=\"\(legendY)\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(l + pw - 185)\" y=\"\(legendY + 9)\">\(name)</text>\n"
            legendY += 16
        }
        for fl in floors {
            guard let v = fl.firstHit?.p50 else { continue }
            let color = ["go": "#1f77b4", "rust": "#d62728"][fl.language] ?? "#9467bd"
            s += "<line x1=\"\(l)\" y1=\"\(py(v))\" x2=\"\(l + pw)\" y2=\"\(py(v))\" stroke=\"\(color)\" stroke-dasharray=\"4 4\"/>"
            s += "<text x=\"\(l + 4)\" y=\"\(py(v) - 4)\" fill=\"\(color)\">\(fl.language) empty-program floor</text>\n"
        }
        s += ratioLines(r, x: l, y: t + ph + 40)
        s += "</svg>\n"
        return s
    }

    /// Under the plot, one line per consumer language and size: the 99 %-served ratios of
    /// (c), (d) and (e) to (a) and, where the run has it, to (a-batched) (the report's targets).
    static func ratioLines(_ r: StartupReport, x: Double, y: Double) -> String {
        var lines: [String] = []
        var seen: [String] = []
        for t in r.targets where t.what.hasSuffix("to 99 % served") && !seen.contains("\(t.language) \(t.entries)") {
            let key = "\(t.language) \(t.entries)"
            seen.append(key)
            let mine = r.targets.filter { $0.language == t.language && $0.entries == t.entries && $0.what.hasSuffix("to 99 % served") }
            let parts = mine.map { "\($0.what.replacingOccurrences(of: " to 99 % served", with: "")) \(String(format: "%.1f", $0.ratio))" }
            lines.append("\(key) entries, 99 % served: " + parts.joined(separator: ", "))
        }
        return lines.enumerated().map { i, line in
            "<text x=\"\(x - 60)\" y=\"\(y + Double(i) * 14)\" font-size=\"10\">\(line)</text>\n"
        }.joined()
    }

    static func bytes(_ v: Double) -> String {
        v >= 1e9 ? String(format: "%g GB", v / 1e9) : v >= 1e6 ? String(format: "%g MB", v / 1e6) : String(format: "%g kB", v / 1e3)
    }
}
