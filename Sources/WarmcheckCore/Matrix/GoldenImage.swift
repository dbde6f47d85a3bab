import Foundation

/// The committed segment images, one directory per released version (docs/UPGRADING.md):
///
/// ```
/// testdata/golden/<version>/segment.seg    the image (the matrix sequence, closed cleanly)
/// testdata/golden/<version>/expected.json  the view every reader must get from it
/// testdata/golden/<version>/README.md      who wrote it, with which command, from which commit
/// testdata/golden/<version>/<feature>/      the same three for a segment created with a feature
///                                           worth freezing on its own (fast_checksum: WCH64X4)
/// ```
///
/// An image is frozen once committed: every later reader must read it (backward compatibility),
/// and GoldenImageFreezeTests fails on any change to a committed one. `write` refuses to
/// replace an existing image unless told the version by name (`--regenerate VERSION`).
public enum GoldenImage {
    public static let segmentName = "segment.seg"
    public static let expectedName = "expected.json"

    /// Features a writer can be asked to create a segment with (a boolean `create` argument of
    /// docs/DRIVER.md of the same name), and so the names a feature image's directory may have.
    public static let features = ["fast_checksum"]

    public struct Image: Sendable {
        /// `1.1`, or `1.1+fast_checksum` for a feature image.
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
            let name = features.contains(d.lastPathComponent) ? d.deletingLastPathComponent().lastPathComponent + "+" + d.lastPathComponent : d.lastPathComponent
            return Image(version: name, segment: seg, expected: ExpectedView(json: try JSON.parse(data)))
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
        return try names.flatMap { v -> [Image] in
            let vd = d.appendingPathComponent(v)
            let featured = features.filter { FileManager.default.fileExists(atPath: vd.appendingPathComponent($0).appendingPathComponent(segmentName).path) }
            return try [load(dir: vd, at: "testdata/golden")] + featured.map { try load(dir: vd.appendingPathComponent($0), at: "testdata/golden") }
        }
    }

    /// The directory of `version`'s image, or of its `feature` image.
    static func imageDir(version: String, feature: String?) throws -> URL {
        let d = try dir().appendingPathComponent(version)
        guard let feature else { return d }
        guard features.contains(feature) else {
            throw UsageError("--golden-feature \(feature): not a feature an image can be written with (\(features.joined(separator: ", ")))")
        }
        return d.appendingPathComponent(feature)
    }

    /// Writes the image of `version` with `spec` as the writer, which must speak that version's
    /// protocol. An existing image is replaced only when `regenerate` names the same version.
    /// With `feature`, the segment is created with it on and the image goes to its subdirectory.
    public static func write(version: String, feature: String? = nil, with spec: FixtureSpec, runner: MatrixRunner,
                             regenerate: String?) throws -> String {
        guard let (major, minor) = Releases.protocolVersion(version) else {
            throw UsageError("--golden-version \(version): not MAJOR.MINOR[.PATCH]")
        }
        let d = try imageDir(version: version, feature: feature)
        let seg = d.appendingPathComponent(segmentName).path
        if FileManager.default.fileExists(atPath: seg) && regenerate != version {
            throw UsageError("\(seg) exists: golden images are never overwritten (released readers are checked against them); "
                + "to replace the image of an unreleased version on purpose, pass --regenerate \(version)")
        }
        let w = try runner.write(with: spec, create: feature.map { [$0: true] } ?? [:])
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
