#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The working set, request stream and milestones every consumer of `warmcheck bench startup`
// serves (docs/BENCHMARKS.md "Startup"), as go-fixture/internal/benchload and the Rust consumer
// define them: key i is "k" + 10 decimal digits, its value 100 bytes starting with i
// (little-endian); request r asks for index (r mod n · 1000003 + 7) mod n, two passes.

let valueLen = 100
let keyLen = 11
let orderStep: UInt64 = 1_000_003

/// Writes key i into `k` (keyLen bytes, reused per request: a fresh array per request would be
/// an allocation per get, which the Go and Rust consumers do not pay either).
func writeKey(_ k: inout [UInt8], _ i: UInt64) {
    var i = i
    k[0] = UInt8(ascii: "k")
    for j in stride(from: keyLen - 1, through: 1, by: -1) {
        k[j] = UInt8(ascii: "0") + UInt8(i % 10)
        i /= 10
    }
}

func newKey(_ i: UInt64) -> [UInt8] {
    var k = [UInt8](repeating: 0, count: keyLen)
    writeKey(&k, i)
    return k
}

func value(_ i: UInt64) -> [UInt8] {
    var v = [UInt8](repeating: 0, count: valueLen)
    for j in 0..<8 { v[j] = UInt8(truncatingIfNeeded: i >> (8 * UInt64(j))) }
    for j in 8..<valueLen { v[j] = UInt8(truncatingIfNeeded: i &+ UInt64(j)) }
    return v
}

/// Whether `v` is entry i's value (length and leading index).
func isRight(_ v: [UInt8], _ i: UInt64) -> Bool {
    guard v.count == valueLen else { return false }
    var x: UInt64 = 0
    for j in 0..<8 { x |= UInt64(v[j]) << (8 * UInt64(j)) }
    return x == i
}

func index(_ r: UInt64, _ n: UInt64) -> UInt64 { (r % n * orderStep + 7) % n }

func clockNs(_ clock: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Realtime ns: the clock the bench stamps "exec" with, so both are on one time line.
func realtimeNs() -> Int64 { clockNs(CLOCK_REALTIME) }

/// Monotonic ns, for the cold row's busy loop.
func monotonicNs() -> Int64 { clockNs(CLOCK_MONOTONIC) }

/// The three moments of a start (realtime ns): first hit, 99 % of the working set served, the
/// trailing-window hit ratio back within 1 point of its pre-restart 100 %. The clock is read
/// only when a milestone is reached, the moment it stands for.
struct Milestones {
    let n: UInt64, window: UInt64
    var requests: UInt64 = 0, hits: UInt64 = 0
    var firstHit: Int64 = 0, served99: Int64 = 0, warm: Int64 = 0
    var recent: [Bool]
    var recentHits: UInt64 = 0

    init(_ n: UInt64) {
        self.n = n
        window = max(n / 100, 100)
        recent = [Bool](repeating: false, count: Int(window))
    }

    /// Notes one served request; true once every milestone is known.
    mutating func record(_ hit: Bool) -> Bool {
        let slot = Int(requests % window)
        if requests >= window && recent[slot] { recentHits -= 1 }
        recent[slot] = hit
        requests += 1
        if hit {
            hits += 1
            recentHits += 1
            if firstHit == 0 { firstHit = realtimeNs() }
        }
        if served99 == 0 && requests * 100 >= n * 99 { served99 = realtimeNs() }
        if warm == 0 && requests >= window && recentHits * 100 >= window * 99 { warm = realtimeNs() }
        return firstHit != 0 && served99 != 0 && warm != 0
    }

    /// The one JSON line a serving mode prints (the same fields as the Go and Rust consumers).
    func line(start: Int64, opened: Int64) -> String {
        "{\"main_ns\":\(start),\"opened_ns\":\(opened),\"first_hit_ns\":\(firstHit),\"served99_ns\":\(served99)," +
            "\"warm_ns\":\(warm),\"requests\":\(requests),\"hits\":\(hits)}"
    }

    /// The phases of this start as Chrome trace JSON ("X" complete events, µs), as the Go and
    /// Rust consumers write them; a phase whose end was never reached is left out.
    func trace(execNs: Int64, start: Int64, opened: Int64) -> String {
        let phases: [(String, Int64, Int64)] = [("exec → main", execNs == 0 ? start : execNs, start), ("open (map + register)", start, opened),
                                                ("registered → first hit", opened, firstHit), ("first hit → 99 % served", firstHit, served99)]
        func us(_ ns: Int64) -> String {
            let frac = String(ns % 1000)
            return "\(ns / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
        }
        let events = phases.filter { $0.1 != 0 && $0.2 >= $0.1 }.map {
            "{\"name\":\"\($0.0)\",\"ph\":\"X\",\"pid\":\(getpid()),\"tid\":1,\"ts\":\(us($0.1)),\"dur\":\(us($0.2 - $0.1))}"
        }
        return "{\"traceEvents\":[" + events.joined(separator: ",") + "],\"displayTimeUnit\":\"ms\"}\n"
    }
}
