@_spi(Harness) import Warmcache

/// Every crafted case, in the order of §4.2's checks, and the failures already known.
///
/// This is the manifest the refusal gate (and the upgrade issue's compat gate) reads: each case
/// names the exact code PROTOCOL.md requires. `warmcheck refusals --list` prints it.
public enum RefusalCatalog {
    public static let cases: [RefusalCase] = HeaderCases.all + SizeCases.all + GeometryCases.all + MappingCases.all
        + CreateCases.all

    /// Cases too costly for a shared machine, run only with `--heavy`: a legal geometry of
    /// 4 Mi slots (256 MiB, allocated in WORKDIR), to see how an opener's cost grows with the slot
    /// count (docs/REFUSALS.md has the figures). The 2^40-byte sparse file of issue 9 §4 is no
    /// longer heavy: readers refuse it on the header (MappingCases).
    public static let heavy: [RefusalCase] = [
        RefusalCase("large-legal-256MiB", "a legal geometry of 4 Mi slots (256 MiB), allocated",
                    spec: "§3 geometry rules 1-8", expect: .accept,
                    image: CraftedSegment(geometry: Warmcache.Geometry(shardCount: 65536, slotsPerShard: 16, keyCapacity: 8,
                                                                       valueCapacity: 8, probeWindow: 8, participantCapacity: 1))),
    ]

    /// What the compat gate hands to builds from history: every case except those that make a
    /// reader from before §13.2's defences map and walk a huge file.
    /// The create cases are left out too: the compat gate hands builds from history files to open.
    public static var compatCases: [RefusalCase] { cases.filter { !$0.costlyWithoutDefence && !$0.kind.isCreate } }

    /// What `inspect` (read-only, no polling) must answer where it differs from an opener's
    /// `open(O_RDWR)`: a directory opens read-only, so inspect's fstat refuses it instead.
    /// After a cut, inspect opens the file afresh, so it sees a file shorter than total_len.
    static let inspectOverrides: [String: RefusalExpectation] = [
        "directory": .refuse(code: "not_regular_file"),
        "cut-under-open-handle": .refuse(code: "truncated"),
    ]

    public static func inspectExpectation(_ c: RefusalCase) -> RefusalExpectation {
        inspectOverrides[c.name] ?? c.expect
    }

    /// Known failures (case, implementation, a substring of the failure, why). Strict: a listed
    /// pair that passes fails the gate, so the list cannot go stale.
    public struct KnownFailure: Sendable {
        public var caseName: String
        public var implementation: String
        /// A substring of the failing answer; empty: any failing answer.
        public var contains: String
        public var why: String
        /// Only builds from history (`go@baseline`, …, from `warmcheck compat`) fail this way:
        /// today's implementation has the fix, the released code it is checked against does not.
        public var releasedBuildsOnly = false
    }

    /// Go turns the fault into an error (PROTOCOL.md §13.2: `debug.SetPanicOnFault`); Rust and
    /// Swift die of SIGBUS, the residual limitation §13.2 documents (no sound way to return from
    /// a fault handler into their frames).
    public static let knownFailures: [KnownFailure] = [("rust", "signal 7"), ("swift", "signal 7")].map {
        KnownFailure(caseName: "cut-under-open-handle", implementation: $0.0, contains: $0.1,
                     why: "SIGBUS on the first access past the cut: PROTOCOL.md §13.2's residual limitation for Rust and Swift")
    } + [KnownFailure(caseName: "cut-under-open-handle", implementation: "go", contains: "exited with status 2",
                      why: "release 1.0's Go dies of the fault; the debug.SetPanicOnFault defence of PROTOCOL.md §13.2 came after it",
                      releasedBuildsOnly: true)]
        + newerDefences.flatMap { name in ["go", "rust", "swift"].map {
            KnownFailure(caseName: name, implementation: $0, contains: "",
                         why: "released builds predate PROTOCOL.md §13.2's size bound (rule 9) and sparse refusal", releasedBuildsOnly: true)
        } }

    /// The cases a build from before the size bound and the sparse refusal answers otherwise
    /// (it opens the file, or answers `truncated` where rule 9 comes first).
    static let newerDefences = ["rule9-2^40-header-only", "rule9-just-over-default", "rule9-bound-below-total-len",
                                "rule9-before-sparse", "sparse-full-length"]
}
