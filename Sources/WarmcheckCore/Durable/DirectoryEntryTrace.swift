import Foundation

/// When a new store file's *name* became durable (PERSISTENCE.md §6: "fsync the file and then
/// fsync(DIR), so that the name survives a power cut; a new file's directory entry is not made
/// durable by the file's own fsync"). The power-cut model otherwise keeps every file that existed,
/// so a writer that never syncs the directory lost nothing there, although a real cut loses the
/// whole journal (a Rust mutant that dropped `dir_dirty = true` survived 521 cases and every gate).
///
/// What the writer did is read from `strace` (the kernel's view; the driver could only report
/// what the implementation believes it did): each `openat` of the directory and of a file created
/// in it (`O_CREAT`), and each `fsync`/`fdatasync`, with CLOCK_REALTIME stamps (`-ttt`) and
/// durations (`-T`). A file's name is durable from the end of the first sync of a descriptor open
/// on its directory that started after the file's creation.
struct DirectoryEntryTrace {
    static let strace = "/usr/bin/strace"
    /// strace is installed *and* may trace here: a container without ptrace (no
    /// CAP_SYS_PTRACE, or a seccomp profile that denies it) has the binary but fails every
    /// traced start, which must not turn into a failed power-cut run. Probed once per process
    /// with the same options the writers get.
    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: strace) else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: strace)
        p.arguments = ["-f", "-qq", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=fsync", "/bin/true"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    /// `spec` run under strace, writing the trace to `file` (seccomp filtering: only the traced
    /// calls stop the writer). The process group still ends with the fixture (`crash()`).
    static func traced(_ spec: FixtureSpec, to file: String) -> FixtureSpec {
        FixtureSpec(name: spec.name, argv: [strace, "-f", "-qq", "--seccomp-bpf", "-ttt", "-T", "-o", file,
                                            "-e", "trace=openat,fsync,fdatasync,close"] + spec.argv)
    }

    struct Call {
        var pid: String, startNs: UInt64, name: String, args: String, ret: Int64, durNs: UInt64
        var endNs: UInt64 { startNs + durNs }
    }

    /// For each file created in `dir` (by name), the realtime ns its name became durable; nil
    /// when no directory sync followed its creation.
    static func namesDurable(trace text: String, dir: String) -> [String: UInt64?] {
        let dirPath = (dir as NSString).standardizingPath
        var out: [String: UInt64?] = [:]
        var created: [(name: String, at: UInt64)] = []
        var open: [Int64: String] = [:]
        for c in calls(text) where c.ret >= 0 {
            switch c.name {
            case "openat":
                guard let path = quoted(c.args) else { continue }
                let p = (path as NSString).standardizingPath
                open[c.ret] = p
                if c.args.contains("O_CREAT") && (p as NSString).deletingLastPathComponent == dirPath {
                    let name = (p as NSString).lastPathComponent
                    created.append((name, c.startNs))
                    out[name] = .some(nil)
                }
            case "close":
                if let fd = Int64(c.args.trimmingCharacters(in: .whitespaces)) { open[fd] = nil }
            case "fsync", "fdatasync":
                guard let fd = Int64(c.args.trimmingCharacters(in: .whitespaces)), open[fd] == dirPath else { continue }
                for f in created where f.at < c.startNs && out[f.name] == .some(nil) { out[f.name] = c.endNs }
            default:
                continue
            }
        }
        return out
    }

    /// The trace's completed calls in order of completion, with interrupted ones
    /// (`<unfinished ...>` … `<... NAME resumed>`) joined again.
    static func calls(_ text: String) -> [Call] {
        var pending: [String: (ts: UInt64, head: String)] = [:]
        var out: [Call] = []
        for raw in text.split(separator: "\n") {
            let parts = raw.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard parts.count == 3, let ts = ns(String(parts[1])) else { continue }
            let pid = String(parts[0])
            var body = String(parts[2]), start = ts
            if body.hasSuffix("<unfinished ...>") {
                pending[pid] = (ts, String(body.dropLast("<unfinished ...>".count)))
                continue
            }
            if body.hasPrefix("<... "), let close = body.range(of: " resumed>") {
                guard let p = pending.removeValue(forKey: pid) else { continue }
                body = p.head + body[close.upperBound...]
                start = p.ts
            }
            // strace pads the call to a column: `fsync(3)        = 0 <0.000012>`.
            guard let open = body.firstIndex(of: "("), let eq = body.range(of: " = ", options: .backwards),
                  let shut = body[..<eq.lowerBound].lastIndex(of: ")"), open < shut else { continue }
            let after = body[eq.upperBound...].split(separator: " ")
            guard let ret = after.first.flatMap({ Int64($0) }) else { continue }
            let dur = after.last.flatMap { t -> UInt64? in
                guard t.hasPrefix("<"), t.hasSuffix(">") else { return nil }
                return ns(String(t.dropFirst().dropLast()))
            } ?? 0
            out.append(Call(pid: pid, startNs: start, name: String(body[..<open]),
                            args: String(body[body.index(after: open)..<shut]), ret: ret, durNs: dur))
        }
        return out
    }

    /// "1796191659.745998" (seconds) in nanoseconds.
    static func ns(_ s: String) -> UInt64? {
        let p = s.split(separator: ".", maxSplits: 1)
        guard let sec = p.first.flatMap({ UInt64($0) }) else { return nil }
        var frac = p.count > 1 ? String(p[1]) : ""
        guard frac.allSatisfy(\.isNumber) else { return nil }
        frac = String((frac + "000000000").prefix(9))
        return sec * 1_000_000_000 + (UInt64(frac) ?? 0)
    }

    /// The first "quoted" argument (the path of an openat).
    static func quoted(_ args: String) -> String? {
        guard let a = args.firstIndex(of: "\"") else { return nil }
        let rest = args[args.index(after: a)...]
        guard let b = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<b])
    }
}
