// `warmcheck vectors`: the same inputs through every library, answers compared word by word;
// disagreements shrunk and reported with each library's answer. Also checks the committed
// testdata/vectors.json and every library's layout constants against the spec (LayoutSpec).

import Foundation
@_spi(Harness) import Warmcache

public struct VectorDisagreement {
    public let call: ABICall
    public let answers: [(library: String, result: [UInt64])]

    public var shown: String {
        "\(call.shown): " + answers.map { "\($0.library) → \($0.result.map { "0x" + String($0, radix: 16) }.joined(separator: " "))" }
            .joined(separator: "; ")
    }
}

public struct VectorsReport {
    public var passed = 0
    public var failed = 0
    public var disagreements: [String: [VectorDisagreement]] = [:]   // by function
    public var failures: [String] = []                                // vectors.json and layout
    public var rates: [CallRate] = []
    public var directSwiftRate: Double = 0
    /// The run's inputs on which every library agreed, with the answer (for --extend-cases).
    public var agreed: [(call: ABICall, answer: [UInt64])] = []
    /// The base image the run's image calls mutate.
    public var base: [UInt8] = []
}

/// Calls/s of one library through one path ("batched": wc_batch; "per-call": one ffi_call
/// per call): the median of the samples in `rounds` (one per batch of every round).
public struct CallRate {
    public let library: String
    public let mode: String
    public let median: Double
    public let rounds: [Double]
}

public final class VectorsRunner {
    let pool: FFIPool
    /// Rounds of the rate measurement and wch64 calls per round.
    public var rateRounds = 5
    public var callsPerRound = 40_000
    public var log: (String) -> Void = { _ in }

    public init(pool: FFIPool) { self.pool = pool }

    public func run(seed: UInt64, random: Int, vectorsFile: String?, casesFile: String? = nil) throws -> VectorsReport {
        var report = VectorsReport()
        let base = try BaseImage.build()
        report.base = base
        let calls = VectorInputs.edgeCases(base: base) + VectorInputs.random(seed: seed, count: random)
            + VectorInputs.imageCalls(base: base, seed: seed, count: UInt64(max(random / 50, 10)))
        let results = try pool.run(calls)
        try checkBatchAgreement(calls, results, &report)
        for (i, call) in calls.enumerated() {
            let answers = results.map { call.significant($0[i]) }
            if answers.allSatisfy({ $0 == answers[0] }) {
                report.passed += 1
                report.agreed.append((call, results[0][i]))
            } else {
                report.failed += 1
                let name = call.function.name
                if (report.disagreements[name]?.count ?? 0) < 3 {
                    report.disagreements[name, default: []].append(try shrink(call))
                } else {
                    report.disagreements[name, default: []].append(VectorDisagreement(call: call, answers: label(answers)))
                }
            }
        }
        try checkLayout(&report)
        if let vectorsFile { try checkVectorsFile(vectorsFile, &report) }
        if let casesFile { try checkCases(casesFile, &report) }
        try measureRate(&report)
        return report
    }

    func label(_ answers: [[UInt64]]) -> [(library: String, result: [UInt64])] {
        zip(pool.libraries.map(\.name), answers).map { ($0, $1) }
    }

    func disagree(_ call: ABICall) throws -> [[UInt64]]? {
        let r = try pool.run([call]).map { call.significant($0[0]) }
        return r.allSatisfy({ $0 == r[0] }) ? nil : r
    }

    /// Greedy shrinking: smaller values (0, 1, half, minus one) and shorter or zeroed blobs, kept
    /// while the libraries still disagree. Bounded, so a pathological input cannot stall the run.
    func shrink(_ start: ABICall) throws -> VectorDisagreement {
        var best = start
        var answers = try disagree(start) ?? []
        var budget = 300
        var progress = true
        while progress && budget > 0 {
            progress = false
            var candidates: [ABICall] = []
            for i in best.values.indices where best.values[i] != 0 {
                for v in [0, 1, best.values[i] / 2, best.values[i] - 1] where v < best.values[i] {
                    var c = best; c.values[i] = v; candidates.append(c)
                }
            }
            for i in best.blobs.indices where !best.blobs[i].isEmpty && best.function.name == "wch64" {
                var c = best; c.blobs[i] = Array(c.blobs[i].prefix(c.blobs[i].count / 2)); candidates.append(c)
                var z = best; z.blobs[i] = [UInt8](repeating: 0, count: z.blobs[i].count); if z != best { candidates.append(z) }
            }
            for c in candidates {
                budget -= 1
                if budget <= 0 { break }
                if let a = try disagree(c) { best = c; answers = a; progress = true; break }
            }
        }
        return VectorDisagreement(call: best, answers: label(answers))
    }

    /// §3/§5/§6/§7 offsets and sizes through each library's wc_layout_constant, the fingerprint
    /// they imply, and the §16 default layout through wc_layout.
    func checkLayout(_ report: inout VectorsReport) throws {
        var calls = LayoutSpec.constants.indices.map { ABICall("layout_constant", [UInt64($0)]) }
        calls.append(ABICall("layout", [16, 64, 64, 1024, 8, 64]))
        let results = try pool.run(calls)
        for (li, lib) in pool.libraries.enumerated() {
            var got: [String: UInt64] = [:]
            for (i, (name, want)) in LayoutSpec.constants.enumerated() {
                let v = results[li][i][0]
                got[name] = v
                if v == want { report.passed += 1 } else {
                    report.failed += 1
                    report.failures.append("library \(lib.name): layout constant \(name) (index \(i)) is \(v), the spec says \(want)")
                }
            }
            let implied = LayoutSpec.fingerprint(slotHeader: got["SLOT_HEADER_SIZE"]!, recordHeader: got["RECORD_HEADER_SIZE"]!,
                                                 shardHeader: got["SHARD_HEADER_SIZE"]!, participant: got["PARTICIPANT_SIZE"]!,
                                                 header: got["HEADER_SIZE"]!)
            if implied == got["LAYOUT_FINGERPRINT"]! && implied == LayoutSpec.constants[0].value { report.passed += 1 } else {
                report.failed += 1
                report.failures.append("library \(lib.name): its sizes pack to fingerprint 0x\(String(implied, radix: 16)), it reports 0x\(String(got["LAYOUT_FINGERPRINT"]!, radix: 16)), the spec says 0x\(String(LayoutSpec.constants[0].value, radix: 16))")
            }
            let layout = Array(results[li][calls.count - 1].dropFirst())
            if layout == LayoutSpec.defaultLayout { report.passed += 1 } else {
                report.failed += 1
                report.failures.append("library \(lib.name): default geometry layout \(layout), §16 says \(LayoutSpec.defaultLayout)")
            }
        }
    }

    /// testdata/vectors.json: WCH64 with the three seeds, and default shard/home (from the key hash).
    func checkVectorsFile(_ path: String, _ report: inout VectorsReport) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ManifestError("cannot read \(path)") }
        let json = try JSON.parse(data)
        guard let vectors = json["vectors"]?.array else { throw ManifestError("\(path): no \"vectors\" array") }
        var calls: [ABICall] = []
        var expected: [(String, UInt64)] = []
        for v in vectors {
            guard let hex = v["input_hex"]?.string else { throw ManifestError("\(path): a vector has no input_hex") }
            guard let bytes = Hex.decode(hex) else { throw ManifestError("\(path): bad hex input \(hex.prefix(20))") }
            for (field, seed) in [("key_hash", Layout.KEY_SEED), ("value_checksum", Layout.VALUE_SEED), ("header_seed", Layout.HEADER_SEED)] {
                guard let want = v[field]?.string.flatMap({ UInt64($0, radix: 16) }) else { continue }
                calls.append(ABICall("wch64", [seed], blobs: [bytes]))
                expected.append(("\(field) of \(hex.prefix(16))\(hex.count > 16 ? "…" : "")", want))
            }
        }
        let results = try pool.run(calls)
        for (li, lib) in pool.libraries.enumerated() {
            for (i, (what, want)) in expected.enumerated() {
                let got = results[li][i][0]
                if got == want { report.passed += 1 } else {
                    report.failed += 1
                    report.failures.append("library \(lib.name): \(path): \(what) is \(String(format: "%016llx", got)), expected \(String(format: "%016llx", want))")
                }
            }
        }
    }

    /// testdata/abi-cases.json: every recorded call must still get its recorded answer from
    /// every library (compared on the words ABICall.significant defines).
    func checkCases(_ path: String, _ report: inout VectorsReport) throws {
        let file = try ABICaseFile.load(path: path)
        let results = try pool.run(file.cases.map(\.call))
        for (li, lib) in pool.libraries.enumerated() {
            for (i, c) in file.cases.enumerated() {
                let got = c.call.significant(results[li][i]), want = c.call.significant(c.expect)
                if got == want { report.passed += 1; continue }
                report.failed += 1
                func hex(_ r: [UInt64]) -> String { r.map { "0x" + String($0, radix: 16) }.joined(separator: " ") }
                report.failures.append("library \(lib.name): \(path) case \(i) \(c.call.shown) answers \(hex(got)), recorded \(hex(want))")
            }
        }
    }

    /// In-process call rate per library (WCH64 of a 16-byte key, the hot function of every get)
    /// against the same loop calling the Swift implementation directly in this process. Each
    /// round measures every path once, interleaved, so all see the same load. Every batch (4096
    /// calls) is one sample and the report keeps the median: on a loaded machine a worker is
    /// preempted for milliseconds at a time, and a round's total would measure that, not the
    /// cost of a call. A library with wc_batch is measured both ways.
    func measureRate(_ report: inout VectorsReport) throws {
        let key = Array("user:0123456789a".utf8)
        let n = callsPerRound
        let calls = (0..<n).map { i in ABICall("wch64", [UInt64(i)], blobs: [key]) }
        let batched = pool.batched
        var samples: [String: [Double]] = [:]
        func timed(_ perCall: Bool) throws {
            let before = pool.batchNanos.map(\.count)
            _ = try pool.run(calls, perCall: perCall)
            for (i, lib) in pool.libraries.enumerated() where !perCall || batched[i] {
                let mode = batched[i] && !perCall ? "batched" : "per-call"
                for b in pool.batchNanos[i][before[i]...] where b.ns > 0 {
                    samples["\(lib.name) \(mode)", default: []].append(Double(b.calls) / (Double(b.ns) / 1e9))
                }
            }
        }
        var direct: [Double] = []
        var sink: UInt64 = 0
        for _ in 0..<max(rateRounds, 1) {
            try timed(false)
            if batched.contains(true) { try timed(true) }
            // The direct loop in the same 4096-call samples as the workers' batches.
            for start in stride(from: 0, to: n, by: 4096) {
                let end = min(n, start + 4096)
                let t0 = PipeIO.nanos()
                key.withUnsafeBytes { kb in
                    for i in start..<end { sink ^= WCH64.hash(kb, seed: UInt64(i)) }
                }
                direct.append(Double(end - start) / (Double(max(PipeIO.nanos() - t0, 1)) / 1e9))
            }
        }
        for (i, lib) in pool.libraries.enumerated() {
            for mode in batched[i] ? ["batched", "per-call"] : ["per-call"] {
                let r = samples["\(lib.name) \(mode)"] ?? []
                report.rates.append(CallRate(library: lib.name, mode: mode, median: VectorsRunner.median(r), rounds: r))
            }
        }
        report.directSwiftRate = sink == 42 ? 0 : VectorsRunner.median(direct)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// A library with wc_batch must answer every call as the same call made on its own through
    /// libffi: the vectors compare libraries through whichever path is fast, so the two paths
    /// of one library are compared here, call by call.
    func checkBatchAgreement(_ calls: [ABICall], _ batchedResults: [[[UInt64]]], _ report: inout VectorsReport) throws {
        let batched = pool.batched
        guard batched.contains(true) else { return }
        let perCall = try pool.run(calls, perCall: true)
        for (li, lib) in pool.libraries.enumerated() where batched[li] {
            var shown = 0
            for (i, call) in calls.enumerated() {
                if batchedResults[li][i] == perCall[li][i] { report.passed += 1; continue }
                report.failed += 1
                if shown < 5 {
                    shown += 1
                    func hex(_ r: [UInt64]) -> String { r.map { "0x" + String($0, radix: 16) }.joined(separator: " ") }
                    report.failures.append("library \(lib.name): wc_batch answers \(call.shown) with \(hex(batchedResults[li][i])), the call on its own with \(hex(perCall[li][i]))")
                }
            }
        }
    }
}
