import Foundation

/// One textual change to one file: bytes [start, end) become `replacement`.
public struct Edit: Sendable, Equatable {
    public var op: String
    /// The token the change is reported at (its line and column).
    public var token: Int
    public var start: Int
    public var end: Int
    public var replacement: String
}

/// The mutation operators. Each has a short name (the `operator` of a mutant ID) and works on
/// tokens and statements, never on comments or literals. Binary operators are only touched when
/// written with spaces on both sides, which is how gofmt, rustfmt and Swift style write them
/// and never how they write generics (`Vec<u8>`), so almost every mutant builds.
public enum MutationOperator: String, Sendable, CaseIterable {
    /// `<` ↔ `<=`, `>` ↔ `>=`.
    case cmpBoundary = "cmp-boundary"
    /// `==` ↔ `!=`.
    case cmpEq = "cmp-eq"
    /// An integer constant in code ±1.
    case constOff = "const-off"
    /// An index `a[i]` becomes `a[(i) + 1]`.
    case indexOff = "index-off"
    /// `+ 1` becomes `+ 2` (and so on) in additions, increments and fetch-adds: sequence arithmetic.
    case seqAdd = "seq-add"
    /// A numeric constant of a declaration (a field offset, a size, a code) moves by one word.
    case fieldConst = "field-const"
    /// A store, a call or an increment statement is removed.
    case dropStmt = "drop-stmt"
    /// An early `return`, `break` or `continue` (in a nested block) is removed.
    case dropReturn = "drop-return"
    /// A check (`if cond { return … }` without else, `guard cond else { … }`) is removed.
    case dropCheck = "drop-check"
    /// Two adjacent simple statements change places.
    case swapStmt = "swap-stmt"
    /// `if cond` becomes `if !(cond)`.
    case negateCond = "negate-cond"
    /// A loop runs one iteration less (its bound minus one).
    case loopBound = "loop-bound"
    /// An acquire/release/seq-cst ordering becomes relaxed (Rust and Swift; Go has only seq-cst).
    case atomicOrder = "atomic-order"
    /// A compare-and-swap becomes a load, a compare and a store (no longer atomic).
    case atomicCAS = "atomic-cas"
    /// A fetch-add/sub becomes a load and a store (no longer atomic).
    case atomicRMW = "atomic-rmw"
}

struct OperatorSet {
    let s: SourceStructure
    let bytes: [UInt8]

    init(structure: SourceStructure, text: String) {
        s = structure
        bytes = Array(text.utf8)
    }

    var lang: MutationLanguage { s.language }
    var t: [Token] { s.tokens }

    func src(_ from: Int, _ to: Int) -> String { String(decoding: bytes[from..<to], as: UTF8.self) }
    /// Source text of tokens a...b (inclusive), with what lies between them.
    func src(tokens a: Int, _ b: Int) -> String { src(t[a].start, t[b].end) }
    func eligible(_ i: Int) -> Bool { s.inFunction(i) && !s.masked[i] }
    func spaced(_ i: Int) -> Bool { t[i].spaceBefore && t[i].spaceAfter }

    func all() -> [Edit] {
        var out: [Edit] = []
        out += comparisons()
        out += numbers()
        out += indices()
        out += fieldConstants()
        out += statementDrops()
        out += swaps()
        out += negations()
        out += loopBounds()
        out += atomicOrders()
        out += atomicRMWs()
        return out
    }

    // MARK: Comparisons

    func comparisons() -> [Edit] {
        let boundary = ["<": "<=", "<=": "<", ">": ">=", ">=": ">"]
        var out: [Edit] = []
        for i in t.indices where t[i].kind == .punct && eligible(i) && spaced(i) {
            if let r = boundary[t[i].text] {
                out.append(Edit(op: MutationOperator.cmpBoundary.rawValue, token: i, start: t[i].start, end: t[i].end, replacement: r))
            } else if t[i].text == "==" || t[i].text == "!=" {
                out.append(Edit(op: MutationOperator.cmpEq.rawValue, token: i, start: t[i].start, end: t[i].end,
                                replacement: t[i].text == "==" ? "!=" : "=="))
            }
        }
        return out
    }

    // MARK: Numbers

    /// An integer literal's value, its digits' base and any type suffix (`1u64`).
    static func parseInteger(_ text: String) -> (value: UInt64, hex: Bool, suffix: String)? {
        var s = text.replacingOccurrences(of: "_", with: "")
        var hex = false
        var radix = 10
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s.removeFirst(2); hex = true; radix = 16 }
        else if s.hasPrefix("0b") { s.removeFirst(2); radix = 2 }
        else if s.hasPrefix("0o") { s.removeFirst(2); radix = 8 }
        var digits = ""
        var suffix = ""
        for c in s {
            if suffix.isEmpty, c.isHexDigit, radix == 16 || c.isNumber { digits.append(c) } else { suffix.append(c) }
        }
        if !suffix.isEmpty && !["u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize"].contains(suffix) { return nil }
        guard let v = UInt64(digits, radix: radix) else { return nil }
        return (v, hex, suffix)
    }

    static func render(_ v: UInt64, hex: Bool, suffix: String) -> String {
        (hex ? "0x" + String(v, radix: 16, uppercase: true) : String(v)) + suffix
    }

    /// Whether token i is an operand of an addition: `x + 1`, `x += 1`, `fetch_add(1`, `AddUint64(p, 1`.
    func isAddend(_ i: Int) -> Bool {
        let p = s.text(i - 1)
        if ["+", "&+", "+=", "&+=", "++"].contains(p) { return true }
        if p == "(" || p == "," || p == ":" {
            var k = i - 1
            while k >= 0 && s.text(k) != "(" { k -= 1 }
            let callee = s.text(k - 1)
            return ["wrapping_add", "fetch_add", "AddUint64", "AddUint32", "fetchAddRelaxed", "fetchAddAcqRel", "fetchAddSeqCst",
                    "loadThenWrappingIncrement", "wrappingIncrement", "add"].contains(callee)
        }
        return false
    }

    func numbers() -> [Edit] {
        var out: [Edit] = []
        for i in t.indices where t[i].kind == .number && eligible(i) && s.text(i - 1) != "." {
            guard let (v, hex, suffix) = Self.parseInteger(t[i].text) else { continue }
            if isAddend(i) {
                if v < UInt64.max {
                    out.append(Edit(op: MutationOperator.seqAdd.rawValue, token: i, start: t[i].start, end: t[i].end,
                                    replacement: Self.render(v + 1, hex: hex, suffix: suffix)))
                }
            } else if v < UInt64.max {
                out.append(Edit(op: MutationOperator.constOff.rawValue, token: i, start: t[i].start, end: t[i].end,
                                replacement: Self.render(v + 1, hex: hex, suffix: suffix)))
            }
            if v > 0 {
                out.append(Edit(op: MutationOperator.constOff.rawValue, token: i, start: t[i].start, end: t[i].end,
                                replacement: Self.render(v - 1, hex: hex, suffix: suffix)))
            }
        }
        return out
    }

    func indices() -> [Edit] {
        var out: [Edit] = []
        for i in t.indices where s.text(i) == "[" && eligible(i) && !t[i].spaceBefore && i > 0 {
            let prev = t[i - 1]
            guard prev.kind == .identifier && !s.isKeyword(i - 1) || prev.text == ")" || prev.text == "]" else { continue }
            let close = s.match[i]
            guard close > i + 1 else { continue }
            var k = i + 1
            var plain = true
            while k < close {
                if ["(", "[", "{"].contains(s.text(k)), s.match[k] > k { k = s.match[k] + 1; continue }
                if [":", "..", "..=", "..<", "...", ","].contains(s.text(k)) { plain = false; break }
                k += 1
            }
            guard plain else { continue }
            out.append(Edit(op: MutationOperator.indexOff.rawValue, token: i, start: t[i + 1].start, end: t[close - 1].end,
                            replacement: "(" + src(tokens: i + 1, close - 1) + ") + 1"))
        }
        return out
    }

    /// Numbers in constant declarations outside functions: Go `const X = 8` (also in a `const (`
    /// group), Rust `const X: u64 = 8;`, Swift `static let x = 8`. A word-aligned value moves by
    /// one word (the neighbouring field), anything else by one.
    func fieldConstants() -> [Edit] {
        var out: [Edit] = []
        var goGroupEnd = -1
        var declEnd = -1
        for i in t.indices {
            if s.inFunction(i) { continue }
            let x = s.text(i)
            if lang == .go && x == "const" && s.text(i + 1) == "(" { goGroupEnd = s.match[i + 1]; continue }
            if x == "const" || (lang == .swift && x == "let" && ["static", "public", "private", "fileprivate", "internal"].contains(s.text(i - 1))) ||
                (lang == .swift && x == "let" && t[i].column == 1) {
                // The declaration ends at the end of its line (or `;` in Rust).
                var k = i
                while k + 1 < t.count && !(t[k + 1].newlineBefore) && s.text(k) != ";" { k += 1 }
                declEnd = k
                continue
            }
            guard t[i].kind == .number, !s.masked[i], i <= declEnd || i < goGroupEnd, s.text(i - 1) != "." else { continue }
            // Array sizes in types (`[u8; 8]`) and shifts of iota stay: only values.
            guard let (v, hex, suffix) = Self.parseInteger(x) else { continue }
            let moved = v >= 8 && v % 8 == 0 ? v + 8 : v + 1
            out.append(Edit(op: MutationOperator.fieldConst.rawValue, token: i, start: t[i].start, end: t[i].end,
                            replacement: Self.render(moved, hex: hex, suffix: suffix)))
        }
        return out
    }

    // MARK: Statements

    /// A statement that can be removed or moved and still leave code that builds: a store, a
    /// call, an increment — no declaration, no block statement, no match arm or label.
    func isSimple(_ st: SourceStructure.Statement) -> Bool {
        let f = t[st.start]
        if (st.start...st.end).contains(where: { s.masked[$0] }) { return false }
        if lang == .rust && s.text(st.end) != ";" { return false }
        let firstOK = (f.kind == .identifier && (!s.isKeyword(st.start) || ["self", "defer", "try", "go"].contains(f.text)))
            || f.text == "*" || f.text == "_"
        guard firstOK, !["let", "var", "const", "case", "default", "type", "use", "return", "fn", "func", "struct"].contains(f.text) else { return false }
        var k = st.start
        while k <= st.end {
            let x = s.text(k)
            if ["(", "[", "{"].contains(x), s.match[k] > k { k = s.match[k] + 1; continue }
            if [":=", "=>", ":", ","].contains(x) { return false }
            k += 1
        }
        // Swift `x = y` where x is a `let` declared earlier is still a statement; a lone name
        // (Go `_ = x` is fine) or a bare expression is not worth a mutant.
        return st.end > st.start
    }

    func bodyOf(_ st: SourceStructure.Statement) -> (open: Int, close: Int)? {
        var k = st.start
        while k <= st.end {
            let x = s.text(k)
            if x == "(" || x == "[", s.match[k] > k { k = s.match[k] + 1; continue }
            if x == "{" { return s.match[k] > k ? (k, s.match[k]) : nil }
            k += 1
        }
        return nil
    }

    func lastStatement(inBlock open: Int) -> SourceStructure.Statement? {
        s.statements.last { $0.block == open }
    }

    func deletion(_ op: MutationOperator, _ st: SourceStructure.Statement) -> Edit {
        Edit(op: op.rawValue, token: st.start, start: t[st.start].start, end: t[st.end].end, replacement: "")
    }

    func statementDrops() -> [Edit] {
        var out: [Edit] = []
        let exits: Set<String> = ["return", "break", "continue", "throw"]
        for st in s.statements where eligible(st.start) {
            let f = s.text(st.start)
            if (f == "return" || f == "break" || f == "continue") && !st.topLevel {
                if (st.start...st.end).contains(where: { s.masked[$0] }) { continue }
                out.append(deletion(.dropReturn, st))
            } else if f == "if" || f == "guard" {
                guard let body = bodyOf(st), body.close == st.end else { continue } // no else branch
                if (st.start...st.end).contains(where: { s.masked[$0] }) { continue }
                if f == "guard" && ["let", "var", "case"].contains(s.text(st.start + 1)) { continue }
                if f == "if" && ["let", "var", "case"].contains(s.text(st.start + 1)) { continue }
                guard let last = lastStatement(inBlock: body.open), exits.contains(s.text(last.start)) || s.text(last.start) == "panic" else { continue }
                out.append(deletion(.dropCheck, st))
            } else if isSimple(st) {
                out.append(deletion(.dropStmt, st))
            }
        }
        return out
    }

    func swaps() -> [Edit] {
        var out: [Edit] = []
        let simple = s.statements.filter { eligible($0.start) && isSimple($0) }
        for (a, b) in zip(simple, simple.dropFirst()) where a.block == b.block {
            // Adjacent: nothing but whitespace between them.
            guard s.statements.contains(where: { $0.start == b.start }),
                  !s.statements.contains(where: { $0.block == a.block && $0.start > a.end && $0.start < b.start }) else { continue }
            let ta = src(tokens: a.start, a.end)
            let tb = src(tokens: b.start, b.end)
            guard ta != tb else { continue }
            out.append(Edit(op: MutationOperator.swapStmt.rawValue, token: a.start, start: t[a.start].start, end: t[b.end].end,
                            replacement: tb + src(t[a.end].end, t[b.start].start) + ta))
        }
        return out
    }

    /// The `{` that ends a condition starting at token `from`, or nil.
    func conditionEnd(from: Int, until limit: Int = Int.max) -> Int? {
        var k = from
        while k < min(t.count, limit) {
            let x = s.text(k)
            if x == "(" || x == "[", s.match[k] > k { k = s.match[k] + 1; continue }
            if x == "{" || x == "=>" { return k } // `=>`: a Rust match guard `Some(f) if cond =>`
            if x == ";" || x == "}" { return nil }
            k += 1
        }
        return nil
    }

    func topLevel(_ a: Int, _ b: Int, contains texts: Set<String>) -> Bool {
        var k = a
        while k < b {
            let x = s.text(k)
            if x == "(" || x == "[", s.match[k] > k { k = s.match[k] + 1; continue }
            if texts.contains(x) { return true }
            k += 1
        }
        return false
    }

    func negations() -> [Edit] {
        var out: [Edit] = []
        for i in t.indices where (s.text(i) == "if" || (s.text(i) == "guard" && lang == .swift)) && eligible(i) {
            let c0 = i + 1
            guard c0 < t.count, !["let", "var", "case"].contains(s.text(c0)) else { continue }
            let end: Int?
            if s.text(i) == "guard" {
                var k = c0
                while k < t.count && s.text(k) != "else" { if s.match[k] > k && ["(", "["].contains(s.text(k)) { k = s.match[k] }; k += 1 }
                end = k < t.count ? k : nil
            } else {
                end = conditionEnd(from: c0)
            }
            guard let e = end, e > c0, !(c0..<e).contains(where: { s.masked[$0] }) else { continue }
            if topLevel(c0, e, contains: [";", ",", ":="]) { continue }
            out.append(Edit(op: MutationOperator.negateCond.rawValue, token: i, start: t[c0].start, end: t[e - 1].end,
                            replacement: "!(" + src(tokens: c0, e - 1) + ")"))
        }
        return out
    }

    /// `for i := 0; i < n; i++` → `i < n - 1`; `for i in 0..n` → `0..n - 1`; `while i < n` → `i < n - 1`.
    func loopBounds() -> [Edit] {
        var out: [Edit] = []
        let comparisons: Set<String> = ["<", "<="]
        func simpleComparison(_ a: Int, _ b: Int) -> Bool {
            var n = 0
            var k = a
            while k < b {
                let x = s.text(k)
                if x == "(" || x == "[", s.match[k] > k { k = s.match[k] + 1; continue }
                if comparisons.contains(x) && spaced(k) { n += 1 }
                if ["&&", "||", ">", ">=", "==", "!="].contains(x) { return false }
                k += 1
            }
            return n == 1
        }
        func append(_ i: Int, _ lastTok: Int) {
            out.append(Edit(op: MutationOperator.loopBound.rawValue, token: i, start: t[lastTok].end, end: t[lastTok].end, replacement: " - 1"))
        }
        for i in t.indices where eligible(i) {
            let x = s.text(i)
            if x == "for" && lang == .go {
                guard let body = conditionEnd(from: i + 1) else {
                    // A Go `for` header with `;`: conditionEnd stops at `;`, so find the body directly.
                    var k = i + 1
                    var semis: [Int] = []
                    while k < t.count && s.text(k) != "{" {
                        if s.text(k) == "(" || s.text(k) == "[", s.match[k] > k { k = s.match[k] }
                        if s.text(k) == ";" { semis.append(k) }
                        k += 1
                    }
                    if semis.count == 2, semis[1] > semis[0] + 1, simpleComparison(semis[0] + 1, semis[1]),
                       !(i...semis[1]).contains(where: { s.masked[$0] }) {
                        append(i, semis[1] - 1)
                    }
                    continue
                }
                if body > i + 1, simpleComparison(i + 1, body) { append(i, body - 1) } // `for i < n {`
            } else if x == "for" {
                guard let body = conditionEnd(from: i + 1), let inTok = (i..<body).first(where: { s.text($0) == "in" }) else { continue }
                if topLevel(inTok + 1, body, contains: ["where"]) { continue }
                if topLevel(inTok + 1, body, contains: ["..", "..=", "..<", "..."]) { append(i, body - 1) }
            } else if x == "while" {
                guard let body = conditionEnd(from: i + 1), body > i + 1, s.text(i + 1) != "let" else { continue }
                if simpleComparison(i + 1, body) { append(i, body - 1) }
            }
        }
        return out
    }

    // MARK: Atomics

    func atomicOrders() -> [Edit] {
        var out: [Edit] = []
        let rust: Set<String> = ["Acquire", "Release", "AcqRel", "SeqCst"]
        let swift: Set<String> = ["acquiring", "releasing", "acquiringAndReleasing", "sequentiallyConsistent"]
        for i in t.indices where eligible(i) && t[i].kind == .identifier {
            let strong = lang == .rust ? (rust.contains(t[i].text) && s.text(i - 1) == "::" && s.text(i - 2) == "Ordering")
                : lang == .swift ? (swift.contains(t[i].text) && s.text(i - 1) == ".") : false
            guard strong else { continue }
            // A relaxed fence does not exist (Rust panics, Swift traps): fences are dropped by drop-stmt instead.
            var k = i
            var depth = 0
            while k > 0 {
                k -= 1
                let x = s.text(k)
                if x == ")" { depth += 1 } else if x == "(" { if depth == 0 { break }; depth -= 1 }
            }
            if ["fence", "compiler_fence", "atomicMemoryFence"].contains(s.text(k - 1)) { continue }
            out.append(Edit(op: MutationOperator.atomicOrder.rawValue, token: i, start: t[i].start, end: t[i].end,
                            replacement: lang == .rust ? "Relaxed" : "relaxed"))
        }
        return out
    }

    /// The first token of the postfix expression ending at token `e` (`shm.word(off + X)`).
    func receiverStart(endingAt e: Int) -> Int {
        var k = e
        while k >= 0 {
            let x = s.text(k)
            if (x == ")" || x == "]"), s.match[k] >= 0, s.match[k] < k { k = s.match[k] - 1; continue }
            if t[k].kind == .identifier && !(s.isKeyword(k) && x != "self") {
                if s.text(k - 1) == "." || s.text(k - 1) == "::" { k -= 2; continue }
                return k
            }
            return k + 1
        }
        return 0
    }

    /// For a method name at token i (`recv.name(`): the receiver's first token and its text.
    func receiver(ofMethodAt i: Int) -> (Int, String)? {
        guard s.text(i - 1) == "." else { return nil }
        let r = receiverStart(endingAt: i - 2)
        return r <= i - 2 ? (r, src(tokens: r, i - 2)) : nil
    }

    /// Top-level arguments of the call whose `(` is at `open`, each without a `label:` prefix.
    func arguments(_ open: Int) -> [String] {
        let close = s.match[open]
        guard close > open + 1 else { return [] }
        var args: [String] = []
        var a = open + 1
        var k = a
        while k <= close {
            let x = s.text(k)
            if k < close && (x == "(" || x == "[" || x == "{"), s.match[k] > k { k = s.match[k] + 1; continue }
            if x == "," || k == close {
                var from = a
                if lang == .swift && t[from].kind == .identifier && s.text(from + 1) == ":" { from += 2 }
                args.append(from <= k - 1 ? src(tokens: from, k - 1) : "")
                a = k + 1
            }
            k += 1
        }
        return args
    }

    func atomicRMWs() -> [Edit] {
        var out: [Edit] = []
        for i in t.indices where eligible(i) && t[i].kind == .identifier && s.text(i + 1) == "(" {
            let name = t[i].text
            let open = i + 1
            let args = arguments(open)
            let close = s.match[open]
            guard close > open else { continue }
            switch lang {
            case .go:
                guard s.text(i - 1) == ".", s.text(i - 2) == "atomic" else { continue }
                let start = t[i - 2].start
                for width in ["Uint64", "Uint32"] {
                    if name == "CompareAndSwap" + width, args.count == 3 {
                        out.append(Edit(op: MutationOperator.atomicCAS.rawValue, token: i, start: start, end: t[close].end,
                                        replacement: "func() bool { if atomic.Load\(width)(\(args[0])) == \(args[1]) { atomic.Store\(width)(\(args[0]), \(args[2])); return true }; return false }()"))
                    } else if name == "Add" + width, args.count == 2 {
                        let ty = width.lowercased()
                        out.append(Edit(op: MutationOperator.atomicRMW.rawValue, token: i, start: start, end: t[close].end,
                                        replacement: "func() \(ty) { v := atomic.Load\(width)(\(args[0])) + \(args[1]); atomic.Store\(width)(\(args[0]), v); return v }()"))
                    }
                }
            case .rust:
                guard let (r, recv) = receiver(ofMethodAt: i) else { continue }
                let sc = "std::sync::atomic::Ordering::SeqCst"
                if (name == "compare_exchange" || name == "compare_exchange_weak"), args.count == 4 {
                    out.append(Edit(op: MutationOperator.atomicCAS.rawValue, token: i, start: t[r].start, end: t[close].end,
                                    replacement: "({ let m = &\(recv); let c = m.load(\(sc)); if c == (\(args[0])) { m.store(\(args[1]), \(sc)); Ok(c) } else { Err(c) } })"))
                } else if (name == "fetch_add" || name == "fetch_sub"), args.count == 2 {
                    let f = name == "fetch_add" ? "wrapping_add" : "wrapping_sub"
                    out.append(Edit(op: MutationOperator.atomicRMW.rawValue, token: i, start: t[r].start, end: t[close].end,
                                    replacement: "({ let m = &\(recv); let v = m.load(\(sc)); m.store(v.\(f)(\(args[0])), \(sc)); v })"))
                }
            case .swift:
                guard let (r, recv) = receiver(ofMethodAt: i) else { continue }
                let sc = "ordering: .sequentiallyConsistent"
                if name == "compareExchange", args.count >= 2 {
                    out.append(Edit(op: MutationOperator.atomicCAS.rawValue, token: i, start: t[r].start, end: t[close].end,
                                    replacement: "{ () -> (exchanged: Bool, original: UInt64) in let m = \(recv); let o = m.load(\(sc)); if o == \(args[0]) { m.store(\(args[1]), \(sc)); return (exchanged: true, original: o) }; return (exchanged: false, original: o) }()"))
                } else if ["loadThenWrappingIncrement", "loadThenWrappingDecrement", "wrappingIncrement"].contains(name) {
                    let byArg = (open + 1 < close && s.text(open + 1) == "by") ? args.first ?? "1" : "1"
                    let op = name.hasSuffix("Decrement") ? "&-" : "&+"
                    let result = name.hasPrefix("loadThen") ? "return v" : "_ = v"
                    out.append(Edit(op: MutationOperator.atomicRMW.rawValue, token: i, start: t[r].start, end: t[close].end,
                                    replacement: "{ let m = \(recv); let v = m.load(\(sc)); m.store(v \(op) \(byArg), \(sc)); \(result) }()"))
                }
            }
        }
        return out
    }
}
