import Warmcache

/// PROTOCOL.md §13.2's defences that a reader applies before it maps anything: the size bound
/// (geometry rule 9, default 2^34, configurable per open) and the refusal of a file with holes
/// (`sparse`, §4.2 step 11). Every case is decided on the header and one `fstat`, so even the
/// 2^40-byte ones cost a reader microseconds and no memory.
enum MappingCases {
    static let all: [RefusalCase] = bound + holes

    typealias C = RefusalCase

    static func bounded(_ c: RefusalCase, _ bound: UInt64?, costly: Bool = false) -> RefusalCase {
        var c = c
        c.maxTotalLen = bound
        c.costlyWithoutDefence = costly
        return c
    }

    static func headerOnly(_ g: Warmcache.Geometry) -> CraftedSegment {
        var i = CraftedSegment(geometry: g)
        i.fileLength = UInt64(Layout.HEADER_SIZE)
        return i
    }

    /// A legal geometry 6 MB over the default bound: 2 shards of 4097 slots of 1 MiB values.
    static let justOverDefault = Warmcache.Geometry(shardCount: 2, slotsPerShard: 4097, keyCapacity: 8, valueCapacity: 1_048_576,
                                                    probeWindow: 8, participantCapacity: 1)

    static let bound: [RefusalCase] = [
        // Rule 9 comes before step 11: a 4096-byte file that declares 2^40 bytes is bad_geometry,
        // not truncated, at the default bound (rule8-exactly-2^40-truncated raises it).
        C("rule9-2^40-header-only", "total_len exactly 2^40 in a header-only file, default bound",
          spec: "§3 geometry rule 9, §13.2 (before §4.2 step 11)", expect: .refuse(code: "bad_geometry", rule: 9),
          image: headerOnly(GeometryCases.exactly2to40)),
        C("rule9-just-over-default", "total_len just over 2^34 in a header-only file, default bound",
          spec: "§3 geometry rule 9 (the default 2^34)", expect: .refuse(code: "bad_geometry", rule: 9),
          image: headerOnly(justOverDefault)),
        bounded(C.from("rule9-bound-below-total-len", "max_total_len one byte below the segment's total_len",
                       spec: "§3 geometry rule 9 (configurable)", expect: .refuse(code: "bad_geometry", rule: 9)),
                C.baseGeometry.totalLen - 1),
        bounded(C.from("rule9-bound-equals-total-len", "max_total_len equal to the segment's total_len",
                       spec: "§3 geometry rule 9 (at the boundary)", expect: .accept), C.baseGeometry.totalLen),
        bounded(C.from("rule9-before-sparse", "a sparse file over a lowered bound: rule 9 (step 10) answers before step 11",
                       spec: "§4.2 steps 10 < 11", expect: .refuse(code: "bad_geometry", rule: 9)) { $0.sparse = true },
                C.baseGeometry.totalLen - 1),
        // The file of issue 9 §4: a legal 2^40-byte geometry in a sparse file of its full length.
        // Without the defences a reader maps it and walks it (tens of GB); with them it is refused
        // on the header (default bound) or on fstat (bound raised).
        bounded(C("huge-2^40-sparse", "a legal 2^40-byte geometry in a sparse file of that length, default bound",
                  spec: "§3 geometry rule 9, §13.2", expect: .refuse(code: "bad_geometry", rule: 9),
                  image: { var i = CraftedSegment(geometry: GeometryCases.exactly2to40); i.sparse = true; return i }()),
                nil, costly: true),
        bounded(C("huge-2^40-sparse-bound-raised", "the same file with max_total_len 2^40: refused as sparse on fstat",
                  spec: "§4.2 step 11, §13.2 holes", expect: .refuse(code: "sparse"),
                  image: { var i = CraftedSegment(geometry: GeometryCases.exactly2to40); i.sparse = true; return i }()),
                1 << 40, costly: true),
    ]

    static let holes: [RefusalCase] = [
        C.from("sparse-full-length", "the valid base segment with everything after the header a hole",
               spec: "§4.2 step 11, §13.2 holes", expect: .refuse(code: "sparse")) { $0.sparse = true },
        C.from("sparse-and-truncated", "a hole and one byte short: the length test of step 11 answers first",
               spec: "§4.2 step 11 (truncated before sparse)", expect: .refuse(code: "truncated")) { $0.sparse = true; $0.fileLength -= 1 },
        C.from("sparse-bad-geometry", "a sparse file with probe_window 0: geometry (step 10) is checked first",
               spec: "§4.2 steps 10 < 11", expect: .refuse(code: "bad_geometry", rule: 5)) {
            $0.set(Layout.HDR_GEOMETRY_LIMITS, $0.word(Layout.HDR_GEOMETRY_LIMITS) & ~0xFFFF_FFFF); $0.seal(); $0.sparse = true
        },
    ]
}
