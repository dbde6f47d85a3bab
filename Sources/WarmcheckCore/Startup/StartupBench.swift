#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// `warmcheck bench startup` (docs/BENCHMARKS.md "Startup"): how long a restarted consumer takes
/// from exec to its first hit, to 99 % of its working set served and to its pre-restart hit
/// ratio, when its cache is (a) a warm segment kept by a producer of another language, (b) a
/// segment restored after a reboot from a durable store another language wrote, (c) nothing
/// (it recomputes every entry), (d) Redis or (e) memcached on loopback; against (f) the exec of
/// an empty program of the same language. Row a-legacy is (a) with the 1.0 registration sweep
/// (the library's legacy-sweep option), for the before/after curve of PROTOCOL.md §5.1.
public struct StartupOptions: Sendable {
    public var sizes: [UInt64] = [10_000, 1_000_000]
    public var languages: [String] = ["go", "rust"]
    public var restarts = 10
    public var coldRestarts = 2
    public var coldCostNs: UInt64 = 20_000
    public var servers = true
    public var legacyCurve = true
    public var redisPort: UInt16 = 0
    public var memcachedPort: UInt16 = 0
    public var workDir = Repo.defaultWorkDir
    public var command = "warmcheck bench startup"
    public init() {}
}

/// The consumer and empty program of each language, as scripts/build-fixtures.sh leaves them;
/// Go's also has the client of rows (d) and (e), a program of its own so that the consumer of
/// rows (a)–(c) links no network code (docs/BENCHMARKS.md "Startup").
struct StartupBinaries {
    let consumer: String, empty: String
    var remote: String? = nil

    static func of(_ language: String, root: URL) throws -> StartupBinaries {
        let b: StartupBinaries
        switch language {
        case "go": b = .init(consumer: root.appendingPathComponent(".build/fixtures/warmcache-go-consumer").path,
                             empty: root.appendingPathComponent(".build/fixtures/warmcache-go-empty").path,
                             remote: root.appendingPathComponent(".build/fixtures/warmcache-go-remote-consumer").path)
        case "rust": b = .init(consumer: root.appendingPathComponent("rust-fixture/target/release/warmcache-consumer").path,
                               empty: root.appendingPathComponent("rust-fixture/target/release/warmcache-empty").path)
        case "swift": b = .init(consumer: root.appendingPathComponent(".build/release/warmcache-swift-consumer").path,
                                empty: root.appendingPathComponent(".build/release/warmcache-swift-empty").path)
        default: throw StartupError("--language \(language): the startup consumers exist for go, rust and swift")
        }
        let build = language == "swift" ? "scripts/build-swift-consumer.sh" : "scripts/build-fixtures.sh"
        for p in [b.consumer, b.empty] + (b.remote.map { [$0] } ?? []) where access(p, X_OK) != 0 {
            throw StartupError("\(p) is missing: run \(build)")
        }
        return b
    }
}

public final class StartupBench {
    let o: StartupOptions
    let bins: [String: StartupBinaries]
    var log: (String) -> Void
    /// Every exec → exit of each language's empty program this run took (row f pools them).
    var floorSamples: [String: [Int64]] = [:]
    /// The median floor of the samples taken alternately with row (a) of a language and size
    /// ("go-10000"): what that row's first hit is judged against, so that a load that changes
    /// during the run changes both sides of the ratio alike.
    var pairedFloor: [String: Double] = [:]

    public init(_ o: StartupOptions, log: @escaping (String) -> Void) throws {
        guard let root = Repo.root() else { throw StartupError("run from a warmcache checkout (no Package.swift above the current directory)") }
        guard !o.sizes.isEmpty, o.sizes.allSatisfy({ $0 > 0 && $0 % 1_000_003 != 0 }) else { throw StartupError("--entries: positive working-set sizes (not multiples of 1000003)") }
        guard o.restarts >= 1, o.coldRestarts >= 1 else { throw StartupError("--restarts and --cold-restarts must be ≥ 1") }
        self.o = o
        var b: [String: StartupBinaries] = [:]
        for l in Set(o.languages + ["go", "rust"]) { b[l] = try StartupBinaries.of(l, root: root) }
        bins = b
        self.log = log
    }

    public func run() throws -> StartupReport {
        Shutdown.watch(workDir: o.workDir)
        let before = StartupBench.loadavg()
        var rows: [StartupRow] = []
        var redis: LoopbackServer?, memcached: LoopbackServer?
        defer { redis?.stop(); memcached?.stop() }
        if o.servers {
            redis = try LoopbackServer(.redis, port: o.redisPort)
            memcached = try LoopbackServer(.memcached, port: o.memcachedPort)
            log("servers: redis-server on \(redis!.address), memcached on \(memcached!.address)")
        }
        for lang in o.languages {
            rows.append(try floor(lang))
        }
        for n in o.sizes {
            // The producer is of another language than the consumer (Rust keeps Go's segment warm
            // and Go keeps Rust's).
            for lang in o.languages {
                let producerLang = StartupBench.producer(for: lang)
                let seg = "\(o.workDir)/wc-startup-\(getpid())-\(lang)-\(n).seg"
                unlink(seg)
                defer { unlink(seg) }
                log("\(lang) consumer, \(n) entries: \(producerLang) producer filling \(seg)")
                let producer = try TimedChild([bins[producerLang]!.consumer, "produce", seg, "\(n)"])
                defer { producer.stop() }
                guard producer.readLine() == "ready" else { throw StartupError("the \(producerLang) producer of \(seg) failed (its messages are above)") }
                let bytes = (try? FileManager.default.attributesOfItem(atPath: seg)[.size] as? UInt64) ?? nil
                var pair: [Int64] = []
                var a = try measure("a", "warm segment (\(producerLang) producer)", lang, n, o.restarts, [bins[lang]!.consumer, "warm", seg, "\(n)"],
                                    before: { pair.append(try self.execFloor(lang)) })
                pairedFloor["\(lang)-\(n)"] = StartupSummary(nanoseconds: pair)?.p50
                a.segmentBytes = bytes
                rows.append(a)
                // The same request stream through the library's batched get, 100 requests at a
                // time: the depth of rows d/e's pipelines, so that (d)/(a-batched) compares a
                // batch of 100 with a batch of 100.
                var ab = try measure("a-batched", "warm segment (\(producerLang) producer), batched get ×\(StartupBench.batch)", lang, n, o.restarts,
                                     [bins[lang]!.consumer, "warm", seg, "\(n)", "--batch", "\(StartupBench.batch)"])
                ab.segmentBytes = bytes
                rows.append(ab)
                if o.legacyCurve {
                    var l = try measure("a-legacy", "warm segment, 1.0 full sweep (legacy-sweep option)", lang, n, o.restarts,
                                        [bins[lang]!.consumer, "warm", seg, "\(n)", "--legacy-sweep"])
                    l.segmentBytes = bytes
                    rows.append(l)
                }
                producer.closeStdin()
                producer.wait()
            }
            for lang in o.languages {
                rows.append(try restored(lang, n))
                rows.append(try measure("c", "cold start, recompute (\(o.coldCostNs / 1000) µs CPU per entry)", lang, n,
                                        n >= 100_000 ? 1 : o.coldRestarts, [bins[lang]!.consumer, "cold", "\(n)", "\(o.coldCostNs)"]))
            }
            if let redis, let memcached {
                for s in [redis, memcached] {
                    let loader = try TimedChild([bins["go"]!.remote!, "load-\(s.kind.rawValue)", s.address, "\(n)"])
                    guard loader.readLine() == "ready" else { loader.stop(); throw StartupError("loading \(n) entries into \(s.kind.rawValue) failed") }
                    loader.wait()
                    rows.append(try measure(s.kind == .redis ? "d" : "e", "\(s.kind.rawValue) on loopback (Go client, pipelined ×100)", "go", n,
                                            o.restarts, [bins["go"]!.remote!, s.kind.rawValue, s.address, "\(n)"]))
                }
            }
        }
        redis?.stop(); memcached?.stop()
        // Row f from every floor sample of the run, the paired ones included.
        for (i, r) in rows.enumerated() where r.row == "f" {
            rows[i].firstHit = StartupSummary(nanoseconds: floorSamples[r.language] ?? [])
        }
        let date = ISO8601DateFormatter().string(from: Date())
        return StartupReport(command: o.command, date: date, loadBefore: before, loadAfter: StartupBench.loadavg(),
                             cores: sysconf(Int32(_SC_NPROCESSORS_ONLN)), coldCostNs: o.coldCostNs, rows: rows,
                             targets: StartupBench.targets(rows, pairedFloor: pairedFloor))
    }

    /// One exec → exit of the language's empty program, kept for row f.
    func execFloor(_ lang: String) throws -> Int64 {
        let c = try TimedChild([bins[lang]!.empty])
        let (st, at) = c.wait()
        guard st == 0 else { throw StartupError("\(bins[lang]!.empty) exited \(st)") }
        floorSamples[lang, default: []].append(at - c.spawnedAt)
        return at - c.spawnedAt
    }

    /// Row f: exec → exit of the language's empty program (more samples join it alternately
    /// with each restart of row a; the row is redrawn from all of them at the end).
    func floor(_ lang: String) throws -> StartupRow {
        var t: [Int64] = []
        for _ in 0..<max(o.restarts, 5) { t.append(try execFloor(lang)) }
        log("\(lang) floor: median \(StartupSummary(nanoseconds: t)!.p50) ms")
        return StartupRow(row: "f", what: "exec of an empty program (floor)", language: lang, entries: 0, status: "measured",
                          firstHit: StartupSummary(nanoseconds: t))
    }

    /// Row b: a producer of the other language leaves a durable store (a snapshot of every entry
    /// plus a 1 % journal tail, PERSISTENCE.md §8); before each restart the segment file is
    /// removed (the reboot), and the consumer rebuilds it from the store (§7) and serves.
    func restored(_ lang: String, _ n: UInt64) throws -> StartupRow {
        let producerLang = StartupBench.producer(for: lang)
        let seg = "\(o.workDir)/wc-startup-\(getpid())-\(lang)-\(n)-restored.seg", store = seg + ".store"
        func clean() { unlink(seg); try? FileManager.default.removeItem(atPath: store) }
        clean()
        defer { clean() }
        log("\(lang) consumer, \(n) entries: \(producerLang) producer writing the durable store \(store)")
        let producer = try TimedChild([bins[producerLang]!.consumer, "produce-durable", seg, store, "\(n)"])
        defer { producer.stop() }
        guard producer.readLine() == "ready", producer.wait().0 == 0 else {
            throw StartupError("the \(producerLang) durable producer of \(store) failed (its messages are above)")
        }
        let storeBytes = ((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []).reduce(UInt64(0)) {
            $0 + ((try? FileManager.default.attributesOfItem(atPath: store + "/" + $1)[.size] as? UInt64) ?? 0)
        }
        var b = try measure("b", "segment restored after a reboot (\(producerLang) snapshot + 1 % journal)", lang, n,
                            n >= 100_000 ? max(1, o.coldRestarts) : o.restarts,
                            [bins[lang]!.consumer, "restore", seg, store, "\(n)"], before: { unlink(seg) })
        // The restored segment is row a's size (same geometry): the plot's x.
        b.segmentBytes = (try? FileManager.default.attributesOfItem(atPath: seg)[.size] as? UInt64) ?? nil
        b.note = String(format: "store %.1f MB; the segment file is removed before every restart", Double(storeBytes) / 1e6)
        return b
    }

    func measure(_ row: String, _ what: String, _ lang: String, _ n: UInt64, _ times: Int, _ argv: [String],
                 before: () throws -> Void = {}) throws -> StartupRow {
        var first: [Int64] = [], s99: [Int64] = [], warm: [Int64] = []
        for _ in 0..<times {
            try before()
            let c = try TimedChild(argv)
            let line = c.readLine()
            let (st, _) = c.wait()
            guard st == 0, let line else {
                throw StartupError("\(argv.joined(separator: " ")) failed (status \(st)); its messages are above")
            }
            let m: ConsumerLine
            do { m = try ConsumerLine(line: line) } catch { throw StartupError("\(argv.joined(separator: " ")): \(error)") }
            // Every row but the cold one serves a cache holding the whole working set: a miss
            // there is a broken consumer (a wrong key or value format), not a slow one, and would
            // make its timings meaningless.
            if row != "c" && (m.hits != m.requests || m.requests == 0) {
                throw StartupError("\(argv.joined(separator: " ")): \(m.hits) of \(m.requests) requests hit; row \(row)'s cache holds the whole working set")
            }
            first.append(m.first_hit_ns == 0 ? 0 : m.first_hit_ns - c.spawnedAt)
            s99.append(m.served99_ns - c.spawnedAt)
            warm.append(m.warm_ns == 0 ? 0 : m.warm_ns - c.spawnedAt)
        }
        let r = StartupRow(row: row, what: what, language: lang, entries: n, status: "measured",
                           firstHit: StartupSummary(nanoseconds: first), served99: StartupSummary(nanoseconds: s99),
                           warm: StartupSummary(nanoseconds: warm))
        log(String(format: "  %@ %@ %llu: first hit %.2f ms, 99 %% %.2f ms (medians of %d)", row, lang, n,
                   r.firstHit?.p50 ?? -1, r.served99?.p50 ?? -1, times))
        return r
    }

    /// The batch of row a-batched: the pipeline depth of rows d and e.
    static let batch = 100

    /// The producer of a consumer's segment or store: another language (Rust keeps Go's and
    /// Swift's warm, Go keeps Rust's).
    static func producer(for consumer: String) -> String { consumer == "rust" ? "go" : "rust" }

    /// The goals of issue 12 §1 on this run's medians: (a) first hit ≤ 1.5× the floor; (a) at
    /// least 100× faster to 99 % than (c) and 10× faster than (d) and (e).
    /// The floor of a first-hit target is the median of the empty-program runs alternated with
    /// that row's restarts (`pairedFloor`, "lang-n"), or row f's when there are none.
    static func targets(_ rows: [StartupRow], pairedFloor: [String: Double] = [:]) -> [StartupTarget] {
        var out: [StartupTarget] = []
        func find(_ r: String, _ l: String, _ n: UInt64) -> StartupRow? { rows.first { $0.row == r && $0.language == l && $0.entries == n } }
        for a in rows where a.row == "a" {
            let f = rows.first(where: { $0.row == "f" && $0.language == a.language })?.firstHit?.p50
            let paired = pairedFloor["\(a.language)-\(a.entries)"]
            if let x = a.firstHit?.p50, let y = paired ?? f {
                out.append(StartupTarget(what: paired == nil ? "(a) first hit / (f) floor" : "(a) first hit / (f) floor run alternately with it",
                                         language: a.language, entries: a.entries, ratio: x / y,
                                         goal: "≤ 1.5", met: x / y <= 1.5))
            }
            // Against (a), and against (a-batched) where the run has it.
            for w in [a, find("a-batched", a.language, a.entries)].compactMap({ $0 }) {
                for (r, goal) in [("c", 100.0), ("d", 10.0), ("e", 10.0)] {
                    let other = find(r, r == "c" ? a.language : "go", a.entries)
                    if let x = other?.served99?.p50, let y = w.served99?.p50 {
                        out.append(StartupTarget(what: "(\(r)) / (\(w.row)) to 99 % served", language: a.language, entries: a.entries,
                                                 ratio: x / y, goal: "≥ \(Int(goal))", met: x / y >= goal))
                    }
                }
            }
        }
        return out
    }

    static func loadavg() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }
}
