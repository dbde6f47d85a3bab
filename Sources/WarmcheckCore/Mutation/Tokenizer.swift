import Foundation

/// The three implementation languages the mutation engine understands.
public enum MutationLanguage: String, Sendable, CaseIterable {
    case go, rust, swift

    public static func of(path: String) -> MutationLanguage? {
        if path.hasSuffix(".go") { return .go }
        if path.hasSuffix(".rs") { return .rust }
        if path.hasSuffix(".swift") { return .swift }
        return nil
    }
}

/// One token of a source file. Comments and string/char literals never become tokens (they are
/// skipped whole), so no operator can touch them; `newlineBefore` keeps what the statement finder
/// needs to know about the line structure of Go and Swift, where a newline ends a statement.
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case identifier, number, punct, literal }
    public var kind: Kind
    public var text: String
    /// UTF-8 byte offsets into the file: [start, end).
    public var start: Int
    public var end: Int
    public var line: Int
    public var column: Int
    public var newlineBefore: Bool
    public var spaceBefore: Bool
    public var spaceAfter: Bool
}

/// A small lexer for Go, Rust and Swift: enough to find operators, numbers, identifiers and
/// brackets, and to step over every kind of comment and literal each language has (Go backquote
/// strings and runes, Rust raw/byte strings, chars and lifetimes, Swift multi-line, raw and
/// interpolated strings, nested block comments in Rust and Swift).
public struct Tokenizer {
    public let language: MutationLanguage
    public init(language: MutationLanguage) { self.language = language }

    /// Longest match first.
    static let puncts: [String] = [
        "<<=", ">>=", "&+=", "&-=", "&*=", "...", "..<", "..=", "&^=",
        "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
        "&+", "&-", "&*", "->", "=>", "::", ":=", "++", "--", "&^", "..", "<-",
    ]

    public func tokenize(_ text: String) -> [Token] {
        let b = Array(text.utf8)
        var out: [Token] = []
        var i = 0
        var line = 1
        var lineStart = 0
        var sawNewline = true
        var sawSpace = true
        func at(_ k: Int) -> UInt8 { k < b.count ? b[k] : 0 }
        func isIdentStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c >= 0x80 }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        func isIdent(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
        /// Advances over bytes up to `end`, counting lines.
        func skip(to end: Int) {
            let e = min(end, b.count)
            while i < e {
                if b[i] == 10 { line += 1; lineStart = i + 1; sawNewline = true }
                i += 1
            }
        }
        func emit(_ kind: Token.Kind, _ s: Int, _ e: Int, line l: Int, col: Int) {
            if let last = out.indices.last { out[last].spaceAfter = sawSpace || sawNewline }
            out.append(Token(kind: kind, text: String(decoding: b[s..<e], as: UTF8.self), start: s, end: e,
                             line: l, column: col, newlineBefore: sawNewline, spaceBefore: sawSpace || sawNewline,
                             spaceAfter: true))
            sawNewline = false
            sawSpace = false
        }
        /// End of a quoted literal starting at `s` (the opening quote), with backslash escapes.
        func quoted(from s: Int, quote q: UInt8, escapes: Bool = true) -> Int {
            var k = s + 1
            while k < b.count {
                if escapes && b[k] == 92 { k += 2; continue }
                if b[k] == q { return k + 1 }
                k += 1
            }
            return b.count
        }
        /// End of a Swift string literal at `s` (after any `#`s, at the first quote), with
        /// interpolations `\( … )` that may hold nested strings.
        func swiftString(from s: Int, hashes: Int) -> Int {
            let triple = at(s) == 34 && at(s + 1) == 34 && at(s + 2) == 34
            var k = s + (triple ? 3 : 1)
            let closing = Array(repeating: UInt8(34), count: triple ? 3 : 1) + Array(repeating: UInt8(35), count: hashes)
            let escape = [UInt8(92)] + Array(repeating: UInt8(35), count: hashes)
            while k < b.count {
                if b[k...].starts(with: escape) {
                    k += escape.count
                    if at(k) == 40 { // interpolation: skip to the matching parenthesis
                        var depth = 1
                        k += 1
                        while k < b.count && depth > 0 {
                            if b[k] == 34 { k = swiftString(from: k, hashes: 0); continue }
                            if b[k] == 40 { depth += 1 } else if b[k] == 41 { depth -= 1 }
                            k += 1
                        }
                    } else {
                        k += 1
                    }
                    continue
                }
                if b[k...].starts(with: closing) { return k + closing.count }
                k += 1
            }
            return b.count
        }
        while i < b.count {
            let c = b[i]
            let s = i
            let col = i - lineStart + 1
            if c == 10 { skip(to: i + 1); continue }
            if c == 32 || c == 9 || c == 13 { i += 1; sawSpace = true; continue }
            // Comments.
            if c == 47 && at(i + 1) == 47 {
                var k = i
                while k < b.count && b[k] != 10 { k += 1 }
                skip(to: k); sawSpace = true; continue
            }
            if c == 47 && at(i + 1) == 42 {
                let nests = language != .go
                var depth = 0
                var k = i
                while k < b.count {
                    if b[k] == 47 && at(k + 1) == 42 { depth += 1; k += 2; if !nests { depth = 1 }; continue }
                    if b[k] == 42 && at(k + 1) == 47 { depth -= 1; k += 2; if depth == 0 { break }; continue }
                    k += 1
                }
                skip(to: k); sawSpace = true; continue
            }
            // Literals.
            var literalEnd: Int? = nil
            switch language {
            case .go:
                if c == 34 { literalEnd = quoted(from: i, quote: 34) }
                else if c == 96 { literalEnd = quoted(from: i, quote: 96, escapes: false) }
                else if c == 39 { literalEnd = quoted(from: i, quote: 39) }
            case .rust:
                var k = i
                if b[k] == 98 && (at(k + 1) == 34 || at(k + 1) == 39 || at(k + 1) == 114) { k += 1 } // b"…", b'…', br"…"
                if b[k] == 114 && (at(k + 1) == 34 || at(k + 1) == 35) && !(k > 0 && k == i && isIdent(at(i - 1))) {
                    var hashes = 0
                    var h = k + 1
                    while at(h) == 35 { hashes += 1; h += 1 }
                    if at(h) == 34 {
                        let closing = [UInt8(34)] + Array(repeating: UInt8(35), count: hashes)
                        var e = h + 1
                        while e < b.count && !b[e...].starts(with: closing) { e += 1 }
                        literalEnd = min(b.count, e + closing.count)
                    }
                } else if b[k] == 34 {
                    literalEnd = quoted(from: k, quote: 34)
                } else if b[k] == 39 {
                    // A char literal ('a', '\n', '\u{1F}') or a lifetime ('a): a lifetime has no
                    // closing quote right after its first character.
                    if at(k + 1) == 92 { literalEnd = quoted(from: k, quote: 39) }
                    else if at(k + 2) == 39 { literalEnd = k + 3 }
                    else if at(k + 1) >= 0x80 {
                        var e = k + 1
                        while e < b.count && e < k + 6 && b[e] != 39 { e += 1 }
                        if at(e) == 39 { literalEnd = e + 1 }
                    }
                }
            case .swift:
                var k = i
                var hashes = 0
                while at(k) == 35 { hashes += 1; k += 1 }
                if at(k) == 34 { literalEnd = swiftString(from: k, hashes: hashes) }
            }
            if let e = literalEnd {
                let l = line
                emit(.literal, s, e, line: l, col: col)
                skip(to: e)
                continue
            }
            if isIdentStart(c) {
                var k = i
                while k < b.count && isIdent(b[k]) { k += 1 }
                emit(.identifier, s, k, line: line, col: col)
                i = k
                continue
            }
            if isDigit(c) || (c == 46 && isDigit(at(i + 1)) && language == .go) {
                var k = i
                if c == 48 && (at(k + 1) == 120 || at(k + 1) == 88 || at(k + 1) == 98 || at(k + 1) == 111) { k += 2 }
                while k < b.count && (isIdent(b[k]) || (b[k] == 46 && isDigit(at(k + 1)))) { k += 1 }
                emit(.number, s, k, line: line, col: col)
                i = k
                continue
            }
            var len = 1
            for p in Self.puncts where b[i...].starts(with: Array(p.utf8)) { len = p.utf8.count; break }
            emit(.punct, s, i + len, line: line, col: col)
            i += len
        }
        return out
    }
}
