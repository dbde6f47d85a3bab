// A service's use of the Swift library, end to end (docs/using/swift.md): a producer and a
// consumer share a segment; the consumer serves a stale value while it is the one asked to
// refresh it, and parks until the producer publishes. Run: swift run warmcache-swift-example.
import Foundation
import Warmcache

let path = "/dev/shm/warmcache-swift-example-\(getpid()).seg"
defer { unlink(path) }

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

do {
    // Whoever comes first creates the segment; the others open it.
    let producer = try WarmCache.openOrCreate(path: path, geometry: .default)
    let consumer = try WarmCache.openOrCreate(path: path, geometry: .default)
    defer { producer.close(); consumer.close() }
    print("producer created: \(producer.created), consumer created: \(consumer.created)")

    // Producer: fresh for 1 ms, then served stale for up to 10 s.
    let opts = PutOptions(ttlNs: 1_000_000, graceNs: 10_000_000_000, originTag: 7)
    guard producer.put(bytes("greeting"), bytes("hello"), options: opts).isOK else { fatalError("put failed") }

    usleep(5_000)
    // Consumer: a stale hit; the first reader past the TTL is asked to refresh.
    guard case .hit(let hit) = consumer.get(bytes("greeting")) else { fatalError("expected a hit") }
    print("value \(text(hit.value)), stale \(hit.info.stale), refresh requested \(hit.info.refreshRequested)")
    if hit.info.refreshRequested {
        _ = consumer.refresh(bytes("greeting"), bytes("hello again"), options: PutOptions(ttlNs: 60_000_000_000))
    }
    if case .hit(let again) = consumer.get(bytes("greeting")) { print("after refresh: \(text(again.value)), stale \(again.info.stale)") }

    // Notification: the consumer parks until something is published.
    let seen = try consumer.generation()
    let writer = Thread { usleep(10_000); _ = producer.put(bytes("config"), bytes("v2")) }
    writer.start()
    let (_, timedOut) = try consumer.waitForChange(seen: seen, timeout: .seconds(5))
    print("woken (timed out: \(timedOut)), config = \(consumer.get(bytes("config")).value.map(text) ?? "missing")")

    let s = try consumer.stats()
    print("stats: hits \(s.totals.hits), misses \(s.totals.misses), inserts \(s.totals.inserts), refreshes \(s.totals.refreshes)")
} catch {
    FileHandle.standardError.write(Data("warmcache-swift-example: \(error)\n".utf8))
    exit(1)
}
