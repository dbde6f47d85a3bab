// The Swift consumer (and producer) of `warmcheck bench startup` (docs/BENCHMARKS.md "Startup"):
// a program on the Swift library's public API only, as a service would be, started afresh for
// every measurement; the same modes, working set and result line as the Go and Rust consumers.
// Built by scripts/build-swift-consumer.sh (release, Swift runtime linked statically); it imports
// no Foundation, which the library does not need either and which would be loaded before main.
//
//   warmcache-swift-consumer produce SEG N                 create SEG, put the working set, print "ready", hold it until stdin closes
//   warmcache-swift-consumer warm SEG N [--legacy-sweep]   open SEG and serve the request stream from it
//   warmcache-swift-consumer warm SEG N --batch K          the same, K requests at a time (batched get, row a-batched)
//   warmcache-swift-consumer cold N COST_NS                recompute every entry (COST_NS of CPU each) into a private dictionary
//
// With --trace FILE [--exec-ns T] a serving mode also writes the phases of its start as Chrome
// trace JSON.
//   warmcache-swift-consumer restore SEG STORE N           rebuild the missing SEG from STORE (row b), then serve as warm
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Warmcache

let start = realtimeNs()

/// Writes all of `s` to a file descriptor (stdio's stdout/stderr are shared mutable C globals,
/// which Swift 6 refuses to touch; the result line must also reach the pipe before exit).
func emit(_ fd: Int32, _ s: String) {
    var s = s
    s.withUTF8 { p in
        var off = 0
        while off < p.count {
            let n = write(fd, p.baseAddress! + off, p.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            off += n
        }
    }
}

func die(_ msg: String) -> Never {
    emit(2, "warmcache-swift-consumer: \(msg)\n")
    exit(2)
}

func num(_ s: String) -> UInt64 {
    guard let v = UInt64(s), v > 0 else { die("\"\(s)\" is not a positive integer") }
    guard v % orderStep != 0 else { die("N must not be a multiple of \(orderStep)") }
    return v
}

/// The segment geometry for n entries: half-full windows of 64, 512-byte slots (key 16 B, value
/// 128 B), so 1 M entries make a ~1 GiB segment (the same as the Go and Rust consumers').
func geometry(_ n: UInt64) -> Geometry {
    Geometry(shardCount: UInt32((2 * n + 2047) / 2048), slotsPerShard: 2048, keyCapacity: 16, valueCapacity: 128,
             probeWindow: 64, participantCapacity: 64)
}

struct Flags {
    var legacy = false, trace: String? = nil, execNs: Int64 = 0
    /// --batch K: serve the same request stream K requests at a time through the batched
    /// `get(_:into:)` (row a-batched; K = 100, the depth of rows d/e's pipelines).
    var batch = 0
}

func parse(_ args: ArraySlice<String>) -> ([String], Flags) {
    var f = Flags(), pos: [String] = []
    var it = args.makeIterator()
    while let a = it.next() {
        switch a {
        case "--legacy-sweep": f.legacy = true
        case "--batch":
            guard let v = it.next(), let k = Int(v), k >= 1 else { die("--batch needs a count ≥ 1") }
            f.batch = k
        case "--trace", "--exec-ns":
            guard let v = it.next() else { die("\(a) needs a value") }
            if a == "--trace" { f.trace = v } else {
                guard let t = Int64(v) else { die("bad --exec-ns \"\(v)\"") }
                f.execNs = t
            }
        default: pos.append(a)
        }
    }
    return (pos, f)
}

func finish(_ m: Milestones, opened: Int64, _ f: Flags) {
    emit(1, m.line(start: start, opened: opened) + "\n")
    if let path = f.trace {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { die("write trace \(path): \(String(cString: strerror(errno)))") }
        emit(fd, m.trace(execNs: f.execNs, start: start, opened: opened))
        close(fd)
    }
}

func produce(_ path: String, _ n: UInt64) {
    let c: WarmCache
    do { c = try WarmCache.create(path: path, geometry: geometry(n)) } catch { die("create \(path): \(error)") }
    defer { c.close() }
    for i in 0..<n where !c.put(newKey(i), value(i)).isOK { die("put \(i) failed") }
    emit(1, "ready\n")
    var b = [UInt8](repeating: 0, count: 512)
    while read(0, &b, b.count) > 0 {}   // hold the segment until the bench closes our stdin
}

func serveWarm(_ path: String, _ n: UInt64, _ f: Flags) {
    let c: WarmCache
    do { c = try WarmCache.open(path: path, options: WarmCacheOptions(legacySweep: f.legacy)) } catch { die("open \(path): \(error)") }
    let opened = realtimeNs()
    var m = Milestones(n)
    if f.batch > 0 {
        serveBatched(c, n, f.batch, &m)
        finish(m, opened: opened, f)
        return c.close()
    }
    var buf = [UInt8](), k = [UInt8](repeating: 0, count: keyLen)
    buf.reserveCapacity(128)
    for r in 0..<(2 * n) {
        let i = index(r, n)
        writeKey(&k, i)
        let hit = c.get(k, into: &buf) != nil && isRight(buf, i)
        if m.record(hit) { break }
    }
    finish(m, opened: opened, f)
    c.close()
}

/// serveWarm's request stream, `batch` requests at a time through the batched get (row
/// a-batched): gathered, got together, then recorded in order, as a server answering a pipeline
/// of that depth would.
func serveBatched(_ c: WarmCache, _ n: UInt64, _ batch: Int, _ m: inout Milestones) {
    var keys = [[UInt8]](repeating: [UInt8](repeating: 0, count: keyLen), count: batch)
    var idx = [UInt64](repeating: 0, count: batch)
    var values = [[UInt8]](repeating: [], count: batch)
    for j in values.indices { values[j].reserveCapacity(128) }
    var r: UInt64 = 0
    while r < 2 * n {
        let k = min(batch, Int(2 * n - r))
        if k < batch { keys.removeLast(batch - k); values.removeLast(batch - k) }
        for j in 0..<k {
            idx[j] = index(r + UInt64(j), n)
            writeKey(&keys[j], idx[j])
        }
        r += UInt64(k)
        let got = c.get(keys, into: &values)
        for j in 0..<k where m.record(got[j] != nil && isRight(values[j], idx[j])) { return }
    }
}

/// Row (b): a service's start after a reboot. Open the segment or rebuild it from the durable
/// store another language's producer wrote (PERSISTENCE.md §7; policy none: the bench measures
/// restore, not fsync), then serve exactly as the warm mode does, as the Go and Rust consumers do.
func serveRestored(_ path: String, _ dir: String, _ n: UInt64, _ f: Flags) {
    do {
        let (c, rep) = try WarmCache.openOrRestore(path: path, geometry: geometry(n), store: StoreOptions(directory: dir, policy: .none))
        if !rep.restored { emit(2, "warmcache-swift-consumer: restore: the segment was not rebuilt (it existed)\n") }
        c.close()
    } catch {
        die("restore \(path) from \(dir): \(error)")
    }
    serveWarm(path, n, f)
}

func serveCold(_ n: UInt64, _ cost: Int64, _ f: Flags) {
    var local: [UInt64: [UInt8]] = [:]
    var m = Milestones(n)
    for r in 0..<(2 * n) {
        let i = index(r, n)
        let hit = local[i] != nil
        if !hit {
            // The work a cold service redoes per entry: `cost` ns of CPU (a busy loop on the
            // clock, never a sleep), then the value.
            let t0 = monotonicNs()
            var x = i
            while monotonicNs() - t0 < cost { x = x &* 6364136223846793005 &+ 1442695040888963407 }
            var v = value(i)
            v[valueLen - 1] ^= UInt8(truncatingIfNeeded: x >> 63) & 0   // keep x live without changing the value
            local[i] = v
        }
        if m.record(hit) { break }
    }
    finish(m, opened: start, f)
}

let argv = CommandLine.arguments
guard argv.count >= 2 else { die("usage: warmcache-swift-consumer produce|warm|cold ARGS (see the source)") }
let (pos, flags) = parse(argv.dropFirst(2))
func need(_ k: Int) { if pos.count != k { die("\(argv[1]) takes \(k) arguments, got \(pos.count)") } }
switch argv[1] {
case "produce": need(2); produce(pos[0], num(pos[1]))
case "warm": need(2); serveWarm(pos[0], num(pos[1]), flags)
case "cold":
    need(2)
    guard let cost = Int64(pos[1]), cost >= 0 else { die("bad COST_NS \"\(pos[1])\"") }
    serveCold(num(pos[0]), cost, flags)
case "restore": need(3); serveRestored(pos[0], pos[1], num(pos[2]), flags)
case "produce-durable": die("produce-durable: the bench's durable producers are Go and Rust (row b restores another language's store)")
default: die("unknown mode \"\(argv[1])\"")
}
