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
        let rig = try BenchRig(spec, echo: echo, workDir: workDir)
        let fx = rig.fx, ex = rig.echo
        let key = JSON.object(["key_hex": rig.key])
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

/// What both driver benchmarks start from: a fixture with a fresh segment holding one 64-byte
/// value under `key`, and an echo process of the same binary for the bare ping-pong baseline.
/// Both processes and the segment go when the rig does.
final class BenchRig {
    let fx: FixtureProcess
    let echo: FixtureProcess
    let path: String
    let key = JSON.string(Hex.encode(Array("bench".utf8)))
    let value = JSON.string(Hex.encode([UInt8](repeating: 7, count: 64)))

    init(_ spec: FixtureSpec, echo argv: [String], workDir: String) throws {
        path = (workDir as NSString).appendingPathComponent("wc-bench-\(spec.name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).seg")
        unlink(path)
        fx = try FixtureProcess(spec: spec, timeout: 10, scratchDir: workDir)
        do {
            _ = try fx.sayHello()
            _ = try fx.call("create", ["path": .string(path), "geometry": MatrixSequence.geometry])
            _ = try fx.call("put", ["key_hex": key, "value_hex": value])
            echo = try FixtureProcess(spec: FixtureSpec(name: spec.name + "-echo", argv: argv), timeout: 10, scratchDir: workDir)
        } catch {
            fx.stop()
            unlink(path)
            throw error
        }
    }

    deinit {
        fx.stop()
        echo.stop()
        unlink(path)
    }
}
