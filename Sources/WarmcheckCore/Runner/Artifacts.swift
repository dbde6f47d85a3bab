import Foundation

/// Where a failure's artifacts go: the replay file, its minimized twin, and the HTML report.
enum Artifacts {
    static func safe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(120))
    }

    /// Saves the replay (and a minimized one) and the HTML picture; adds the commands to `r`.
    static func save(failure r0: CaseResult, replay: Replay, timeline: [Timeline.Event], lanes: [String],
                     options: RunOptions, into r: inout CaseResult) {
        guard let dir = options.artifactsDir else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let base = (dir as NSString).appendingPathComponent(safe(r0.name))
        let replayPath = base + ".replay.json"
        try? (replay.json.pretty + "\n").write(toFile: replayPath, atomically: true, encoding: .utf8)
        var extra = "\n\nReplay this exact schedule: warmcheck replay \(shellQuote(replayPath))"
        if let min = try? replay.minimized(options: options), min.schedule != replay.schedule {
            let minPath = base + ".min.replay.json"
            try? (min.json.pretty + "\n").write(toFile: minPath, atomically: true, encoding: .utf8)
            extra += "\nMinimized (\(replay.preemptions) → \(min.preemptions) preemptions): warmcheck replay \(shellQuote(minPath))"
        }
        let html = base + ".html"
        let t = Timeline(title: r0.name, lanes: lanes + ["orchestrator"], events: timeline,
                         explanation: r0.reason + "\n\n" + r0.details, rerun: "warmcheck replay \(replayPath)")
        try? HTMLReport.render(t).write(toFile: html, atomically: true, encoding: .utf8)
        extra += "\nPicture of what happened: \(html)"
        r.details += extra
        r.rerun = "warmcheck replay \(shellQuote(replayPath))"
    }
}
