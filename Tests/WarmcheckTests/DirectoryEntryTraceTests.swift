import XCTest
@testable import WarmcheckCore

/// The power-cut model's view of directory entries: a created file's name is durable only from
/// the end of a sync of its directory that started after the creation (PERSISTENCE.md §6).
final class DirectoryEntryTraceTests: XCTestCase {
    /// The journal was created, and its name never became durable.
    let neverDurable: [String: UInt64?] = ["journal-1.wcj": nil]
    let created = """
        100 1796191659.000100 openat(AT_FDCWD, "/s/store", O_RDONLY|O_CLOEXEC) = 4 <0.000010>
        100 1796191659.000200 openat(AT_FDCWD, "/s/store/journal-1.wcj", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 5 <0.000020>
        100 1796191659.000300 fdatasync(5)      = 0 <0.000100>
        """

    func testANameIsDurableAtTheEndOfTheDirectorySyncAfterItsCreation() {
        let t = created + "\n100 1796191659.000500 fsync(4)        = 0 <0.000250>\n"
        XCTAssertEqual(DirectoryEntryTrace.namesDurable(trace: t, dir: "/s/store"), ["journal-1.wcj": 1_796_191_659_000_750_000])
    }

    func testTheFileOwnSyncDoesNotMakeItsNameDurable() {
        // The mutant's writer: fdatasync of the journal, never fsync(DIR).
        XCTAssertEqual(DirectoryEntryTrace.namesDurable(trace: created, dir: "/s/store"), neverDurable)
        // A directory sync that began before the creation does not cover it either.
        let early = """
            100 1796191659.000100 openat(AT_FDCWD, "/s/store", O_RDONLY|O_CLOEXEC) = 4 <0.000010>
            100 1796191659.000150 fsync(4) = 0 <0.000010>
            100 1796191659.000200 openat(AT_FDCWD, "/s/store/journal-1.wcj", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 5 <0.000020>
            """
        XCTAssertEqual(DirectoryEntryTrace.namesDurable(trace: early, dir: "/s/store"), neverDurable)
        // A descriptor closed and reused for another file is no longer the directory's.
        let reused = created + """

            100 1796191659.000400 close(4) = 0 <0.000001>
            100 1796191659.000450 openat(AT_FDCWD, "/s/other", O_RDONLY) = 4 <0.000001>
            100 1796191659.000500 fsync(4) = 0 <0.000001>
            """
        XCTAssertEqual(DirectoryEntryTrace.namesDurable(trace: reused, dir: "/s/store"), neverDurable)
    }

    func testInterruptedCallsAreJoined() {
        let t = created + """

            101 1796191659.000600 fsync(4 <unfinished ...>
            100 1796191659.000610 openat(AT_FDCWD, "/s/store/x", O_RDONLY) = 6 <0.000001>
            101 1796191659.000900 <... fsync resumed>) = 0 <0.000300>
            """
        XCTAssertEqual(DirectoryEntryTrace.namesDurable(trace: t, dir: "/s/store"), ["journal-1.wcj": 1_796_191_659_000_900_000])
        // A failed sync makes nothing durable.
        let failed = created + "\n100 1796191659.000500 fsync(4) = -1 EIO (Input/output error) <0.000250>\n"
        XCTAssertEqual(DirectoryEntryTrace.namesDurable(trace: failed, dir: "/s/store"), neverDurable)
    }
}
