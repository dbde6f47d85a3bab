import Foundation

/// The HTML failure report: one self-contained page (inline CSS, one inline SVG, no JavaScript, no
/// external resources) that shows what each process did and when, with the violating event in red,
/// the prose explanation and the command that reruns the case.
///
/// The x axis of the picture is the ORDER of events, not linear time: every event gets its own
/// column, equally spaced, and the axis labels carry the real time (µs since the first event).
/// A failing case typically has one operation parked at a pause point for milliseconds while the
/// operations that race it take a few microseconds; on a linear axis those would collapse into one
/// pixel next to a huge bar. Order also keeps every event distinguishable (one column each, so the
/// tilted labels under the lanes can never overlap), and order is what a linearizability argument is
/// about anyway. Real durations are still given: in the axis labels, in each bar's label and in
/// the tooltips; large jumps in time are marked with a break sign on the axis.
public enum HTMLReport {
    public static func render(_ t: Timeline) -> String {
        let chart = Chart(t)
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>warmcheck: \(esc(t.title))</title>\n<style>\n\(css)</style>\n</head>\n<body>\n"

        // Header: title, the violation in one line, the rerun command.
        h += "<header>\n<div class=\"kicker\">warmcheck failure report</div>\n"
        h += "<h1>\(esc(t.title.isEmpty ? "(untitled case)" : t.title))</h1>\n"
        if let v = chart.violation {
            let e = t.events[v.event]
            h += "<p class=\"violation-line\"><span class=\"badge\">violation</span> "
            h += "<b>\(esc(chart.lanes[v.lane]))</b> · \(esc(e.kind.rawValue)) <code>\(esc(e.label))</code>"
            h += " at \(esc(chart.micros(e.t)))</p>\n"
        }
        h += "<div class=\"rerun\"><div class=\"rerun-label\">Rerun this case</div>"
        h += "<pre><code>\(esc(t.rerun.isEmpty ? "(no rerun command recorded)" : t.rerun))</code></pre></div>\n"
        h += "</header>\n"

        // The picture.
        h += "<section class=\"timeline\">\n<h2>Timeline</h2>\n"
        h += legend
        h += "<div class=\"scroll\">\n\(chart.svg())</div>\n"
        h += "<p class=\"axis-note\">x axis: event order, one column per event, equally spaced "
        h += "(so microsecond operations stay visible next to a millisecond pause); "
        h += "the axis labels give the real time since the first event, "
        h += "a <span class=\"brk\">//</span> on the axis marks a jump in time far larger than the others. "
        h += "Hover a bar or marker for details.</p>\n"
        h += "</section>\n"

        // The prose, then every event as a table.
        h += "<section class=\"explanation\">\n<h2>What happened</h2>\n"
        h += "<pre>\(esc(t.explanation.isEmpty ? "(no explanation recorded)" : t.explanation))</pre>\n</section>\n"
        h += chart.eventTable()
        h += "</body>\n</html>\n"
        return h
    }

    // MARK: - Escaping

    /// Escapes text for HTML content and attribute values (and for the inline SVG, which must also
    /// parse as XML): the five specials, and characters XML cannot carry become U+FFFD.
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t", "\r": out.unicodeScalars.append(u)
            case _ where u.value < 0x20 || u.value == 0x7F || (0xFFFE...0xFFFF).contains(u.value): out += "\u{FFFD}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Cuts a label to `n` characters (the full text stays in the tooltip).
    static func clip(_ s: String, _ n: Int) -> String {
        let one = s.replacingOccurrences(of: "\n", with: " ")
        return one.count <= n ? one : String(one.prefix(n - 1)) + "…"
    }

    /// Cuts the middle out of a label, keeping its start and its end ("… seq 2" is what matters in
    /// a transition).
    static func clipMiddle(_ s: String, _ n: Int) -> String {
        let one = s.replacingOccurrences(of: "\n", with: " ")
        guard one.count > n, n >= 5 else { return clip(one, max(n, 2)) }
        let tail = (n - 1) * 2 / 5
        var head = String(one.prefix(n - 1 - tail))
        var end = String(one.suffix(tail))
        // Cut at word boundaries when the words are not too long.
        if let sp = head.lastIndex(of: " "), head.distance(from: head.startIndex, to: sp) >= n / 4 {
            head = String(head[...sp])
        }
        if let sp = end.firstIndex(of: " "), end.distance(from: sp, to: end.endIndex) >= n / 5 {
            end = String(end[sp...])
        }
        return head + "…" + end
    }

    static func num(_ d: Double) -> String {
        if d == d.rounded() { return String(Int(d)) }
        return String(format: "%.1f", d)
    }

    /// "12.3 µs", "1,234.5 µs": real time, always in µs so the labels compare at a glance.
    static func fmtMicros(_ ns: UInt64) -> String {
        let us = Double(ns) / 1000
        let body: String
        if us < 10 {
            body = String(format: "%.2f", us)
        } else if us < 1000 {
            body = String(format: "%.1f", us)
        } else {
            let whole = Int(us.rounded())
            var digits = String(whole)
            var grouped = ""
            while digits.count > 3 {
                grouped = "," + digits.suffix(3) + grouped
                digits.removeLast(3)
            }
            body = digits + grouped
        }
        return body + " µs"
    }

    // MARK: - Layout

    /// One operation: a bar from its call to its answer (or to its death, or to the end of the picture).
    struct Op {
        var lane: Int
        var call: Int  // event index
        var end: Int?  // event index of returned/died
        var died = false
        var attached: [Int] = []  // event indices of pause/resume/transition on this op
        var row = 0
        var violating = false
        /// The text above the bar, fitted to the room before the next bar on the same row.
        var label = ""
    }

    struct Violation {
        var event: Int
        var lane: Int
    }

    struct Chart {
        let t: Timeline
        var lanes: [String] = []
        var laneOf: [Int] = []  // per event
        var column: [Int] = []  // per event: its position in time order
        var order: [Int] = []  // event indices in time order
        var ops: [Op] = []
        var opOf: [Int?] = []  // per event: the op it belongs to
        var rows: [Int] = []  // per lane: number of bar rows
        var violation: Violation?
        let t0: UInt64

        // Geometry.
        let colW = 38.0
        let charW = 6.32  // 10.5px monospace
        let bigCharW = 7.23  // 12px monospace
        let angle = 30.0  // degrees, for the tilted labels under the lanes and the axis
        let rowH = 34.0
        let barH = 12.0
        let bandLabelMax = 44
        var left = 0.0
        var top = 0.0
        var laneTop: [Double] = []
        var laneBandTop: [Double] = []
        var laneBottom: [Double] = []
        var axisY = 0.0
        var width = 0.0
        var height = 0.0

        var sinA: Double { sin(angle * .pi / 180) }
        var cosA: Double { cos(angle * .pi / 180) }

        init(_ t: Timeline) {
            self.t = t
            t0 = t.events.map(\.t).min() ?? 0

            // Lanes: the given order, then any lane an event names that the list lacks.
            var seen = Set<String>()
            for l in t.lanes where seen.insert(l).inserted { lanes.append(l) }
            func laneName(_ e: Timeline.Event) -> String {
                e.lane.isEmpty ? "orchestrator" : e.lane
            }
            for e in t.events where seen.insert(laneName(e)).inserted { lanes.append(laneName(e)) }
            let index = Dictionary(uniqueKeysWithValues: lanes.enumerated().map { ($0.element, $0.offset) })
            laneOf = t.events.map { index[laneName($0)]! }

            order = t.events.indices.sorted { (t.events[$0].t, $0) < (t.events[$1].t, $1) }
            column = Array(repeating: 0, count: t.events.count)
            for (c, i) in order.enumerated() { column[i] = c }

            // Operations: a call opens one on its lane; pause/resume/transition attach to the latest
            // open one; returned/died close the oldest open one (a process answers in order).
            opOf = Array(repeating: nil, count: t.events.count)
            var open = Array(repeating: [Int](), count: lanes.count)
            for i in order {
                let e = t.events[i]
                let l = laneOf[i]
                switch e.kind {
                case .call:
                    ops.append(Op(lane: l, call: i))
                    open[l].append(ops.count - 1)
                    opOf[i] = ops.count - 1
                case .pause, .resume, .transition:
                    if let o = open[l].last {
                        ops[o].attached.append(i)
                        opOf[i] = o
                    }
                case .returned, .died:
                    if !open[l].isEmpty {
                        let o = open[l].removeFirst()
                        ops[o].end = i
                        ops[o].died = e.kind == .died
                        opOf[i] = o
                    }
                case .note:
                    break
                }
                if e.violating && violation == nil {
                    violation = Violation(event: i, lane: l)
                }
            }
            for (k, op) in ops.enumerated() {
                let evs = [op.call] + op.attached + (op.end.map { [$0] } ?? [])
                ops[k].violating = evs.contains { t.events[$0].violating }
            }

            layout()
        }

        func x(_ event: Int) -> Double { left + Double(column[event]) * colW }
        func xCol(_ c: Int) -> Double { left + Double(c) * colW }
        var lastX: Double { xCol(max(order.count - 1, 0)) }

        func micros(_ ns: UInt64) -> String { "+" + HTMLReport.fmtMicros(ns &- t0) }

        func opLabel(_ op: Op) -> String {
            let e = t.events[op.call]
            var s = HTMLReport.clip(e.label, 48)
            if let end = op.end {
                s += "  (" + HTMLReport.fmtMicros(t.events[end].t &- e.t) + ")"
            }
            return s
        }

        func opEndX(_ op: Op) -> Double {
            op.end.map { x($0) } ?? (lastX + colW * 0.8)
        }

        /// The text under the lane for an event that is not a call.
        func bandLabel(_ i: Int) -> String {
            let e = t.events[i]
            let s: String
            switch e.kind {
            case .call: s = e.label
            case .pause: s = "paused @ " + e.label
            case .resume: s = "resumed " + e.label
            case .transition: s = e.label
            case .returned: s = "→ " + e.label
            case .died: s = "died: " + e.label
            case .note: s = e.label
            }
            return HTMLReport.clipMiddle(s, bandLabelMax)
        }

        func tiltedExtent(_ chars: Int, fontH: Double = 11) -> (dx: Double, dy: Double) {
            let len = Double(chars) * charW
            return (len * cosA + fontH * sinA, len * sinA + fontH * cosA)
        }

        mutating func layout() {
            left = max(130, Double(lanes.map(\.count).max() ?? 0) * bigCharW + 36)
            top = violation == nil ? 16 : 70

            // Rows within a lane: greedy interval packing of the bars, so operations of one process
            // that overlap in time (pipelined calls) go on separate rows. A process answering in order
            // needs one row.
            rows = Array(repeating: 1, count: lanes.count)
            var rowEnds = Array(repeating: [Double](), count: lanes.count)
            for k in ops.indices {
                let op = ops[k]
                let start = x(op.call)
                let end = opEndX(op) + colW / 2
                var r = rowEnds[op.lane].firstIndex { $0 <= start } ?? rowEnds[op.lane].count
                if r == rowEnds[op.lane].count { rowEnds[op.lane].append(end) } else { rowEnds[op.lane][r] = end }
                if r > 12 { r = 12 }  // pathological concurrency: let bars overlap rather than grow forever
                ops[k].row = r
                rows[op.lane] = max(rows[op.lane], r + 1)
            }
            // Labels above the bars: the full label with the duration if it fits before the next bar
            // on the row, else without the duration, else cut (the tooltip has it all).
            for k in ops.indices {
                let op = ops[k]
                let next = ops.indices
                    .filter { $0 != k && ops[$0].lane == op.lane && ops[$0].row == op.row && column[ops[$0].call] > column[op.call] }
                    .map { x(ops[$0].call) }.min()
                let room = next.map { Int(($0 - x(op.call) - 6) / bigCharW) } ?? Int.max
                let full = opLabel(op)
                let bare = HTMLReport.clip(t.events[op.call].label, 48)
                if full.count <= room {
                    ops[k].label = full
                } else if bare.count <= room {
                    ops[k].label = bare
                } else {
                    ops[k].label = HTMLReport.clip(bare, max(room, 2))
                }
            }

            var y = top
            var rightmost = lastX + colW
            for l in lanes.indices {
                laneTop.append(y)
                let bandTop = y + 10 + Double(rows[l]) * rowH
                laneBandTop.append(bandTop)
                let labels = t.events.indices.filter { laneOf[$0] == l && t.events[$0].kind != .call }
                let longest = labels.map { bandLabel($0).count }.max() ?? 0
                let ext = tiltedExtent(longest)
                laneBottom.append(bandTop + (longest == 0 ? 4 : ext.dy + 8))
                y = laneBottom[l]
                for i in labels { rightmost = max(rightmost, x(i) + tiltedExtent(bandLabel(i).count).dx) }
            }
            for op in ops {
                rightmost = max(rightmost, x(op.call) + Double(op.label.count) * bigCharW)
            }
            axisY = y + 10
            let axisLongest = order.map { micros(t.events[$0].t).count }.max() ?? 0
            let axisExt = tiltedExtent(axisLongest)
            rightmost = max(rightmost, lastX + axisExt.dx)
            if let v = violation {
                rightmost = max(rightmost, calloutBox(v).x + calloutBox(v).w)
            }
            width = (rightmost + 24).rounded(.up)
            height = (axisY + 10 + axisExt.dy + 12).rounded(.up)
        }

        func barY(lane: Int, row: Int) -> Double { laneTop[lane] + 10 + Double(row) * rowH + 18 }

        /// Where an event's marker goes: on its operation's bar, or on the lane's first row.
        func markerY(_ i: Int) -> Double {
            if let o = opOf[i] { return barY(lane: ops[o].lane, row: ops[o].row) + barH / 2 }
            return barY(lane: laneOf[i], row: 0) + barH / 2
        }

        func calloutLines(_ v: Violation) -> (String, String) {
            let e = t.events[v.event]
            let head = "VIOLATION detected at \(micros(e.t))"
            let body = HTMLReport.clip("\(lanes[v.lane]) · \(e.kind.rawValue): \(e.label)", 90)
            return (head, body)
        }

        func calloutBox(_ v: Violation) -> (x: Double, w: Double) {
            let (a, b) = calloutLines(v)
            let w = Double(max(a.count, b.count)) * bigCharW + 24
            let want = x(v.event) - 40
            return (max(8, want), w)
        }

        // MARK: SVG

        func svg() -> String {
            var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"wc-timeline\" width=\"\(num(width))\" height=\"\(num(height))\" "
            s += "viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"timeline of the case, one lane per process\">\n"
            s += """
            <defs>
            <pattern id="wc-paused" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="#fde8b0"/><rect width="3" height="6" fill="#e0a526"/>
            </pattern>
            </defs>\n
            """
            if t.events.isEmpty {
                s += "<text class=\"empty\" x=\"\(num(left))\" y=\"\(num(top + 20))\">no events were recorded for this case</text>\n"
            }

            // Lanes: background stripe, name, baseline.
            for l in lanes.indices {
                let y0 = laneTop[l], y1 = laneBottom[l]
                s += "<g class=\"lane\" data-lane=\"\(esc(lanes[l]))\">\n"
                s += "<rect class=\"lane-bg\(l % 2 == 1 ? " odd" : "")\" x=\"0\" y=\"\(num(y0))\" width=\"\(num(width))\" height=\"\(num(y1 - y0))\"/>\n"
                let by = barY(lane: l, row: 0) + barH / 2
                s += "<line class=\"baseline\" x1=\"\(num(left - 12))\" y1=\"\(num(by))\" x2=\"\(num(lastX + colW))\" y2=\"\(num(by))\"/>\n"
                s += "<text class=\"lane-label\" x=\"\(num(left - 20))\" y=\"\(num(by + 4))\" text-anchor=\"end\">\(esc(lanes[l]))</text>\n"
                s += "</g>\n"
            }

            // Column grid, so one can follow an event down to its time.
            s += "<g class=\"grid\">\n"
            for c in order.indices {
                s += "<line x1=\"\(num(xCol(c)))\" y1=\"\(num(top))\" x2=\"\(num(xCol(c)))\" y2=\"\(num(axisY))\"/>\n"
            }
            s += "</g>\n"

            // The violation's guide line goes under the bars.
            if let v = violation {
                let vx = x(v.event)
                s += "<line class=\"violation-guide\" x1=\"\(num(vx))\" y1=\"\(num(markerY(v.event)))\" x2=\"\(num(vx))\" y2=\"\(num(axisY))\"/>\n"
                s += "<line class=\"callout-stem\" x1=\"\(num(vx))\" y1=\"\(num(52))\" x2=\"\(num(vx))\" y2=\"\(num(markerY(v.event) - 9))\"/>\n"
            }

            // Operations.
            for op in ops { s += opSVG(op) }

            // Events without an operation (notes, or a stray answer).
            for i in order where opOf[i] == nil && t.events[i].kind != .call {
                s += markerSVG(i)
            }

            // Labels under each lane.
            for i in order where t.events[i].kind != .call {
                let l = laneOf[i]
                let lx = x(i) + 2, ly = laneBandTop[l] + 10
                let cls = t.events[i].violating ? "band-label violating" : "band-label k-\(t.events[i].kind.rawValue)"
                s += "<text class=\"\(cls)\" x=\"\(num(lx))\" y=\"\(num(ly))\" transform=\"rotate(\(num(angle)) \(num(lx)) \(num(ly)))\">"
                s += "\(esc(bandLabel(i)))</text>\n"
                // A leader from the marker down to its label when the bar is not on the last row.
                let my = markerY(i)
                if laneBandTop[l] - my > rowH {
                    s += "<line class=\"leader\" x1=\"\(num(x(i)))\" y1=\"\(num(my + 6))\" x2=\"\(num(x(i)))\" y2=\"\(num(laneBandTop[l]))\"/>\n"
                }
            }

            s += axisSVG()
            if let v = violation { s += calloutSVG(v) }
            s += "</svg>\n"
            return s
        }

        func tooltip(_ i: Int) -> String {
            let e = t.events[i]
            return "\(lanes[laneOf[i]]) · \(e.kind.rawValue)\(e.violating ? " (VIOLATION)" : "") · \(micros(e.t))\n\(e.label)"
        }

        func opSVG(_ op: Op) -> String {
            let call = t.events[op.call]
            let x0 = x(op.call), x1 = opEndX(op)
            let y = barY(lane: op.lane, row: op.row)
            var cls = "op"
            if op.violating { cls += " violating" }
            if op.died { cls += " died" }
            if op.end == nil { cls += " unfinished" }
            var tip = "\(lanes[op.lane]): \(call.label)\ncalled \(micros(call.t))"
            if let end = op.end {
                let e = t.events[end]
                tip += op.died ? ", died " : ", returned "
                tip += "\(micros(e.t)) (took \(HTMLReport.fmtMicros(e.t &- call.t)))"
                tip += "\n" + (op.died ? "died: " : "→ ") + e.label
            } else {
                tip += ", no answer recorded"
            }
            var s = "<g class=\"\(cls)\">\n<title>\(esc(tip))</title>\n"
            s += "<rect class=\"bar\" x=\"\(num(x0))\" y=\"\(num(y))\" width=\"\(num(max(x1 - x0, 3)))\" height=\"\(num(barH))\" rx=\"3\"/>\n"

            // Paused stretches: hatched from each pause to its resume (or to the end).
            var pausedAt: Int?
            var spans: [(Double, Double)] = []
            for i in op.attached {
                switch t.events[i].kind {
                case .pause: if pausedAt == nil { pausedAt = i }
                case .resume:
                    if let p = pausedAt { spans.append((x(p), x(i))); pausedAt = nil }
                default: break
                }
            }
            if let p = pausedAt { spans.append((x(p), x1)) }
            for (a, b) in spans where b > a {
                s += "<rect class=\"paused\" x=\"\(num(a))\" y=\"\(num(y))\" width=\"\(num(b - a))\" height=\"\(num(barH))\"/>\n"
            }

            s += "<text class=\"op-label\" x=\"\(num(x0))\" y=\"\(num(y - 8))\">\(esc(op.label))</text>\n"
            s += "<line class=\"call-cap\" x1=\"\(num(x0))\" y1=\"\(num(y - 3))\" x2=\"\(num(x0))\" y2=\"\(num(y + barH + 3))\"/>\n"
            s += "</g>\n"
            for i in op.attached { s += markerSVG(i) }
            if let end = op.end { s += markerSVG(end) }
            if call.violating { s += markerSVG(op.call) }
            return s
        }

        func markerSVG(_ i: Int) -> String {
            let e = t.events[i]
            let mx = x(i), my = markerY(i)
            var s = "<g class=\"marker k-\(e.kind.rawValue)\(e.violating ? " violating" : "")\">\n<title>\(esc(tooltip(i)))</title>\n"
            switch e.kind {
            case .pause:
                s += "<path d=\"M \(num(mx)) \(num(my - 8)) L \(num(mx + 7)) \(num(my)) L \(num(mx)) \(num(my + 8)) L \(num(mx - 7)) \(num(my)) Z\"/>\n"
            case .resume:
                s += "<path d=\"M \(num(mx - 5)) \(num(my - 7)) L \(num(mx + 7)) \(num(my)) L \(num(mx - 5)) \(num(my + 7)) Z\"/>\n"
            case .transition:
                s += "<line x1=\"\(num(mx))\" y1=\"\(num(my - 10))\" x2=\"\(num(mx))\" y2=\"\(num(my + 10))\"/>\n"
            case .returned:
                s += "<line x1=\"\(num(mx))\" y1=\"\(num(my - 9))\" x2=\"\(num(mx))\" y2=\"\(num(my + 9))\"/>\n"
            case .died:
                s += "<path d=\"M \(num(mx - 6)) \(num(my - 6)) L \(num(mx + 6)) \(num(my + 6)) M \(num(mx + 6)) \(num(my - 6)) L \(num(mx - 6)) \(num(my + 6))\"/>\n"
            case .note:
                s += "<circle cx=\"\(num(mx))\" cy=\"\(num(my))\" r=\"5\"/>\n"
            case .call:
                break
            }
            if e.violating {
                s += "<circle class=\"violation-marker\" cx=\"\(num(mx))\" cy=\"\(num(my))\" r=\"9\"/>\n"
                s += "<text class=\"violation-bang\" x=\"\(num(mx))\" y=\"\(num(my + 4.5))\" text-anchor=\"middle\">!</text>\n"
            }
            s += "</g>\n"
            return s
        }

        func axisSVG() -> String {
            var s = "<g class=\"axis\">\n"
            s += "<text class=\"axis-title\" x=\"\(num(left - 20))\" y=\"\(num(axisY - 2))\" text-anchor=\"end\">time since</text>\n"
            s += "<text class=\"axis-title\" x=\"\(num(left - 20))\" y=\"\(num(axisY + 11))\" text-anchor=\"end\">first event</text>\n"
            guard !order.isEmpty else { return s + "</g>\n" }
            s += "<line class=\"axis-line\" x1=\"\(num(left - 12))\" y1=\"\(num(axisY))\" x2=\"\(num(lastX + colW))\" y2=\"\(num(axisY))\"/>\n"
            for (c, i) in order.enumerated() {
                let cx = xCol(c)
                s += "<line class=\"tick\" x1=\"\(num(cx))\" y1=\"\(num(axisY))\" x2=\"\(num(cx))\" y2=\"\(num(axisY + 5))\"/>\n"
                let lx = cx + 2, ly = axisY + 16
                let cls = t.events[i].violating ? "axis-label violating" : "axis-label"
                s += "<text class=\"\(cls)\" x=\"\(num(lx))\" y=\"\(num(ly))\" transform=\"rotate(\(num(angle)) \(num(lx)) \(num(ly)))\">"
                s += "\(esc(micros(t.events[i].t)))</text>\n"
            }
            // Breaks: a gap between consecutive events far larger than the typical one.
            let gaps = zip(order, order.dropFirst()).map { t.events[$1].t &- t.events[$0].t }
            let sortedGaps = gaps.sorted()
            let typical = sortedGaps.isEmpty ? 0 : sortedGaps[sortedGaps.count / 2]
            for (c, g) in gaps.enumerated() where g >= 50_000 && g >= max(typical, 1) * 20 {
                let mx = (xCol(c) + xCol(c + 1)) / 2
                s += "<g class=\"break\"><title>\(esc("\(HTMLReport.fmtMicros(g)) pass between these two events"))</title>"
                s += "<rect x=\"\(num(mx - 6))\" y=\"\(num(axisY - 6))\" width=\"12\" height=\"12\"/>"
                s += "<path d=\"M \(num(mx - 5)) \(num(axisY + 5)) L \(num(mx - 1)) \(num(axisY - 5)) M \(num(mx + 1)) \(num(axisY + 5)) L \(num(mx + 5)) \(num(axisY - 5))\"/></g>\n"
            }
            return s + "</g>\n"
        }

        func calloutSVG(_ v: Violation) -> String {
            let (head, body) = calloutLines(v)
            let box = calloutBox(v)
            let y = 8.0, h = 44.0
            var s = "<g class=\"callout\">\n"
            s += "<rect x=\"\(num(box.x))\" y=\"\(num(y))\" width=\"\(num(box.w))\" height=\"\(num(h))\" rx=\"5\"/>\n"
            s += "<text class=\"callout-head\" x=\"\(num(box.x + 12))\" y=\"\(num(y + 18))\">\(esc(head))</text>\n"
            s += "<text class=\"callout-body\" x=\"\(num(box.x + 12))\" y=\"\(num(y + 35))\">\(esc(body))</text>\n"
            s += "</g>\n"
            return s
        }

        // MARK: Table

        func eventTable() -> String {
            var s = "<section class=\"events\">\n<details>\n<summary>All events (\(t.events.count))</summary>\n"
            s += "<table>\n<thead><tr><th>#</th><th>time</th><th>lane</th><th>kind</th><th>label</th></tr></thead>\n<tbody>\n"
            for (c, i) in order.enumerated() {
                let e = t.events[i]
                s += "<tr\(e.violating ? " class=\"violating\"" : "")><td>\(c)</td><td>\(esc(micros(e.t)))</td>"
                s += "<td>\(esc(lanes[laneOf[i]]))</td><td>\(esc(e.kind.rawValue))</td><td>\(esc(e.label))</td></tr>\n"
            }
            s += "</tbody>\n</table>\n</details>\n</section>\n"
            return s
        }

        func esc(_ s: String) -> String { HTMLReport.esc(s) }
        func num(_ d: Double) -> String { HTMLReport.num(d) }
    }

    // MARK: - Static parts

    static let legend = """
    <div class="legend">
    <span><i class="sw bar"></i>operation (call → answer)</span>
    <span><i class="sw paused"></i>stopped at a pause point</span>
    <span><i class="sw pause"></i>pause point</span>
    <span><i class="sw resume"></i>resume</span>
    <span><i class="sw transition"></i>slot transition</span>
    <span><i class="sw returned"></i>answer</span>
    <span><i class="sw note"></i>orchestrator step</span>
    <span><i class="sw violation"></i>violation</span>
    </div>\n
    """

    static let css = """
    :root { --red: #d0191b; --ink: #1d2330; --muted: #5d6675; --bar: #3f6fc6; --line: #d9dde5; }
    * { box-sizing: border-box; }
    body { margin: 0; padding: 20px 28px 40px; font: 14px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
    code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
    header { border-bottom: 1px solid var(--line); padding-bottom: 12px; margin-bottom: 14px; }
    .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 11px; color: var(--muted); }
    h1 { font-size: 21px; margin: 2px 0 6px; }
    h2 { font-size: 15px; margin: 14px 0 6px; }
    .violation-line { margin: 4px 0 10px; color: var(--red); overflow-wrap: anywhere; }
    .violation-line code { background: #fdecec; padding: 1px 5px; border-radius: 3px; }
    .badge { background: var(--red); color: #fff; font-weight: 700; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; padding: 2px 7px; border-radius: 3px; }
    .rerun { display: flex; align-items: stretch; gap: 0; max-width: 100%; }
    .rerun-label { background: #2a3142; color: #c9d1e0; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; padding: 9px 10px; border-radius: 5px 0 0 5px; white-space: nowrap; }
    .rerun pre { margin: 0; flex: 1; min-width: 0; background: #161b26; color: #e9eef7; padding: 8px 12px; border-radius: 0 5px 5px 0; overflow-x: auto; }
    .rerun code { user-select: all; -webkit-user-select: all; white-space: pre; font-size: 13px; }
    .legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 12px; color: var(--muted); margin-bottom: 6px; }
    .legend span { display: inline-flex; align-items: center; gap: 6px; }
    .sw { display: inline-block; width: 18px; height: 10px; border-radius: 2px; }
    .sw.bar { background: var(--bar); }
    .sw.paused { background: repeating-linear-gradient(45deg, #e0a526 0 3px, #fde8b0 3px 6px); }
    .sw.pause { width: 10px; height: 10px; background: #e0a526; transform: rotate(45deg); border: 1px solid #7a5200; }
    .sw.resume { width: 0; height: 0; border-radius: 0; border-left: 11px solid #2e9d4f; border-top: 6px solid transparent; border-bottom: 6px solid transparent; }
    .sw.transition { width: 3px; height: 16px; background: #7b3fb5; }
    .sw.returned { width: 3px; height: 16px; background: #1d2330; }
    .sw.note { width: 10px; height: 10px; border-radius: 50%; background: #8a8f99; }
    .sw.violation { width: 14px; height: 14px; border-radius: 50%; background: var(--red); }
    .scroll { display: inline-block; max-width: 100%; vertical-align: top; overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
    .axis-note { font-size: 12px; color: var(--muted); margin: 6px 0 0; }
    .axis-note .brk { font-family: "DejaVu Sans Mono", monospace; font-weight: 700; }
    .explanation pre { white-space: pre-wrap; word-break: break-word; background: #f6f7f9; border: 1px solid var(--line); border-left: 4px solid var(--red); padding: 10px 14px; border-radius: 4px; font-size: 13px; margin: 0; max-width: 110ch; }
    .events summary { cursor: pointer; font-weight: 600; margin-top: 16px; }
    .events table { border-collapse: collapse; font-size: 12px; margin-top: 6px; }
    .events th, .events td { text-align: left; padding: 2px 10px; border-bottom: 1px solid #eceef2; font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre; }
    .events tr.violating td { color: var(--red); font-weight: 700; background: #fdecec; }
    svg.wc-timeline { display: block; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11px; }
    svg .lane-bg { fill: #ffffff; }
    svg .lane-bg.odd { fill: #f5f7fa; }
    svg .lane-label { font-size: 12px; font-weight: 700; fill: var(--ink); }
    svg .baseline { stroke: #c3c9d4; stroke-width: 1; stroke-dasharray: 2 3; }
    svg .grid line { stroke: #e9ecf1; stroke-width: 1; }
    svg .op .bar { fill: var(--bar); }
    svg .op.died .bar { fill: #8b919c; }
    svg .op.unfinished .bar { fill: #a8bde6; stroke: var(--bar); stroke-dasharray: 4 3; }
    svg .op.violating .bar { fill: var(--red); }
    svg .op .paused { fill: url(#wc-paused); stroke: #b07d0d; stroke-width: 1; }
    svg .op-label { font-size: 12px; font-weight: 700; fill: var(--ink); }
    svg .op.violating .op-label { fill: var(--red); }
    svg .call-cap { stroke: var(--ink); stroke-width: 2; }
    svg .marker.k-pause path { fill: #e0a526; stroke: #7a5200; stroke-width: 1.2; }
    svg .marker.k-resume path { fill: #2e9d4f; stroke: #17592b; stroke-width: 1; }
    svg .marker.k-transition line { stroke: #7b3fb5; stroke-width: 3; }
    svg .marker.k-returned line { stroke: var(--ink); stroke-width: 3; }
    svg .marker.k-died path { stroke: #111; stroke-width: 3; fill: none; }
    svg .marker.k-note circle { fill: #8a8f99; stroke: #555b66; }
    svg .violation-marker { fill: var(--red); stroke: #fff; stroke-width: 2; }
    svg .violation-bang { fill: #fff; font-weight: 700; font-size: 13px; font-family: "DejaVu Sans", Arial, sans-serif; }
    svg .violation-guide { stroke: var(--red); stroke-width: 1.5; stroke-dasharray: 5 4; opacity: .7; }
    svg .band-label { fill: #3d4452; font-size: 10.5px; }
    svg .band-label.k-pause, svg .band-label.k-resume { fill: #8a5a00; font-weight: 700; }
    svg .band-label.k-transition { fill: #6a329e; }
    svg .band-label.k-note { fill: #555b66; font-style: italic; }
    svg .band-label.violating { fill: var(--red); font-weight: 700; }
    svg .leader { stroke: #b9bfca; stroke-dasharray: 1 2; }
    svg .axis-line { stroke: var(--ink); stroke-width: 1; }
    svg .tick { stroke: var(--ink); }
    svg .axis-label { fill: var(--muted); font-size: 10.5px; }
    svg .axis-label.violating { fill: var(--red); font-weight: 700; }
    svg .axis-title { fill: var(--muted); font-size: 11px; font-family: "DejaVu Sans", Arial, sans-serif; }
    svg .break rect { fill: #fff; }
    svg .break path { stroke: var(--ink); stroke-width: 1.5; }
    svg .callout rect { fill: #fff1f1; stroke: var(--red); stroke-width: 2; }
    svg .callout-stem { stroke: var(--red); stroke-width: 2; opacity: .85; }
    svg .callout-head { fill: var(--red); font-weight: 700; font-size: 12px; }
    svg .callout-body { fill: var(--ink); font-size: 12px; }
    svg .empty { fill: var(--muted); font-size: 13px; }

    """
}
