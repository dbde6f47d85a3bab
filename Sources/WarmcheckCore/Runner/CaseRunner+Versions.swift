import Foundation
import WarmcheckScenario
import WarmcheckSegment

/// The protocol versions a fixture declares and writes, against the versions the spec defines.
/// Provenance and participant entries were compared with what the fixture's hello declared, and
/// the header a create wrote was never read: a library whose "newest minor" constant said 2
/// declared 1.2, wrote 1.2 everywhere, and agreed with itself in every check, while no 1.2
/// exists (a future minor is only ever a test image, §14). So hello may only declare versions of
/// spec/vocabulary.json, and a plain `create` writes exactly the version its handle speaks
/// (PROTOCOL.md §3 `version`: "a writer speaking 1.0 writes 0"; §14: speaking minor N it writes N).
extension CaseRunner {
    static var specVersions: [Vocabulary.ProtocolVersion] { (try? Vocabulary.standard.get())?.protocols ?? [] }

    /// Versions in the fixture's hello that the spec does not define (empty: fine).
    func undefinedVersions(_ h: Hello) -> [String] {
        let known = Self.specVersions
        guard !known.isEmpty else { return [] }
        var declared = h.protocols
        if let ma = h.protocolMajor, let mi = h.protocolMinor { declared.append((major: ma, minor: mi)) }
        return Set(declared.filter { d in !known.contains { $0.major == d.major && $0.minor == d.minor } }
            .map { "\($0.major).\($0.minor)" }).sorted()
    }

    func checkDeclaredVersions(_ rp: RoleProcess) {
        let bad = undefinedVersions(rp.hello)
        guard !bad.isEmpty else { return }
        conformance("\(rp.impl) declares protocol \(bad.joined(separator: ", ")), which PROTOCOL.md does not define",
                    "hello.protocol and hello.protocols (DRIVER.md) name the versions a fixture speaks; spec/vocabulary.json defines "
                        + Self.specVersions.map { "\($0.major).\($0.minor)" }.joined(separator: ", ")
                        + ". A version beyond them exists only as a future-version test image (PROTOCOL.md §14), never as what a handle speaks.")
    }

    /// After a plain `create` answered ok: the header's version is the one the handle speaks.
    func checkCreatedVersion(_ rp: RoleProcess, step: OperationStep, at location: SourceLocation) {
        guard step.future == nil, let major = rp.hello.protocolMajor,
              let minor = rp.speaksMinor ?? rp.hello.protocolMinor,
              let head = StoreReading.head(of: segmentPath, SpecLayout.Header.version + 8) else { return }
        let version = le64(head, SpecLayout.Header.version)
        let got = (major: Int(version & 0xFFFF), minor: Int(version >> 16 & 0xFFFF))
        guard got.major != major || got.minor != minor else { return }
        conformance("\(rp.role) (\(rp.impl)) created a segment claiming \(got.major).\(got.minor), but its handle speaks \(major).\(minor) (at \(location))",
                    "PROTOCOL.md §3 (`version`) and §14: a creator writes the version it speaks; \(rp.impl) speaks \(major).\(minor) "
                        + (rp.speaksMinor != nil ? "(the step's protocol=)" : "(its hello.protocol)")
                        + ", and the header of \(segmentPath) reads 0x\(String(version, radix: 16)) right after the answer")
    }
}
