#if canImport(Glibc)
import Glibc
#endif
import Foundation
import WarmcheckSegment

/// `patch_ns: NS last=N`: the orchestrator raises a namespace's `last` (§18.2 `ns_stage` bits
/// 0..31) between steps, so that a scenario reaches the end of a namespace's 2^32 − 1 versions,
/// which no run of stages could. Offsets are the spec's (WarmcheckSegment/Namespaces.swift),
/// not the Swift library's. Like SegmentSurgery it writes the file with pwrite while every
/// fixture is idle; `ns_stage` is a mutable word outside the header checksum.
enum NamespaceSurgery {
    static func raiseLast(path: String, ns: Int, to last: UInt64) -> Result<String, UsageError> {
        let off = SpecNamespace.tableOffset + ns * SpecNamespace.entrySize + SpecNamespace.stage
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return .failure(UsageError("patch_ns: cannot open \(path): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        guard let w = SegmentSurgery.word(fd, off) else {
            return .failure(UsageError("patch_ns: cannot read ns_stage of namespace \(ns)"))
        }
        // An open stage's version is `last`: moving it would hand its owner another version.
        guard w >> 32 == 0 else { return .failure(UsageError("patch_ns: namespace \(ns) has a stage open (ns_stage 0x\(String(w, radix: 16)))")) }
        // §18.2 invariant 1: `last` never decreases; a patch may only skip versions.
        guard last >= w & SpecNamespace.versionMax else {
            return .failure(UsageError("patch_ns: namespace \(ns)'s last is \(w), above \(last) (last never decreases)"))
        }
        guard SegmentSurgery.setWord(fd, off, last) else {
            return .failure(UsageError("patch_ns: cannot write ns_stage: \(String(cString: strerror(errno)))"))
        }
        return .success("ns_stage of namespace \(ns) at byte \(off): last \(w) → \(last)")
    }
}
