@_spi(Harness) import Warmcache

/// One crafted file per check of PROTOCOL.md §4.2 steps 1–9, plus the files those steps must
/// accept (§14: any minor, any compat bits), and pairs of faults that pin which check runs first.
enum HeaderCases {
    static let all: [RefusalCase] = paths + identity + versions + readiness + checksums + features + fingerprints

    typealias C = RefusalCase

    // Step 1–2: what is at the path.
    static let paths: [RefusalCase] = [
        C("valid", "an unmodified segment written by the harness (the control case)", spec: "§3, §4.2",
          expect: .accept, image: CraftedSegment(geometry: C.baseGeometry)),
        C("missing", "nothing at the path", spec: "§4.2 step 1", expect: .refuse(code: "not_found"),
          kind: .missing, image: CraftedSegment(geometry: C.baseGeometry)),
        C("symlink", "a symbolic link to a valid segment", spec: "§4.2 step 1, §13", expect: .refuse(code: "symlink"),
          kind: .symlink, image: CraftedSegment(geometry: C.baseGeometry)),
        C("directory", "a directory (open O_RDWR fails with EISDIR)", spec: "§4.2 step 1 (other errno)",
          expect: .refuse(code: "io"), kind: .directory, image: CraftedSegment(geometry: C.baseGeometry)),
        C("fifo", "a FIFO", spec: "§4.2 step 2", expect: .refuse(code: "not_regular_file"),
          kind: .fifo, image: CraftedSegment(geometry: C.baseGeometry)),
        C("foreign-owner", "a valid segment owned by uid 65534", spec: "§4.2 step 2, §13",
          expect: .refuse(code: "foreign_owner"), kind: .foreignOwner(uid: 65534), image: CraftedSegment(geometry: C.baseGeometry)),
    ]

    // Step 4.
    static let identity: [RefusalCase] = [
        C.from("bad-magic", "magic with one bit flipped, checksum resealed", spec: "§4.2 step 4",
               expect: .refuse(code: "bad_magic")) { $0.set(Layout.HDR_MAGIC, Layout.MAGIC ^ 1); $0.seal() },
        C.from("zero-magic", "a zeroed header page (a file that was never a segment)", spec: "§4.2 step 4",
               expect: .refuse(code: "bad_magic")) { $0.header = [UInt64](repeating: 0, count: $0.header.count) },
        C.from("bad-magic-and-future-major", "bad magic and major 2: magic is checked first", spec: "§4.2 steps 4 < 5",
               expect: .refuse(code: "bad_magic")) {
            $0.set(Layout.HDR_MAGIC, 0x4D524157)
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 2, minor: 0))
        },
    ]

    // Step 5 and §14: majors are refused, minors accepted.
    static let versions: [RefusalCase] = [
        C.from("major-0", "major version 0, checksum resealed", spec: "§4.2 step 5, §14",
               expect: .refuse(code: "unsupported_major")) { $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 0, minor: 0)); $0.seal() },
        C.from("future-major", "major version 2, checksum resealed", spec: "§4.2 step 5, §14",
               expect: .refuse(code: "unsupported_major")) { $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 2, minor: 0)); $0.seal() },
        C.from("future-major-stale-checksum", "major 65535 and the old checksum: major is checked before the checksum",
               spec: "§4.2 steps 5 < 7", expect: .refuse(code: "unsupported_major")) {
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 0xFFFF, minor: 0))
        },
        C.from("future-major-not-ready", "major 2 and ready 0: major is checked before ready", spec: "§4.2 steps 5 < 6",
               expect: .refuse(code: "unsupported_major")) {
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 2, minor: 0)); $0.seal()
            $0.set(Layout.HDR_READY, 0)
        },
        C.from("future-minor", "minor version 1, checksum resealed", spec: "§14 (any minor of major 1 is accepted)",
               expect: .accept) { $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 1, minor: 1)); $0.seal() },
        C.from("future-minor-max", "minor version 65535", spec: "§14", expect: .accept) {
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 1, minor: 0xFFFF)); $0.seal()
        },
        C.from("future-minor-compat-bit", "minor 1 with an unknown features_compat bit", spec: "§3 Features, §14",
               expect: .accept) {
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 1, minor: 1))
            $0.set(Layout.HDR_FEATURES_COMPAT, 1 << 5); $0.seal()
        },
        C.from("compat-all-bits", "features_compat with every bit set", spec: "§3 Features (a reader MUST accept any value)",
               expect: .accept) { $0.set(Layout.HDR_FEATURES_COMPAT, UInt64.max); $0.seal() },
        C.from("header-size-8192", "the version word's header size says 8192, checksum resealed",
               spec: "§4.2 step 9 (header size is part of the layout)", expect: .refuse(code: "layout_mismatch")) {
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 1, minor: 0, headerSize: 8192)); $0.seal()
        },
        C.from("header-size-0", "the version word's header size is 0", spec: "§4.2 step 9", expect: .refuse(code: "layout_mismatch")) {
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 1, minor: 0, headerSize: 0)); $0.seal()
        },
    ]

    // Step 6.
    static let readiness: [RefusalCase] = [
        C.from("ready-zero", "ready is 0 (still being initialised)", spec: "§4.2 step 6",
               expect: .refuse(code: "not_ready")) { $0.set(Layout.HDR_READY, 0) },
        C.from("ready-garbage", "ready is non-zero but not READY", spec: "§4.2 step 6",
               expect: .refuse(code: "not_ready")) { $0.set(Layout.HDR_READY, Layout.READY ^ (1 << 40)) },
        C.from("ready-byte-swapped", "ready holds READY byte-swapped (a big-endian writer)", spec: "§4.2 step 6",
               expect: .refuse(code: "not_ready")) { $0.set(Layout.HDR_READY, Layout.READY.byteSwapped) },
        C.from("not-ready-and-bad-checksum", "ready 0 and a stale checksum: ready is checked first", spec: "§4.2 steps 6 < 7",
               expect: .refuse(code: "not_ready")) { $0.set(Layout.HDR_READY, 0); $0.set(Layout.HDR_CREATOR_PID, 1) },
    ]

    // Step 7.
    static let checksums: [RefusalCase] = [
        C.from("checksum-flipped", "header_checksum with one bit flipped", spec: "§4.2 step 7",
               expect: .refuse(code: "bad_header_checksum")) { $0.set(Layout.HDR_HEADER_CHECKSUM, $0.word(Layout.HDR_HEADER_CHECKSUM) ^ 1) },
        C.from("checksum-stale-creator", "creator_pid changed, checksum not resealed", spec: "§4.2 step 7",
               expect: .refuse(code: "bad_header_checksum")) { $0.set(Layout.HDR_CREATOR_PID, $0.word(Layout.HDR_CREATOR_PID) + 1) },
        C.from("checksum-stale-last-byte", "the last checksummed byte (135) changed", spec: "§4.2 step 7 (bytes 0..135)",
               expect: .refuse(code: "bad_header_checksum")) { $0.set(Layout.HDR_CREATED_AT_NS, $0.word(Layout.HDR_CREATED_AT_NS) ^ (1 << 63)) },
        C.from("reserved-header-bytes", "non-zero bytes in 144..191 and 576..4095 (not checksummed)",
               spec: "§14 (minors may use reserved bytes; old readers ignore them)", expect: .accept) {
            $0.set(152, 0xDEAD_BEEF); $0.set(4088, 0x0102_0304_0506_0708)
        },
        C.from("checksum-stale-and-unknown-feature", "an unknown incompat bit without resealing: the checksum is checked first",
               spec: "§4.2 steps 7 < 8", expect: .refuse(code: "bad_header_checksum")) { $0.set(Layout.HDR_FEATURES_INCOMPAT, 1 << 2) },
    ]

    // Step 8.
    static let features: [RefusalCase] = [
        C.from("unknown-incompat-bit-2", "features_incompat bit 2 (unknown in 1.1; bit 1 is FAST_CHECKSUM since 1.1)", spec: "§4.2 step 8, §14",
               expect: .refuse(code: "unsupported_features")) { $0.set(Layout.HDR_FEATURES_INCOMPAT, 1 << 2); $0.seal() },
        C.from("unknown-incompat-bit-63", "features_incompat bit 63 beside the known SIM_CLOCK", spec: "§4.2 step 8",
               expect: .refuse(code: "unsupported_features"), features: Layout.FEATURE_SIM_CLOCK) {
            $0.set(Layout.HDR_FEATURES_INCOMPAT, Layout.FEATURE_SIM_CLOCK | 1 << 63); $0.seal()
        },
        C.from("future-minor-incompat-bit", "minor 1 with an unknown incompat bit", spec: "§4.2 step 8, §14",
               expect: .refuse(code: "unsupported_features")) {
            $0.set(Layout.HDR_VERSION, CraftedSegment.versionWord(major: 1, minor: 1))
            $0.set(Layout.HDR_FEATURES_INCOMPAT, 1 << 7); $0.seal()
        },
        C.from("sim-clock", "the known SIM_CLOCK feature", spec: "§3 Features, §12", expect: .accept,
               features: Layout.FEATURE_SIM_CLOCK),
        C.from("unknown-feature-and-bad-fingerprint", "an unknown incompat bit and a wrong fingerprint: features first",
               spec: "§4.2 steps 8 < 9", expect: .refuse(code: "unsupported_features")) {
            $0.set(Layout.HDR_FEATURES_INCOMPAT, 1 << 2)
            $0.set(Layout.HDR_LAYOUT_FINGERPRINT, Layout.LAYOUT_FINGERPRINT ^ 0xC0); $0.seal()
        },
    ]

    // Step 9.
    static let fingerprints: [RefusalCase] = [
        C.from("fingerprint-cache-line-128", "fingerprint byte 0 says 128-byte cache lines", spec: "§4.2 step 9",
               expect: .refuse(code: "layout_mismatch")) {
            $0.set(Layout.HDR_LAYOUT_FINGERPRINT, Layout.LAYOUT_FINGERPRINT & ~0xFF | 0x80); $0.seal()
        },
        C.from("fingerprint-big-endian", "fingerprint byte 2 says big-endian", spec: "§4.2 step 9",
               expect: .refuse(code: "layout_mismatch")) {
            $0.set(Layout.HDR_LAYOUT_FINGERPRINT, Layout.LAYOUT_FINGERPRINT & ~0xFF0000 | 0x020000); $0.seal()
        },
        C.from("fingerprint-and-bad-geometry", "a wrong fingerprint and shard_count 0: the fingerprint first",
               spec: "§4.2 steps 9 < 10", expect: .refuse(code: "layout_mismatch")) {
            $0.set(Layout.HDR_LAYOUT_FINGERPRINT, 0)
            $0.set(Layout.HDR_GEOMETRY_SHARDS, $0.word(Layout.HDR_GEOMETRY_SHARDS) & ~0xFFFF_FFFF); $0.seal()
        },
    ]
}
