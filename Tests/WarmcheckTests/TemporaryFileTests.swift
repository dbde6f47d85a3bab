import Foundation
import XCTest

@testable import WarmcheckCore

/// Where temporary files go: Foundation's atomic write leaves nothing outside the destination's
/// directory (no `TemporaryDirectory.*` in TMPDIR, no temporary file after a failed write), and
/// the builds warmcheck starts leave the toolchain's empty `TemporaryDirectory.*` in a private
/// TMPDIR that is removed afterwards.
final class TemporaryFileTests: XCTestCase {
    var scratch: String!

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "tmpfile-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: scratch + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch + "/dest", withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    func entries(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    /// Runs `body` with TMPDIR pointing at the scratch `tmp` directory (XCTest runs the tests of
    /// this target one after another, so no other test sees the change).
    func withScratchTMPDIR(_ body: () throws -> Void) rethrows {
        let old = getenv("TMPDIR").map { String(cString: $0) }
        setenv("TMPDIR", scratch + "/tmp/", 1)
        defer { if let old { setenv("TMPDIR", old, 1) } else { unsetenv("TMPDIR") } }
        try body()
    }

    func testAtomicWritesLeaveNothingInTMPDIRNorBesideTheDestination() throws {
        try withScratchTMPDIR {
            // The control: had Foundation used a replacement directory for atomic writes, this is
            // where it would appear; so an empty `tmp` below means none was made.
            let probe = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask,
                                                    appropriateFor: URL(fileURLWithPath: scratch + "/dest/x"), create: true)
            XCTAssertTrue(probe.path.hasPrefix(scratch + "/tmp"), "TMPDIR is not where Foundation puts replacement directories: \(probe.path)")
            for e in entries(scratch + "/tmp") { try FileManager.default.removeItem(atPath: scratch + "/tmp/" + e) }

            for i in 0..<3 {  // a new file, then replacing it
                try "text \(i)".write(toFile: scratch + "/dest/a.txt", atomically: true, encoding: .utf8)
                try Data("data \(i)".utf8).write(to: URL(fileURLWithPath: scratch + "/dest/b.bin"), options: .atomic)
                XCTAssertTrue(FileManager.default.createFile(atPath: scratch + "/dest/c.bin", contents: Data("c \(i)".utf8)))
            }
            XCTAssertEqual(try String(contentsOfFile: scratch + "/dest/a.txt", encoding: .utf8), "text 2")
            XCTAssertEqual(entries(scratch + "/tmp"), [], "an atomic write left something in TMPDIR")
            XCTAssertEqual(entries(scratch + "/dest"), ["a.txt", "b.bin", "c.bin"], "an atomic write left a temporary file beside its destination")

            // A write that fails at the rename (the destination is a non-empty directory) leaves
            // no temporary file behind either.
            try FileManager.default.createDirectory(atPath: scratch + "/dest/d/inside", withIntermediateDirectories: true)
            XCTAssertThrowsError(try "x".write(toFile: scratch + "/dest/d", atomically: true, encoding: .utf8))
            XCTAssertThrowsError(try Data("x".utf8).write(to: URL(fileURLWithPath: scratch + "/dest/d"), options: .atomic))
            XCTAssertEqual(entries(scratch + "/dest"), ["a.txt", "b.bin", "c.bin", "d"], "a failed atomic write left its temporary file")
            XCTAssertEqual(entries(scratch + "/tmp"), [])
        }
    }

    /// `swiftc -version` is one of the toolchain commands that leave an empty
    /// `TemporaryDirectory.*` in TMPDIR; given a private TMPDIR, nothing is left anywhere.
    func testAChildsPrivateTMPDIRIsRemovedWithWhatTheToolchainLeftInIt() throws {
        func swiftcVersion(_ env: [String: String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["swiftc", "-version"]
            p.environment = env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
        }
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = scratch + "/tmp"
        try swiftcVersion(env)
        let leaked = entries(scratch + "/tmp").filter { $0.hasPrefix("TemporaryDirectory.") }
        guard !leaked.isEmpty else {
            throw XCTSkip("this toolchain's swiftc -version no longer leaves a TemporaryDirectory.*: PrivateTemporaryDirectory may go")
        }
        for d in leaked { try FileManager.default.removeItem(atPath: scratch + "/tmp/" + d) }

        var seen: String?
        try PrivateTemporaryDirectory.with(environment: env, in: URL(fileURLWithPath: scratch + "/tmp")) { e in
            seen = e["TMPDIR"]
            XCTAssertNotEqual(seen, env["TMPDIR"])
            try swiftcVersion(e)
            XCTAssertFalse(entries(seen!).isEmpty, "the child's leftovers should be in its private TMPDIR")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: seen!), "the private TMPDIR was not removed")
        XCTAssertEqual(entries(scratch + "/tmp"), [], "something was left next to the private TMPDIR")
    }
}
