// The durable store's figures (docs/BENCHMARKS.md "Durable store"), as Go's durable_bench_test.go
// measures them: the journal append cost per put for each fsync policy against a plain put of the
// same run, and restore of N entries against rebuilding cold (the same N puts into an empty
// segment, values already in memory), from the journal and from its compacted snapshot.
//
//   swift run -c release warmcache-swift-bench --durable [--store-root /tmp] [--entries 10000]

import Foundation
import Warmcache

#if canImport(Glibc)
import Glibc
#endif

func cpuNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func die(_ s: String) -> Never { print(s); exit(1) }

/// ns per put, three runs of `n` puts over 512 keys, after one untimed round (so all refreshes).
func appendCost(root: String, policy: FsyncPolicy?, n: Int) -> [Double] {
    let g = Geometry(shardCount: 16, slotsPerShard: 64, keyCapacity: 64, valueCapacity: 1024, probeWindow: 8, participantCapacity: 64)
    let keys: [[UInt8]] = (0..<512).map { Array("bench:key:\($0)".utf8) }
    let value = [UInt8](repeating: 7, count: 64)
    var out: [Double] = []
    for run in 0..<3 {
        let seg = "/dev/shm/warmcache-swift-durbench-\(getpid())", dir = "\(root)/warmcache-swift-durbench-\(getpid())-\(run)"
        unlink(seg)
        defer { unlink(seg); try? FileManager.default.removeItem(atPath: dir) }
        let c: WarmCache
        do { c = try WarmCache.create(path: seg, geometry: g) } catch { die("create: \(error)") }
        defer { c.close() }
        if let policy {
            do { try c.attachStore(StoreOptions(directory: dir, policy: policy)) } catch { die("store: \(error)") }
        }
        func put(_ i: Int) {
            let ok = policy == nil ? c.put(keys[i & 511], value).isOK : c.durablePut(keys[i & 511], value).durable
            if !ok { die("put \(i) failed") }
        }
        for i in 0..<512 { put(i) }   // warm-up: the slots' pages faulted in, the journal started
        let t0 = monoNs()
        for i in 0..<n { put(i) }
        out.append(Double(monoNs() - t0) / Double(n))
    }
    return out
}

func restoreVsCold(root: String, entries n: Int) {
    var g = Geometry(shardCount: 32, slotsPerShard: UInt32((n * 13 / 10) / 32 + 16), keyCapacity: 16, valueCapacity: 64,
                     probeWindow: 16, participantCapacity: 8)
    if g.slotsPerShard > 65536 { (g.shardCount, g.slotsPerShard) = (UInt32((n * 13 / 10) / 65536 + 1), 65536) }
    let seg = "/dev/shm/warmcache-swift-durbench-\(getpid())", dir = "\(root)/warmcache-swift-durbench-\(getpid())-store"
    unlink(seg)
    defer { unlink(seg); try? FileManager.default.removeItem(atPath: dir) }
    let keys: [[UInt8]] = (0..<n).map { Array(String(format: "key:%012d", $0).utf8) }
    let value = [UInt8](repeating: 0, count: 64)
    let store = StoreOptions(directory: dir, policy: .none)
    do {
        let (c, _) = try WarmCache.openOrRestore(path: seg, geometry: g, store: store)
        for k in keys where !c.durablePut(k, value).durable { die("durable put failed") }
        c.close()
    } catch { die("write: \(error)") }
    func timed(_ body: () -> Void) -> (Double, Double) {
        unlink(seg)
        let (t0, u0) = (monoNs(), cpuNs())
        body()
        return (Double(monoNs() - t0) / 1e6, Double(cpuNs() - u0) / 1e6)
    }
    func restoreOnce() -> Int {
        do {
            let (c, rep) = try WarmCache.openOrRestore(path: seg, geometry: g, store: store)
            c.close()
            if !rep.restored || !rep.problems.isEmpty { die("restore: \(rep)") }
            return rep.installed
        } catch { die("restore: \(error)") }
    }
    var cold: [(Double, Double)] = [], restore: [(Double, Double)] = [], snap: [(Double, Double)] = []
    var installed = 0
    for _ in 0..<3 {
        cold.append(timed {
            do {
                let c = try WarmCache.create(path: seg, geometry: g)
                for k in keys { _ = c.put(k, value) }
                c.close()
            } catch { die("cold: \(error)") }
        })
        restore.append(timed { installed = restoreOnce() })
    }
    do { _ = try StoreCompaction.compact(directory: dir, geometry: g) } catch { die("compact: \(error)") }
    for _ in 0..<3 { snap.append(timed { _ = restoreOnce() }) }
    let m = { (xs: [(Double, Double)]) in (median(xs.map(\.0)), median(xs.map(\.1))) }
    let (cw, cc) = m(cold), (rw, rc) = m(restore), (sw, sc) = m(snap)
    print(String(format: "restore %d entries (%d installed): median of 3, wall / CPU ms: cold by put %.1f / %.1f, "
                 + "restore from the journal %.1f / %.1f (CPU ratio %.2f), from the snapshot %.1f / %.1f (CPU ratio %.2f)",
                 n, installed, cw, cc, rw, rc, rc / cc, sw, sc, sc / cc))
}

func runDurableBench(root: String, entries: Int) {
    let plain = appendCost(root: root, policy: nil, n: 20_000)
    let base = median(plain)
    print(String(format: "put not durable: %.0f / %.0f / %.0f ns (median %.0f)", plain[0], plain[1], plain[2], base))
    for p in [FsyncPolicy.none, .interval, .always] {
        let r = appendCost(root: root, policy: p, n: p == .always ? 300 : 20_000)
        print(String(format: "put durable %@: %.0f / %.0f / %.0f ns (median %.0f, %.1f× not durable)",
                     p.rawValue, r[0], r[1], r[2], median(r), median(r) / base))
    }
    restoreVsCold(root: root, entries: entries)
}
