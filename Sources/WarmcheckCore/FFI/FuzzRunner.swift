// `warmcheck fuzz`: mutants of the base image decoded by every library's wc_decode_image in
// its worker; the per-mutant digests are compared, and each disagreement or crash becomes a
// finding with the mutant saved and a one-line reproduction (seed and index).

import Foundation

public struct FuzzFinding {
    public let index: UInt64
    public let kind: String          // "disagreement", "crash", "hang"
    public var detail: String
    public let saved: String?
    /// The shrunk image (ImageShrinker) of a disagreement, and the reader clock to decode it at.
    public var shrunk: String? = nil
    public var now: UInt64 = 0
    /// Offsets of the 8-byte words in which the shrunk image differs from the base.
    public var shrunkWords: [Int] = []
    /// A journal finding decoded against no restoring geometry (`fuzz --journals --any-geometry`).
    public var anyGeometry = false
}

public struct FuzzReport {
    public var images: UInt64 = 0
    public var agreed: UInt64 = 0
    public var findings: [FuzzFinding] = []
    public var disagreementCount: UInt64 = 0
    /// Seconds spent decoding inside each worker (mutation included), per library.
    public var workerSeconds: [(String, Double)] = []
    public var wallSeconds: Double = 0
}

/// The loop `fuzz` and `fuzz --journals` share: batches of mutants through every library's
/// worker, digests compared, the first `maxSaved` disagreements made findings, and a worker that
/// dies bisected (`crash`) to the mutant that killed it, which becomes a finding before the run
/// goes on after it in fresh workers.
func fuzzLoop(libraries: [ABILibrary], first: UInt64, count: UInt64, batch: UInt64, maxSaved: Int,
              start: () throws -> FFIPool,
              fuzz: (FFIPool, UInt64, UInt64) throws -> ([[UInt64]], [UInt64]),
              disagreement: (FFIPool, UInt64) throws -> FuzzFinding,
              crash: (WorkerFailure, Range<UInt64>) throws -> FuzzFinding) throws -> FuzzReport {
    var report = FuzzReport()
    var pool = try start()
    defer { pool.stop() }
    var nanos = [UInt64](repeating: 0, count: libraries.count)
    let t0 = PipeIO.monotonicSeconds()
    var next = first
    let end = first + count
    while next < end {
        let n = min(batch, end - next)
        do {
            let (digests, ns) = try fuzz(pool, next, n)
            for i in 0..<libraries.count { nanos[i] += ns[i] }
            for k in 0..<Int(n) {
                let d = digests.map { $0[k] }
                if d.allSatisfy({ $0 == d[0] }) { report.agreed += 1; continue }
                report.disagreementCount += 1
                if report.findings.count < maxSaved { report.findings.append(try disagreement(pool, next + UInt64(k))) }
            }
            report.images += n
            next += n
        } catch let f as WorkerFailure {
            pool.stop()
            let finding = try crash(f, next..<(next + n))
            report.findings.append(finding)
            report.images += finding.index - next + 1
            next = finding.index + 1
            pool = try start()
        }
    }
    report.wallSeconds = PipeIO.monotonicSeconds() - t0
    report.workerSeconds = zip(libraries.map(\.name), nanos).map { ($0, Double($1) / 1e9) }
    return report
}

/// What both fuzzers (segment images here, journals in JournalFuzzRunner) are configured with:
/// the libraries compared, the worker executable, where findings go and how many are kept.
public class FuzzSettings {
    let libraries: [ABILibrary]
    let executable: String
    let outDir: String
    public var maxSaved = 20
    /// Shrink this many disagreements (each up to the shrinker's budget of decodes per library).
    public var maxShrunk = 5
    public var log: (String) -> Void = { _ in }

    public init(libraries: [ABILibrary], executable: String, outDir: String) {
        self.libraries = libraries
        self.executable = executable
        self.outDir = outDir
    }
}

public final class FuzzRunner: FuzzSettings {

    public func run(base: [UInt8], seed: UInt64, count: UInt64, first: UInt64 = 0, batch: UInt64 = 20_000) throws -> FuzzReport {
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let basePath = "\(outDir)/base.img"
        _ = FileManager.default.createFile(atPath: basePath, contents: Data(base))
        return try fuzzLoop(libraries: libraries, first: first, count: count, batch: batch, maxSaved: maxSaved,
            start: {
                let pool = try FFIPool(libraries, executable: executable)
                do { try pool.setBase(base) } catch { pool.stop(); throw error }
                return pool
            },
            fuzz: { try $0.fuzz(seed: seed, first: $1, count: $2) },
            disagreement: { try self.disagreement($0, base: base, seed: seed, index: $1) },
            crash: { f, range in
                // Find the one mutant that kills (or hangs) this library, save it, and go on after it.
                let index = try self.locate(f.library, base: base, seed: seed, range: range)
                return self.save(base: base, seed: seed, index: index, kind: f.what == "hung" ? "hang" : "crash", detail: f.description)
            })
    }

    func disagreement(_ pool: FFIPool, base: [UInt8], seed: UInt64, index: UInt64) throws -> FuzzFinding {
        let answers = try pool.fuzzOne(seed: seed, index: index)
        let shown = zip(libraries.map(\.name), answers).map { name, a in
            let code = ABISpec.openCode(Int64(bitPattern: a[0]))
            if a[0] != 0 { return "\(name): \(code)\(a[0] == 12 ? " rule \(a[1])" : "")" }
            return "\(name): ok slots=\(a[2]) miss=\(a[3]) fresh=\(a[4]) stale=\(a[5]) corrupt=\(a[6]) digest=\(String(a[7], radix: 16))"
        }.joined(separator: "; ")
        var finding = save(base: base, seed: seed, index: index, kind: "disagreement", detail: shown)
        guard maxShrunk > 0 else { return finding }
        maxShrunk -= 1
        var image: [UInt8] = []
        let (len, now) = ImageMutator(base: base).mutant(seed: seed, index: index, into: &image)
        let s = try ImageShrinker(pool: pool, base: base, now: now).shrink(Array(image[0..<len]))
        let path = "\(outDir)/disagreement-\(seed)-\(index).min.img"
        _ = FileManager.default.createFile(atPath: path, contents: Data(s.image))
        let words = ImageShrinker.differingWords(s.image, base)
        let shownWords = words.prefix(6).map { off -> String in
            var v: UInt64 = 0
            for k in off..<min(off + 8, s.image.count) { v |= UInt64(s.image[k]) << (8 * UInt64(k - off)) }
            return "\(off)=0x\(String(v, radix: 16))"
        }.joined(separator: " ")
        finding.detail += "; shrunk in \(s.tries) tries from \(s.wordsBefore) words differing from the base to \(s.wordsAfter) (\(s.bytesAfter) bytes\(s.image.count < base.count ? ", \(s.image.count) of \(base.count) bytes long" : "")): \(shownWords)"
        finding.shrunk = path
        finding.now = now
        finding.shrunkWords = words
        return finding
    }

    /// Every library's decode of one image at `now` (the reproduction of a shrunk finding).
    public func decode(image: [UInt8], now: UInt64) throws -> [[UInt64]] {
        let pool = try FFIPool(libraries, executable: executable)
        defer { pool.stop() }
        return try pool.run([ABICall("decode_image", [now], blobs: [image])]).map { $0[0] }
    }

    func save(base: [UInt8], seed: UInt64, index: UInt64, kind: String, detail: String) -> FuzzFinding {
        var scratch: [UInt8] = []
        let (len, now) = ImageMutator(base: base).mutant(seed: seed, index: index, into: &scratch)
        let path = "\(outDir)/\(kind)-\(seed)-\(index).img"
        _ = FileManager.default.createFile(atPath: path, contents: Data(scratch[0..<len]))
        return FuzzFinding(index: index, kind: kind, detail: "now=\(now): \(detail)", saved: path)
    }

    /// Bisects `range` in fresh single-library workers down to the first mutant that fails.
    func locate(_ library: String, base: [UInt8], seed: UInt64, range: Range<UInt64>) throws -> UInt64 {
        guard let lib = libraries.first(where: { $0.name == library }) else { return range.lowerBound }
        var lo = range.lowerBound, hi = range.upperBound   // the failure is in lo..<hi
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            let one = try FFIPool([lib], executable: executable)
            defer { one.stop() }
            try one.setBase(base)
            do { _ = try one.fuzz(seed: seed, first: lo, count: mid - lo); lo = mid } catch is WorkerFailure { hi = mid }
        }
        return lo
    }
}
