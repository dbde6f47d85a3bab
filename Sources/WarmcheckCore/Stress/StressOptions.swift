import Foundation

/// The operations stress mode issues (docs/STRESS.md).
public enum StressOp: String, Sendable, CaseIterable {
    case get, put, refresh, invalidate, evict
}

/// Relative weights of the operations, from `--mix get=70,put=20,refresh=5,invalidate=5`.
public struct OperationMix: Sendable, Equatable, CustomStringConvertible {
    public var weights: [(op: StressOp, weight: Int)]

    public static let `default` = OperationMix(weights: [(.get, 70), (.put, 20), (.refresh, 5), (.invalidate, 5)])

    public init(weights: [(op: StressOp, weight: Int)]) { self.weights = weights }

    public static func == (a: OperationMix, b: OperationMix) -> Bool {
        a.weights.map { "\($0.op.rawValue)=\($0.weight)" } == b.weights.map { "\($0.op.rawValue)=\($0.weight)" }
    }

    public static func parse(_ text: String) throws -> OperationMix {
        var out: [(op: StressOp, weight: Int)] = []
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let op = StressOp(rawValue: kv[0]), let w = Int(kv[1]), w >= 0 else {
                throw UsageError("--mix \(text): expected OP=WEIGHT,… with OP one of "
                                 + StressOp.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if out.contains(where: { $0.op == op }) { throw UsageError("--mix \(text): \(op.rawValue) given twice") }
            out.append((op, w))
        }
        guard out.reduce(0, { $0 + $1.weight }) > 0 else { throw UsageError("--mix \(text): the weights add up to 0") }
        return OperationMix(weights: out)
    }

    var total: Int { weights.reduce(0) { $0 + $1.weight } }

    func pick(_ r: UInt64) -> StressOp {
        var x = Int(r % UInt64(total))
        for w in weights {
            if x < w.weight { return w.op }
            x -= w.weight
        }
        return weights.last!.op
    }

    public var description: String { weights.map { "\($0.op.rawValue)=\($0.weight)" }.joined(separator: ",") }
}

/// Everything `warmcheck stress` is told.
public struct StressOptions: Sendable {
    /// Stop after this many seconds (ignored when `operations` is set).
    public var duration: Double = 30
    /// Stop after this many operations overall.
    public var operations: Int?
    /// Fixture processes running at once.
    public var processes = 4
    /// Implementations, assigned to the processes in turn.
    public var fixtures: [FixtureSpec]
    public var keys = 64
    /// Contention: with probability `hotFraction` an operation picks one of the first
    /// `hotKeys` keys instead of any key, so that writers collide on them.
    public var hotKeys = 0
    public var hotFraction = 0.0
    public var valueSize: ClosedRange<Int> = 16...64
    public var mix = OperationMix.default
    public var seed: UInt64 = 1
    /// SIGKILL one process in the middle of a call every this many operations (0 = never).
    public var killEvery = 0
    /// `--kill-inside P` in parts per million: every operation carries `crash_chance_ppm` (and
    /// a fresh `crash_seed`), so that a fixture dies at a pause point, inside its claims.
    public var killInsidePPM = 0
    /// Where the segment and the fixtures' stderr files go.
    public var workDir: String
    /// Seconds to wait for any one response.
    public var timeout: Double = 15
    /// Linearizability search budget per key, and for the whole check.
    public var linearizabilityStates = 5_000_000
    public var linearizabilityTimeLimit: Double? = 600

    public init(fixtures: [FixtureSpec], workDir: String) {
        self.fixtures = fixtures
        self.workDir = workDir
    }

    /// `30s`, `500ms`, `2m`, `1.5s`, or a bare number of seconds.
    public static func parseDuration(_ text: String) throws -> Double {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
        for (u, f) in units where text.hasSuffix(u) {
            if let v = Double(text.dropLast(u.count)), v > 0 { return v * f }
            break
        }
        if let v = Double(text), v > 0 { return v }
        throw UsageError("--duration \(text): expected a positive duration such as 30s, 500ms or 2m")
    }

    /// `MIN-MAX` or `N` bytes.
    public static func parseValueSize(_ text: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        if parts.count == 1, let n = parts[0], n >= 0 { return n...n }
        if parts.count == 2, let lo = parts[0], let hi = parts[1], lo >= 0, lo <= hi { return lo...hi }
        throw UsageError("--value-size \(text): expected MIN-MAX (bytes, MIN ≤ MAX) or N")
    }

    /// Checks the combination; throws a usage error naming the option at fault.
    public func validate() throws {
        if processes < 1 || processes > 256 { throw UsageError("--processes \(processes): expected 1…256") }
        if fixtures.isEmpty { throw UsageError("no --fixture given") }
        if keys < 1 || keys > 100_000 { throw UsageError("--keys \(keys): expected 1…100000") }
        if valueSize.upperBound > 1_048_576 { throw UsageError("--value-size: at most 1048576 bytes") }
        if let n = operations, n < 1 { throw UsageError("--ops \(n): expected at least 1") }
        if hotKeys < 0 || hotKeys > keys { throw UsageError("--hot-keys \(hotKeys): expected 0…\(keys) (at most --keys)") }
        if !(0...1).contains(hotFraction) { throw UsageError("--hot-fraction \(hotFraction): expected 0…1") }
        if hotFraction > 0 && hotKeys == 0 { throw UsageError("--hot-fraction needs --hot-keys N") }
        if killInsidePPM < 0 || killInsidePPM > 1_000_000 { throw UsageError("--kill-inside: expected a probability 0..1") }
        if killEvery < 0 { throw UsageError("--kill-every \(killEvery): expected 0 (never) or more") }
    }
}

extension StressOptions {
    /// The key index an operation uses, from two draws of its generator.
    func pickKey(_ r1: UInt64, _ r2: UInt64) -> Int {
        if hotKeys > 0 && Double(r2 >> 11) / Double(1 << 53) < hotFraction { return Int(r1 % UInt64(hotKeys)) }
        return Int(r1 % UInt64(keys))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): the tiny seeded generator each process's thread draws
/// its operations from, so that one `--seed` gives every process the same operation sequence
/// again (the interleaving is the machine's).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// The generator of process slot `index` for a run seeded with `seed`.
    public static func forProcess(seed: UInt64, index: Int) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}
