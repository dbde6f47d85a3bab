@_spi(Harness) import Warmcache

/// What `create` must answer where the path, not the file, is wrong (PROTOCOL.md §4.1), and the
/// private `TMP` file a refused create must not leave behind. Only each implementation's own
/// tests looked at these; a Swift create that answered `io` for a missing directory (and
/// `not_found` for every other failure) survived every scenario.
enum CreateCases {
    typealias C = RefusalCase

    static func create(_ name: String, _ what: String, spec: String, expect: RefusalExpectation, _ setting: CreateSetting) -> RefusalCase {
        C(name, what, spec: spec, expect: expect, kind: .create(setting), image: CraftedSegment(geometry: C.baseGeometry))
    }

    static let all: [RefusalCase] = [
        create("create-missing-directory", "create in a directory that does not exist", spec: "§4.1 step 1 (ENOENT)",
               expect: .refuse(code: "not_found"), .missingDirectory),
        create("create-under-a-file", "create below a regular file (ENOTDIR)", spec: "§4.1 step 1 (other errno)",
               expect: .refuse(code: "io"), .underAFile),
        create("create-over-a-segment", "create where a valid segment exists", spec: "§4.1 (`exists`)",
               expect: .refuse(code: "exists"), .overASegment),
        create("create-name-255", "a final name of 255 bytes: its temporary name is cut to fit", spec: "§4.1 step 1 (B cut to 191 bytes)",
               expect: .accept, .nameBytes(255)),
        create("create-name-256", "a final name of 256 bytes (over NAME_MAX)", spec: "§4.1 step 1 (ENAMETOOLONG → io)",
               expect: .refuse(code: "io"), .nameBytes(256)),
    ]
}

/// Where a create case asks for its segment (RefusalGate.prepareCreate).
public enum CreateSetting: Sendable, Equatable {
    case missingDirectory, underAFile, overASegment
    /// In the gate's directory, under a final name of this many bytes.
    case nameBytes(Int)
}
