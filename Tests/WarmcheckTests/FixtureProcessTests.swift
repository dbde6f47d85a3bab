import Foundation
import XCTest

@testable import WarmcheckCore

/// Fixtures that misbehave: each must be reported as what it is, with its stderr, and never hang
/// the orchestrator or leave a process behind.
final class FixtureProcessTests: XCTestCase {
    func sh(_ name: String, _ script: String) -> FixtureSpec {
        FixtureSpec(name: name, argv: ["/bin/sh", "-c", script])
    }

    func testWellBehavedFixtureAnswers() throws {
        let fx = try FixtureProcess(spec: sh("echoer", #"while read l; do echo '{"id":1,"outcome":"ok","result":{"language":"sh","implementation":"sh","protocol":{"major":1,"minor":0},"features":[],"operations":[],"pause_points":[],"faults":[]}}'; done"#))
        let hello = try fx.sayHello()
        XCTAssertEqual(hello["language"]?.string, "sh")
        fx.stop()
        XCTAssertTrue(fx.hasExited)
    }

    func testGarbageIsReportedWithTheLine() throws {
        let fx = try FixtureProcess(spec: sh("garbage", "read l; echo 'this is not json'; echo oops >&2; sleep 5"))
        XCTAssertThrowsError(try fx.call("hello")) { e in
            guard case FixtureFailure.garbage(_, let line, _, let tail) = e else { return XCTFail("got \(e)") }
            XCTAssertEqual(line, "this is not json")
            XCTAssertTrue(tail.contains("oops"), tail)
        }
        fx.stop(grace: 0.2)
        XCTAssertTrue(fx.hasExited)
    }

    func testCrashIsReportedWithStatusAndStderr() throws {
        let fx = try FixtureProcess(spec: sh("crasher", "read l; echo 'panic: boom' >&2; exit 3"))
        XCTAssertThrowsError(try fx.call("hello")) { e in
            guard case FixtureFailure.exited(_, let status, let op, let tail) = e else { return XCTFail("got \(e)") }
            XCTAssertEqual(status, "exited with status 3")
            XCTAssertEqual(op, "hello")
            XCTAssertTrue(tail.contains("panic: boom"))
        }
    }

    func testKilledBySignalIsNamed() throws {
        let fx = try FixtureProcess(spec: sh("selfkill", "read l; kill -9 $$"))
        XCTAssertThrowsError(try fx.call("hello")) { e in
            guard case FixtureFailure.exited(_, let status, _, _) = e else { return XCTFail("got \(e)") }
            XCTAssertTrue(status.contains("signal 9"), status)
        }
    }

    func testHungFixtureIsStoppedWithSigquitAfterTheTimeout() throws {
        // The trap proves SIGQUIT came first (Go prints its stacks on it); then the process exits.
        let fx = try FixtureProcess(
            spec: sh("hang", "trap 'echo got SIGQUIT >&2; exit 1' QUIT; read l; while :; do sleep 0.05; done"),
            timeout: 0.5)
        let start = Date()
        XCTAssertThrowsError(try fx.call("hello")) { e in
            guard case FixtureFailure.hung(_, let op, _, let tail) = e else { return XCTFail("got \(e)") }
            XCTAssertEqual(op, "hello")
            XCTAssertTrue(tail.contains("got SIGQUIT"), tail)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "the orchestrator must not wait much past the timeout")
        XCTAssertTrue(fx.hasExited)
    }

    func testMismatchedResponseIdIsGarbage() throws {
        let fx = try FixtureProcess(spec: sh("wrongid", #"read l; echo '{"id":99,"outcome":"ok"}'; sleep 5"#))
        XCTAssertThrowsError(try fx.call("hello")) { e in
            guard case FixtureFailure.garbage(_, _, let reason, _) = e else { return XCTFail("got \(e)") }
            XCTAssertTrue(reason.contains("does not match"), reason)
        }
        fx.stop(grace: 0.1)
    }

    func testMissingExecutableIsASpawnFailure() {
        XCTAssertThrowsError(try FixtureProcess(spec: FixtureSpec(name: "nope", argv: ["/nonexistent/fixture"]))) { e in
            guard case FixtureFailure.spawnFailed(let name, let reason) = e else { return XCTFail("got \(e)") }
            XCTAssertEqual(name, "nope")
            XCTAssertTrue(reason.contains("/nonexistent/fixture"), reason)
        }
    }

    func testFixtureSpecParsing() throws {
        let s = try Repo.parseFixture("mine=/usr/bin/env 'my fixture' --flag")
        XCTAssertEqual(s.name, "mine")
        XCTAssertEqual(s.argv, ["/usr/bin/env", "my fixture", "--flag"])
        XCTAssertThrowsError(try Repo.parseFixture("=cmd"))
        XCTAssertThrowsError(try Repo.parseFixture("cobol"))
    }
}
