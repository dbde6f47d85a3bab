@_spi(Harness) import Warmcache

/// The file's real length against the header (PROTOCOL.md §4.2 steps 3 and 11), including the
/// truncated and huge files of issue 9 §4 (crafted and checked here; the defences come later).
enum SizeCases {
    static let all: [RefusalCase] = short + truncated + longer + cut

    typealias C = RefusalCase

    static let short: [RefusalCase] = [
        C.from("empty-file", "a file of 0 bytes", spec: "§4.2 step 3", expect: .refuse(code: "too_short")) { $0.fileLength = 0 },
        C.from("header-minus-1", "4095 bytes of a valid header", spec: "§4.2 step 3", expect: .refuse(code: "too_short")) {
            $0.fileLength = 4095
        },
        C.from("short-with-bad-magic", "4095 bytes with a bad magic: the size is checked first", spec: "§4.2 steps 3 < 4",
               expect: .refuse(code: "too_short")) { $0.set(Layout.HDR_MAGIC, 0); $0.fileLength = 4095 },
    ]

    static let truncated: [RefusalCase] = [
        C.from("truncated-header-only", "only the 4096-byte header page", spec: "§4.2 step 11",
               expect: .refuse(code: "truncated")) { $0.fileLength = UInt64(Layout.HEADER_SIZE) },
        C.from("truncated-by-1", "total_len − 1 bytes", spec: "§4.2 step 11", expect: .refuse(code: "truncated")) {
            $0.fileLength -= 1
        },
        C.from("truncated-bad-geometry", "a header-only file with probe_window 0: geometry is checked first",
               spec: "§4.2 steps 10 < 11", expect: .refuse(code: "bad_geometry", rule: 5)) {
            $0.set(Layout.HDR_GEOMETRY_LIMITS, $0.word(Layout.HDR_GEOMETRY_LIMITS) & ~0xFFFF_FFFF); $0.seal()
            $0.fileLength = UInt64(Layout.HEADER_SIZE)
        },
    ]

    static let longer: [RefusalCase] = [
        C.from("longer-than-total-len", "a page of extra bytes after total_len", spec: "§4.2 step 11 (only a shorter file is refused)",
               expect: .accept) { $0.fileLength += 4096 },
    ]
}

extension SizeCases {
    /// Issue 9 §4: the file cut to its header page under a process that mapped all of it. Every
    /// access past the cut faults (SIGBUS); the defence is later work, so these are known failures.
    static let cut: [RefusalCase] = [
        RefusalCase("cut-under-open-handle", "the file truncated to 4096 bytes after open, then a get",
                    spec: "issue 9 §4 (not yet in PROTOCOL.md)", expect: .survive,
                    kind: .cutAfterOpen(length: UInt64(Layout.HEADER_SIZE)), image: CraftedSegment(geometry: C.baseGeometry)),
    ]
}
