import Foundation

/// One mutant: one edit of one implementation file.
///
/// Two identities: `id` (`file:line:col:operator:n`, n counting the variants one operator makes at
/// one token) names it precisely in one run; `key` (`file:operator:HASH:occurrence`, the hash of
/// the changed line(s) before and after, whitespace collapsed, and the occurrence among equal
/// hashes in the file) survives unrelated edits that move lines, so it is what the equivalence
/// list, sampling and sharding use.
public struct Mutant: Sendable {
    public var file: String
    public var language: MutationLanguage
    public var line: Int
    public var column: Int
    public var op: String
    public var variant: Int
    public var function: String
    public var edit: Edit
    public var key: String
    /// The affected line(s) before and after.
    public var before: String
    public var after: String

    public var id: String { "\(file):\(line):\(column):\(op):\(variant)" }

    public var diff: String {
        before.split(separator: "\n", omittingEmptySubsequences: false).map { "- " + $0 }.joined(separator: "\n") + "\n"
            + after.split(separator: "\n", omittingEmptySubsequences: false).map { "+ " + $0 }.joined(separator: "\n")
    }

    /// The file's text with this mutant applied.
    public func apply(to original: String) -> String {
        var b = Array(original.utf8)
        b.replaceSubrange(edit.start..<edit.end, with: Array(edit.replacement.utf8))
        return String(decoding: b, as: UTF8.self)
    }
}

public enum MutantGenerator {
    /// Every mutant of one file, in source order. `file` is the path relative to the checkout.
    public static func mutants(file: String, text: String, language: MutationLanguage) -> [Mutant] {
        let tokens = Tokenizer(language: language).tokenize(text)
        let structure = SourceStructure(language: language, tokens: tokens)
        var edits = OperatorSet(structure: structure, text: text).all()
        edits.sort { ($0.start, $0.end, $0.op, $0.replacement) < ($1.start, $1.end, $1.op, $1.replacement) }
        let bytes = Array(text.utf8)
        var seen = Set<String>()
        var variants: [String: Int] = [:]
        var occurrences: [String: Int] = [:]
        var out: [Mutant] = []
        for e in edits {
            // Two operators may make the same change; the first (in name order) keeps it.
            let same = "\(e.start):\(e.end):\(e.replacement)"
            if !seen.insert(same).inserted { continue }
            if String(decoding: bytes[e.start..<e.end], as: UTF8.self) == e.replacement { continue }
            let tok = tokens[e.token]
            let vk = "\(e.token):\(e.op)"
            let variant = variants[vk, default: 0]
            variants[vk] = variant + 1
            var ls = e.start
            while ls > 0 && bytes[ls - 1] != 10 { ls -= 1 }
            var le = e.end
            while le < bytes.count && bytes[le] != 10 { le += 1 }
            let before = String(decoding: bytes[ls..<le], as: UTF8.self)
            let after = String(decoding: bytes[ls..<e.start], as: UTF8.self) + e.replacement + String(decoding: bytes[e.end..<le], as: UTF8.self)
            let h = String(format: "%08x", UInt32(truncatingIfNeeded: fnv1a(normalize(before) + "\u{0}" + normalize(after))))
            let ok = "\(e.op):\(h)"
            let occ = occurrences[ok, default: 0] + 1
            occurrences[ok] = occ
            out.append(Mutant(file: file, language: language, line: tok.line, column: tok.column, op: e.op, variant: variant,
                              function: structure.functionName(e.token), edit: e, key: "\(file):\(e.op):\(h):\(occ)",
                              before: before, after: after))
        }
        return out
    }

    static func normalize(_ s: String) -> String {
        s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }
}

func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}
