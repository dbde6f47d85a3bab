import Foundation
import XCTest

@testable import WarmcheckCore

/// `warmcheck conform` with an implementation the harness has never heard of: the Go fixture
/// posing as "stranger", language code 7, behind a script (testdata/third-party/), started with
/// no flag the harness would add for a reference fixture. It must pass everything that applies,
/// and the same stranger declaring a code it does not write must fail the provenance checks.
final class ConformTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = try XCTUnwrap(Repo.root())
        for name in Repo.referenceNames {
            let exe = try XCTUnwrap(Repo.referenceFixture(name)).argv[0]
            guard FileManager.default.isExecutableFile(atPath: exe) else { throw XCTSkip("\(exe) is not built") }
        }
    }

    var strangerScript: String { root.appendingPathComponent("testdata/third-party/stranger-fixture.sh").path }

    func conform(_ target: FixtureSpec) throws -> ConformanceReport {
        var c = Conformance(target: target, references: try ["go", "rust"].map(Repo.parseFixture),
                            scenarioPaths: ["basic-put-get", "race-refresh-vs-read"].map { root.appendingPathComponent("scenarios/\($0).yaml").path },
                            workDir: Repo.defaultWorkDir)
        c.timeout = 10
        c.stressOperations = 300
        c.artifactsDir = nil
        return try c.run()
    }

    func testAStrangerWithAnUnregisteredCodePassesEverythingThatApplies() throws {
        let rep = try conform(FixtureSpec(name: "stranger", argv: [strangerScript]))
        let text = rep.render()
        XCTAssertEqual(rep.count(.fail) + rep.count(.error), 0, text)
        XCTAssertEqual(rep.hello["language_code"]?.int, 7)
        // Writer of three segments and reader of three, itself once, plus every golden image.
        XCTAssertEqual(rep.checks.filter { $0.part == .matrix }.count, 5 + (try GoldenImage.all()).count, text)
        XCTAssertTrue(rep.checks.contains { $0.part == .matrix && $0.name.hasPrefix("golden") }, text)
        XCTAssertGreaterThan(rep.count(.pass, in: .scenario), 0, text)
        XCTAssertGreaterThan(rep.checks.filter { $0.part == .race }.count, 0, text)
        XCTAssertEqual(rep.count(.pass, in: .stress), 1, text)
        XCTAssertTrue(rep.checks.allSatisfy { $0.part != .scenario || $0.name.contains("=stranger") }, "only cases it plays in")
        XCTAssertTrue(text.hasSuffix("conform: \(rep.count(.pass)) passed, 0 failed, \(rep.count(.skip)) skipped\n"), text)
        XCTAssertEqual(rep.exitStatus, 0)
    }

    func testProvenanceIsCheckedAgainstTheDeclaredCode() throws {
        // Declares 9 in hello, writes 7 into every record it publishes.
        let liar = FixtureSpec(name: "liar", argv: ["/bin/sh", "-c", "\(strangerScript) | sed -u 's/\"language_code\":7/\"language_code\":9/'"])
        let rep = try conform(liar)
        let text = rep.render()
        let failedMatrix = rep.checks.filter { $0.part == .matrix && $0.verdict == .fail }
        XCTAssertEqual(failedMatrix.map(\.name).sorted(), ["liar → go", "liar → liar", "liar → rust"], text)
        XCTAssertTrue(failedMatrix.allSatisfy { $0.reason.contains("writer language 7") && !$0.reason.contains("pid") },
                      "the language is wrong, the pid (declared in hello, behind a pipeline) is not: \(text)")
        XCTAssertGreaterThan(rep.count(.fail, in: .scenario), 0, text)
        XCTAssertEqual(rep.exitStatus, 1)
    }

    func testAFixtureThatCannotSayHelloSkipsTheRestWithTheReason() throws {
        let rep = try conform(FixtureSpec(name: "mute", argv: ["/bin/sh", "-c", "read l; exit 3"]))
        XCTAssertEqual(rep.count(.error, in: .hello), 1)
        XCTAssertEqual(rep.count(.skip), 4, rep.render())
        XCTAssertTrue(rep.render().contains("the fixture did not answer hello"))
        XCTAssertEqual(rep.exitStatus, 2)
    }
}
