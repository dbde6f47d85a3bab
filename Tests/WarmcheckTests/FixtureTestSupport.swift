import Foundation
import XCTest

@testable import WarmcheckCore

/// The checkout and a fresh scratch directory for a test that drives the Go reference fixture;
/// the test is skipped when the fixture is not built.
func goFixtureScratch(_ prefix: String) throws -> (root: URL, scratch: String) {
    let root = try XCTUnwrap(Repo.root(), "run the tests from the checkout")
    let exe = try XCTUnwrap(Repo.referenceFixture("go")).argv[0]
    guard FileManager.default.isExecutableFile(atPath: exe) else {
        throw XCTSkip("\(exe) is not built; run scripts/build-fixtures.sh (scripts/test.sh does it first)")
    }
    let scratch = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    return (root, scratch)
}
