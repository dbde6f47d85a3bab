#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

@testable import WarmcheckCore

/// The `warmcheck` command as a user meets it: exit statuses, refusals before anything runs,
/// reports written on input errors, and what a stop signal or a SIGKILL leaves behind.
/// Needs `swift build --product warmcheck` (scripts/test.sh builds it first); skipped without it.
final class CommandLineTests: XCTestCase {
    var exe: String!
    var dir: String!

    override func setUpWithError() throws {
        guard let root = Repo.root() else { throw XCTSkip("no checkout") }
        exe = root.appendingPathComponent(".build/debug/warmcheck").path
        guard FileManager.default.isExecutableFile(atPath: exe) else { throw XCTSkip("build warmcheck first") }
        dir = NSTemporaryDirectory() + "wccli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Sticky and world-writable like /dev/shm: under root the scenario fixtures run as uid
        // 424242 (docs/DRIVER.md "Fixture credentials") and write their pid and segment here.
        chmod(dir, 0o1777)
    }

    override func tearDown() {
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    struct Outcome { var status: Int32; var signaled: Bool; var out: String; var err: String }

    /// Runs warmcheck; `whileRunning` gets its pid once started.
    @discardableResult
    func warmcheck(_ args: [String], whileRunning: ((pid_t) -> Void)? = nil) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        whileRunning?(p.processIdentifier)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
                       out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func write(_ name: String, _ text: String) -> String {
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    var scenario: String {
        write("one.yaml", "name: one\nprocesses:\n  writer: any\ninit:\n  - writer: create\n")
    }

    func testUsageErrorsExitTwoAndVersionZero() throws {
        for args in [["run", "--timeout", "0"], ["run", "--no-such-flag"], ["run", "--seed", "abc"], ["stress", "--timeout", "-1"],
                     ["matrix", "--timeout", "nan"], ["bogus-command"]] {
            let r = try warmcheck(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
            XCTAssertFalse(r.err.isEmpty, "\(args): says nothing")
        }
        let v = try warmcheck(["--version"])
        XCTAssertEqual(v.status, 0)
        XCTAssertTrue(v.out.hasPrefix("warmcheck "), v.out)
    }

    /// A role only an implementation the run lacks can play: the message names the file and
    /// line of the role and why, rather than "no case matches".
    func testCaselessScenarioSaysWhereAndWhy() throws {
        let f = write("cobol.yaml", "name: cobol-writes\nprocesses:\n  reader: any\n  writer: [cobol]\ninit:\n  - writer: create\n")
        let json = dir + "/r.json", junit = dir + "/r.xml"
        let r = try warmcheck(["run", "--no-build", f, "--json", json, "--junit", junit])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("cobol.yaml:4:"), r.err)
        XCTAssertTrue(r.err.contains("role writer allows only cobol"), r.err)
        // The reports are written all the same, with the input error as an errored case.
        let report = try JSON.parse(try XCTUnwrap(FileManager.default.contents(atPath: json)))
        XCTAssertEqual(report["cases"]?.array?.first?["verdict"]?.string, "error")
        XCTAssertTrue(try String(contentsOfFile: junit, encoding: .utf8).contains("warmcheck-input"))
    }

    func testBrokenScenarioStillWritesTheReports() throws {
        let f = write("broken.yaml", "name: broken\nprocesses: [\n")
        let json = dir + "/r.json"
        let r = try warmcheck(["run", "--no-build", f, "--json", json])
        XCTAssertEqual(r.status, 2)
        let report = try JSON.parse(try XCTUnwrap(FileManager.default.contents(atPath: json)))
        XCTAssertTrue(report["cases"]?.array?.first?["reason"]?.string?.contains("problem(s) in the scenario files") == true, "\(report)")
    }

    /// An unknown fault is refused before any case runs, with the fixture's list; nothing is
    /// left in the artifacts directory.
    func testUnknownFaultIsRefusedWithTheList() throws {
        let fx = write("fx.sh", #"while read l; do echo '{"id":1,"outcome":"ok","result":{"language":"sh","faults":["a_fault","b_fault"]}}'; done"#)
        let r = try warmcheck(["run", "--no-build", scenario, "--fixture", "mine=/bin/sh \(fx)", "--fault", "mine=c_fault",
                               "--artifacts", dir + "/art"])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("has no fault c_fault; it lists a_fault, b_fault"), r.err)
        XCTAssertFalse(r.out.contains("PASS") || r.out.contains("FAIL") || r.out.contains("ERROR"), r.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/art"))
    }

    /// A fixture that never starts: an errored case, exit 2, and no replay or HTML for it.
    func testUnstartableFixtureLeavesNoArtifacts() throws {
        let r = try warmcheck(["run", "--no-build", scenario, "--fixture", "ghost=/nonexistent/fixture serve", "--artifacts", dir + "/art"])
        XCTAssertEqual(r.status, 2, r.out + r.err)
        XCTAssertTrue(r.out.contains("0 passed, 0 failed, 1 errors"), r.out)
        XCTAssertTrue(r.out.contains("rerun each with"), r.out)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/art")) ?? []
        XCTAssertEqual(left, [], "artifacts for a fixture that never started")
    }

    func testReplayOfAMissingScenarioExitsTwo() throws {
        let replay = Replay(scenarioFile: dir + "/gone.yaml", caseName: "gone[w=go]", seed: 1, strategy: "script", schedule: [],
                            reason: "x", fixtures: ["go": ["/bin/true"]])
        let f = write("gone.replay.json", replay.json.pretty)
        let r = try warmcheck(["replay", f])
        XCTAssertEqual(r.status, 2, r.out + r.err)
        XCTAssertTrue(r.err.contains("gone.yaml"), r.err)
        // Bogus seeds and strategies are refused, not defaulted.
        for (key, bad) in [("seed", JSON.string("-3")), ("seed", .double(1.5)), ("strategy", .string("random-ish"))] {
            guard case .object(var o) = replay.json else { return XCTFail() }
            o[key] = bad
            let g = write("bad.replay.json", JSON.object(o).pretty)
            let b = try warmcheck(["replay", g])
            XCTAssertEqual(b.status, 2, "\(key)=\(bad): \(b.err)")
            XCTAssertTrue(b.err.contains(key), b.err)
        }
    }

    func testReplayWithAnUnstartableFixtureExitsTwo() throws {
        let replay = Replay(scenarioFile: scenario, caseName: "one[writer=ghost]", seed: 1, strategy: "script", schedule: [],
                            reason: "x", fixtures: ["ghost": ["/nonexistent/fixture"]])
        let r = try warmcheck(["replay", write("ghost.replay.json", replay.json.pretty)])
        XCTAssertEqual(r.status, 2, r.out + r.err)
        XCTAssertTrue(r.err.contains("could not run"), r.err)
    }

    /// Scratch files of this warmcheck in its work directory, and whether `pid` still runs.
    func scratch(_ work: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).filter { $0.hasPrefix("wc-") || $0.hasSuffix(".stderr") }
    }

    func alive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }

    /// The fixture writes its pid to a file, says hello, creates the segment file it is asked
    /// to create (and a creator's leftover beside it), then hangs.
    func hangingFixture() -> String {
        write("hang.sh", #"""
            echo $$ > \#(dir!)/fixture.pid
            read l; echo '{"id":1,"outcome":"ok","result":{"language":"sh","operations":["create"]}}'
            read l; p=$(echo "$l" | sed 's/.*"path":"\([^"]*\)".*/\1/'); touch "$p" "$p.init.7"
            sleep 60
            """#)
    }

    func waitFor(_ what: () -> Bool, seconds: Double = 10) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end { if what() { return true }; usleep(50_000) }
        return what()
    }

    func fixturePid() -> pid_t? {
        (try? String(contentsOfFile: dir + "/fixture.pid", encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// SIGTERM while a fixture hangs: warmcheck dies of the signal, the fixture with it, and
    /// the work directory holds nothing of this run.
    func testStopSignalKillsFixturesAndRemovesScratchFiles() throws {
        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        chmod(work, 0o1777)
        let fx = hangingFixture()
        var fixture: pid_t?
        let r = try warmcheck(["run", "--no-build", scenario, "--fixture", "sh=/bin/sh \(fx)", "--work-dir", work, "--timeout", "60"]) { pid in
            XCTAssertTrue(self.waitFor { self.fixturePid() != nil }, "the fixture never started")
            fixture = self.fixturePid()
            XCTAssertTrue(self.waitFor { self.scratch(work).count == 2 }, "the segment was never created: \(self.scratch(work))")
            kill(pid, SIGTERM)
        }
        XCTAssertTrue(r.signaled, "status \(r.status): \(r.err)")
        XCTAssertEqual(r.status, SIGTERM)
        let f = try XCTUnwrap(fixture)
        XCTAssertTrue(waitFor { !self.alive(f) }, "fixture \(f) outlived warmcheck")
        XCTAssertEqual(scratch(work), [])
    }

    /// SIGKILL: no handler runs; the orphan guard still kills the fixture.
    func testSigkilledHarnessLeavesNoFixture() throws {
        let fx = hangingFixture()
        var fixture: pid_t?
        _ = try warmcheck(["run", "--no-build", scenario, "--fixture", "sh=/bin/sh \(fx)", "--work-dir", dir, "--timeout", "60"]) { pid in
            XCTAssertTrue(self.waitFor { self.fixturePid() != nil }, "the fixture never started")
            fixture = self.fixturePid()
            XCTAssertTrue(self.waitFor { self.scratch(self.dir).count == 2 }, "the fixture never got its create")
            kill(pid, SIGKILL)
            // Here, before the output is read: a fixture that outlived warmcheck would hold no
            // pipe of ours, but checking after the read would wait for its sleep to end.
            if let f = fixture { XCTAssertTrue(self.waitFor { !self.alive(f) }, "fixture \(f) outlived a SIGKILLed warmcheck") }
        }
        XCTAssertNotNil(fixture)
    }

    func testListLintAndExpectedFailureListing() throws {
        let l = try warmcheck(["run", "--no-build", scenario, "--fixture", "a=/bin/true", "--fixture", "b=/bin/true", "--list"])
        XCTAssertEqual(l.status, 0, l.err)
        XCTAssertTrue(l.out.contains("one[writer=a]") && l.out.contains("one[writer=b]") && l.out.contains("2 case(s)"), l.out)
        let lint = try warmcheck(["run", scenario, write("bad.yaml", "name: bad\nprocesses:\n  w: any\ninit:\n  - w: get k1\n    expect: hitt\n"), "--lint"])
        XCTAssertEqual(lint.status, 2)
        XCTAssertTrue(lint.err.contains("bad.yaml:6"), lint.err)
        // The list written for failing cases is one the run accepts back, and it then passes.
        let list = dir + "/xfail.txt"
        let r1 = try warmcheck(["run", "--no-build", scenario, "--fixture", "ghost=/nonexistent/fixture", "--write-expected-failures", list])
        XCTAssertEqual(r1.status, 2)
        let text = try String(contentsOfFile: list, encoding: .utf8)
        XCTAssertTrue(text.contains("one[writer=ghost] | "), text)
        let r2 = try warmcheck(["run", "--no-build", scenario, "--fixture", "ghost=/nonexistent/fixture", "--expected-failures", "ghost=\(list)"])
        XCTAssertEqual(r2.status, 0, r2.out + r2.err)
        XCTAssertTrue(r2.out.contains("1 expected failures"), r2.out)
    }

    /// A replay says when its verdict depends on timing (a parallel block, the real clock),
    /// so that `reproduced 4/5` reads as a rate, not as a failure to reproduce.
    func testReplaySaysWhenTheVerdictDependsOnTiming() throws {
        func replay(_ yaml: String) -> Replay {
            Replay(scenarioFile: write("t\(yaml.count).yaml", yaml), caseName: "x", seed: 1, strategy: "script", schedule: [],
                   reason: "", fixtures: [:])
        }
        let sequential = "name: s\nprocesses:\n  a: any\ninit:\n  - a: create\n"
        XCTAssertNil(try replay(sequential).timingDependence())
        let parallel = "name: p\nprocesses:\n  a: any\n  b: any\ninit:\n  - a: create\n  - b: open\nparallel:\n  a:\n    - a: get k1\n  b:\n    - b: get k1\n"
        XCTAssertTrue(try replay(parallel).timingDependence()?.contains("parallel") == true)
        let real = "name: r\nclock: real\nprocesses:\n  a: any\ninit:\n  - a: create\n"
        XCTAssertTrue(try replay(real).timingDependence()?.contains("real clock") == true)
    }

    /// SIGINT in the middle of a stress run: its segment goes (docs/STRESS.md promises it), and
    /// so do its processes.
    func testInterruptedStressRemovesItsSegment() throws {
        guard let go = Repo.referenceFixture("go"), FileManager.default.isExecutableFile(atPath: go.argv[0]) else {
            throw XCTSkip("build the Go fixture first (scripts/build-fixtures.sh)")
        }
        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let segments = { ((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).filter { $0.hasPrefix("warmcheck-stress-") } }
        var children: [pid_t] = []
        let r = try warmcheck(["stress", "--no-build", "--fixture", "go", "--processes", "2", "--duration", "60s", "--work-dir", work]) { pid in
            XCTAssertTrue(self.waitFor { !segments().isEmpty }, "the stress segment never appeared")
            usleep(500_000)
            children = Self.children(of: pid)
            kill(pid, SIGINT)
        }
        XCTAssertTrue(r.signaled, "status \(r.status)")
        XCTAssertEqual(segments(), [])
        XCTAssertFalse(children.isEmpty)
        for c in children { XCTAssertTrue(waitFor { !self.alive(c) }, "process \(c) outlived warmcheck") }
    }

    /// The processes whose parent is `pid` (from /proc).
    static func children(of pid: pid_t) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { d -> pid_t? in
            guard let p = pid_t(d), let stat = try? String(contentsOfFile: "/proc/\(d)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && pid_t(fields[1]) == pid ? p : nil
        }
    }

    /// A fixture that answers a plain `get` with `paused`: the case is an ERROR naming the
    /// contract violation, not a FAIL of the protocol (before, the pause was judged against the
    /// step's expectations).
    func testUnsolicitedPauseInACaseIsAnError() throws {
        let fx = write("pauser.sh", #"""
            while read -r l; do
              id=$(echo "$l" | sed 's/.*"id":\([0-9]*\).*/\1/'); op=$(echo "$l" | sed 's/.*"op":"\([a-z_]*\)".*/\1/')
              case $op in
                hello) echo "{\"id\":$id,\"outcome\":\"ok\",\"result\":{\"language\":\"sh\",\"operations\":[\"create\",\"get\",\"close\"]}}" ;;
                get) echo "{\"id\":$id,\"paused\":\"get.after_key_match\"}" ;;
                *) echo "{\"id\":$id,\"outcome\":\"ok\",\"result\":{\"participant\":1}}" ;;
              esac
            done
            """#)
        let f = write("get.yaml", "name: get-once\nprocesses:\n  r: any\ninit:\n  - r: create\n  - r: get k1\n    expect: miss\n")
        let r = try warmcheck(["run", "--no-build", f, "--fixture", "sh=/bin/sh \(fx)", "--artifacts", dir + "/art"])
        XCTAssertEqual(r.status, 2, r.out + r.err)
        XCTAssertTrue(r.out.contains("ERROR") && !r.out.contains("FAIL "), r.out)
        XCTAssertTrue(r.out.contains("named no pause point"), r.out)
        XCTAssertTrue(r.out.contains("0 passed, 0 failed, 1 errors"), r.out)
    }
}
