// Shrinks an image on which the libraries disagree to a smallest one on which they still do:
// as few bytes as possible differ from the fuzzer's base image (the mutations that do not
// matter are undone), so a finding shows the one or two words that cause it, not the mutator's
// four changes and their re-computed checksums.

import Foundation

public struct ShrunkImage {
    public let image: [UInt8]
    /// 8-byte words (and bytes) that differ from the base, before and after.
    public let wordsBefore: Int
    public let wordsAfter: Int
    public let bytesAfter: Int
    /// Every library's decode of the shrunk image (result word, then out words).
    public let answers: [[UInt64]]
    /// Candidate images tried.
    public let tries: Int
}

public struct ImageShrinker {
    let pool: FFIPool
    let base: [UInt8]
    let now: UInt64
    /// Candidates tried at most; each is one decode in every worker.
    public var budget = 600

    public init(pool: FFIPool, base: [UInt8], now: UInt64) {
        self.pool = pool
        self.base = base
        self.now = now
    }

    /// The libraries' answers if they disagree on `image`, else nil.
    func disagreement(_ image: [UInt8]) throws -> [[UInt64]]? {
        let answers = try pool.run([ABICall("decode_image", [now], blobs: [image])]).map { $0[0] }
        return answers.allSatisfy({ $0 == answers[0] }) ? nil : answers
    }

    static func differingWords(_ image: [UInt8], _ base: [UInt8]) -> [Int] {
        stride(from: 0, to: image.count, by: 8).filter { off in
            (off..<min(off + 8, image.count)).contains { $0 >= base.count || image[$0] != base[$0] }
        }
    }

    static func differingBytes(_ image: [UInt8], _ base: [UInt8]) -> Int {
        image.indices.filter { $0 >= base.count || image[$0] != base[$0] }.count
    }

    /// Greedy delta debugging over the differing words: revert chunks (halves, quarters, …,
    /// single words) to the base's bytes while the libraries still disagree, then single bytes
    /// of the words that remain. A truncated image is first tried at the base's full length.
    /// Throws only if a worker fails (a crash while shrinking is itself a finding).
    public func shrink(_ start: [UInt8]) throws -> ShrunkImage {
        guard var answers = try disagreement(start) else {
            return ShrunkImage(image: start, wordsBefore: Self.differingWords(start, base).count, wordsAfter: Self.differingWords(start, base).count,
                               bytesAfter: Self.differingBytes(start, base), answers: [], tries: 1)
        }
        var best = start
        var tries = 1
        func attempt(_ candidate: [UInt8]) throws -> Bool {
            guard tries < budget, candidate != best else { return false }
            tries += 1
            guard let a = try disagreement(candidate) else { return false }
            best = candidate
            answers = a
            return true
        }
        if best.count < base.count { _ = try attempt(best + base[best.count...]) }
        let before = Self.differingWords(start, base).count
        var chunk = max(1, Self.differingWords(best, base).count / 2)
        while tries < budget {
            let words = Self.differingWords(best, base)
            var reduced = false
            for first in stride(from: 0, to: words.count, by: chunk) {
                var c = best
                for off in words[first..<min(first + chunk, words.count)] {
                    for k in off..<min(off + 8, c.count, base.count) { c[k] = base[k] }
                }
                if try attempt(c) { reduced = true; break }
            }
            if reduced { continue }
            if chunk == 1 { break }
            chunk = max(1, chunk / 2)
        }
        for i in best.indices where i < base.count && best[i] != base[i] && tries < budget {
            var c = best
            c[i] = base[i]
            _ = try attempt(c)
        }
        return ShrunkImage(image: best, wordsBefore: before, wordsAfter: Self.differingWords(best, base).count,
                           bytesAfter: Self.differingBytes(best, base), answers: answers, tries: tries)
    }
}
