import Foundation
import WarmcheckSegment

/// A segment the observing commands could not read or lost while reading: the message names the
/// path and the reason; `status` is the exit status (2 not a segment, 1 lost while being read).
public struct ObserveError: Error, CustomStringConvertible {
    public let description: String
    public let status: Int32
    public init(description: String, status: Int32) { self.description = description; self.status = status }
}

public enum LiveOpen {
    /// Opens `path` for observing or says why not, with the §15 code (`bad_magic`, `not_found`, …).
    public static func open(_ path: String) throws -> LiveSegment {
        switch LiveSegment.open(path: path) {
        case .success(let s): return s
        case .failure(let r):
            let detail = r.description == r.code ? "" : ": \(r)"
            throw ObserveError(description: "\(path) is not a readable segment (\(r.code)\(detail))", status: 2)
        }
    }

    /// Throws when the segment at `seg.path` is gone, replaced or truncated (LiveSegment.loss).
    public static func ensurePresent(_ seg: LiveSegment) throws {
        if let lost = seg.loss() { throw ObserveError(description: lost.description, status: 1) }
    }

    /// Sleeps `seconds` (monotonic, EINTR-safe).
    public static func sleep(_ seconds: Double) {
        var left = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var rest = timespec()
        while nanosleep(&left, &rest) != 0 && errno == EINTR { left = rest }
    }
}
