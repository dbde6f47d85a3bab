import Foundation
import XCTest

@testable import WarmcheckCore

/// Sampling and sharding are reproducible and shards partition; the equivalence list refuses a
/// killed entry.
final class MutationSamplingTests: XCTestCase {
    func goMutants() throws -> [Mutant] {
        let root = try XCTUnwrap(Repo.root())
        let f = "go-fixture/warmcache/put.go"
        let text = try String(contentsOf: root.appendingPathComponent(f), encoding: .utf8)
        return MutantGenerator.mutants(file: f, text: text, language: .go)
    }

    func testSamplesAreReproducibleAndDependOnTheSeed() throws {
        let all = try goMutants()
        XCTAssertGreaterThan(all.count, 100)
        let a = MutantSampling.sample(all, n: 20, seed: 7).map(\.key)
        XCTAssertEqual(a, MutantSampling.sample(all, n: 20, seed: 7).map(\.key))
        XCTAssertEqual(a.count, 20)
        XCTAssertNotEqual(a, MutantSampling.sample(all, n: 20, seed: 8).map(\.key))
        // Removing mutants the sample did not pick does not change it.
        let chosen = Set(a)
        let fewer = all.enumerated().filter { chosen.contains($0.element.key) || $0.offset % 2 == 0 }.map(\.element)
        XCTAssertEqual(MutantSampling.sample(fewer, n: 20, seed: 7).map(\.key), a)
    }

    func testAPerLanguageSampleTakesNOfEachLanguageInRankOrder() throws {
        let root = try XCTUnwrap(Repo.root())
        var all = try goMutants()
        let f = "rust-fixture/src/ops/put.rs"
        all += MutantGenerator.mutants(file: f, text: try String(contentsOf: root.appendingPathComponent(f), encoding: .utf8), language: .rust)
        let s = MutantSampling.samplePerLanguage(all, n: 3, seed: 7)
        XCTAssertEqual(s.filter { $0.language == .go }.map(\.key), MutantSampling.sample(all.filter { $0.language == .go }, n: 3, seed: 7).map(\.key))
        XCTAssertEqual(s.filter { $0.language == .rust }.count, 3)
        let ranks = s.map { MutantSampling.rank($0.key, seed: 7) }
        XCTAssertEqual(ranks, ranks.sorted())
    }

    func testShardsPartitionTheMutants() throws {
        let all = try goMutants()
        let shards = (1...4).map { MutantSampling.shard(all, index: $0, of: 4).map(\.key) }
        XCTAssertEqual(shards.map(\.count).reduce(0, +), all.count)
        XCTAssertEqual(Set(shards.flatMap { $0 }), Set(all.map(\.key)))
        XCTAssertTrue(shards.allSatisfy { !$0.isEmpty })
        XCTAssertEqual(shards[2], MutantSampling.shard(all, index: 3, of: 4).map(\.key))
        XCTAssertThrowsError(try MutantSampling.parseShard("0/3"))
        XCTAssertThrowsError(try MutantSampling.parseShard("4/3"))
        XCTAssertThrowsError(try MutantSampling.parseShard("x"))
    }

    func testEquivalenceListRefusesAKilledEntryAndNamesIt() throws {
        let m = try goMutants()[0]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eq-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("equivalent.txt").path
        try "# comment\n\(m.key) only the counter differs\n".write(toFile: path, atomically: true, encoding: .utf8)
        let list = try EquivalenceList.load(path: path)
        XCTAssertEqual(list.entries[m.key]?.reason, "only the counter differs")
        let survived = MutationOutcome(mutant: m, verdict: .survived, killer: nil, reason: "", buildSeconds: 0, seconds: 0, casesRun: 3)
        XCTAssertNoThrow(try list.refuseKilled([survived]))
        var killed = survived
        killed.verdict = .killed
        killed.killer = "basic-put-get[writer=go,reader=go]"
        XCTAssertThrowsError(try list.refuseKilled([killed])) { e in
            let text = String(describing: e)
            XCTAssertTrue(text.contains(m.key) && text.contains("equivalent.txt:2") && text.contains("basic-put-get"), text)
        }
        try "\(m.key)\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try EquivalenceList.load(path: path)) { e in XCTAssertTrue(String(describing: e).contains("no reason")) }
        try "not-a-key reason\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try EquivalenceList.load(path: path))
    }

    func testScoreLineLeavesEquivalentAndUnbuiltMutantsOut() throws {
        let ms = try goMutants()
        func o(_ i: Int, _ v: MutationOutcome.Verdict, eq: Bool = false) -> MutationOutcome {
            var r = MutationOutcome(mutant: ms[i], verdict: v, killer: v == .killed ? "k" : nil, reason: "", buildSeconds: 0, seconds: Double(i), casesRun: 1)
            r.equivalent = eq
            return r
        }
        let r = MutationReport([o(0, .killed), o(1, .timedOut), o(2, .survived), o(3, .survived, eq: true), o(4, .didNotBuild)])
        XCTAssertEqual(r.scoreLine, "mutation score: 2/3 (1 equivalent)")
        XCTAssertEqual(r.survivors.map(\.mutant.id), [ms[2].id])
        let text = r.survivorsText()
        XCTAssertTrue(text.contains(ms[2].id) && text.contains(ms[2].key), text)
        for l in ms[2].diff.split(separator: "\n") { XCTAssertTrue(text.contains("  " + l), "diff line \(l) in the report") }
    }
}
