// `warmcheck fuzz --journals`: mutants of real journals (JournalMutator) decoded by every
// library's wc_decode_journal (PERSISTENCE.md §9 exactly as restore reads a file) in its
// worker; the per-mutant digests are compared. A disagreement, crash or hang is a finding with
// the mutant saved, shrunk (JournalShrinker) and a one-line reproduction.

import Foundation

public final class JournalFuzzRunner: FuzzSettings {

    /// The libraries whose manifest declares decode_journal (the others have no durable store:
    /// they are skipped, and the caller says so).
    public static func withJournalDecoder(_ libraries: [ABILibrary]) -> (usable: [ABILibrary], skipped: [String]) {
        var usable: [ABILibrary] = [], skipped: [String] = []
        for l in libraries {
            if (try? Manifest.load(path: l.manifest, library: l.name))?.decodeJournal != nil { usable.append(l) } else { skipped.append(l.name) }
        }
        return (usable, skipped)
    }

    /// One line per library: the §9 code and the out words.
    public static func shown(_ names: [String], _ answers: [[UInt64]]) -> String {
        zip(names, answers).map { name, a in
            "\(name): \(ABISpec.storeCode(Int64(bitPattern: a[0]))) at=\(a[1]) records=\(a[2]) tombstones=\(a[3]) "
                + "digest=\(String(a[4], radix: 16)) kind=\(a[5]) complete=\(a[6]) end_order=\(a[7]) end_version=\(a[8])"
        }.joined(separator: "; ")
    }

    func pool(_ bases: [[UInt8]], _ libs: [ABILibrary]? = nil) throws -> FFIPool {
        let p = try FFIPool(libs ?? libraries, executable: executable)
        do { try p.setJournals(bases, geometry: JournalMutator(journals: bases).geometry) } catch { p.stop(); throw error }
        return p
    }

    public func run(bases: [[UInt8]], seed: UInt64, count: UInt64, first: UInt64 = 0, batch: UInt64 = 20_000) throws -> FuzzReport {
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        for (i, b) in bases.enumerated() {
            _ = FileManager.default.createFile(atPath: "\(outDir)/base-\(i).wcj", contents: Data(b))
        }
        return try fuzzLoop(libraries: libraries, first: first, count: count, batch: batch, maxSaved: maxSaved,
            start: { try self.pool(bases) },
            fuzz: { try $0.fuzzJournals(seed: seed, first: $1, count: $2) },
            disagreement: { try self.disagreement($0, bases: bases, seed: seed, index: $1) },
            crash: { f, range in
                let index = try self.locate(f.library, bases: bases, seed: seed, range: range)
                return self.save(bases: bases, seed: seed, index: index, kind: f.what == "hung" ? "hang" : "crash", detail: f.description)
            })
    }

    func mutant(_ bases: [[UInt8]], seed: UInt64, index: UInt64) -> ([UInt8], (UInt64, UInt64, UInt64)) {
        var scratch: [UInt8] = []
        let (len, want) = JournalMutator(journals: bases).mutant(seed: seed, index: index, into: &scratch)
        return (Array(scratch[0..<len]), want)
    }

    func disagreement(_ pool: FFIPool, bases: [[UInt8]], seed: UInt64, index: UInt64) throws -> FuzzFinding {
        let answers = try pool.fuzzJournalOne(seed: seed, index: index)
        var finding = save(bases: bases, seed: seed, index: index, kind: "disagreement",
                           detail: JournalFuzzRunner.shown(libraries.map(\.name), answers))
        guard maxShrunk > 0 else { return finding }
        maxShrunk -= 1
        let (image, want) = mutant(bases, seed: seed, index: index)
        let s = try JournalShrinker(pool: pool, geometry: want).shrink(image)
        let path = "\(outDir)/journal-disagreement-\(seed)-\(index).min.wcj"
        _ = FileManager.default.createFile(atPath: path, contents: Data(s.image))
        finding.detail += "; shrunk in \(s.tries) decodes from \(image.count) to \(s.image.count) bytes: "
            + JournalFuzzRunner.shown(libraries.map(\.name), try pool.decodeJournal(s.image, geometry: want))
        finding.shrunk = path
        return finding
    }

    func save(bases: [[UInt8]], seed: UInt64, index: UInt64, kind: String, detail: String) -> FuzzFinding {
        let (image, want) = mutant(bases, seed: seed, index: index)
        let path = "\(outDir)/journal-\(kind)-\(seed)-\(index).wcj"
        _ = FileManager.default.createFile(atPath: path, contents: Data(image))
        let any = want.0 == 0 && want.1 == 0 && want.2 == 0
        var f = FuzzFinding(index: index, kind: kind, detail: "against \(any ? "any geometry" : "the base's geometry"): \(detail)", saved: path)
        f.anyGeometry = any
        return f
    }

    /// Every library's answer for one journal file (the reproduction of a finding).
    public func decode(image: [UInt8], geometry: (UInt64, UInt64, UInt64)) throws -> [[UInt64]] {
        let pool = try FFIPool(libraries, executable: executable)
        defer { pool.stop() }
        return try pool.decodeJournal(image, geometry: geometry)
    }

    /// Bisects `range` in fresh single-library workers down to the first mutant that fails.
    func locate(_ library: String, bases: [[UInt8]], seed: UInt64, range: Range<UInt64>) throws -> UInt64 {
        guard let lib = libraries.first(where: { $0.name == library }) else { return range.lowerBound }
        var lo = range.lowerBound, hi = range.upperBound
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            let one = try pool(bases, [lib])
            defer { one.stop() }
            do { _ = try one.fuzzJournals(seed: seed, first: lo, count: mid - lo); lo = mid } catch is WorkerFailure { hi = mid }
        }
        return lo
    }
}

/// Shrinks a journal on which the libraries disagree: cuts the file short, removes whole
/// records, then runs of 8-byte words (halves, quarters, … single words), then single bytes, keeping each cut
/// while the libraries still disagree (at most `budget` decodes per library). Journals have no
/// base image to restore bytes to, so shrinking is by deletion: what remains is the records
/// and fields the divergence needs.
public struct JournalShrinker {
    public static let budget = 600
    let pool: FFIPool
    let geometry: (UInt64, UInt64, UInt64)

    public struct Result {
        public let image: [UInt8]
        public let tries: Int
    }

    func disagree(_ image: [UInt8], _ tries: inout Int) throws -> Bool {
        tries += 1
        let a = try pool.decodeJournal(image, geometry: geometry)
        return !a.allSatisfy { $0 == a[0] }
    }

    public func shrink(_ start: [UInt8]) throws -> Result {
        var image = start, tries = 0
        // The shortest prefix that still disagrees (binary search; a prefix is not guaranteed
        // to keep disagreeing, so each step is checked).
        var lo = 0, hi = image.count
        while lo < hi, tries < JournalShrinker.budget {
            let mid = (lo + hi) / 2
            if try disagree(Array(image[0..<mid]), &tries) { hi = mid } else { lo = mid + 1 }
        }
        if hi < image.count, try disagree(Array(image[0..<hi]), &tries) { image = Array(image[0..<hi]) }
        // Whole records next (delimited by record_len, as a reader walks them), from the last:
        // a record the divergence does not need goes in one decode.
        var i = JournalMutator.split(image).records.count - 1
        while i >= 0, tries < JournalShrinker.budget {
            let parts = JournalMutator.split(image)
            if i < parts.records.count {
                var cut = parts.header
                for (k, r) in parts.records.enumerated() where k != i { cut += r }
                cut += parts.tail
                if try disagree(cut, &tries) { image = cut }
            }
            i -= 1
        }
        for unit in [8, 1] {
            var run = max(unit, (image.count / unit / 2) * unit)
            while run >= unit, tries < JournalShrinker.budget {
                var at = 0
                while at + run <= image.count, tries < JournalShrinker.budget {
                    var cut = image
                    cut.removeSubrange(at..<(at + run))
                    if try disagree(cut, &tries) { image = cut } else { at += run }
                }
                run = run / 2 / unit * unit
            }
        }
        return Result(image: image, tries: tries)
    }
}

/// testdata/journal-cases.json (docs/ABI.md "Fuzzing journals"): journals with the answer the
/// Go and Rust decoders agreed on when the file was written. Every `fuzz --journals` run checks
/// every library with a journal decoder against each before fuzzing, so a changed answer is
/// caught even where the seeded mutants no longer reach it.
public struct JournalCases {
    public struct Case {
        public let name: String
        public let image: [UInt8]
        public let anyGeometry: Bool
        /// The result and the 8 out words.
        public let expect: [UInt64]
    }
    public let geometry: (UInt64, UInt64, UInt64)
    public let cases: [Case]

    public static func load(path: String) throws -> JournalCases {
        guard let d = FileManager.default.contents(atPath: path) else { throw JSONFieldError("\(path): cannot read the file") }
        let f = try JSONField.parse(d, source: path)
        let g = try f.field("geometry").array.map { try $0.uint64 }
        guard g.count == 3 else { throw JSONFieldError("\(path): $.geometry: expected three words") }
        let cases = try f.field("cases").array.map { c -> Case in
            let e = try c.field("expect")
            guard let code = ABISpec.storeCodes.firstIndex(of: try e.field("code").string) else {
                throw JSONFieldError("\(e.path).code: not a PERSISTENCE.md §9 code")
            }
            let hex = try c.field("image_hex").string
            guard let image = Hex.decode(hex) else { throw JSONFieldError("\(c.path).image_hex: not hex") }
            let words = try ["offset", "records", "tombstones", "digest", "kind", "complete", "end_order", "end_version"].map { try e.field($0).uint64 }
            return Case(name: try c.field("name").string, image: image, anyGeometry: try c.field("any_geometry").bool,
                        expect: [UInt64(code)] + words)
        }
        return JournalCases(geometry: (g[0], g[1], g[2]), cases: cases)
    }

    /// One line per (library, case) whose answer is not the recorded one.
    public func check(_ pool: FFIPool) throws -> [String] {
        var failures: [String] = []
        for c in cases {
            let answers = try pool.decodeJournal(c.image, geometry: c.anyGeometry ? (0, 0, 0) : geometry)
            for (lib, a) in zip(pool.libraries, answers) where a != c.expect {
                failures.append("\(lib.name) on \"\(c.name)\": " + JournalFuzzRunner.shown([lib.name], [a])
                                + "; recorded: " + JournalFuzzRunner.shown(["agreed"], [c.expect]))
            }
        }
        return failures
    }
}
