#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

@testable import WarmcheckCore
import WarmcheckSegment

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

    /// DRIVER.md "Fixture credentials": the fixture itself (same pid: setpriv execs it) runs
    /// under the uid and gid asked for, with no supplementary groups.
    func testFixtureRunsUnderTheCredentialsAskedFor() throws {
        try XCTSkipUnless(geteuid() == 0, "only root can start a process under another uid")
        let script = #"u="$(id -u):$(id -g):$(id -G)"; while read l; do echo '{"id":1,"outcome":"ok","result":{"language":"'"$u"'","implementation":"sh","protocol":{"major":1,"minor":0},"features":[],"operations":[],"pause_points":[],"faults":[]}}'; done"#
        let fx = try FixtureProcess(spec: sh("runas", script), runAs: .unprivileged)
        defer { fx.stop() }
        XCTAssertEqual(try fx.sayHello()["language"]?.string, "424242:424242:424242")
        XCTAssertEqual(ProcessIdentity.effectiveUid(pid: Int(fx.pid)), 424_242)
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

    // MARK: - robustness (issue 11 §2)

    /// A fixture that never reads its stdin while a request larger than the pipe buffer is
    /// written: the write is bounded by the timeout like a read (it used to block for ever).
    func testWriteToAFixtureThatStopsReadingTimesOut() throws {
        let fx = try FixtureProcess(spec: sh("deaf", "trap 'exit 1' QUIT; sleep 60"), timeout: 1)
        let start = Date()
        let big = JSON.string(String(repeating: "ab", count: 1 << 20))
        XCTAssertThrowsError(try fx.call("put", ["key_hex": "00", "value_hex": big])) { e in
            guard case FixtureFailure.hung(_, let op, _, _) = e else { return XCTFail("got \(e)") }
            XCTAssertTrue(op.contains("stopped reading its input"), op)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 6)
        XCTAssertTrue(fx.hasExited)
    }

    /// A fixture that exits before reading `hello`: the write fails with EPIPE and is reported
    /// as the exit it is; the harness is not killed by SIGPIPE (exit 141).
    func testFixtureThatExitsBeforeReadingIsReportedNotASigpipe() throws {
        let fx = try FixtureProcess(spec: sh("quitter", "exec 0<&-; echo bye >&2; exit 3"))
        let start = Date()
        while !fx.hasExited && Date().timeIntervalSince(start) < 5 { usleep(10_000) }
        XCTAssertThrowsError(try fx.call("hello", ["pad": .string(String(repeating: "x", count: 200_000))])) { e in
            guard case FixtureFailure.exited(_, let status, let op, let tail) = e else { return XCTFail("got \(e)") }
            XCTAssertEqual(status, "exited with status 3")
            XCTAssertEqual(op, "hello")
            XCTAssertTrue(tail.contains("bye"), tail)
        }
    }

    /// A stderr flood is drained as it comes and only its tail is kept: memory stays flat, and
    /// the tail shows the last lines.
    func testStderrFloodKeepsOnlyTheTailInMemory() throws {
        let fx = try FixtureProcess(spec: sh("flood", #"""
            read l; head -c 150000000 /dev/zero | tr '\0' x >&2; echo >&2; echo the-last-line >&2
            echo '{"id":1,"outcome":"ok","result":{}}'; read l
            """#), timeout: 60)
        let before = Self.residentBytes()
        _ = try fx.call("hello")
        let tail = fx.settledStderrTail(within: 5)
        XCTAssertTrue(tail.hasSuffix("the-last-line"), String(tail.suffix(80)))
        XCTAssertLessThanOrEqual(tail.utf8.count, 64 * 1024 + 8)
        let grown = Self.residentBytes() - before
        XCTAssertLessThan(grown, 40 << 20, "150 MB of stderr grew the harness by \(grown >> 20) MiB")
        fx.stop()
    }

    static func residentBytes() -> Int {
        let f = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
        return (Int(f.split(separator: " ")[1]) ?? 0) * Int(getpagesize())
    }

    /// A line past the guard is a contract violation reported as soon as the guard is passed —
    /// not after the timeout (scanning the whole buffer for a newline at every read made a long
    /// line take quadratic time).
    func testOverlongLineIsReportedAtOnce() throws {
        let fx = try FixtureProcess(spec: sh("longline", #"read l; head -c 70000000 /dev/zero | tr '\0' a; sleep 60"#), timeout: 60)
        let start = Date()
        XCTAssertThrowsError(try fx.call("hello")) { e in
            guard case FixtureFailure.contractViolation(_, _, let reason, _) = e else { return XCTFail("got \(e)") }
            XCTAssertTrue(reason.contains("longer than 64 MiB"), reason)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "took the timeout instead of noticing the length")
        XCTAssertTrue(fx.hasExited)
    }

    /// `paused` in answer to a request with no `pause_at` breaks the contract: a harness error
    /// (FixtureFailure), never an outcome the case would judge.
    func testUnsolicitedPauseIsAContractViolation() throws {
        let fx = try FixtureProcess(spec: sh("pauser", #"read l; echo '{"id":1,"paused":"put.after_claim"}'; sleep 5"#))
        XCTAssertThrowsError(try fx.call("put")) { e in
            guard case FixtureFailure.contractViolation(_, let line, let reason, _) = e else { return XCTFail("got \(e)") }
            XCTAssertTrue(reason.contains("named no pause point"), reason)
            XCTAssertTrue(line.contains("put.after_claim"), line)
        }
        fx.stop(grace: 0.1)
    }

    /// Stderr goes to a pipe: neither a fixture that cannot start nor one that ran leaves a
    /// file in the scratch directory.
    func testNoStderrFilesAreLeftBehind() throws {
        let dir = NSTemporaryDirectory() + "fx-scratch-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try FixtureProcess(spec: FixtureSpec(name: "nope", argv: ["/nonexistent/fixture"]), scratchDir: dir))
        let fx = try FixtureProcess(spec: sh("talker", "echo hi >&2; read l"), scratchDir: dir)
        fx.stop()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    /// When warmcheck dies however it dies (SIGKILL: no handler runs), the guard process sees
    /// its pipe close and kills every fixture group still alive.
    func testOrphanGuardKillsFixturesWhenTheHarnessDies() throws {
        let fx = try FixtureProcess(spec: sh("sleeper", "sleep 60"))
        let guardian = OrphanGuard()
        guardian.add(group: fx.pid)
        let guardPid = guardian.closeForTesting()
        XCTAssertGreaterThan(guardPid, 0, "no bash for the guard")
        let start = Date()
        while !fx.hasExited && Date().timeIntervalSince(start) < 5 { usleep(20_000) }
        XCTAssertTrue(fx.hasExited, "the fixture outlived the harness")
        var st: Int32 = 0
        waitpid(guardPid, &st, 0)
    }

    func testShutdownRemovesOnlyThisProcesssScratchFiles() throws {
        let dir = NSTemporaryDirectory() + "shutdown-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid: pid_t = 4242
        let mine = ["wc-race-x-4242-17.seg", "wc-race-x-4242-17.seg.init.9", "warmcheck-stress-4242-5.seg", "matrix-go-4242.seg"]
        let others = ["wc-race-x-42421-17.seg", "wc-race-4242.txt", "matrix-go-14242.seg", "notes-4242-1.seg", "warmcheck-artifacts",
                      "warmcheck-powercut-14242"]
        for f in mine + others { FileManager.default.createFile(atPath: dir + "/" + f, contents: Data()) }
        // A gate's working directory goes with what it holds; another process's stays.
        try FileManager.default.createDirectory(atPath: dir + "/warmcheck-powercut-4242/w-go", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/warmcheck-powercut-4242/w-go/journal", contents: Data([1]))
        Shutdown.removeScratch(in: dir, pid: pid)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), Set(others))
    }

    /// The Swift fixture counts as stale when missing or older than any of its sources, as the
    /// Go and Rust ones do (warmcheck then builds it instead of failing every cell it plays).
    func testSwiftFixtureStalenessFollowsItsSources() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory() + "stale-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        for d in Repo.swiftFixtureSources where !d.hasSuffix(".swift") {
            try fm.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        let src = root.appendingPathComponent("Sources/Warmcache/Put.swift").path
        fm.createFile(atPath: src, contents: Data("x".utf8))
        let bin = root.appendingPathComponent("fixture").path
        XCTAssertTrue(Repo.swiftFixtureIsStale(bin, root: root), "missing binary")
        fm.createFile(atPath: bin, contents: Data())
        try fm.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: src)
        XCTAssertFalse(Repo.swiftFixtureIsStale(bin, root: root))
        try fm.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: src)
        XCTAssertTrue(Repo.swiftFixtureIsStale(bin, root: root), "a source newer than the binary")
    }
}
