// The libffi tier (docs/ABI.md): manifests, loading, the worker protocol and what happens when a
// library is wrong, missing or crashes. Uses the reference ABI libraries (scripts/build-abi.sh)
// and a small C library compiled here, whose wc_wch64 crashes on 13-byte input and otherwise
// answers 0 (so it disagrees with every reference).

import Foundation
import XCTest
@_spi(Harness) import Warmcache
@testable import WarmcheckCore

final class FFITests: XCTestCase {
    var root: URL!
    var worker: String!
    var scratch: String!

    override func setUpWithError() throws {
        guard let r = Repo.root() else { throw XCTSkip("no checkout") }
        root = r
        worker = r.appendingPathComponent(".build/debug/warmcheck").path
        guard FileManager.default.isExecutableFile(atPath: worker) else {
            throw XCTSkip("\(worker!) is not built (swift build --product warmcheck)")
        }
        for lib in ABILibrary.references(root: r) where !FileManager.default.fileExists(atPath: lib.path) {
            throw XCTSkip("\(lib.path) is not built; run scripts/build-abi.sh")
        }
        scratch = NSTemporaryDirectory() + "/warmcheck-ffi-tests-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    var rust: ABILibrary { ABILibrary.references(root: root)[0] }

    func manifestJSON(_ lib: ABILibrary) throws -> JSON { try JSON.parse(Data(contentsOf: URL(fileURLWithPath: lib.manifest))) }

    /// The Rust manifest with function `name`'s entry changed by `edit`, written to a file.
    func editedManifest(_ name: String, _ edit: (inout [String: JSON]) -> Void) throws -> String {
        var m = try manifestJSON(rust).object!
        var fs = m["functions"]!.array!
        let i = fs.firstIndex { $0["function"]?.string == name }!
        var f = fs[i].object!
        edit(&f)
        fs[i] = .object(f)
        m["functions"] = .array(fs)
        let path = scratch + "/manifest-\(name)-\(UInt32.random(in: 0...UInt32.max)).json"
        try JSON.object(m).serialized.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func loadError(_ lib: ABILibrary) -> String {
        do {
            let pool = try FFIPool([lib], executable: worker)
            pool.stop()
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testReferenceManifestsMatchTheSpec() throws {
        for lib in ABILibrary.references(root: root) {
            let m = try Manifest.load(path: lib.manifest, library: lib.name)
            XCTAssertEqual(m.implementation, lib.name)
            XCTAssertEqual(Set(m.functions.keys).subtracting(ABISpec.optional.map(\.name)), Set(ABISpec.functions.map(\.name)))
        }
    }

    func testUnknownTypeNamesLibraryFunctionAndSymbol() throws {
        let path = try editedManifest("wch64") { f in f["returns"] = "float128" }
        XCTAssertThrowsError(try Manifest.load(path: path, library: "mine")) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("library mine") && s.contains("wch64") && s.contains("wc_wch64") && s.contains("float128"), s)
        }
        // Through the worker too: it refuses, exit status 2, and names the same things.
        let err = loadError(ABILibrary(name: "mine", path: rust.path, manifest: path))
        XCTAssertTrue(err.contains("library mine") && err.contains("float128") && err.contains("exit status 2"), err)
    }

    func testWrongSignatureAndMissingFunctionAreRefused() throws {
        let wrong = try editedManifest("snapshot_ok") { f in f["params"] = .array([["name": "s1", "type": "u64"]]) }
        XCTAssertThrowsError(try Manifest.load(path: wrong, library: "x")) { e in
            XCTAssertTrue("\(e)".contains("snapshot_ok (symbol wc_snapshot_ok) is declared i32(u64)"), "\(e)")
        }
        var m = try manifestJSON(rust).object!
        m["functions"] = .array(m["functions"]!.array!.filter { $0["function"]?.string != "layout" })
        XCTAssertThrowsError(try Manifest.parse(.object(m), library: "x", path: "m.json")) { e in
            XCTAssertTrue("\(e)".contains("ABI function layout is not declared"), "\(e)")
        }
    }

    func testMissingSymbolIsNamed() throws {
        let path = try editedManifest("expiry") { f in f["symbol"] = "wc_no_such_symbol" }
        let err = loadError(ABILibrary(name: "mine", path: rust.path, manifest: path))
        XCTAssertTrue(err.contains("library mine") && err.contains("symbol wc_no_such_symbol") && err.contains("expiry"), err)
    }

    func testLibraryThatDoesNotLoad() throws {
        let bogus = scratch + "/libbogus.so"
        try "not an ELF file".write(toFile: bogus, atomically: true, encoding: .utf8)
        let err = loadError(ABILibrary(name: "bogus", path: bogus, manifest: rust.manifest))
        XCTAssertTrue(err.contains("library bogus") && err.contains("cannot load \(bogus)"), err)
        let missing = loadError(ABILibrary(name: "gone", path: scratch + "/nope.so", manifest: rust.manifest))
        XCTAssertTrue(missing.contains("library gone") && missing.contains("cannot load"), missing)
    }

    /// A C library with every symbol: wc_wch64 returns 0, and crashes on 13 bytes.
    func crashingLibrary() throws -> ABILibrary {
        let src = scratch + "/crashy.c", so = scratch + "/libcrashy.so"
        var c = "#include <stdint.h>\n#include <stdlib.h>\n"
        c += "uint64_t wc_wch64(const uint8_t *b, uint64_t n, uint64_t s) { if (n == 13) abort(); return 0; }\n"
        // Every function the Rust manifest (which it borrows) declares, the journal decoder too.
        for f in ABISpec.functions + [ABISpec.decodeJournal] where f.name != "wch64" {
            let ret = f.returns == .i32 ? "int32_t" : "uint64_t"
            let params = f.params.enumerated().map { i, p in (p.type == .ptr ? "void *" : p.type == .u32 ? "uint32_t " : "uint64_t ") + "a\(i)" }
            c += "\(ret) wc_\(f.name)(\(params.isEmpty ? "void" : params.joined(separator: ", "))) { return \(f.name == "abi_version" ? 1 : 0); }\n"
        }
        try c.write(toFile: src, atomically: true, encoding: .utf8)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-o", so, src]
        try cc.run()
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else { throw XCTSkip("no C compiler") }
        return ABILibrary(name: "crashy", path: so, manifest: rust.manifest)
    }

    func testWorkerCrashIsBisectedToTheCallAndLeavesNothingRunning() throws {
        let lib = try crashingLibrary()
        let pool = try FFIPool([rust, lib], executable: worker)
        let pids = pool.clients.map(\.pid)
        let calls = (0..<40).map { n in ABICall("wch64", [UInt64(n)], blobs: [[UInt8](repeating: 1, count: n)]) }
        XCTAssertThrowsError(try pool.run(calls)) { e in
            guard let crash = e as? WorkerCrash else { return XCTFail("\(e)") }
            XCTAssertEqual(crash.failure.library, "crashy")
            XCTAssertEqual(crash.symbol, "wc_wch64")
            XCTAssertEqual(crash.call?.blobs.first?.count, 13, "\(crash)")
            XCTAssertTrue(crash.description.contains("signal 6"), crash.description)
        }
        for p in pids { XCTAssertEqual(kill(p, 0), -1, "worker \(p) still exists") }
    }

    func testDisagreementIsFoundAndShrunk() throws {
        let pool = try FFIPool([rust, try crashingLibrary()], executable: worker)
        defer { pool.stop() }
        let d = try VectorsRunner(pool: pool).shrink(ABICall("wch64", [0x1234], blobs: [Array("user:42".utf8)]))
        // Shrunk to one zero byte with seed 0: WCH64("", 0) is 0 like crashy's answer, so the
        // empty input agrees and the minimal disagreement is one byte longer.
        XCTAssertEqual(d.call.values, [0])
        XCTAssertEqual(d.call.blobs, [[0]])
        XCTAssertEqual(d.answers.map(\.library), ["rust", "crashy"])
        XCTAssertNotEqual(d.answers[0].result, d.answers[1].result)
    }

    func testReferencesPassVectorsFileAndLayoutAgainstTheSpec() throws {
        let pool = try FFIPool(ABILibrary.references(root: root), executable: worker)
        defer { pool.stop() }
        let runner = VectorsRunner(pool: pool)
        var report = VectorsReport()
        try runner.checkLayout(&report)
        try runner.checkVectorsFile(root.appendingPathComponent("testdata/vectors.json").path, &report)
        XCTAssertEqual(report.failures, [])
        // 66 constants + fingerprint + default layout per library, 27 WCH64 vectors per library.
        XCTAssertEqual(report.passed, 3 * (LayoutSpec.constants.count + 2) + 3 * 27)
    }

    func testFuzzMutantsAreReproducibleAndBaseIsAccepted() throws {
        let base = try BaseImage.build()
        XCTAssertEqual(base, try BaseImage.build(), "the base image must not depend on the run")
        let m = ImageMutator(base: base)
        var a: [UInt8] = [], b: [UInt8] = []
        for i in [1, 17, 999] as [UInt64] {
            let ra = m.mutant(seed: 3, index: i, into: &a), rb = m.mutant(seed: 3, index: i, into: &b)
            XCTAssertEqual(ra.0, rb.0); XCTAssertEqual(ra.1, rb.1); XCTAssertEqual(a, b)
        }
        let pool = try FFIPool(ABILibrary.references(root: root), executable: worker)
        defer { pool.stop() }
        try pool.setBase(base)
        let answers = try pool.fuzzOne(seed: 3, index: 0)
        for answer in answers {
            XCTAssertEqual(answer[0], 0, "every library must accept the unmutated base image")
            XCTAssertEqual(answer[2], 6, "six slots hold a key length (the removed key's bytes stay)")
        }
        XCTAssertEqual(answers[0], answers[1])
        XCTAssertEqual(answers[0], answers[2])
    }

    var go: ABILibrary { ABILibrary.references(root: root)[1] }

    /// Go declares wc_batch: its worker runs a batch in one call, and the answers equal those of
    /// the same calls made one by one (edge cases of every function, images included).
    func testGoBatchesThroughWcBatchWithTheSameAnswers() throws {
        let pool = try FFIPool([go, rust], executable: worker)
        defer { pool.stop() }
        XCTAssertEqual(pool.batched, [true, false])
        let base = try BaseImage.build()
        let calls = VectorInputs.edgeCases(base: base) + VectorInputs.imageCalls(base: base, seed: 5, count: 20)
        XCTAssertEqual(Set(calls.map(\.fn)).count, ABISpec.functions.count, "every function is exercised")
        var report = VectorsReport()
        try VectorsRunner(pool: pool).checkBatchAgreement(calls, try pool.run(calls), &report)
        XCTAssertEqual(report.failures, [])
        XCTAssertEqual(report.passed, calls.count)
    }

    /// A declared batch symbol must exist like any other; its types are checked too.
    func testDeclaredBatchMustExistAndHaveItsTypes() throws {
        var m = try manifestJSON(rust).object!
        var fs = m["functions"]!.array!
        fs.append(["function": "batch", "symbol": "wc_batch", "returns": "i64",
                   "params": .array([["type": "ptr"], ["type": "u64"], ["type": "ptr"], ["type": "u64"]])])
        m["functions"] = .array(fs)
        let path = scratch + "/manifest-batch.json"
        try JSON.object(m).serialized.write(toFile: path, atomically: true, encoding: .utf8)
        let err = loadError(ABILibrary(name: "mine", path: rust.path, manifest: path))
        XCTAssertTrue(err.contains("library mine") && err.contains("symbol wc_batch") && err.contains("batch"), err)
        fs[fs.count - 1] = ["function": "batch", "symbol": "wc_batch", "returns": "i32", "params": .array([])]
        m["functions"] = .array(fs)
        XCTAssertThrowsError(try Manifest.parse(.object(m), library: "x", path: "m.json")) { e in
            XCTAssertTrue("\(e)".contains("batch (symbol wc_batch) is declared i32()"), "\(e)")
        }
    }

    /// testdata/abi-cases.json (recorded by `vectors --extend-cases`): every function has cases
    /// and every library still gives each recorded answer.
    func testCommittedCasesStillAgree() throws {
        let path = root.appendingPathComponent("testdata/abi-cases.json").path
        let file = try ABICaseFile.load(path: path)
        XCTAssertEqual(Set(file.cases.map(\.call.fn)).count, ABISpec.functions.count, "every ABI function has a recorded case")
        let pool = try FFIPool(ABILibrary.references(root: root), executable: worker)
        defer { pool.stop() }
        var report = VectorsReport()
        try VectorsRunner(pool: pool).checkCases(path, &report)
        XCTAssertEqual(report.failures, [])
        XCTAssertEqual(report.passed, 3 * file.cases.count)
    }

    /// Image blobs are stored as patches against the base and come back byte for byte; a
    /// recorded answer that no longer holds is a failure naming the library and the case.
    func testCasesRoundTripAndAChangedAnswerFails() throws {
        let base = try BaseImage.build()
        let calls = VectorInputs.imageCalls(base: base, seed: 11, count: 16) + [ABICall("wch64", [3], blobs: [[1, 2, 3]])]
        let pool = try FFIPool([rust], executable: worker)
        defer { pool.stop() }
        let answers = try pool.run(calls)[0]
        var file = ABICaseFile()
        // One case per distinct answer of a function: the 35 calls give fewer.
        let added = file.extend(calls: calls, answers: answers, perFunction: 100, base: base)
        XCTAssertEqual(added, file.cases.count)
        XCTAssertGreaterThan(added, 5)
        XCTAssertLessThan(added, calls.count)
        XCTAssertEqual(file.cases.last?.call, calls.last)
        let path = scratch + "/cases.json"
        try file.write(path: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertLessThan(text.count, 2 * base.count + 40_000, "images are patches, not copies")
        let back = try ABICaseFile.load(path: path)
        XCTAssertEqual(back.cases, file.cases)
        var report = VectorsReport()
        try VectorsRunner(pool: pool).checkCases(path, &report)
        XCTAssertEqual(report.failures, [])
        file.cases[file.cases.count - 1] = ABICase(call: calls.last!, expect: [answers.last![0] ^ 1])
        try file.write(path: path)
        report = VectorsReport()
        try VectorsRunner(pool: pool).checkCases(path, &report)
        XCTAssertEqual(report.failed, 1)
        XCTAssertTrue(report.failures.first?.contains("library rust") == true && report.failures.first?.contains("wch64") == true, "\(report.failures)")
    }

    /// A planted bug: a shim that forwards every call to the Rust library under its own symbol
    /// names (as a third party may), except that its decode_image counts one miss too many
    /// whenever the header's generation word differs from `generation`. Readers must not care
    /// about generation, so only that one word can explain the disagreement.
    func generationShim(generation: UInt32) throws -> ABILibrary {
        try forwardingShim("shim", patches: ["decode_image":
            "  if (r == 0 && a3 && a1 >= \(Layout.HDR_GENERATION + 4) && *(uint32_t *)((uint8_t *)a0 + \(Layout.HDR_GENERATION)) != \(generation)u) ((uint64_t *)a3)[3] += 1;\n"])
    }

    /// A C library forwarding every function of the Rust manifest (the optional ones it declares
    /// too) to the Rust library under `shim_` names, with `patches[function]` (C, seeing the
    /// result `r` and the arguments `a0…`) inserted before each return.
    func forwardingShim(_ name: String, patches: [String: String]) throws -> ABILibrary {
        let src = scratch + "/\(name).c", so = scratch + "/lib\(name).so"
        func ctype(_ t: ABIType) -> String { t == .ptr ? "void *" : t == .u32 ? "uint32_t" : t == .i32 ? "int32_t" : "uint64_t" }
        var c = "#include <stdint.h>\n#include <dlfcn.h>\n#include <stdlib.h>\n"
        c += "static void *lib;\nstatic void *sym(const char *n) { if (!lib) lib = dlopen(\"\(rust.path)\", RTLD_NOW | RTLD_LOCAL); void *f = lib ? dlsym(lib, n) : 0; if (!f) abort(); return f; }\n"
        var manifest = try manifestJSON(rust).object!
        let declared = try manifestJSON(rust)["functions"]!.array!
        var fs: [JSON] = []
        for f in ABISpec.functions + [ABISpec.decodeJournal] {
            guard var entry = declared.first(where: { $0["function"]?.string == f.name })?.object else { continue }
            let params = f.params.enumerated().map { i, p in "\(ctype(p.type)) a\(i)" }
            let args = f.params.indices.map { "a\($0)" }.joined(separator: ", ")
            let fp = "\(ctype(f.returns)) (*)(\(f.params.isEmpty ? "void" : f.params.map { ctype($0.type) }.joined(separator: ", ")))"
            c += "\(ctype(f.returns)) shim_\(f.name)(\(params.isEmpty ? "void" : params.joined(separator: ", "))) {\n"
            c += "  \(ctype(f.returns)) r = ((\(fp))sym(\"wc_\(f.name)\"))(\(args));\n"
            c += patches[f.name] ?? ""
            c += "  return r;\n}\n"
            entry["symbol"] = .string("shim_\(f.name)")
            fs.append(.object(entry))
        }
        manifest["functions"] = .array(fs)
        let mpath = scratch + "/\(name).json"
        try JSON.object(manifest).serialized.write(toFile: mpath, atomically: true, encoding: .utf8)
        try c.write(toFile: src, atomically: true, encoding: .utf8)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-o", so, src, "-ldl"]
        try cc.run()
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else { throw XCTSkip("no C compiler") }
        return ABILibrary(name: name, path: so, manifest: mpath)
    }

    /// Fuzzing against the planted bug finds disagreements, and the shrinker undoes every
    /// mutation but the one that matters: the shrunk images differ from the base in the
    /// generation word alone, though the mutants had more differences.
    func testShrinkerReducesARealDisagreementToTheWordThatCausesIt() throws {
        let base = try BaseImage.build()
        let generation = base.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: Layout.HDR_GENERATION, as: UInt32.self) }
        let shim = try generationShim(generation: generation)
        let runner = FuzzRunner(libraries: [rust, shim], executable: worker, outDir: scratch + "/fuzz")
        runner.maxShrunk = 4
        let report = try runner.run(base: base, seed: 3, count: 3000)
        let shrunk = report.findings.filter { $0.shrunk != nil }
        XCTAssertEqual(shrunk.count, 4, "\(report.findings.map(\.detail))")
        var mutantWords = 0
        for f in shrunk {
            XCTAssertEqual(f.shrunkWords, [Layout.HDR_GENERATION / 8 * 8], f.detail)
            var mutant: [UInt8] = []
            let (len, _) = ImageMutator(base: base).mutant(seed: 3, index: f.index, into: &mutant)
            mutantWords = max(mutantWords, ImageShrinker.differingWords(Array(mutant[0..<len]), base).count)
            // The shrunk image still shows the bug (reproduced from the file alone).
            let image = try XCTUnwrap(FileManager.default.contents(atPath: f.shrunk!))
            let answers = try runner.decode(image: [UInt8](image), now: f.now)
            XCTAssertNotEqual(answers[0], answers[1])
        }
        XCTAssertGreaterThan(mutantWords, 1, "at least one mutant had more to undo than the generation word")
    }
}
