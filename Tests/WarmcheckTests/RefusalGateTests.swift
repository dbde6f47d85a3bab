import Foundation
import XCTest

@_spi(Harness) @testable import Warmcache
@testable import WarmcheckCore

/// The refusal gate: its manifest follows the spec, its crafted files are what they claim, and it
/// fails an implementation that answers a wrong code or accepts a bad file.
final class RefusalGateTests: XCTestCase {
    let codes: Set<String> = ["not_found", "symlink", "not_regular_file", "foreign_owner", "too_short", "bad_magic",
                              "unsupported_major", "not_ready", "bad_header_checksum", "unsupported_features",
                              "layout_mismatch", "bad_geometry", "truncated", "io", "sparse"]

    func testManifestNamesAnOpenCodeOfSection15ForEveryCase() {
        let all = RefusalCatalog.cases + RefusalCatalog.heavy
        XCTAssertEqual(Set(all.map(\.name)).count, all.count, "case names are unique")
        var seenCodes = Set<String>()
        for c in all {
            if c.kind.isCreate {
                // §4.1: the create cases may also answer `exists` and `no_space` (step 3,
                // a full file system), which no open answers.
                if case .refuse(let code, _) = c.expect {
                    XCTAssertTrue(codes.contains(code) || ["exists", "no_space"].contains(code), "\(c.name): \(code)")
                }
                continue
            }
            if case .refuse(let code, let rule) = c.expect {
                XCTAssertTrue(codes.contains(code), "\(c.name): \(code) is not an open error of §15")
                XCTAssertEqual(code == "bad_geometry", rule != nil, "\(c.name): a bad_geometry case names its rule, no other does")
                seenCodes.insert(code)
            }
        }
        XCTAssertEqual(seenCodes, codes, "every open error of §4.2 has at least one crafted file")
        for rule in 1...9 {
            XCTAssertTrue(all.contains { $0.expect == .refuse(code: "bad_geometry", rule: rule) }, "rule \(rule) has a refused case")
        }
    }

    /// The control case is a valid segment for warmcheck's reader too, and every crafted file
    /// is judged by that reader as the manifest says (the files are what they claim to be).
    func testCraftedFilesAreWhatTheManifestSays() throws {
        let dir = NSTemporaryDirectory() + "refusal-test-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var gate = RefusalGate(fixtures: [], workDir: dir)
        gate.cases = RefusalCatalog.cases
        let report = try gate.run()
        let failed = report.results.filter { $0.verdict == .fail }
        XCTAssertTrue(failed.isEmpty, failed.map { "\($0.caseName): expected \($0.expected), inspect answered \($0.answer)" }.joined(separator: "\n"))
        XCTAssertEqual(report.implementations, ["inspect"])
        let valid = try XCTUnwrap(report.results.first { $0.caseName == "valid" })
        XCTAssertEqual(valid.answer, "accept")
    }

    /// A create that forgets its TMP file fails the create cases, whatever it answers.
    func testACreateCaseFailsALeftoverTemporaryFile() throws {
        let dir = NSTemporaryDirectory() + "refusal-create-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Answers not_found as the spec says, but leaves a `.init.` file next to the path.
        let script = dir + "/fake.sh"
        try """
            #!/bin/bash
            while IFS= read -r line; do
              id=$(printf '%s' "$line" | sed -E 's/.*"id":([0-9]+).*/\\1/')
              case "$line" in
                *'"op":"hello"'*) echo "{\\"id\\":$id,\\"outcome\\":\\"ok\\",\\"result\\":{\\"language\\":\\"fake\\"},\\"transitions\\":[]}" ;;
                *'"op":"create"'*) touch "\(dir)/w/warmcheck-refusals-\(getpid())/n.init.1.2"; echo "{\\"id\\":$id,\\"outcome\\":\\"fail\\",\\"reason\\":\\"io\\",\\"transitions\\":[]}" ;;
                *) echo "{\\"id\\":$id,\\"outcome\\":\\"ok\\",\\"result\\":{},\\"transitions\\":[]}" ;;
              esac
            done
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o700)
        var g = RefusalGate(fixtures: [FixtureSpec(name: "fake", argv: ["/bin/bash", script])], workDir: dir + "/w")
        try FileManager.default.createDirectory(atPath: dir + "/w", withIntermediateDirectories: true)
        g.cases = RefusalCatalog.cases.filter { $0.name == "create-name-256" }
        XCTAssertEqual(g.cases.count, 1)
        let r = try g.run()
        let fake = try XCTUnwrap(r.results.first { $0.implementation == "fake" })
        XCTAssertEqual(fake.verdict, .fail, fake.answer)
        XCTAssertTrue(fake.answer.contains("left n.init.1.2 behind"), fake.answer)
    }

    func testRuleNumberIsReadFromTheMessage() {
        XCTAssertEqual(RefusalGate.ruleNumber(in: "x: bad_geometry: rule 5 violated: 1 <= probe_window"), 5)
        XCTAssertEqual(RefusalGate.ruleNumber(in: "rule 1 ≤ slots_per_shard"), 1)
        XCTAssertNil(RefusalGate.ruleNumber(in: "rule slot_size equals the formula"))
    }

    /// A fixture that answers every `open` the same way (a fake speaking the driver contract).
    func fake(_ openResponse: String) throws -> FixtureSpec {
        let script = NSTemporaryDirectory() + "refusal-fake-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sh"
        let body = """
            #!/bin/bash
            # Ignores its arguments (--timeout-ms N) and answers by op.
            while IFS= read -r line; do
              id=$(printf '%s' "$line" | sed -E 's/.*"id":([0-9]+).*/\\1/')
              case "$line" in
                *'"op":"hello"'*) echo "{\\"id\\":$id,\\"outcome\\":\\"ok\\",\\"result\\":{\\"language\\":\\"fake\\"},\\"transitions\\":[]}" ;;
                *'"op":"open"'*) echo "{\\"id\\":$id,\(openResponse),\\"transitions\\":[]}" ;;
                *) echo "{\\"id\\":$id,\\"outcome\\":\\"ok\\",\\"result\\":{\\"hit\\":false},\\"transitions\\":[]}" ;;
              esac
            done
            """
        try body.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o700)
        addTeardownBlock { unlink(script) }
        return FixtureSpec(name: "fake", argv: ["/bin/bash", script])
    }

    func gate(_ spec: FixtureSpec, _ names: [String]) throws -> RefusalReport {
        var g = RefusalGate(fixtures: [spec], workDir: NSTemporaryDirectory())
        g.cases = RefusalCatalog.cases.filter { names.contains($0.name) }
        XCTAssertEqual(g.cases.count, names.count)
        return try g.run()
    }

    func verdict(_ r: RefusalReport, _ c: String) -> RefusalResult.Verdict? {
        r.results.first { $0.caseName == c && $0.implementation == "fake" }?.verdict
    }

    func testAFixtureThatAcceptsEverythingFailsTheGate() throws {
        let r = try gate(try fake(#"\"outcome\":\"ok\",\"result\":{\"participant\":1}"#), ["valid", "bad-magic", "rule3-key-12"])
        XCTAssertEqual(verdict(r, "valid"), .pass)
        XCTAssertEqual(verdict(r, "bad-magic"), .fail)
        XCTAssertEqual(verdict(r, "rule3-key-12"), .fail)
        XCTAssertFalse(r.allPass)
        XCTAssertEqual(r.passCount, 1)
        XCTAssertTrue(r.table().contains("FAIL bad-magic [fake]: expected bad_magic, answered accept"), r.table())
    }

    func testAWrongCodeOrAWrongRuleFailsTheGate() throws {
        let r = try gate(try fake(#"\"outcome\":\"fail\",\"reason\":\"bad_geometry\",\"message\":\"rule 2 violated\""#),
                         ["valid", "ready-zero", "rule2-slots-0", "rule5-window-0"])
        XCTAssertEqual(verdict(r, "valid"), .fail, "refusing a valid file fails")
        XCTAssertEqual(verdict(r, "ready-zero"), .fail, "bad_geometry is not not_ready")
        XCTAssertEqual(verdict(r, "rule2-slots-0"), .pass)
        XCTAssertEqual(verdict(r, "rule5-window-0"), .fail, "the right code naming the wrong rule fails")
        XCTAssertEqual(r.passCount, 1)
    }

    /// The known-failure list is strict: an implementation listed as dying at the cut that
    /// survives it fails the gate until its entry is removed.
    func testAKnownFailureThatPassesFailsTheGate() throws {
        var spec = try fake(#"\"outcome\":\"ok\",\"result\":{\"participant\":1}"#)
        spec.name = "rust"
        let r = try gate(spec, ["cut-under-open-handle"])
        let rust = try XCTUnwrap(r.results.first { $0.implementation == "rust" })
        XCTAssertEqual(rust.verdict, .fail)
        XCTAssertTrue(rust.detail.contains("remove the entry"), rust.detail)
    }

    func testAFixtureThatDiesIsAFailureAndTheGateGoesOn() throws {
        var spec = try fake(#"\"outcome\":\"ok\""#)
        spec.argv = ["/bin/bash", "-c", "read -r line; echo '{\"id\":1,\"outcome\":\"ok\",\"result\":{}}'; read -r line; exit 3"]
        let r = try gate(spec, ["valid", "bad-magic"])
        XCTAssertEqual(verdict(r, "valid"), .fail)
        XCTAssertEqual(verdict(r, "bad-magic"), .fail)
        XCTAssertTrue(r.results.contains { $0.detail.contains("exited") || $0.detail.contains("status") }, r.table())
    }
}
