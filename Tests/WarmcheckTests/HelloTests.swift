import Foundation
import XCTest

@testable import WarmcheckCore

/// The hello contract (docs/DRIVER.md "hello"): every reference fixture declares what a stranger
/// must declare, and the checks of `warmcheck conform` name each way a hello can be wrong.
final class HelloTests: XCTestCase {
    func reference(_ name: String) throws -> FixtureSpec {
        let spec = try XCTUnwrap(Repo.referenceFixture(name))
        guard FileManager.default.isExecutableFile(atPath: spec.argv[0]) else { throw XCTSkip("\(spec.argv[0]) is not built") }
        return spec
    }

    func testEveryReferenceFixtureDeclaresItsCodeAndTracesWhenAsked() throws {
        for name in Repo.referenceNames {
            let spec = try reference(name)
            XCTAssertFalse(spec.argv.contains("--trace"), "tracing is asked for in hello, not on the command line")
            let fx = try FixtureProcess(spec: spec, timeout: 10)
            defer { fx.stop() }
            let raw = try fx.sayHello()
            let h = Hello(raw)
            XCTAssertEqual(h.language, name)
            XCTAssertEqual(h.languageCode, LanguageCodes.registered.first { $0.value == name }?.key, name)
            XCTAssertTrue(h.declaredCode, "\(name) declares language_code")
            XCTAssertTrue(h.reportsTransitions, "\(name) reports transitions when hello asks")
            XCTAssertEqual(h.pid, Int64(fx.pid), name)
            XCTAssertEqual(h.problems(raw: raw, vocabulary: try HelloVocabulary.load()), [], name)

            // Not asked: not promised (a fresh process, since tracing once on stays on).
            let plain = try FixtureProcess(spec: spec, timeout: 10)
            defer { plain.stop() }
            XCTAssertEqual(try plain.call("hello").result["trace"], .bool(false), name)
        }
    }

    func testProblemsNameEachWayAHelloCanBeWrong() throws {
        let good: [String: JSON] = [
            "language": "stranger", "language_code": 7, "implementation": "x 1", "protocol": ["major": 1, "minor": 0],
            "trace": true, "features": ["SIM_CLOCK"], "operations": ["hello", "create", "open", "close", "get", "put"],
            "pause_points": [], "faults": [],
        ]
        let v = HelloVocabulary()
        XCTAssertEqual(Hello(.object(good)).problems(raw: .object(good), vocabulary: v), [])
        func problems(_ change: (inout [String: JSON]) -> Void) -> [String] {
            var h = good
            change(&h)
            return Hello(.object(h)).problems(raw: .object(h), vocabulary: v)
        }
        XCTAssertEqual(problems { $0["language_code"] = 1 }, ["`language_code` 1 is registered to go, not to stranger (PROTOCOL.md §7.3)"])
        XCTAssertEqual(problems { $0["language"] = "rust" }, ["`language` rust is registered with code 2, but the fixture declares 7"])
        XCTAssertEqual(problems { $0["language_code"] = 0 }.count, 1)
        XCTAssertEqual(problems { $0["language_code"] = "7" }, ["`language_code` must be a JSON integer"])
        XCTAssertEqual(problems { $0["language_code"] = nil }.count, 1)
        XCTAssertEqual(problems { $0["trace"] = nil }.count, 1)
        XCTAssertEqual(problems { $0["trace"] = false }, [], "no tracing is allowed; conform reports the skip it causes")
        XCTAssertEqual(problems { $0["operations"] = ["hello", "create", "open", "close", "get", "put", "resume"] }.count, 1)
        XCTAssertEqual(problems { $0["operations"] = ["hello", "create", "open", "close", "get"] }, ["`operations` lacks `put`, without which no scenario runs"])
        XCTAssertEqual(problems { $0["pause_points"] = ["put.somewhere"] }.count, 1)
        XCTAssertEqual(problems { $0["features"] = ["TURBO"] }.count, 1)
        XCTAssertEqual(problems { $0["protocol"] = ["major": 2, "minor": 0] }.count, 1)
        XCTAssertEqual(problems { $0["language"] = "Strange Lang" }.count, 1)
        XCTAssertEqual(problems { $0["pid"] = "42" }.count, 1)
        XCTAssertEqual(problems { $0["pid"] = 0 }.count, 1)
        XCTAssertEqual(problems { $0["pid"] = 42 }, [])
        // DRIVER.md "The get paths": get_via lists paths of the table, single among them.
        XCTAssertEqual(problems { $0["get_via"] = ["single", "many"] }, [])
        XCTAssertEqual(problems { $0["get_via"] = ["many"] }.count, 1)
        XCTAssertEqual(problems { $0["get_via"] = ["single", "batched"] }.count, 1)
        XCTAssertEqual(problems { $0["get_via"] = "single" }.count, 1)
    }

    /// A hello without get_via routes `single` only (the contract before `via`), and the
    /// harness then sends no `via`; the paths keep the table's order whatever the listing's.
    func testGetViaDefaultsToSingleAndKeepsTheTablesOrder() {
        XCTAssertEqual(Hello(.object(["language": "stranger"])).getVia, ["single"])
        XCTAssertEqual(Hello(.object(["get_via": ["many", "single"]])).getVia, ["single", "many"])
        XCTAssertEqual(Hello(.object(["get_via": ["many", "into", "single"]])).getVia, Hello.getPaths)
    }

    /// Every reference fixture routes all three get paths and lists get_many and now.
    func testReferenceFixturesRouteEveryGetPath() throws {
        for name in Repo.referenceNames {
            let fx = try FixtureProcess(spec: try reference(name), timeout: 10)
            defer { fx.stop() }
            let h = Hello(try fx.sayHello())
            XCTAssertEqual(h.getVia, Hello.getPaths, name)
            XCTAssertTrue(h.operations.contains("get_many") && h.operations.contains("now"), name)
        }
    }

    func testAVocabularyFileOverridesTheCheckoutsLists() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(getpid())")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("spec"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try #"{"pause_points": ["only.here"], "languages": [{"code": 1, "name": "go"}, {"code": 7, "name": "stranger"}]}"#
            .write(to: root.appendingPathComponent("spec/vocabulary.json"), atomically: true, encoding: .utf8)
        let v = try HelloVocabulary.load(root: root)
        XCTAssertEqual(v.pausePoints, ["only.here"])
        XCTAssertEqual(v.languages, [1: "go", 7: "stranger"])
        XCTAssertEqual(v.faults, HelloVocabulary().faults, "a key the file lacks keeps the checkout's spec/vocabulary.json list")
        try "{".write(to: root.appendingPathComponent("spec/vocabulary.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HelloVocabulary.load(root: root))
    }
}
