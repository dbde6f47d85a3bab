import Foundation

/// One slice of a deterministic split of a work list (cases of `run`, attacks of `selftest` or
/// `mutate`) over several machines: `--shard i/n` or Bazel's test-sharding variables. Shard `i`
/// takes the items at positions `p` with `p mod n == i - 1` of the full list, so the slices are
/// disjoint, cover the list, differ in size by at most one, and depend on nothing but the list's
/// order, which every command builds the same way on every machine.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 0-based, as Bazel counts; `description` and `--shard` count from 1, as people do.
    public let index: Int
    public let count: Int

    public static let whole = Shard(uncheckedIndex: 0, count: 1)

    init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw UsageError("shard count \(count) must be at least 1") }
        guard (0..<count).contains(index) else {
            throw UsageError("shard index \(index) is outside 0..<\(count) (0-based)")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    /// `i/n` with `1 ≤ i ≤ n`.
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(i) else {
            throw UsageError("--shard \(text): expected I/N with 1 ≤ I ≤ N (e.g. --shard 2/4)")
        }
        return Shard(uncheckedIndex: i - 1, count: n)
    }

    /// The environment variables of Bazel's test-sharding protocol, which other runners copy:
    /// `TEST_TOTAL_SHARDS` and the 0-based `TEST_SHARD_INDEX`. Touching `TEST_SHARD_STATUS_FILE`
    /// tells Bazel that the test understood them (otherwise it assumes every shard ran everything).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        guard let total = env["TEST_TOTAL_SHARDS"], !total.isEmpty else { return nil }
        guard let n = Int(total), n >= 1 else { throw UsageError("TEST_TOTAL_SHARDS=\(total): not a positive integer") }
        let rawIndex = env["TEST_SHARD_INDEX"] ?? ""
        guard let i = Int(rawIndex), (0..<n).contains(i) else {
            throw UsageError("TEST_SHARD_INDEX=\(rawIndex): expected 0..\(n - 1) with TEST_TOTAL_SHARDS=\(n)")
        }
        if let status = env["TEST_SHARD_STATUS_FILE"], !status.isEmpty {
            if !FileManager.default.fileExists(atPath: status) {
                guard FileManager.default.createFile(atPath: status, contents: nil) else {
                    throw UsageError("cannot touch TEST_SHARD_STATUS_FILE \(status)")
                }
            }
        }
        return Shard(uncheckedIndex: i, count: n)
    }

    /// The shard a command runs: its `--shard` flag, else the environment's, else the whole list.
    /// A flag that contradicts the environment is refused rather than silently preferred: under
    /// Bazel that would run some cases twice and others never.
    public static func resolve(flag: String?, environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard {
        let fromEnv = try fromEnvironment(env)
        guard let flag else { return fromEnv ?? .whole }
        let s = try parse(flag)
        if let e = fromEnv, e != s {
            throw UsageError("--shard \(s) contradicts TEST_TOTAL_SHARDS/TEST_SHARD_INDEX (shard \(e))")
        }
        return s
    }

    public var isWhole: Bool { count == 1 }

    public func contains(position p: Int) -> Bool { p % count == index }

    /// This shard's items, in their order.
    public func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { contains(position: $0.offset) }.map(\.element)
    }

    public var description: String { "\(index + 1)/\(count)" }

    /// What a report records so that `warmcheck merge` can prove the shards add up to the run:
    /// which slice this was and how long the unsplit list was.
    public func json(totalItems: Int) -> JSON {
        ["index": .int(Int64(index + 1)), "count": .int(Int64(count)), "total": .int(Int64(totalItems))]
    }
}
