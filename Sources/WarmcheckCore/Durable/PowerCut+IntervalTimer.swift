import Foundation

/// The `interval` policy's timer (PERSISTENCE.md §6: "a timer fdatasyncs the file every
/// `interval` (default 1 s) when bytes were written since its last sync"), judged on each
/// restorer with the default interval (`fsync_interval_ms` 0 = 1000):
/// - right after a durable put the record is not yet synced (`journal_state`: synced < written):
///   a timer that fires at once (an interval of 0 for the default) is not the 1 s the spec names;
/// - an idle handle burns no CPU over 300 ms: a timer whose wait returns at once spins a core;
/// - within 1.5 s the record is synced (synced = written): a timer that never fires loses every
///   acknowledged record of an `interval` store to a power cut.
/// Before this, every gate ran `interval` with an explicit 5 ms, so the default was never used.
extension PowerCutSweep {
    /// CPU time (user + system) of process `pid` in milliseconds, from /proc/PID/stat.
    static func cpuMilliseconds(_ pid: pid_t) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after "comm)": state is field 3, utime 14, stime 15 (proc(5)).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func intervalTimer(root: String, procs: [String: FixtureProcess], into rep: inout Report) throws {
        for (name, fx) in procs.sorted(by: { $0.key < $1.key }) {
            let dir = root + "/interval-\(name)", seg = dir + "/seg", store = dir + "/store"
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let r = try fx.call("restore", ["path": .string(seg), "geometry": Self.geometry, "store_dir": .string(store),
                                             "fsync": "interval", "fsync_interval_ms": 0])
            var fail: String?
            if !r.isOK {
                fail = "restore answered \(r.summary) \(r.message ?? "")"
            } else {
                let p = try fx.call("put", ["key_hex": .string(Hex.encode(Array("tick".utf8))), "value_hex": "00", "durable": true])
                let s = try fx.call("journal_state")
                let cpu0 = Self.cpuMilliseconds(fx.pid)
                usleep(300_000)
                let cpu1 = Self.cpuMilliseconds(fx.pid)
                usleep(1_200_000)
                let later = try fx.call("journal_state")
                if !p.isOK {
                    fail = "durable put answered \(p.summary)"
                } else if let w = s.result["written"]?.int, let y = s.result["synced"]?.int, y >= w {
                    fail = "the record was synced at once (synced \(y), written \(w)): the default interval is 1 s"
                } else if let cpu0, let cpu1, cpu1 - cpu0 > 100 {
                    fail = "the idle handle used \(Int(cpu1 - cpu0)) ms of CPU in 300 ms: its timer spins"
                } else if let w = later.result["written"]?.int, let y = later.result["synced"]?.int, y < w {
                    fail = "1.5 s after the put the record is still not synced (synced \(y), written \(w)): the timer did not fire"
                }
                _ = try fx.call("close")
            }
            unlink(seg)
            if let fail { rep.failures.append(Failure(writer: "interval-timer", restorer: name, cut: "default interval", problem: fail)) }
        }
    }
}
