import Foundation

/// What the operators need to know about a tokenized file beyond the tokens: matching brackets,
/// function bodies (mutants live only there, except constant declarations), statements with
/// their blocks, and the tokens that belong to harness plumbing and must not be mutated.
public struct SourceStructure {
    public struct Function: Sendable { public var name: String; public var open: Int; public var close: Int }
    public struct Statement: Sendable {
        /// First and last token (inclusive).
        public var start: Int
        public var end: Int
        /// The `{` of the block holding it.
        public var block: Int
        /// True when the block is a function's own body (not a nested block).
        public var topLevel: Bool
    }

    public let language: MutationLanguage
    public let tokens: [Token]
    /// Index of the matching bracket for every ( [ { and ) ] }; -1 when unbalanced.
    public private(set) var match: [Int]
    public private(set) var functions: [Function] = []
    public private(set) var statements: [Statement] = []
    /// Tokens no operator may change (fault switches, pause hooks).
    public private(set) var masked: [Bool]
    /// Index into `functions` of the innermost function holding each token, or -1.
    public private(set) var functionOf: [Int]

    static let keywords: [MutationLanguage: Set<String>] = [
        .go: ["break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for", "func",
              "go", "goto", "if", "import", "interface", "map", "package", "range", "return", "select", "struct",
              "switch", "type", "var"],
        .rust: ["as", "break", "const", "continue", "crate", "else", "enum", "extern", "fn", "for", "if", "impl", "in",
                "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "super",
                "trait", "type", "unsafe", "use", "where", "while"],
        .swift: ["as", "break", "case", "catch", "class", "continue", "default", "defer", "do", "else", "enum",
                 "extension", "fallthrough", "for", "func", "guard", "if", "import", "in", "init", "inout", "let",
                 "private", "fileprivate", "public", "internal", "repeat", "return", "static", "struct", "switch",
                 "throw", "var", "where", "while", "deinit", "subscript", "final"],
    ]

    public init(language: MutationLanguage, tokens: [Token]) {
        self.language = language
        self.tokens = tokens
        match = Array(repeating: -1, count: tokens.count)
        masked = Array(repeating: false, count: tokens.count)
        functionOf = Array(repeating: -1, count: tokens.count)
        var stack: [Int] = []
        for (i, t) in tokens.enumerated() where t.kind == .punct {
            switch t.text {
            case "(", "[", "{": stack.append(i)
            case ")", "]", "}":
                if let o = stack.popLast() { match[o] = i; match[i] = o }
            default: break
            }
        }
        findFunctions()
        for (fi, f) in functions.enumerated() {
            for k in f.open...f.close { functionOf[k] = fi }
            parseBlock(open: f.open, topLevel: true)
        }
        maskPlumbing()
        if language == .rust { maskTestModules() }
    }

    /// Rust unit tests live beside the code in `#[cfg(test)] mod tests { … }`: not protocol code.
    private mutating func maskTestModules() {
        for i in tokens.indices where text(i) == "#" && text(i + 1) == "[" && text(i + 2) == "cfg" && text(i + 3) == "("
            && text(i + 4) == "test" && text(i + 5) == ")" {
            guard let open = (i..<min(tokens.count, i + 12)).first(where: { text($0) == "{" }), match[open] > open else { continue }
            for k in i...match[open] { masked[k] = true }
        }
    }

    public func text(_ i: Int) -> String { i >= 0 && i < tokens.count ? tokens[i].text : "" }
    public func isKeyword(_ i: Int) -> Bool { Self.keywords[language]!.contains(text(i)) }
    public func inFunction(_ i: Int) -> Bool { functionOf[i] >= 0 }
    public func functionName(_ i: Int) -> String { functionOf[i] >= 0 ? functions[functionOf[i]].name : "" }

    // MARK: Functions

    private mutating func findFunctions() {
        let introducers: Set<String> = language == .go ? ["func"] : language == .rust ? ["fn"] : ["func", "init", "deinit"]
        var i = 0
        while i < tokens.count {
            guard tokens[i].kind == .identifier, introducers.contains(tokens[i].text) else { i += 1; continue }
            var name = tokens[i].text
            var k = i + 1
            if language == .go && text(k) == "(" && match[k] > 0 { k = match[k] + 1 } // receiver
            if tokens.indices.contains(k), tokens[k].kind == .identifier, name != "init" && name != "deinit" {
                name = tokens[k].text
            } else if name == "func" || name == "fn" {
                i += 1; continue // a function literal / closure type: part of the enclosing function
            }
            // The body is the first `{` outside brackets; a `;` or a new declaration first means none.
            var depth = 0
            var body = -1
            while k < tokens.count {
                let t = tokens[k].text
                if t == "(" || t == "[" { if match[k] > 0 { k = match[k] } }
                else if t == "<" { depth += 1 }
                else if t == ">" { depth = max(0, depth - 1) }
                else if t == "{" { body = k; break }
                else if t == ";" || t == "}" { break }
                k += 1
            }
            if body >= 0, match[body] > body {
                functions.append(Function(name: name, open: body, close: match[body]))
                i = match[body] + 1 // nested named functions are attributed to the outer one
            } else {
                i = k + 1
            }
        }
    }

    // MARK: Statements

    private static let blockStatementKeywords: Set<String> = ["if", "for", "while", "loop", "match", "unsafe", "{", "switch", "select", "guard", "do", "repeat", "defer"]

    private mutating func parseBlock(open: Int, topLevel: Bool) {
        let close = match[open]
        guard close > open else { return }
        var i = open + 1
        while i < close {
            let e = statementEnd(from: i, limit: close)
            statements.append(Statement(start: i, end: e, block: open, topLevel: topLevel))
            var k = i
            while k <= e {
                if text(k) == "{" && match[k] > k { parseBlock(open: k, topLevel: false); k = match[k] + 1 } else { k += 1 }
            }
            i = e + 1
        }
    }

    /// Whether a line break between tokens `a` and `b` does not end a statement (Go and Swift).
    private func continues(_ a: Int, _ b: Int) -> Bool {
        let openers: Set<String> = ["(", "[", "{", ",", ".", "=", ":=", "+", "-", "*", "/", "%", "&&", "||", "&", "|", "^",
                                    "<<", ">>", "==", "!=", "<", ">", "<=", ">=", "+=", "-=", "|=", "&=", "->", "&+", "&-", "?", ":", "in"]
        let leaders: Set<String> = [".", "&&", "||", "else", "?", ":", ")", "]", "}", "+", "-", "&+", "|", "&", "catch", "where"]
        if tokens[a].kind != .literal && tokens[a].kind != .number && openers.contains(text(a)) { return true }
        if tokens[b].kind == .punct && leaders.contains(text(b)) && !(text(b) == "}" ) { return true }
        if text(b) == "else" || text(b) == "catch" { return true }
        return false
    }

    private func statementEnd(from: Int, limit: Int) -> Int {
        let first = text(from)
        let blocky = Self.blockStatementKeywords.contains(first)
        var k = from
        while k < limit {
            var t = text(k)
            if (t == "(" || t == "[" || t == "{") && match[k] > k && match[k] < limit {
                let wasBrace = t == "{"
                k = match[k]
                t = text(k)
                if wasBrace && language == .rust && blocky && text(k + 1) != "else" { return k }
            }
            // A Go header's `;` (`for i := 0; i < n; i++ {`, `if x := f(); x {`) is not the end.
            if t == ";" && !(language == .go && blocky) { return k }
            if language != .rust {
                if k + 1 >= limit { return k }
                if tokens[k + 1].newlineBefore && !continues(k, k + 1) { return k }
                // `case X:` / `default:` labels of a switch end at their colon.
                if (first == "case" || first == "default") && t == ":" && language == .swift { return k }
            }
            k += 1
        }
        return limit - 1
    }

    // MARK: Plumbing

    /// Fault switches and pause hooks are harness plumbing: a mutant inside a fault branch is dead
    /// code with the fault off, and a dropped pause point changes only what a harness can steer,
    /// not protocol behaviour. Transition tracing stays mutable: the harness checks what it reports.
    private mutating func maskPlumbing() {
        func isFaultRef(_ k: Int) -> Bool { text(k) == "faults" || text(k) == "Fault" }
        for s in statements {
            let r = s.start...s.end
            let first = text(s.start)
            // A pause hook call: Go `c.hooks.at(P)`, Rust `self.pause_at(P)`, Swift `at(.p)`.
            let isPause = (language == .swift && first == "at" && text(s.start + 1) == "(" && match[s.start + 1] == s.end)
                || (language != .swift && r.contains { text($0) == "hooks" || text($0) == "pause_at" } && !(first == "if" || first == "for"))
            if isPause { for k in r { masked[k] = true }; continue }
            guard r.contains(where: isFaultRef) else { continue }
            if first == "if" || first == "}" || first == "else" {
                // `if c.faults.has(X) { bug }`: the condition and its branch are fault code; an
                // `else` stays. A negated test (`&& !faults.has(X)`) guards normal code: only the
                // test itself is masked.
                guard let body = (s.start...s.end).first(where: { text($0) == "{" && match[$0] > $0 }) else { continue }
                let positive = (s.start..<body).contains { k in isFaultRef(k) && !(s.start..<k).contains { text($0) == "!" && k - $0 <= 3 } }
                if positive && first == "if" {
                    for k in s.start...match[body] { masked[k] = true }
                } else {
                    for k in s.start..<body where isFaultRef(k) {
                        var e = k
                        while e < body && text(e) != "(" { e += 1 }
                        let stop = match[e] > e ? match[e] : e
                        var b = k
                        while b > s.start && (text(b - 1) == "." || text(b - 1) == "self" || text(b - 1) == "c" || text(b - 1) == "!") { b -= 1 }
                        for m in b...stop { masked[m] = true }
                    }
                }
            } else if !(s.start...s.end).contains(where: { text($0) == "{" }) {
                for k in r { masked[k] = true } // `locked := !c.faults.has(FaultSkipInsertLock)`
            } else {
                for k in r where isFaultRef(k) { masked[k] = true }
            }
        }
        // Rust `#[doc(hidden)]` functions are the library's test hooks (a staged write and its
        // publish, the raw claim hint): only the crate's own tests call them, no driver request
        // reaches them, so, like pause hooks, they steer tests and are not protocol behaviour.
        if language == .rust {
            for f in functions {
                guard let fn = (0..<f.open).reversed().first(where: { text($0) == "fn" }) else { continue }
                let lo = max(2, fn - 10)
                let hidden = (lo..<max(lo, fn)).contains { text($0) == "hidden" && text($0 - 2) == "doc" }
                if hidden { for k in f.open...f.close { masked[k] = true } }
            }
        }
        // Swift test hooks: internal vars named `testX` (`testStopAfterClaim`) that only the
        // package's own unit tests set (through @testable import; no fixture can reach them), so
        // like Rust's #[doc(hidden)] hooks they steer tests and are not protocol behaviour. An
        // `if hook { … }` is masked whole; a hook inside a larger condition (`legacySweep ||
        // testStopAfterClaim`) only as that operand, so the rest of the condition stays mutable.
        if language == .swift {
            func isHook(_ k: Int) -> Bool {
                let t = text(k)
                guard t.count > 4, t.hasPrefix("test"), let c = t.dropFirst(4).first else { return false }
                return c.isUppercase && tokens[k].kind != .punct
            }
            for s in statements where text(s.start) == "if" && isHook(s.start + 1) && text(s.start + 2) == "{" && match[s.start + 2] > s.start + 2 {
                for k in s.start...match[s.start + 2] { masked[k] = true }
            }
            for k in tokens.indices where isHook(k) && functionOf[k] >= 0 {
                masked[k] = true
                if k > 0 && text(k - 1) == "||" { masked[k - 1] = true }
                if k + 1 < tokens.count && text(k + 1) == "||" { masked[k + 1] = true }
            }
        }
        // An `if` in expression position (Rust `key_seed: if faults.has(Fault::WrongHash) { … }
        // else { … }`) is no statement of its own: its fault branch is masked all the same.
        for k in tokens.indices where text(k) == "if" {
            guard let body = (k..<tokens.count).first(where: { text($0) == "{" }), match[body] > body else { continue }
            let positive = (k..<body).contains { j in isFaultRef(j) && !(k..<j).contains { text($0) == "!" && j - $0 <= 3 } }
            if positive { for j in k...match[body] { masked[j] = true } }
        }
        // Swift: `if faults.contains(.x) {` — the receiver has no `self.`; covered above. Go's
        // fault-only helpers live in faults.go, excluded as a whole (MutationTargets).
    }
}
