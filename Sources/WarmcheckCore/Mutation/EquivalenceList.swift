import Foundation

/// The committed list of mutants judged equivalent (no observable behaviour can differ): one
/// `KEY reason…` per line, `#` starts a comment line. Equivalent survivors leave the score's
/// denominator; an entry whose mutant is killed is refused, since it is then plainly not
/// equivalent and the list is wrong.
public struct EquivalenceList: Sendable {
    public struct Entry: Sendable { public var key: String; public var reason: String; public var line: Int }
    public var entries: [String: Entry] = [:]
    public var path: String = ""

    public init() {}

    public static func load(path: String) throws -> EquivalenceList {
        var list = EquivalenceList()
        list.path = path
        guard FileManager.default.fileExists(atPath: path) else { return list }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw UsageError("\(path): cannot read") }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", maxSplits: 1)
            let key = String(parts[0])
            guard key.split(separator: ":").count == 4 else {
                throw UsageError("\(path):\(n + 1): expected FILE:OPERATOR:HASH:N and a reason, got \"\(line)\"")
            }
            guard parts.count == 2, !parts[1].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw UsageError("\(path):\(n + 1): \(key) has no reason; say why no behaviour can differ")
            }
            if list.entries[key] != nil { throw UsageError("\(path):\(n + 1): \(key) is listed twice") }
            list.entries[key] = Entry(key: key, reason: String(parts[1]), line: n + 1)
        }
        return list
    }

    /// Refuses entries whose mutant was killed (or timed out): an error naming each one.
    public func refuseKilled(_ outcomes: [MutationOutcome]) throws {
        let bad = outcomes.filter { ($0.verdict == .killed || $0.verdict == .timedOut) && entries[$0.mutant.key] != nil }
        guard bad.isEmpty else {
            let lines = bad.map { o in
                "\(path):\(entries[o.mutant.key]!.line): \(o.mutant.key) is listed as equivalent but was killed by \(o.killer ?? "?") (\(o.mutant.id))"
            }
            throw UsageError(lines.joined(separator: "\n"))
        }
    }
}
