import Foundation

/// The committed v1 segment image (testdata/golden/v1-matrix.seg) and the view every reader must
/// get from it (expected.json). Replaying an old image against today's readers is the upgrade
/// gate: a reader that stops understanding v1 fails here even if it still agrees with itself.
public enum GoldenImage {
    public static let segmentName = "v1-matrix.seg"
    public static let expectedName = "expected.json"

    static func dir() throws -> URL {
        guard let root = Repo.root() else { throw UsageError("cannot find the warmcache checkout (set WARMCACHE_ROOT)") }
        return root.appendingPathComponent("testdata/golden")
    }

    public static func load() throws -> (segment: String, expected: ExpectedView)? {
        let d = try dir()
        let seg = d.appendingPathComponent(segmentName).path
        let exp = d.appendingPathComponent(expectedName)
        guard FileManager.default.fileExists(atPath: seg) else { return nil }
        guard let data = FileManager.default.contents(atPath: exp.path) else {
            throw UsageError("\(exp.path) is missing beside \(seg)")
        }
        do {
            return (seg, ExpectedView(json: try JSON.parse(data)))
        } catch {
            throw UsageError("\(exp.path): \(error)")
        }
    }

    /// Produces a new image with `spec` as the writer.
    public static func write(with spec: FixtureSpec, runner: MatrixRunner) throws {
        let w = try runner.write(with: spec)
        defer { unlink(w.path) }
        let d = try dir()
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        let seg = d.appendingPathComponent(segmentName).path
        unlink(seg)
        try runner.copyFile(w.path, to: seg)
        try (w.expected.json.pretty + "\n").write(to: d.appendingPathComponent(expectedName), atomically: true, encoding: .utf8)
    }
}
