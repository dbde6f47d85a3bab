import Foundation

/// A `TMPDIR` of its own for a child process, removed with everything in it once the child is
/// done.
///
/// Why: the Swift 6.3 toolchain on Linux leaves an empty `TemporaryDirectory.XXXXXX` in
/// `$TMPDIR` for every `swiftc -print-target-info`, `-version` or `-h` that `swift build`
/// spawns (measured with strace: six per no-op `swift build`). That is where the thousands of
/// them in /tmp come from. Foundation's own `write(…, atomically: true)` leaves nothing: it
/// writes a temporary file beside the destination and renames it (pinned by
/// TemporaryFileTests). So the builds warmcheck starts (the Swift fixture when stale, a Swift
/// mutant) get a private `TMPDIR`, and scripts/test.sh does the same for the whole gate.
enum PrivateTemporaryDirectory {
    /// Creates a fresh directory inside `parent` (created if missing), passes the environment
    /// `env` with `TMPDIR` pointing there to `body`, and removes the directory afterwards,
    /// whatever `body` did. If the directory cannot be made, `body` gets `env` unchanged: a
    /// build that leaks a few empty directories beats a build that does not run.
    static func with<T>(environment env: [String: String], in parent: URL, _ body: ([String: String]) throws -> T) rethrows -> T {
        try? FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        var template = Array(parent.appendingPathComponent("tmp.XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { return try body(env) }
        let dir = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var e = env
        e["TMPDIR"] = dir
        return try body(e)
    }
}
