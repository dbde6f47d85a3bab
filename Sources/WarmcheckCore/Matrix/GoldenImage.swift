import Foundation

/// The committed segment images, one directory per released version (docs/UPGRADING.md):
///
/// ```
/// testdata/golden/<version>/segment.seg    the image (the matrix sequence, closed cleanly)
/// testdata/golden/<version>/expected.json  the view every reader must get from it
/// testdata/golden/<version>/README.md      who wrote it, with which command, from which commit
/// ```
///
/// An image is frozen once committed: every later reader must read it (backward compatibility),
/// and GoldenImageFreezeTests fails on any change to a committed one. `write` refuses to
/// replace an existing image unless told the version by name (`--regenerate VERSION`).
public enum GoldenImage {
    public static let segmentName = "segment.seg"
    public static let expectedName = "expected.json"

    public struct Image: Sendable {
        public var version: String
        public var segment: String
        public var expected: ExpectedView
    }

    public static func dir(root: URL? = Repo.root()) throws -> URL {
        guard let root else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
        return root.appendingPathComponent("testdata/golden")
    }

    /// The image in `dir`; `at` says who named it, for messages.
    public static func load(dir d: URL, at: String) throws -> Image {
        let seg = d.appendingPathComponent(segmentName).path
        let exp = d.appendingPathComponent(expectedName).path
        guard FileManager.default.fileExists(atPath: seg) else { throw UsageError("\(at): no golden image at \(seg)") }
        guard let data = FileManager.default.contents(atPath: exp) else { throw UsageError("\(at): \(exp) is missing beside \(seg)") }
        do {
            return Image(version: d.lastPathComponent, segment: seg, expected: ExpectedView(json: try JSON.parse(data)))
        } catch {
            throw UsageError("\(exp): \(error)")
        }
    }

    /// Every committed image, oldest version first.
    public static func all() throws -> [Image] {
        let d = try dir()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? [])
            .filter { Releases.protocolVersion($0) != nil }
            .sorted { a, b in a.split(separator: ".").map { Int($0)! }.lexicographicallyPrecedes(b.split(separator: ".").map { Int($0)! }) }
        return try names.map { try load(dir: d.appendingPathComponent($0), at: "testdata/golden") }
    }

    /// Writes the image of `version` with `spec` as the writer, which must speak that version's
    /// protocol. An existing image is replaced only when `regenerate` names the same version.
    public static func write(version: String, with spec: FixtureSpec, runner: MatrixRunner, regenerate: String?) throws -> String {
        guard let (major, minor) = Releases.protocolVersion(version) else {
            throw UsageError("--golden-version \(version): not MAJOR.MINOR[.PATCH]")
        }
        let d = try dir().appendingPathComponent(version)
        let seg = d.appendingPathComponent(segmentName).path
        if FileManager.default.fileExists(atPath: seg) && regenerate != version {
            throw UsageError("\(seg) exists: golden images are never overwritten (released readers are checked against them); "
                + "to replace the image of an unreleased version on purpose, pass --regenerate \(version)")
        }
        let w = try runner.write(with: spec)
        defer { unlink(w.path) }
        guard let v = w.protocolVersion, v.major == major, v.minor == minor else {
            let said = w.protocolVersion.map { "\($0.major).\($0.minor)" } ?? "no version"
            throw UsageError("\(spec.name) speaks protocol \(said) (its hello), not \(major).\(minor): it cannot write the \(version) image")
        }
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        unlink(seg)
        try runner.copyFile(w.path, to: seg)
        try (w.expected.json.pretty + "\n").write(to: d.appendingPathComponent(expectedName), atomically: true, encoding: .utf8)
        return d.path
    }
}
