import Foundation

/// Where a failure's artifacts go: the replay file, its minimized twin, and the HTML report.
enum Artifacts {
    static func safe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(120))
    }

    /// Saves the replay (and, for a race, a minimized one) and the HTML picture; adds the
    /// commands to `r`.
    static func save(failure r0: CaseResult, replay: Replay, timeline: [Timeline.Event], lanes: [String],
                     options: RunOptions, into r: inout CaseResult) {
        guard let dir = options.artifactsDir else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let base = (dir as NSString).appendingPathComponent(safe(r0.name))
        let replayPath = base + ".replay.json"
        try? (replay.json.pretty + "\n").write(toFile: replayPath, atomically: true, encoding: .utf8)
        var extra = "\n\nReplay this exact case: warmcheck replay \(shellQuote(replayPath))"
        let m = replay.schedule.isEmpty ? nil : try? Minimizer(options: options).minimize(replay)
        if let m, m.replay.schedule == replay.schedule, m.replay.droppedOps.isEmpty {
            extra += "\nMinimization: no operation or context switch could be removed (\(m.runs) runs)"
        } else if let m {
            let minPath = base + ".min.replay.json"
            try? (m.replay.json.pretty + "\n").write(toFile: minPath, atomically: true, encoding: .utf8)
            let kept = m.kept.prefix(8).map { "\($0.role): \($0.text.count > 60 ? $0.text.prefix(57) + "…" : $0.text)" }
            extra += "\nMinimized in \(m.runs) runs: \(m.kept.count) of \(m.total) race operations kept"
                + (kept.isEmpty ? "" : " (\(kept.joined(separator: "; "))\(m.kept.count > 8 ? "; …" : ""))")
                + ", \(replay.preemptions) → \(m.replay.preemptions) context switches: warmcheck replay \(shellQuote(minPath))"
        }
        let html = base + ".html"
        let t = Timeline(title: r0.name, lanes: lanes + ["orchestrator"], events: timeline,
                         explanation: r0.reason + "\n\n" + r0.details, rerun: "warmcheck replay \(replayPath)")
        try? HTMLReport.render(t).write(toFile: html, atomically: true, encoding: .utf8)
        extra += "\nPicture of what happened: \(html)"
        r.details += extra
        // A race's one rerun command is its replay (the schedule is not in the scenario file); a
        // scripted case keeps `warmcheck run FILE --filter CASE`, which also picks up edits.
        if !replay.schedule.isEmpty { r.rerun = "warmcheck replay \(shellQuote(replayPath))" }
    }
}
