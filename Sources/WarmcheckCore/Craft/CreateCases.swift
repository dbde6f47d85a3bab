@_spi(Harness) import Warmcache
import WarmcheckScenario

/// What `create` must answer where the path, not the file, is wrong (PROTOCOL.md §4.1), and the
/// private `TMP` file a refused create must not leave behind. Only each implementation's own
/// tests looked at these; a Swift create that answered `io` for a missing directory (and
/// `not_found` for every other failure) survived every scenario.
///
/// The name cases sit on both sides of §4.1 step 1's cut (191 bytes, never inside a UTF-8
/// sequence): a Go cut written `n >= 191` indexed past the end of a 191-byte name and survived
/// everything, since no scenario can choose the length of its segment's name. Every accepted
/// case is paused at `create.after_open_temp` and the private file checked by name, pid and mode
/// (RefusalGate+CreatePause), so a cut that is wrong but harmless is seen too.
enum CreateCases {
    typealias C = RefusalCase

    static func create(_ name: String, _ what: String, spec: String, expect: RefusalExpectation, _ setting: CreateSetting) -> RefusalCase {
        C(name, what, spec: spec, expect: expect, kind: .create(setting), image: CraftedSegment(geometry: C.baseGeometry))
    }

    static func n(_ count: Int) -> String { String(repeating: "n", count: count) }

    /// A name whose `character` begins at byte `at`, padded with `n` to `total` bytes.
    static func across(_ at: Int, _ character: String, total: Int = 200) -> String {
        n(at) + character + n(total - at - character.utf8.count)
    }

    static let all: [RefusalCase] = [
        create("create-missing-directory", "create in a directory that does not exist", spec: "§4.1 step 1 (ENOENT)",
               expect: .refuse(code: "not_found"), .missingDirectory),
        create("create-under-a-file", "create below a regular file (ENOTDIR)", spec: "§4.1 step 1 (other errno)",
               expect: .refuse(code: "io"), .underAFile),
        create("create-over-a-segment", "create where a valid segment exists", spec: "§4.1 (`exists`)",
               expect: .refuse(code: "exists"), .overASegment),
        create("create-name-255", "a final name of 255 bytes: its temporary name is cut to fit", spec: "§4.1 step 1 (B cut to 191 bytes)",
               expect: .accept, .named(n(255))),
        create("create-name-256", "a final name of 256 bytes (over NAME_MAX)", spec: "§4.1 step 1 (ENAMETOOLONG → io)",
               expect: .refuse(code: "io"), .named(n(256))),
        create("create-name-190", "a final name of 190 bytes: kept whole", spec: "§4.1 step 1 (B cut to 191 bytes)",
               expect: .accept, .named(n(190))),
        create("create-name-191", "a final name of exactly 191 bytes: kept whole", spec: "§4.1 step 1 (B cut to 191 bytes)",
               expect: .accept, .named(n(191))),
        create("create-name-192", "a final name of 192 bytes: cut to 191", spec: "§4.1 step 1 (B cut to 191 bytes)",
               expect: .accept, .named(n(192))),
        create("create-name-utf8-2-across-191", "é (2 bytes) at bytes 190–191: the cut backs off to 190", spec: "§4.1 step 1 (never split a UTF-8 sequence)",
               expect: .accept, .named(across(190, "é"))),
        create("create-name-utf8-3-across-191", "€ (3 bytes) at bytes 189–191: the cut backs off to 189", spec: "§4.1 step 1 (never split a UTF-8 sequence)",
               expect: .accept, .named(across(189, "€"))),
        create("create-name-utf8-4-across-191", "😀 (4 bytes) at bytes 189–192: the cut backs off to 189", spec: "§4.1 step 1 (never split a UTF-8 sequence)",
               expect: .accept, .named(across(189, "😀"))),
        create("create-name-utf8-lead-at-191", "é (2 bytes) at bytes 191–192: its lead byte is past the cut, which stays at 191", spec: "§4.1 step 1 (the cut stops before a byte 0x80..0xBF only)",
               expect: .accept, .named(across(191, "é"))),
        // Only NUL is special in a path (it would end the C string); a library that refuses
        // another control byte refuses names a service may legally use (Swift's NUL test written
        // for byte 1 survived every other case).
        // A NUL must be refused by the library (not just by a driver in front of it), or create
        // makes the file the cut name names (hello `nul_path`; skipped for other fixtures).
        create("create-name-nul", "a name holding a NUL byte: refused, and no file under the name cut at it", spec: "DRIVER.md 'Odd input' (nul_path: io, EINVAL)",
               expect: .refuse(code: "io"), .named("seg-nul\u{0}tail")),
        create("create-name-control-bytes", "a name of bytes 0x01, 0x1F, 0x7F, a space and a newline: all legal in a file name", spec: "§4.1 step 1 (any name but NUL)",
               expect: .accept, .named("\u{01}seg\u{1F} x\n\u{7F}")),
        create("create-sweeps-dead-init", "a dead creator's, a live creator's and other segments' private files next to the path", spec: "§4.1 step 2 (the sweep)",
               expect: .accept, .sweep(name: "seg")),
        create("create-sweeps-dead-init-cut-name", "the same next to a 255-byte name: the sweep looks for the cut prefix", spec: "§4.1 step 2 (the sweep, prefix B cut)",
               expect: .accept, .sweep(name: n(255))),
        create("create-swept-before-its-lock", "another creator's sweep removes TMP between the creator's open and its flock", spec: "§4.1 step 2 (st_nlink 0: start again)",
               expect: .accept, .sweptBeforeFlock(name: "seg")),
        // A full file system at creation is `no_space` from step 3's reservation, never a
        // segment that SIGBUSes later; without fallocate the fallback's written page hits it.
        create("create-no-space", "the directory is a file system with no free page", spec: "§4.1 step 3 (ENOSPC: no_space, TMP removed)",
               expect: .refuse(code: "no_space"), .noSpace(name: "seg", fallocate: true)),
        create("create-no-space-without-fallocate", "the same where fallocate is unsupported (EOPNOTSUPP)", spec: "§4.1 step 3 (the fallback's ENOSPC: no_space)",
               expect: .refuse(code: "no_space"), .noSpace(name: "seg", fallocate: false)),
        create("create-without-fallocate", "fallocate is unsupported (EOPNOTSUPP) and the disk has room: every page written, no hole", spec: "§4.1 step 3 (the fallback), §4.2 step 11",
               expect: .accept, .withoutFallocate(name: "seg")),
        create("create-leaves-no-descriptor", "three creates and closes of one path: the last two leave the process's descriptor count as the first left it", spec: "§4.1 (TMP's and the sweep's descriptors closed)",
               expect: .accept, .cycles(name: "seg", times: 3)),
    ]

    /// `B` cut as §4.1 step 1 says: at most 191 bytes, backing off so that the cut never stops
    /// before a byte 0x80..0xBF (a UTF-8 continuation byte).
    static func cut(_ name: [UInt8]) -> [UInt8] {
        guard name.count > 191 else { return name }
        var n = 191
        while n > 0 && name[n] & 0xC0 == 0x80 { n -= 1 }
        return Array(name[..<n])
    }
}

/// Where a create case asks for its segment (RefusalGate.prepareCreate).
public enum CreateSetting: Sendable, Equatable {
    case missingDirectory, underAFile, overASegment
    /// In the gate's directory, under this final name.
    case named(String)
    /// In the gate's directory under this final name, next to the private files of §4.1 step 2's
    /// sweep (RefusalGate.plant): a dead creator's (unlocked), which the create must remove, a
    /// live creator's (the gate holds its flock during the create), one of a segment whose name
    /// begins with the same bytes (`B.init.7`) and one of another prefix, which it must leave.
    case sweep(name: String)
    /// In the gate's directory under this final name; the create is paused at
    /// `create.before_flock` and the gate, as another creator's sweep would, takes the free lock
    /// of its TMP and removes it. The create must start again at step 1 and succeed, not build a
    /// segment under a removed name that linkat cannot link.
    case sweptBeforeFlock(name: String)
    /// In the gate's directory under this final name, `times` creates each followed by `close`
    /// and the removal of the segment; the fixture's open descriptors (/proc/PID/fd) after the
    /// first cycle and after the last must be as many (the first pays for lazily opened runtime
    /// descriptors). A create that leaks one (a sweep's directory handle, say) fails.
    case cycles(name: String, times: Int)
    /// Under this final name in a directory that is a tmpfs of its own (TinyStoreDisk), filled
    /// to its last page before the create. `fallocate: false`: the creator also runs under the
    /// seccomp filter that fails fallocate with EOPNOTSUPP (DiskFaultLauncher), so that step 3's
    /// fallback meets the full disk. A skip where mounting is not permitted.
    case noSpace(name: String, fallocate: Bool)
    /// In the gate's directory under this final name, the creator under the filter that fails
    /// fallocate with EOPNOTSUPP: step 3's fallback must reserve every page (every other
    /// implementation's open checks `st_blocks`, §4.2 step 11).
    case withoutFallocate(name: String)

    /// The disk fault the creating fixture runs under, if any: such a case starts a process of
    /// its own, never one another case shares.
    var isOnOwnDisk: Bool {
        if case .noSpace = self { return true }
        return false
    }

    var creatorDisk: DiskFault? {
        switch self {
        case .noSpace(_, false), .withoutFallocate: return .fallocateUnsupported
        default: return nil
        }
    }
}
