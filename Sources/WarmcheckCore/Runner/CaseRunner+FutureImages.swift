import Foundation
import WarmcheckScenario
import WarmcheckSegment

/// A `create future=` image is exactly the one PROTOCOL.md §14's table names: `minor` claims 1.9
/// with `features_compat` bit 63, `incompat` 1.9 with `features_incompat` bit 63, `major` 2.0
/// with no unknown feature bit. Readers are judged on what they do with these images, but the
/// image itself was never read: a creator writing 1.8 instead of 1.9 passed every case, and then
/// the gate's "a reader of today reads a future minor" silently tests another version than the
/// one the compat manifest and UPGRADING.md name. Read from the header right after the answer.
extension CaseRunner {
    func checkFutureImage(_ future: String, role: String, at location: SourceLocation) {
        typealias H = SpecLayout.Header
        guard let head = StoreReading.head(of: segmentPath, H.featuresCompat + 8) else { return }
        let version = le64(head, H.version), incompat = le64(head, H.featuresIncompat), compat = le64(head, H.featuresCompat)
        let major = version & 0xFFFF, minor = version >> 16 & 0xFFFF
        let bit63: UInt64 = 1 << 63
        let wrong: String?
        switch future {
        case "minor":
            wrong = major == 1 && minor == 9 && compat & bit63 != 0 && incompat & bit63 == 0 ? nil
                : "version \(major).\(minor), features_compat bit 63 \(compat >> 63), features_incompat bit 63 \(incompat >> 63); want 1.9 with compat bit 63 only"
        case "incompat":
            wrong = major == 1 && minor == 9 && incompat & bit63 != 0 ? nil
                : "version \(major).\(minor), features_incompat bit 63 \(incompat >> 63); want 1.9 with features_incompat bit 63"
        case "major":
            wrong = major == 2 && minor == 0 && (compat | incompat) & bit63 == 0 ? nil
                : "version \(major).\(minor), bit 63 of features_compat \(compat >> 63) / features_incompat \(incompat >> 63); want 2.0 with neither"
        default:
            wrong = nil
        }
        guard let wrong else { return }
        conformance("\(role)'s `create future=\(future)` at \(location) made another image than PROTOCOL.md §14 names: \(wrong)",
                    "PROTOCOL.md §14, future-version test images: the table fixes each image's version and feature bits; read "
                        + "from the header of \(segmentPath) right after the answer")
    }
}
