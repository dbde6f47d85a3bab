import Warmcache

/// Every crafted case, in the order of §4.2's checks, and the failures already known.
///
/// This is the manifest the refusal gate (and the upgrade issue's compat gate) reads: each case
/// names the exact code PROTOCOL.md requires. `warmcheck refusals --list` prints it.
public enum RefusalCatalog {
    public static let cases: [RefusalCase] = HeaderCases.all + SizeCases.all + GeometryCases.all

    /// Cases too costly for a shared machine, run only with `--heavy`: a legal 2^40-byte
    /// geometry in a sparse file of its full length. Issue 9 §4 measured a reader walking every
    /// slot of such a file (tens of GB, minutes); the defence (a bounded reader) is later work.
    public static let heavy: [RefusalCase] = [
        RefusalCase("huge-legal-2^40", "a legal geometry of exactly 2^40 bytes in a sparse file of that length",
                    spec: "§3 geometry rule 8 (at the boundary)", expect: .accept,
                    image: CraftedSegment(geometry: GeometryCases.exactly2to40)),
    ]

    /// What `inspect` (read-only, no polling) must answer where it differs from an opener's
    /// `open(O_RDWR)`: a directory opens read-only, so inspect's fstat refuses it instead.
    static let inspectOverrides: [String: RefusalExpectation] = [
        "directory": .refuse(code: "not_regular_file"),
    ]

    public static func inspectExpectation(_ c: RefusalCase) -> RefusalExpectation {
        inspectOverrides[c.name] ?? c.expect
    }

    /// Known failures (case, implementation, a substring of the failure, why). Strict: a listed
    /// pair that passes fails the gate, so the list cannot go stale. Empty means every
    /// implementation answers every crafted file as the spec requires.
    public struct KnownFailure: Sendable {
        public var caseName: String
        public var implementation: String
        public var contains: String
        public var why: String
    }

    public static let knownFailures: [KnownFailure] = []
}
