import Foundation
import XCTest
@testable import WarmcheckCore

/// Released golden images are frozen: the bytes under testdata/golden/<version>/ must be the
/// bytes the release commit held, and the tool refuses to overwrite an image by accident.
final class GoldenImageFreezeTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Where a release commit kept its image, when not at testdata/golden/<version>/: 1.0 was
    /// released before images had one directory per version (testdata/golden/1.0/README.md).
    let legacyPaths = ["1.0": ["segment.seg": "testdata/golden/v1-matrix.seg", "expected.json": "testdata/golden/expected.json"]]

    func git(_ args: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", root.path] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw UsageError("git \(args.joined(separator: " ")) failed") }
        return d
    }

    func testEveryReleasedImageIsByteForByteTheOneItsReleaseCommitHeld() throws {
        let releases = try Releases.load(root: root)
        XCTAssertFalse(releases.entries.isEmpty)
        for r in releases.entries {
            // The version's image and its feature images (testdata/golden/<version>/<feature>/):
            // one a release does not hold cannot be added to its directory later either.
            let features = GoldenImage.features.filter {
                FileManager.default.fileExists(atPath: root.appendingPathComponent("testdata/golden/\(r.version)/\($0)").path)
            }
            for file in [GoldenImage.segmentName, GoldenImage.expectedName] + features.flatMap({ f in
                [GoldenImage.segmentName, GoldenImage.expectedName].map { "\(f)/\($0)" }
            }) {
                let here = "testdata/golden/\(r.version)/\(file)"
                let then = legacyPaths[r.version]?[file] ?? here
                let now = try Data(contentsOf: root.appendingPathComponent(here))
                let released: Data
                do { released = try git(["show", "\(r.commit):\(then)"]) } catch {
                    XCTFail("release \(r.version): \(then) is not in commit \(r.commit) (\(r.location)); is the clone shallow?")
                    continue
                }
                XCTAssertEqual(now, released, "\(here) differs from what release \(r.version) (\(r.commit.prefix(12))) held at \(then): a released image never changes; write a new version's image instead (docs/UPGRADING.md)")
            }
        }
    }

    func testWritingOverAnExistingImageIsRefusedWithoutTheVersionNamed() throws {
        let runner = MatrixRunner(fixtures: [], workDir: NSTemporaryDirectory())
        let nowhere = FixtureSpec(name: "none", argv: ["/nonexistent"])
        for regenerate in [nil, "1.1"] {
            XCTAssertThrowsError(try GoldenImage.write(version: "1.0", with: nowhere, runner: runner, regenerate: regenerate)) { e in
                XCTAssertTrue("\(e)".contains("never overwritten") && "\(e)".contains("--regenerate 1.0"), "\(e)")
            }
        }
        // Named, the refusal is gone and the writer is tried (here: it cannot start).
        XCTAssertThrowsError(try GoldenImage.write(version: "1.0", with: nowhere, runner: runner, regenerate: "1.0")) { e in
            XCTAssertFalse("\(e)".contains("never overwritten"), "\(e)")
        }
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("testdata/golden/1.0/segment.seg")),
                       try git(["show", "43cdc75fb8716ea5f6838bfc5a57da8fcfa71749:testdata/golden/v1-matrix.seg"]))
    }
}
