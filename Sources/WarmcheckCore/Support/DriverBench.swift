import Foundation

/// The cost of one driven operation round trip (orchestrator → fixture → orchestrator, a `get`
/// hit on a real segment, JSON both ways) against a bare pipe ping-pong of the same line length
/// between the orchestrator and the same kind of process (`fixture echo`).
public enum DriverBench {
    public struct Figures: Sendable {
        public var fixture: String
        public var opP50: Double, opP99: Double, opMean: Double
        public var echoP50: Double, echoP99: Double, echoMean: Double
        public var ratio: Double { opMean / echoMean }
    }

    static func percentiles(_ xs: [Double]) -> (p50: Double, p99: Double, mean: Double) {
        let s = xs.sorted()
        return (s[s.count / 2], s[min(s.count - 1, s.count * 99 / 100)], xs.reduce(0, +) / Double(xs.count))
    }

    /// Times `n` round trips of each kind, interleaved in blocks so that both see the same
    /// machine conditions (2 shared vCPUs: scheduling noise is large).
    public static func measure(_ spec: FixtureSpec, echo: [String], n: Int, workDir: String) throws -> Figures {
        let path = (workDir as NSString).appendingPathComponent("wc-bench-\(spec.name)-\(getpid()).seg")
        unlink(path)
        defer { unlink(path) }
        let fx = try FixtureProcess(spec: spec, timeout: 10, scratchDir: workDir)
        defer { fx.stop() }
        _ = try fx.sayHello()
        _ = try fx.call("create", ["path": .string(path), "geometry": MatrixSequence.geometry])
        let key = JSON.object(["key_hex": .string(Hex.encode(Array("bench".utf8)))])
        _ = try fx.call("put", ["key_hex": key["key_hex"]!, "value_hex": .string(Hex.encode([UInt8](repeating: 7, count: 64)))])
        let ex = try FixtureProcess(spec: FixtureSpec(name: spec.name + "-echo", argv: echo), timeout: 10, scratchDir: workDir)
        defer { ex.stop() }
        // The echo line has the length of a typical get response, so both move the same bytes.
        let sample = try fx.call("get", key).raw.serialized
        var ops: [Double] = [], echoes: [Double] = []
        ops.reserveCapacity(n)
        echoes.reserveCapacity(n)
        for _ in 0..<(n / 100) {
            for _ in 0..<100 {
                let t0 = MonotonicClock.now()
                _ = try fx.call("get", key)
                ops.append(Double(MonotonicClock.now() - t0) / 1000)
            }
            for _ in 0..<100 {
                let t0 = MonotonicClock.now()
                _ = try ex.rawRoundTrip(sample)
                echoes.append(Double(MonotonicClock.now() - t0) / 1000)
            }
        }
        let o = percentiles(ops), e = percentiles(echoes)
        return Figures(fixture: spec.name, opP50: o.p50, opP99: o.p99, opMean: o.mean,
                       echoP50: e.p50, echoP99: e.p99, echoMean: e.mean)
    }
}
