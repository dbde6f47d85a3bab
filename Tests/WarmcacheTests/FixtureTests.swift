// Driver-level tests of the built warmcache-swift-fixture binary: pause_at + resume (one point
// and step mode), crash_at, --fault and echo (docs/DRIVER.md).

import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// The fixture binary: next to the test bundle, or under .build-swiftlib/debug / .build/debug.
func fixtureBinary() -> String? {
    var dirs: [URL] = []
    let bundle = Bundle(for: FixtureTests.self).bundleURL
    dirs.append(bundle.deletingLastPathComponent())
    dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for d in [".build-swiftlib/debug", ".build/debug"] { dirs.append(repoRoot.appendingPathComponent(d)) }
    for d in dirs {
        let p = d.appendingPathComponent("warmcache-swift-fixture").path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

/// A running fixture with line-oriented stdin/stdout.
final class FixtureProcess {
    let process = Process()
    let stdin = Pipe()
    let stdout = Pipe()
    var buffer = Data()

    init(_ binary: String, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func send(_ line: String) {
        stdin.fileHandleForWriting.write((line + "\n").data(using: .utf8)!)
    }

    /// Send raw bytes and a newline (for lines that are not UTF-8).
    func send(bytes: [UInt8]) {
        stdin.fileHandleForWriting.write(Data(bytes + [0x0A]))
    }

    /// The next stdout line parsed as a JSON object, or nil at EOF.
    func readObject() -> [String: Any]? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                return (try? JSONSerialization.jsonObject(with: line)) as? [String: Any]
            }
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    func request(_ line: String) -> [String: Any]? {
        send(line)
        return readObject()
    }

    func close() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

final class FixtureTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { paths.forEach(removeFile); paths = [] }

    func fixture(_ args: [String] = ["serve", "--trace"]) throws -> FixtureProcess {
        guard let bin = fixtureBinary() else {
            throw XCTSkip("warmcache-swift-fixture not built (swift build --scratch-path .build-swiftlib --product warmcache-swift-fixture)")
        }
        return try FixtureProcess(bin, args)
    }

    func createLine(_ id: Int, _ p: String) -> String {
        #"{"id":\#(id),"op":"create","args":{"path":"\#(p)","geometry":{"shard_count":2,"slots_per_shard":8,"key_capacity":16,"value_capacity":64,"probe_window":4,"participant_capacity":8}}}"#
    }

    /// DRIVER.md "Odd input": every line gets one answer and the fixture reads on; bad paths are
    /// refused before any file is touched (a NUL used to cut the path short and open another file;
    /// with `nul_path` listed the library refuses it, `io`).
    func testOddInputGetsOneAnswerPerLine() throws {
        let dir = tempPath()
        XCTAssertEqual(mkdir(dir, 0o700), 0)
        defer { rmdir(dir) }
        let f = try fixture()
        defer { f.close() }
        let geo = #""geometry":{"shard_count":1,"slots_per_shard":4,"key_capacity":16,"value_capacity":64,"probe_window":2,"participant_capacity":8}"#
        func error(_ o: [String: Any]?) -> (id: Any?, kind: String?, message: String?) {
            let e = o?["error"] as? [String: Any]
            return (o?["id"], e?["kind"] as? String, e?["message"] as? String)
        }
        f.send(bytes: [0xFF, 0xFE, 0x7B, 0x7D])
        var e = error(f.readObject())
        XCTAssertTrue(e.id is NSNull)
        XCTAssertEqual(e.kind, "bad_request")
        XCTAssertEqual(e.message, "the line is not valid UTF-8")
        for blankOrNotObject in ["", "[1]"] {
            e = error(f.request(blankOrNotObject))
            XCTAssertTrue(e.id is NSNull, blankOrNotObject)
            XCTAssertEqual(e.kind, "bad_request", blankOrNotObject)
        }
        XCTAssertEqual(f.request(#"{"id":1,"op":"close"}"#)?["outcome"] as? String, "ok")
        let missing = f.request(#"{"id":2,"op":"create","args":{"path":"\#(dir)/missing/seg",\#(geo)}}"#)
        XCTAssertEqual(missing?["reason"] as? String, "not_found")
        e = error(f.request(#"{"id":3,"op":"create","args":{"path":"",\#(geo)}}"#))
        XCTAssertEqual(e.kind, "bad_request")
        XCTAssertEqual(e.message, "missing path")
        XCTAssertEqual(error(f.request(#"{"id":4,"op":"open","args":{"path":""}}"#)).message, "missing path")
        for line in [#"{"id":5,"op":"create","args":{"path":"\#(dir)/a\u0000b",\#(geo)}}"#,
                     #"{"id":6,"op":"open_or_create","args":{"path":"\#(dir)/a\u0000b",\#(geo)}}"#,
                     #"{"id":7,"op":"open","args":{"path":"\#(dir)/a\u0000b"}}"#] {
            // The fixture lists `nul_path`: the path goes to the library, which refuses it `io`.
            let r = f.request(line)
            XCTAssertEqual(r?["outcome"] as? String, "fail", line)
            XCTAssertEqual(r?["reason"] as? String, "io", line)
        }
        XCTAssertEqual(f.request(#"{"id":8,"op":"hello"}"#)?["outcome"] as? String, "ok")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "files left behind")
        // The library refuses such a path too, rather than opening the file named by its prefix.
        XCTAssertThrowsError(try WarmCache.open(path: dir + "/a\u{0}b")) { XCTAssertEqual(($0 as? SegmentError)?.code, "io") }
    }

    /// DRIVER.md "After close": the fixture keeps the closed handle, so each handle operation is
    /// the library's closed handle's answer, `fail(closed)`; closing again is `ok`.
    func testClosedHandleAnswersClosed() throws {
        let p = tempPath()
        defer { removeFile(p) }
        let f = try fixture()
        defer { f.close() }
        XCTAssertEqual(f.request(createLine(1, p))?["outcome"] as? String, "ok")
        XCTAssertEqual(f.request(#"{"id":2,"op":"close"}"#)?["outcome"] as? String, "ok")
        for (i, line) in [#""op":"get","args":{"key_hex":"61"}"#, #""op":"put","args":{"key_hex":"61","value_hex":"00"}"#,
                          #""op":"evict","args":{"key_hex":"61"}"#, #""op":"stats""#, #""op":"generation""#,
                          #""op":"wait","args":{"seen":0,"timeout_ms":5000}"#, #""op":"set_clock","args":{"now_ns":1}"#,
                          #""op":"dump""#, #""op":"participants""#, #""op":"journal_state""#, #""op":"repair""#,
                          #""op":"ns_unpin""#, #""op":"ns_state","args":{"ns":0}"#].enumerated() {
            let r = f.request(#"{"id":\#(10 + i),\#(line)}"#)
            XCTAssertEqual(r?["outcome"] as? String, "fail", line)
            XCTAssertEqual(r?["reason"] as? String, "closed", line)
        }
        XCTAssertEqual(f.request(#"{"id":98,"op":"close"}"#)?["outcome"] as? String, "ok")
    }

    func testHelloListsPausePointsAndFaults() throws {
        let f = try fixture()
        defer { f.close() }
        let r = try XCTUnwrap(f.request(#"{"id":1,"op":"hello"}"#)?["result"] as? [String: Any])
        XCTAssertEqual(r["pause_points"] as? [String], PausePoint.allNames)
        XCTAssertEqual(r["faults"] as? [String], Faults.allNames)
        XCTAssertFalse((r["operations"] as? [String] ?? []).contains("resume"))
    }

    func testPauseAtAndResume() throws {
        let p = tempPath(); paths.append(p)
        let f = try fixture()
        defer { f.close() }
        XCTAssertEqual(f.request(createLine(1, p))?["outcome"] as? String, "ok")
        // One point: notification, a non-resume request is refused (its own id), then resume.
        var n = try XCTUnwrap(f.request(#"{"id":2,"op":"put","args":{"key_hex":"6b","value_hex":"01","pause_at":"put.after_payload"}}"#))
        XCTAssertEqual(n["id"] as? Int, 2)
        XCTAssertEqual(n["paused"] as? String, "put.after_payload")
        // While the writer is paused between payload and publish, another process reads nothing.
        let other = try WarmCache.open(path: p)
        XCTAssertEqual(other.get(bytes("k")), .miss)
        XCTAssertEqual(try other.stats().occupancy["WRITING"], 1)
        let refused = try XCTUnwrap(f.request(#"{"id":3,"op":"get","args":{"key_hex":"6b"}}"#))
        XCTAssertEqual(refused["id"] as? Int, 3)
        XCTAssertEqual((refused["error"] as? [String: Any])?["kind"] as? String, "bad_request")
        let done = try XCTUnwrap(f.request(#"{"id":4,"op":"resume"}"#))
        XCTAssertEqual(done["id"] as? Int, 2)
        XCTAssertEqual(done["outcome"] as? String, "ok")
        XCTAssertEqual(other.get(bytes("k")).value, [1])

        // Step mode: a notification at every point, the response after the last resume.
        n = try XCTUnwrap(f.request(#"{"id":5,"op":"put","args":{"key_hex":"6b","value_hex":"02","pause_at":"*"}}"#))
        var points: [String] = [n["paused"] as? String ?? "?"]
        var id = 6
        while true {
            let m = try XCTUnwrap(f.request(#"{"id":\#(id),"op":"resume"}"#))
            id += 1
            if let pt = m["paused"] as? String { XCTAssertEqual(m["id"] as? Int, 5); points.append(pt); continue }
            XCTAssertEqual(m["id"] as? Int, 5)
            XCTAssertEqual(m["outcome"] as? String, "ok")
            break
        }
        XCTAssertEqual(points, ["refresh.before_claim", "refresh.after_claim", "refresh.after_payload"])
        // A resume with nothing paused and an unknown point are bad requests.
        XCTAssertNotNil(f.request(#"{"id":50,"op":"resume"}"#)?["error"])
        XCTAssertNotNil(f.request(#"{"id":51,"op":"get","args":{"key_hex":"6b","pause_at":"nope"}}"#)?["error"])
        other.close()
    }

    func testCrashAt() throws {
        let p = tempPath(); paths.append(p)
        let f = try fixture()
        XCTAssertEqual(f.request(createLine(1, p))?["outcome"] as? String, "ok")
        XCTAssertEqual(f.request(#"{"id":2,"op":"put","args":{"key_hex":"6b","value_hex":"01"}}"#)?["outcome"] as? String, "ok")
        let bad = try XCTUnwrap(f.request(#"{"id":3,"op":"put","args":{"key_hex":"6b","value_hex":"02","crash_at":"bogus"}}"#))
        XCTAssertEqual((bad["error"] as? [String: Any])?["kind"] as? String, "bad_request")
        // Pause and crash at the same point: the pause comes first, the crash after the resume.
        let n = try XCTUnwrap(f.request(#"{"id":4,"op":"put","args":{"key_hex":"6b","value_hex":"02","crash_at":"refresh.after_payload","pause_at":"refresh.after_payload"}}"#))
        XCTAssertEqual(n["paused"] as? String, "refresh.after_payload")
        XCTAssertNil(f.request(#"{"id":5,"op":"resume"}"#), "no response: killed")
        f.close()
        XCTAssertEqual(f.process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(f.process.terminationStatus, SIGKILL)
        // The dead refresher left REFRESHING(d); readers still get the old value.
        let c = try WarmCache.open(path: p)   // takes the dead index: its sweep makes T13
        defer { c.close() }
        XCTAssertEqual(c.get(bytes("k")).value, [1])
        XCTAssertEqual(try c.stats().totals.reclaims, 1)
    }

    func testFaultOptionAndEcho() throws {
        guard fixtureBinary() != nil else { throw XCTSkip("fixture not built") }
        let bad = try fixture(["serve", "--fault", "no_such_fault"])
        bad.close()
        XCTAssertEqual(bad.process.terminationStatus, 2)

        let p = tempPath(); paths.append(p)
        let f = try fixture(["serve", "--fault", "wrong_hash", "--fault", "stale_forever"])
        XCTAssertEqual(f.request(createLine(1, p))?["outcome"] as? String, "ok")
        XCTAssertEqual(f.request(#"{"id":2,"op":"put","args":{"key_hex":"6b","value_hex":"01"}}"#)?["outcome"] as? String, "ok")
        let c = try WarmCache.open(path: p)
        XCTAssertEqual(c.get(bytes("k")), .miss, "wrong_hash: correct readers miss")
        c.close()
        f.close()

        let e = try fixture(["echo"])
        e.send("not json {")
        e.send(#"{"id":1}"#)
        var lines: [String] = []
        while lines.count < 2 {
            let chunk = e.stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            e.buffer.append(chunk)
            lines = String(decoding: e.buffer, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(lines, ["not json {", #"{"id":1}"#])
        e.close()
        XCTAssertEqual(e.process.terminationStatus, 0)
    }
}
