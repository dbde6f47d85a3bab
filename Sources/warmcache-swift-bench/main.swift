// warmcache-swift-bench — get-hit (get and get(into:)) and put latency (batch-timed p50/p99, ns/op) and gets/s for
// 64 B and 1 KiB values, against a same-run baseline: a Swift Dictionary<[UInt8],[UInt8]>
// lookup of the same value. Read the figures as ratios; absolute numbers depend on the machine.
//
//   swift run -c release warmcache-swift-bench [--path /dev/shm/...] [--batches N]
//                                              [--get-hit-only | --get-into-hit-only]
//
// --get-hit-only measures only get-hit of a 64 B value and prints one key=value line, so that
// scripts/bench-pause-cost.sh can run many short rounds of a normal build against one built with
// -Xswiftc -DWARMCACHE_NO_PAUSE_POINTS (pause points compiled out). It measures the allocating
// get(_:), and its line's format is what that script parses: keep both.
// --get-into-hit-only is the same for get(_:into:) with one reused buffer, on a line of its own
// name (get-into-hit-64), so that the two are never confused.

import Foundation
import Warmcache

#if canImport(Glibc)
import Glibc
#endif

@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

func monoNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

struct Result {
    var p50: Double, p99: Double, opsPerSec: Double
}

/// Run `batches` batches of `batchSize` calls of `op(i)`; per-op time of each batch → p50/p99.
func measure(batches: Int, batchSize: Int, _ op: (Int) -> Void) -> Result {
    for i in 0..<(batchSize * 10) { op(i) }   // warm-up
    var perOp = [Double]()
    perOp.reserveCapacity(batches)
    var total: UInt64 = 0
    var i = 0
    for _ in 0..<batches {
        let t0 = monoNs()
        for _ in 0..<batchSize { op(i); i &+= 1 }
        let dt = monoNs() - t0
        total += dt
        perOp.append(Double(dt) / Double(batchSize))
    }
    perOp.sort()
    let p = { (q: Double) in perOp[min(perOp.count - 1, Int(Double(perOp.count) * q))] }
    return Result(p50: p(0.50), p99: p(0.99), opsPerSec: Double(batches * batchSize) / (Double(total) / 1e9))
}

var path = "/dev/shm/warmcache-swift-bench-\(getpid())"
var batches = 2000
var getHitOnly = false
var getIntoHitOnly = false
var fastChecksum = false
var gets: Int? = nil
var getsSize = 64
var durableOnly = false, storeRoot = "/tmp", durableEntries = 10_000
var it = CommandLine.arguments.dropFirst().makeIterator()
while let a = it.next() {
    switch a {
    case "--path": path = it.next() ?? path
    case "--batches": batches = Int(it.next() ?? "") ?? batches
    case "--get-hit-only": getHitOnly = true
    case "--get-into-hit-only": getIntoHitOnly = true
    case "--fast-checksum": fastChecksum = true   // FAST_CHECKSUM: WCH64X4 record checksums (PROTOCOL.md §2)
    case "--gets", "--size":
        guard let n = Int(it.next() ?? ""), n >= 0 else { print("\(a) needs a number"); exit(2) }
        if a == "--gets" { gets = n } else { getsSize = n }
    case "--durable": durableOnly = true   // the durable store's figures (Durable.swift)
    case "--store-root": storeRoot = it.next() ?? storeRoot
    case "--entries": durableEntries = Int(it.next() ?? "") ?? durableEntries
    default: print("unknown option \(a)"); exit(2)
    }
}

if durableOnly {
    runDurableBench(root: storeRoot, entries: durableEntries)
    exit(0)
}

unlink(path)
let geometry = Geometry(shardCount: 16, slotsPerShard: 64, keyCapacity: 64, valueCapacity: 1024, probeWindow: 8,
                        participantCapacity: 64)
let cache: WarmCache
do { cache = try WarmCache.create(path: path, geometry: geometry, options: .init(fastChecksum: fastChecksum)) } catch {
    print("create failed: \(error)"); exit(1)
}
defer { cache.close(); unlink(path) }

let nKeys = 256
let keys: [[UInt8]] = (0..<nKeys).map { Array("bench:key:\($0)".utf8) }
if let n = gets {
    // The loop of the "get(into:)-hit" figure below, untimed; a miss traps so that it cannot pass
    // for a cheap hit.
    let value = [UInt8]((0..<getsSize).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    for k in keys {
        guard cache.put(k, value).isOK else { print("preload failed"); exit(1) }
    }
    var buf = [UInt8]()
    for i in 0..<n {
        guard cache.get(keys[i & (nKeys - 1)], into: &buf) != nil else { fatalError("miss") }
        blackHole(buf.count)
    }
    print("gets=\(n) size=\(getsSize) lang=swift pause_points_compiled=\(pausePointsCompiled)")
    cache.close()
    unlink(path)
    exit(0)
}
if getHitOnly || getIntoHitOnly {
    // The loop of the "get-hit 64 B" (or "get(into:)-hit 64 B") figure below, alone.
    let value = [UInt8]((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    for k in keys {
        guard cache.put(k, value).isOK else { print("preload failed"); exit(1) }
    }
    if getHitOnly {
        let g = measure(batches: batches, batchSize: 100) { i in
            let r = cache.get(keys[i & (nKeys - 1)])
            guard case .hit(let h) = r else { fatalError("miss") }
            blackHole(h.value.count)
        }
        print("get-hit-64 lang=swift pause_points_compiled=\(pausePointsCompiled) "
              + String(format: "p50_ns=%.2f p99_ns=%.2f gets_per_s=%.0f", g.p50, g.p99, g.opsPerSec))
    }
    if getIntoHitOnly {
        var buf = [UInt8]()
        let g = measure(batches: batches, batchSize: 100) { i in
            guard cache.get(keys[i & (nKeys - 1)], into: &buf) != nil else { fatalError("miss") }
            blackHole(buf.count)
        }
        print("get-into-hit-64 lang=swift pause_points_compiled=\(pausePointsCompiled) "
              + String(format: "p50_ns=%.2f p99_ns=%.2f gets_per_s=%.0f", g.p50, g.p99, g.opsPerSec))
    }
    cache.close()
    unlink(path)
    exit(0)
}
print("pause points compiled in: \(pausePointsCompiled), fast checksum: \(fastChecksum)")
print("warmcache-swift-bench: \(nKeys) keys, \(batches) batches, segment \(path)")
// The clock is read twice per batch of 100 (50 for puts), never per operation.
let timer = measure(batches: batches / 10, batchSize: 100) { _ in blackHole(monoNs()) }
print(String(format: "timer: one clock_gettime %.1f ns (p50), %.3f ns per timed op", timer.p50, timer.p50 / 100))
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
print(pad("case", 28) + "     p50 ns     p99 ns          ops/s")

func row(_ name: String, _ r: Result) {
    print(pad(name, 28) + String(format: " %10.1f %10.1f %14.0f", r.p50, r.p99, r.opsPerSec))
}

for size in [64, 1024] {
    let value = [UInt8]((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    var dict = [[UInt8]: [UInt8]]()
    for k in keys {
        guard cache.put(k, value).isOK else { print("preload failed"); exit(1) }
        dict[k] = value
    }
    // get-hit: copies the value out of shared memory and verifies its checksum.
    let g = measure(batches: batches, batchSize: 100) { i in
        let r = cache.get(keys[i & (nKeys - 1)])
        guard case .hit(let h) = r else { fatalError("miss") }
        blackHole(h.value.count)
    }
    // get(into:) hit: the same copy and checks into one buffer reused across calls (what a
    // service keeping a buffer per thread does), so no allocation per hit.
    var buf = [UInt8]()
    let gi = measure(batches: batches, batchSize: 100) { i in
        guard cache.get(keys[i & (nKeys - 1)], into: &buf) != nil else { fatalError("miss") }
        blackHole(buf.count)
    }
    // Baseline: Dictionary lookup of the same value, plus a private copy (what get returns).
    let d = measure(batches: batches, batchSize: 100) { i in
        let v = dict[keys[i & (nKeys - 1)]]!
        blackHole(v.withUnsafeBufferPointer { Array($0) }.count)   // a real copy, like get's
    }
    // put of an existing key (refresh path: claim, write the inactive record, publish, notify).
    let p = measure(batches: batches / 2, batchSize: 50) { i in
        let r = cache.put(keys[i & (nKeys - 1)], value)
        if !r.isOK { fatalError("put failed: \(r)") }
    }
    // Baseline: Dictionary store of the same value.
    let ds = measure(batches: batches / 2, batchSize: 50) { i in
        dict[keys[i & (nKeys - 1)]] = value
    }
    row("get-hit \(size) B", g)
    row("get(into:)-hit \(size) B", gi)
    row("  dict lookup+copy \(size) B", d)
    row("put (refresh) \(size) B", p)
    row("  dict store \(size) B", ds)
    print(String(format: "  ratios %5d B: get/dict p50 %.2fx, put/dict p50 %.2fx", size, g.p50 / d.p50, p.p50 / ds.p50))
    print(String(format: "  ratios %5d B: get(into:)/get p50 %.2fx", size, gi.p50 / g.p50))
}
let s = try! cache.stats()  // the handle is open until the end
print("stats: hits \(s.totals.hits) misses \(s.totals.misses) inserts \(s.totals.inserts) refreshes \(s.totals.refreshes) corrupt \(s.corrupt)")
