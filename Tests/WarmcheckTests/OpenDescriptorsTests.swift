#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest
@testable import WarmcheckCore

/// The leak checks read /proc: a descriptor and a mapping of a file are both listed, each once
/// per descriptor or mapping, and nothing is listed once both are released.
final class OpenDescriptorsTests: XCTestCase {
    func testADescriptorAndAMappingAreListedUntilReleased() throws {
        let path = NSTemporaryDirectory() + "open-descriptors-\(getpid())"
        defer { unlink(path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(count: 8192)))
        let fd = open(path, O_RDWR | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let mem = mmap(nil, 8192, PROT_READ, MAP_SHARED, fd, 0)
        XCTAssertNotEqual(mem, MAP_FAILED)
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let mine: (String) -> Bool = { $0 == path || $0 == resolved }
        let both = try XCTUnwrap(OpenDescriptors.held(by: getpid(), where: mine))
        XCTAssertEqual(both.filter { $0.hasPrefix("fd ") }.count, 1, "\(both)")
        XCTAssertEqual(both.filter { $0.hasPrefix("mapping ") }.count, 1, "\(both)")
        close(fd)
        let mapped = try XCTUnwrap(OpenDescriptors.held(by: getpid(), where: mine))
        XCTAssertEqual(mapped.count, 1, "a mapping outlives its descriptor: \(mapped)")
        XCTAssertTrue(mapped[0].hasPrefix("mapping "))
        munmap(mem, 8192)
        XCTAssertEqual(try XCTUnwrap(OpenDescriptors.held(by: getpid(), where: mine)), [])
    }
}
