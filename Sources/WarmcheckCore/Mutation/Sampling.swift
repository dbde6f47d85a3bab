import Foundation

/// Reproducible subsets of the mutants. Both work on each mutant's `key`, not on its position in
/// the list, so adding code elsewhere does not reshuffle which of the existing mutants a given
/// seed picks or which shard holds one.
public enum MutantSampling {
    /// A well-mixed 64-bit rank of `key` under `seed` (FNV-1a, then a SplitMix64 finaliser).
    public static func rank(_ key: String, seed: UInt64) -> UInt64 {
        var z = fnv1a(key) ^ (seed &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The `n` mutants of lowest rank under `seed`, in rank order: every prefix of a sample is
    /// itself a sample of that seed, so a run stopped early still covers every file and language
    /// in proportion.
    public static func sample(_ ms: [Mutant], n: Int, seed: UInt64) -> [Mutant] {
        Array(ms.sorted { (rank($0.key, seed: seed), $0.key) < (rank($1.key, seed: seed), $1.key) }.prefix(n))
    }

    /// The `n` lowest-ranked mutants of each language, all in rank order: a small sample that
    /// covers every language whatever the seed draws (CI's).
    public static func samplePerLanguage(_ ms: [Mutant], n: Int, seed: UInt64) -> [Mutant] {
        let kept = Set(Dictionary(grouping: ms, by: \.language).values.flatMap { sample($0, n: n, seed: seed).map(\.key) })
        return sample(ms.filter { kept.contains($0.key) }, n: ms.count, seed: seed)
    }

    /// Shard `index` (1-based) of `count`: every mutant is in exactly one shard.
    public static func shard(_ ms: [Mutant], index: Int, of count: Int) -> [Mutant] {
        ms.filter { Int(rank($0.key, seed: 0) % UInt64(count)) == index - 1 }
    }

    /// Parses `i/n` with 1 ≤ i ≤ n.
    public static func parseShard(_ s: String) throws -> (Int, Int) {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else {
            throw UsageError("--shard \(s): expected i/n with 1 ≤ i ≤ n")
        }
        return (i, n)
    }
}
