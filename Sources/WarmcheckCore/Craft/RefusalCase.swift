import Foundation
@_spi(Harness) import Warmcache

/// What the spec requires of every implementation for one crafted file.
public enum RefusalExpectation: Sendable, Equatable, CustomStringConvertible {
    /// `open` succeeds (a file the spec says readers MUST accept).
    case accept
    /// `open` succeeds; then the harness cuts the file under the open handle and the next `get`
    /// must get an answer (any outcome), not kill the process (issue 9 §4: a fault inside the
    /// mapping becomes an error). The spec does not promise this yet: known failures today.
    case survive
    /// `open` fails with exactly this §15 code; for `bad_geometry`, `rule` is the violated row
    /// of §3's geometry table (1–8), which the message must name as `rule N` (DRIVER.md).
    case refuse(code: String, rule: Int? = nil)

    public var description: String {
        switch self {
        case .accept: return "accept"
        case .survive: return "survive a cut"
        case .refuse(let c, let r): return r.map { "\(c) rule \($0)" } ?? c
        }
    }
}

/// How the crafted path is presented to the opener: most cases are a regular file, the first
/// checks of §4.2 need something else at the path.
public enum CraftedPathKind: Sendable, Equatable {
    case file
    /// Nothing at the path (step 1, ENOENT).
    case missing
    /// A symbolic link to a valid segment (step 1, O_NOFOLLOW → ELOOP).
    case symlink
    /// A FIFO: opens with O_RDWR without blocking, then fails fstat's regular-file test (step 2).
    case fifo
    /// A directory: open(O_RDWR) itself fails with EISDIR, an errno §4.2 step 1 maps to `io`.
    case directory
    /// A valid segment owned by another uid (step 2). Needs root to chown; skipped otherwise.
    case foreignOwner(uid: UInt32)
    /// A valid segment that the harness truncates to `length` bytes after the opener mapped it.
    case cutAfterOpen(length: UInt64)
    /// Not an open: `create` with the base geometry at a path set up as described (CreateCases).
    case create(CreateSetting)

    public var isCreate: Bool {
        if case .create = self { return true }
        return false
    }
}

/// One crafted file and the exact answer PROTOCOL.md requires for it.
public struct RefusalCase: Sendable {
    /// Stable name, used by `--case` filters and expected-failure entries.
    public var name: String
    /// What was changed, for the table.
    public var what: String
    /// Where the spec decides it (e.g. "§4.2 step 7").
    public var spec: String
    public var expect: RefusalExpectation
    public var kind: CraftedPathKind
    public var image: CraftedSegment
    /// The reader's size bound (geometry rule 9, PROTOCOL.md §13.2) sent as `open`'s
    /// `max_total_len` and given to `inspect`; nil: the reader's default (2^34).
    public var maxTotalLen: UInt64? = nil
    /// A reader without the size bound or the sparse refusal would map and walk a huge file
    /// (issue 9 §4: tens of GB): the compat gate, which runs builds from before the defence,
    /// leaves such cases out.
    public var costlyWithoutDefence = false

    public init(_ name: String, _ what: String, spec: String, expect: RefusalExpectation,
                kind: CraftedPathKind = .file, image: CraftedSegment) {
        self.name = name
        self.what = what
        self.spec = spec
        self.expect = expect
        self.kind = kind
        self.image = image
    }

    /// The small geometry most cases start from: 2 shards × 8 slots, key 16, value 64, window 4,
    /// 4 participants (49 KiB), so that accepted cases open and register quickly.
    public static let baseGeometry = Warmcache.Geometry(shardCount: 2, slotsPerShard: 8, keyCapacity: 16,
                                                        valueCapacity: 64, probeWindow: 4, participantCapacity: 4)

    /// A case built from the valid base segment by `change`, which ends with the checksum as the
    /// case wants it (call `seal()` inside `change` to keep the header otherwise valid).
    static func from(_ name: String, _ what: String, spec: String, expect: RefusalExpectation,
                     geometry: Warmcache.Geometry = baseGeometry, features: UInt64 = 0,
                     _ change: (inout CraftedSegment) -> Void = { _ in }) -> RefusalCase {
        var img = CraftedSegment(geometry: geometry, features: features)
        change(&img)
        return RefusalCase(name, what, spec: spec, expect: expect, image: img)
    }
}
